"""Multi-scalar multiplication and point arrays: native == reference, and a dlog cross-check."""

from __future__ import annotations

import random

import pytest

from omnidsl import _native
from omnidsl.field import Q, R
from tests.backend.helpers import fr_bytes, mixed_scalars, twist_point_outside_subgroup


def _g1_points(native, rng: random.Random, n: int) -> tuple[list[int], bytes]:
    """n random multiples of G1 with known discrete logs (some infinity)."""
    logs = [rng.randrange(R) if i % 7 else 0 for i in range(n)]
    return logs, native.g1_batch_mul(native.g1_generator(), fr_bytes(logs))


def _g2_points(native, rng: random.Random, n: int) -> tuple[list[int], bytes]:
    logs = [rng.randrange(R) if i % 5 else 0 for i in range(n)]
    return logs, native.g2_batch_mul(native.g2_generator(), fr_bytes(logs))


@pytest.mark.parametrize("n", [0, 1, 2, 17, 64])
def test_g1_msm_agrees(native, ref, rng: random.Random, n: int) -> None:
    logs, pts = _g1_points(native, rng, n)
    ks = mixed_scalars(rng, n)
    sc = fr_bytes(ks)
    expect = native.g1_mul(native.g1_generator(), sum(a * b for a, b in zip(logs, ks, strict=True)))
    got = native.g1_msm(native.load_g1(pts), sc)
    assert got == expect
    assert native.g1_msm(pts, sc) == expect  # raw bytes instead of a handle
    assert ref.g1_msm(pts, sc) == expect
    assert ref.g1_msm(ref.load_g1(pts), sc) == expect


@pytest.mark.parametrize("n", [0, 1, 2, 17])
def test_g2_msm_agrees(native, ref, rng: random.Random, n: int) -> None:
    logs, pts = _g2_points(native, rng, n)
    ks = mixed_scalars(rng, n)
    sc = fr_bytes(ks)
    expect = native.g2_mul(native.g2_generator(), sum(a * b for a, b in zip(logs, ks, strict=True)))
    assert native.g2_msm(native.load_g2(pts), sc) == expect
    assert native.g2_msm(pts, sc) == expect
    assert ref.g2_msm(ref.load_g2(pts, unchecked=True), sc) == expect


@pytest.mark.parametrize("n", [3000, 9000])
def test_g1_msm_large_parallel_paths(native, rng: random.Random, n: int) -> None:
    """Sizes above the parallel threshold, with mostly-bit scalars (like a witness) and full ones."""
    logs, pts = _g1_points(native, rng, n)
    bases = native.load_g1(pts)
    assert len(bases) == n and bases.to_bytes() == pts
    g = native.g1_generator()
    for ks in (
        [rng.randrange(2) for _ in range(n)],
        mixed_scalars(rng, n),
        [rng.randrange(R) for _ in range(n)],
    ):
        expect = native.g1_mul(g, sum(a * b for a, b in zip(logs, ks, strict=True)))
        assert native.g1_msm(bases, fr_bytes(ks)) == expect


def test_g2_msm_large(native, rng: random.Random) -> None:
    n = 2500
    logs, pts = _g2_points(native, rng, n)
    ks = mixed_scalars(rng, n)
    expect = native.g2_mul(native.g2_generator(), sum(a * b for a, b in zip(logs, ks, strict=True)))
    assert native.g2_msm(native.load_g2(pts), fr_bytes(ks)) == expect


def test_msm_prefix_of_bases(native, rng: random.Random) -> None:
    logs, pts = _g1_points(native, rng, 10)
    ks = [rng.randrange(R) for _ in range(6)]
    expect = native.g1_mul(native.g1_generator(), sum(a * b for a, b in zip(logs, ks, strict=False)))
    assert native.g1_msm(native.load_g1(pts), fr_bytes(ks)) == expect
    with pytest.raises(ValueError, match="scalars for only"):
        native.g1_msm(native.load_g1(pts[:64 * 3]), fr_bytes(ks))


@pytest.mark.parametrize("backend", ["native", "ref"])
def test_point_arrays_are_validated(request, backend: str) -> None:
    b = request.getfixturevalue(backend)
    g = b.g1_generator()
    good = b"".join(x.to_bytes(32, "little") for x in g)
    off = (1).to_bytes(32, "little") + (3).to_bytes(32, "little")
    big = Q.to_bytes(32, "little") + (2).to_bytes(32, "little")
    with pytest.raises(ValueError, match="curve"):
        b.load_g1(good + off)
    with pytest.raises(ValueError, match="curve"):
        b.g1_msm(good + off, fr_bytes([1, 1]))
    with pytest.raises(ValueError, match="< q"):
        b.load_g1(good + big)
    with pytest.raises(ValueError, match="< q"):
        b.load_g1(good + big, unchecked=True)
    with pytest.raises(ValueError, match="multiple of 64"):
        b.load_g1(good[:-1])
    b.load_g1(good + off, unchecked=True)  # own data: the curve check is skipped
    with pytest.raises(ValueError, match="not < r"):
        b.g1_msm(good, R.to_bytes(32, "little"))
    with pytest.raises(ValueError):
        b.g1_msm(good, bytes(31))


@pytest.mark.parametrize("backend", ["native", "ref"])
def test_g2_arrays_check_subgroup(request, backend: str) -> None:
    b = request.getfixturevalue(backend)
    (x0, x1), (y0, y1) = twist_point_outside_subgroup()
    outside = b"".join(v.to_bytes(32, "little") for v in (x0, x1, y0, y1))
    with pytest.raises(ValueError, match="subgroup"):
        b.load_g2(outside)
    with pytest.raises(ValueError, match="subgroup"):
        b.g2_msm(outside, fr_bytes([1]))
    with pytest.raises(ValueError, match="multiple of 128"):
        b.load_g2(outside[:-1])


def test_native_handle_types(native) -> None:
    with pytest.raises(ValueError, match="handle"):
        native.g1_msm(native.load_g2(b""), b"")
    with pytest.raises(ValueError, match="handle"):
        native.g2_msm([1, 2], b"")
    with pytest.raises(TypeError):
        _native.g1_msm(b"", b"")  # type: ignore[arg-type]
