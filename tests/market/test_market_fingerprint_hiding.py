"""Issue 10, item 9: the public fingerprint must not reveal the gradient.  Without a mask,
fp = Σ g_i·ρ^(i+1) is public, so anyone can test a candidate gradient exactly, and given most
entries the rest fall to a small lattice reduction.  The market rules now prove
fp = Σ g_i·ρ^(i+1) + u·ρ^(D+1) with a fresh, uniformly random, secret-shared u (the aggregation
vector is (g, u)); the model owner drops that coordinate of the aggregate."""

from __future__ import annotations

import secrets

from lattice import lll

from omnidsl.field import R
from omnidsl.market import aggregate as agg
from omnidsl.market.roles import DataOwner

DIM = 8
GRAD = [3, -5, 0, 7, -4096, 4095, 1, -1]


class _Sink:
    def __init__(self) -> None:
        self.got: list[list[int]] = []

    def receive(self, task_id: int, owner: str, share: list[int]) -> None:
        self.got.append(share)


def _shared_vector(q: list[int]) -> list[int]:
    do = DataOwner("0x" + "ab" * 20)
    do.share(1, q, [_Sink(), _Sink()])  # type: ignore[list-item]
    return do.vectors[1]


def _recover_two(fp: int, known: list[int | None], rho: int) -> list[int] | None:
    """The attack: all entries but two are known; solve x·ρ^(i+1) + y·ρ^(j+1) ≡ residual for a
    SHORT (x, y) by lattice reduction (Kannan embedding)."""
    i, j = (k for k, v in enumerate(known) if v is None)
    resid = (fp - sum(v * pow(rho, k + 1, R) for k, v in enumerate(known) if v is not None)) % R
    ci, cj = pow(rho, i + 1, R), pow(rho, j + 1, R)
    w, m = 1 << 300, 1 << 16
    rows = [[1, 0, w * ci, 0], [0, 1, w * cj, 0], [0, 0, w * R, 0], [0, 0, -w * resid, m]]
    for v in lll(rows):
        if v[2] == 0 and abs(v[3]) == m:
            x, y = (v[0], v[1]) if v[3] == m else (-v[0], -v[1])
            if max(abs(x), abs(y)) < 1 << 15:
                return [x, y]
    return None


def test_a_proof_no_longer_tests_a_candidate_gradient(dsl):
    rho = secrets.randbelow(R)
    owner = "0x" + "cd" * 20
    v1, v2 = _shared_vector(GRAD), _shared_vector(GRAD)
    assert v1[:DIM] == v2[:DIM] == GRAD and v1[DIM] != v2[DIM]  # fresh mask per sharing
    (_, pub1), (_, pub2) = dsl.prove_many([dsl.witness_input(v, owner, rho, 1 << 20)
                                            for v in (v1, v2)])
    fp1, fp2 = int(pub1[dsl.layout.fp_index]), int(pub2[dsl.layout.fp_index])
    assert fp1 == agg.fingerprint(v1, rho) and fp2 == agg.fingerprint(v2, rho)
    # the exact candidate test of an observer fails for the TRUE gradient ...
    assert agg.fingerprint(GRAD, rho) not in (fp1, fp2)
    # ... and two contributions of the same gradient are unlinkable by their fingerprints
    assert fp1 != fp2


def test_the_fingerprint_is_uniform_whatever_the_gradient():
    """χ² on the top 4 bits of fp over fresh masks, for two very different gradients (the
    unmasked fingerprint of a fixed gradient is a constant)."""
    rho = secrets.randbelow(R)
    n, bins = 3200, 16
    for q in ([0] * DIM, [4095] * DIM):
        counts = [0] * bins
        for _ in range(n):
            fp = agg.fingerprint([*q, secrets.randbelow(R)], rho)
            counts[fp * bins // R] += 1
        chi2 = sum((c - n / bins) ** 2 / (n / bins) for c in counts)
        assert chi2 < 45.0  # 15 degrees of freedom: p ≈ 10^-4
        assert len({agg.fingerprint(q, rho) for _ in range(3)}) == 1


def test_missing_entries_are_no_longer_recovered_by_lattice_reduction():
    rho = secrets.randbelow(R)
    hidden = [1234, -2345]
    q = [*GRAD[:DIM - 2], *hidden]
    known: list[int | None] = [*GRAD[:DIM - 2], None, None]
    # without the mask the two missing entries fall out of the public fingerprint
    assert _recover_two(agg.fingerprint(q, rho), known, rho) == hidden
    # with it, the fingerprint says nothing about them
    for _ in range(5):
        fp = agg.fingerprint(_shared_vector(q), rho)
        assert _recover_two(fp, known, rho) != hidden
