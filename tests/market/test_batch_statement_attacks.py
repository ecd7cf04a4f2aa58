"""Attacks on the batch statement itself (docs/market.md, "One proof per batch"): is each copy
exactly the rule's constraints on its own wires, are ρ and the pins one wire, can a slot's
fingerprint be met with another slot's gradient or a slot be proved under another ρ, and is the
Shamir trust model the docs state the one the code deals (honest majority: t = 1 of 3)."""

from __future__ import annotations

import pytest

from omnidsl.compiler.check import violated
from omnidsl.errors import ProofError
from omnidsl.field import R, limbs_to_bytes, limbs_to_ints
from omnidsl.market import dsl_rule
from omnidsl.market.batch_rule import setup_batch
from omnidsl.mpc.schemes.shamir import dealer, poly
from omnidsl.proving import prove
from omnidsl.r1cs.system import R1CS, SparseMatrix

D = 2
K = 3
MAX_Q = 3 << dsl_rule.FRAC


@pytest.fixture(scope="module")
def batch():
    return setup_batch(dsl_rule.setup(D), K)


def _inputs(batch, rho=77):
    rule = batch.rule
    vecs = [[-900 + 500 * j, 40 * j + 3, 11 + j] for j in range(K)]  # (g, mask), distinct
    return [rule.witness_input(v, hex(0xB0 + j), rho, MAX_Q) for j, v in enumerate(vecs)]


def _row(m: SparseMatrix, coeffs, i: int, rename=None) -> dict[int, int]:
    """Row i of one matrix as {wire: coefficient mod r} (wires renamed by ``rename``)."""
    out: dict[int, int] = {}
    for p in range(int(m.row_ptr[i]), int(m.row_ptr[i + 1])):
        w = int(m.wire[p]) if rename is None else int(rename[int(m.wire[p])])
        out[w] = (out.get(w, 0) + int(coeffs[int(m.coeff_id[p])])) % R
    return {w: c for w, c in out.items() if c}


def test_each_slot_is_exactly_the_rules_constraints_and_only_rho_and_pins_are_shared(batch):
    rule: R1CS = batch.rule.circuit.r1cs
    sys_ = batch.system
    big: R1CS = sys_.r1cs
    lay, maps = sys_.layout, sys_.maps
    n_pub = rule.n_public
    # wires: 0 and the shared public signals (ρ, the pin) are the same wire in every slot ...
    shared_rows = [1 + i for i in lay.shared]
    for j in range(K):
        assert maps[j][0] == 0
        assert list(maps[j][shared_rows]) == [1 + 2 * K + p for p in range(len(lay.shared))]
        assert maps[j][1 + lay.fp_index] == 1 + j and maps[j][1 + lay.owner_index] == 1 + K + j
    # ... and every other wire (fingerprint, owner, private, internal) belongs to one slot only
    own = [set(maps[j].tolist()) - {0, *maps[j][shared_rows].tolist()} for j in range(K)]
    assert all(len(own[j]) == rule.n_wires - 1 - len(shared_rows) for j in range(K))
    assert all(not own[a] & own[b] for a in range(K) for b in range(a + 1, K))
    assert set().union(*own) | {0, *maps[0][shared_rows].tolist()} == set(range(big.n_wires))
    assert (big.n_pub_out, big.n_pub_in, big.n_prv_in) == (K, K + n_pub - 2, K * rule.n_prv_in)
    # constraints: block j is the rule's rows on slot j's wires, term by term, nothing more
    m = rule.n_constraints
    assert big.n_constraints == K * m
    for name in ("A", "B", "C"):
        small, large = getattr(rule, name), getattr(big, name)
        for j in range(K):
            for i in range(m):
                assert _row(large, big.coeffs, j * m + i) == \
                    _row(small, rule.coeffs, i, rename=maps[j]), (name, j, i)


def _slots_violated(batch, wit) -> set[int]:
    rows = violated(batch.system.r1cs, wit)
    return set((rows // batch.rule.circuit.r1cs.n_constraints).tolist())


def test_a_slot_cannot_borrow_another_slots_fingerprint_gradient_or_challenge(batch):
    rule, sys_ = batch.rule, batch.system
    inps = _inputs(batch)
    slots = [rule.circuit.witness(i) for i in inps]
    honest = sys_.witness(slots)
    assert not _slots_violated(batch, honest)
    # fp_0 and fp_1 exchanged: each slot's fingerprint is another slot's gradient's
    swapped = honest.copy()
    swapped[[1, 2]] = honest[[2, 1]]
    assert _slots_violated(batch, swapped) == {0, 1}
    with pytest.raises(ProofError):
        prove(batch.pk, swapped)
    # slot 0 keeps its fingerprint but carries slot 1's gradient (and mask) on its private wires
    n_pub, n_prv = rule.circuit.r1cs.n_public, rule.circuit.r1cs.n_prv_in
    prv = slice(1 + n_pub, 1 + n_pub + n_prv)
    borrowed = honest.copy()
    borrowed[sys_.maps[0][prv]] = honest[sys_.maps[1][prv]]
    assert 0 in _slots_violated(batch, borrowed)
    with pytest.raises(ProofError):
        prove(batch.pk, borrowed)
    # slot 2 computed under another ρ, placed around the shared ρ wire: its own rows break
    other = rule.circuit.witness(dict(inps[2], rho="78"))
    mixed = honest.copy()
    own = [w for w in range(rule.circuit.r1cs.n_wires) if w - 1 not in sys_.layout.shared]
    mixed[sys_.maps[2][own]] = other[own]
    assert _slots_violated(batch, mixed) == {2}
    with pytest.raises(ProofError):
        prove(batch.pk, mixed)


def test_the_shamir_batch_dealing_is_private_against_one_server_of_three_not_two(batch):
    """docs/market.md and docs/mpc.md: the batch path's privacy is Shamir's, t < N/2 — with
    three servers one learns nothing and any two reconstruct every slot's gradient."""
    from omnidsl.backend import get_backend

    inps = _inputs(batch)
    wit = batch.witness(inps)
    n_pub = batch.system.layout.n_public
    be = get_backend()
    deals = [dealer.deal(be, limbs_to_bytes(wit), n_pub + 1, 3, 1) for _ in range(2)]
    with pytest.raises(ValueError):
        dealer.deal(be, limbs_to_bytes(wit), n_pub + 1, 3, 2)  # t = 2 needs 5 servers
    assert dealer.max_threshold(3) == 1
    rule = batch.rule.circuit.r1cs
    g_wires = [int(batch.system.maps[j][1 + rule.n_public + i]) for j in range(K)
               for i in range(D)]
    secret = [int(x) for x in limbs_to_ints(wit[g_wires])]

    def shares(mats, party):
        full = dealer.expand(mats[party], be).witness
        return [int.from_bytes(full[32 * w:32 * w + 32], "little") for w in g_wires]

    for mats in deals:
        for pair in ((0, 1), (0, 2), (1, 2)):  # any two of three servers: every gradient
            lam = poly.lagrange([poly.point(p) for p in pair], 0)
            got = [(lam[0] * a + lam[1] * b) % R
                   for a, b in zip(shares(mats, pair[0]), shares(mats, pair[1]), strict=True)]
            assert got == secret
    for party in range(3):  # one server: fresh values each dealing, never the gradient
        first, second = shares(deals[0], party), shares(deals[1], party)
        assert all(a != b for a, b in zip(first, second, strict=True))
        assert not set(first) & set(secret) and not set(second) & set(secret)
