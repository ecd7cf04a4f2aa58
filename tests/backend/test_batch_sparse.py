"""Fixed-base batches, array scaling, sparse mat-vec and sparse point combinations."""

from __future__ import annotations

import random

import numpy as np
import pytest

from omnidsl.field import R, int64_to_limbs, ints_to_limbs
from tests.backend.helpers import fr_bytes, fr_ints


def test_batch_mul_agrees(native, ref, rng: random.Random) -> None:
    ks = fr_bytes([0, 1, R - 1, rng.randrange(R), rng.randrange(R)])
    g1, g2 = native.g1_generator(), native.g2_generator()
    assert native.g1_batch_mul(g1, ks) == ref.g1_batch_mul(g1, ks)
    assert native.g2_batch_mul(g2, ks[:96]) == ref.g2_batch_mul(g2, ks[:96])
    p = native.g1_mul(g1, 77)
    assert native.g1_batch_mul(p, ks) == ref.g1_batch_mul(p, ks)
    assert native.g1_batch_mul(None, ks) == bytes(64 * 5)
    assert native.g1_batch_mul(g1, b"") == b""


def test_batch_mul_large(native, rng: random.Random) -> None:
    n = 3000
    ks = [rng.randrange(R) for _ in range(n)]
    g = native.g1_generator()
    out = native.g1_batch_mul(g, fr_bytes(ks))
    for i in (0, 1, 1234, n - 1):
        assert native.g1_msm(out[64 * i : 64 * i + 64], fr_bytes([1])) == native.g1_mul(g, ks[i])


def test_array_scale_agrees(native, ref, rng: random.Random) -> None:
    g1, g2 = native.g1_generator(), native.g2_generator()
    p1 = native.g1_batch_mul(g1, fr_bytes([3, 0, rng.randrange(R)]))
    p2 = native.g2_batch_mul(g2, fr_bytes([5, 0]))
    for k in (0, 1, -1, rng.randrange(R)):
        assert native.g1_array_scale(p1, k) == ref.g1_array_scale(p1, k)
        assert native.g2_array_scale(p2, k) == ref.g2_array_scale(p2, k)
    doubled = native.g1_array_scale(p1, 2)
    for i, k in enumerate(fr_ints(native.fr_scale(fr_bytes([3, 0, 0]), 2))[:2]):
        assert doubled[64 * i : 64 * i + 64] == native.g1_batch_mul(g1, fr_bytes([k]))


def _csr(rng: random.Random, rows: int, cols: int, max_per_row: int) -> tuple:
    row_ptr, idx, coeffs = [0], [], []
    for r in range(rows):
        k = 0 if r % 4 == 3 else rng.randrange(1, max_per_row + 1)
        for _ in range(k):
            idx.append(rng.randrange(cols))
            coeffs.append(rng.choice([1, -1, 2, rng.randrange(R), -rng.randrange(1000)]))
        row_ptr.append(len(idx))
    return (
        np.array(row_ptr, dtype=np.int64),
        np.array(idx, dtype=np.int64),
        ints_to_limbs(coeffs),
        coeffs,
    )


def test_sparse_matvec_agrees(native, ref, rng: random.Random) -> None:
    rp, ix, limbs, coeffs = _csr(rng, 12, 9, 5)
    z = [rng.randrange(R) for _ in range(9)]
    zb = fr_bytes(z)
    out = native.sparse_matvec(rp, ix, limbs, zb)
    assert out == ref.sparse_matvec(rp, ix, limbs, zb)
    expect = [
        sum(coeffs[k] * z[ix[k]] for k in range(rp[r], rp[r + 1])) % R for r in range(12)
    ]
    assert fr_ints(out) == expect
    # coefficients may also be given as bytes, and int64 coefficients via int64_to_limbs
    assert native.sparse_matvec(rp, ix, limbs.tobytes(), zb) == out
    small = np.array([1, -1, 5] * (len(ix) // 3) + [2] * (len(ix) % 3), dtype=np.int64)
    assert native.sparse_matvec(rp, ix, int64_to_limbs(small), zb) == ref.sparse_matvec(
        rp, ix, int64_to_limbs(small), zb
    )


def test_sparse_matvec_with_a_coefficient_table_agrees(native, ref, rng: random.Random) -> None:
    """Coefficient e = table[ids[e]]: the same product as with the explicit coefficients, on
    both backends, with 1, r − 1 and large entries in the table."""
    table = [1, R - 1, 7, rng.randrange(R), rng.randrange(R)]
    rp, ix, _, _ = _csr(rng, 300, 40, 5)
    ids = np.array([rng.randrange(len(table)) for _ in range(len(ix))], np.int64)
    z = fr_bytes([rng.randrange(R) for _ in range(40)])
    tb = fr_bytes(table)
    explicit = native.sparse_matvec(rp, ix, ints_to_limbs([table[i] for i in ids]), z)
    assert native.sparse_matvec_table(rp, ix, ids, tb, z) == explicit
    assert ref.sparse_matvec_table(rp, ix, ids.astype(np.int32), tb, z) == explicit
    for b in (native, ref):
        with pytest.raises(ValueError, match="coefficient"):
            b.sparse_matvec_table(rp, ix, np.full(len(ix), len(table)), tb, z)  # id off the table
        with pytest.raises(ValueError, match="coefficient"):
            b.sparse_matvec_table(rp, ix, -ids - 1, tb, z)
    with pytest.raises(ValueError, match="coefficients for"):
        native.sparse_matvec_table(rp, ix, ids[:-1], tb, z)
    with pytest.raises(ValueError, match="not < r"):
        native.sparse_matvec_table(rp, ix, ids, tb[:-32] + R.to_bytes(32, "little"), z)


def test_sparse_matvec_large(native, rng: random.Random) -> None:
    rp, ix, limbs, coeffs = _csr(rng, 5000, 700, 6)
    z = [rng.randrange(R) for _ in range(700)]
    out = fr_ints(native.sparse_matvec(rp, ix, limbs, fr_bytes(z)))
    for r in (0, 1, 2, 3, 2500, 4999):
        assert out[r] == sum(coeffs[k] * z[ix[k]] for k in range(rp[r], rp[r + 1])) % R


@pytest.mark.parametrize("backend", ["native", "ref"])
def test_sparse_errors(request, backend: str) -> None:
    b = request.getfixturevalue(backend)
    z = fr_bytes([1, 2, 3])
    one = ints_to_limbs([1])
    with pytest.raises(ValueError, match="out of range"):
        b.sparse_matvec(np.array([0, 1]), np.array([3]), one, z)
    with pytest.raises(ValueError, match="out of range"):
        b.sparse_matvec(np.array([0, 1]), np.array([-1]), one, z)
    with pytest.raises(ValueError, match="row_ptr"):
        b.sparse_matvec(np.array([0, 2]), np.array([0]), one, z)
    with pytest.raises(ValueError, match="row_ptr"):
        b.sparse_matvec(np.array([1, 1]), np.array([0]), one, z)
    with pytest.raises(ValueError, match="decreases"):
        b.sparse_matvec(np.array([0, 1, 0, 1]), np.array([0]), one, z)
    with pytest.raises(ValueError, match="coefficients"):
        b.sparse_matvec(np.array([0, 1]), np.array([0]), ints_to_limbs([1, 2]), z)
    with pytest.raises(ValueError, match="shape"):
        b.sparse_matvec(np.array([0, 1]), np.array([0]), np.zeros((1, 3), np.uint64), z)
    with pytest.raises(ValueError, match="not < r"):
        b.sparse_matvec(np.array([0, 1]), np.array([0]), R.to_bytes(32, "little"), z)
    with pytest.raises(ValueError, match="integer"):
        b.sparse_matvec(np.array([0.0, 1.0]), np.array([0]), one, z)
    g = b.g1_generator()
    pts = b"".join(x.to_bytes(32, "little") for x in g)
    with pytest.raises(ValueError, match="out of range"):
        b.g1_sparse_combine(np.array([0, 1]), np.array([1]), one, pts)


def test_sparse_combine_agrees(native, ref, rng: random.Random) -> None:
    logs = [rng.randrange(R) for _ in range(6)]
    p1 = native.g1_batch_mul(native.g1_generator(), fr_bytes(logs))
    p2 = native.g2_batch_mul(native.g2_generator(), fr_bytes(logs))
    rp, ix, limbs, coeffs = _csr(rng, 5, 6, 3)
    out1 = native.g1_sparse_combine(rp, ix, limbs, p1)
    assert out1 == ref.g1_sparse_combine(rp, ix, limbs, p1)
    out2 = native.g2_sparse_combine(rp, ix, limbs, p2)
    assert out2 == ref.g2_sparse_combine(rp, ix, limbs, p2, unchecked=True)
    for r in range(5):
        k = sum(coeffs[e] * logs[ix[e]] for e in range(rp[r], rp[r + 1]))
        assert native.g1_batch_mul(native.g1_generator(), fr_bytes([k])) == out1[64 * r : 64 * r + 64]
    assert len(out2) == 5 * 128


def test_sparse_combine_long_rows(native, rng: random.Random) -> None:
    """Rows with ≥ 32 entries take the per-row MSM path."""
    n = 300
    logs = [rng.randrange(R) for _ in range(n)]
    pts = native.g1_batch_mul(native.g1_generator(), fr_bytes(logs))
    rp, ix, limbs, coeffs = _csr(rng, 8, n, 120)
    out = native.g1_sparse_combine(rp, ix, limbs, pts)
    for r in range(8):
        k = sum(coeffs[e] * logs[ix[e]] for e in range(rp[r], rp[r + 1]))
        assert native.g1_mul(native.g1_generator(), k) == native.g1_msm(
            out[64 * r : 64 * r + 64], fr_bytes([1])
        )
