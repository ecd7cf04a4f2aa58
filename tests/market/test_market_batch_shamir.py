"""A batch proof in which every data owner deals only its own slot (omnidsl/market/batch_shamir.py):
the servers compose their shares, the padding slot is public, no dealer of cross-slot products —
the proof equals the plain composition's statement; a DO dealing inconsistent shares stops the
batch before anything is opened."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from omnidsl.errors import AssertionFailed, InputError, ProofError
from omnidsl.field import R
from omnidsl.market import dsl_rule
from omnidsl.market.aggregate import fingerprint
from omnidsl.market.batch_rule import public_padding, setup_batch
from omnidsl.market.batch_shamir import deal_slot, prove_local
from omnidsl.mpc.schemes.shamir.dealer import recommit

D = 4
K = 4
MAX_Q = 3 << dsl_rule.FRAC


@pytest.fixture(scope="module")
def batch():
    return setup_batch(dsl_rule.setup(D), K)


def _inputs(rule, n, rho=4242):
    rng = np.random.default_rng(n)
    return [rule.witness_input([*map(int, rng.integers(-300, 300, D)), 11 + j], hex(0xB0 + j),
                               rho, MAX_Q) for j in range(n)]


def test_every_do_deals_only_its_slot_and_the_servers_prove_the_batch(batch):
    rule = batch.rule
    inps = _inputs(rule, 3)
    pad = public_padding(rule, inps[0])
    assert pad["owner"] == "0" and set(pad["g"]) == {"0"} and pad["mask"] == "0"
    proof = prove_local(batch, inps, pad)  # verified inside
    plain = batch.prove(inps, padding=pad)
    assert proof.public == plain.public  # the same statement as the clear composition
    assert proof.owners == [0xB0, 0xB1, 0xB2, 0] and proof.fps[3] == 0  # public padding: fp 0
    assert proof.words != plain.words  # fresh blinding: another proof of it
    # what one DO deals: wire 0 and its own slot's private wires, nothing of any other slot
    wit = rule.circuit.witness(inps[0])
    mats = deal_slot(wit, rule.iface.n_public, 3, 1, rule.backend)
    assert {m.n_wires for m in mats} == {wit.shape[0] - rule.iface.n_public}
    assert batch.system.r1cs.n_wires > K * mats[0].n_wires


@pytest.mark.parametrize("party", [0, 2])
def test_a_do_dealing_inconsistent_shares_stops_the_batch(batch, party):
    rule = batch.rule
    inps = _inputs(rule, 2)

    def tamper(j, mats):  # DO 1 moves one share of one wire off the polynomial, recommits
        if j != 1:
            return mats
        m = mats[party]
        if m.witness is None:  # a seeded party (< t): change its seed instead
            return recommit([*mats[:party], replace(m, seed=bytes(32)), *mats[party + 1:]])
        w = bytearray(m.witness)
        w[64] ^= 1
        return recommit([*mats[:party], replace(m, witness=bytes(w)), *mats[party + 1:]])

    with pytest.raises(ProofError, match="polynomial"):
        prove_local(batch, inps, public_padding(rule, inps[0]), tamper=tamper)


def test_padding_must_be_public_and_valid_and_slots_must_agree(batch):
    rule = batch.rule
    inps = _inputs(rule, 2)
    bad_pad = dict(public_padding(rule, inps[0]), g=[str(4 << dsl_rule.FRAC)] * D)
    with pytest.raises(AssertionFailed, match="L2 norm too large"):
        prove_local(batch, inps, bad_pad)  # no witness for the padding: nothing is dealt
    other = _inputs(rule, 1, rho=4243)[0]
    with pytest.raises(InputError, match="differs from slot 0"):
        prove_local(batch, [inps[0], other], public_padding(rule, inps[0]))
    proof = prove_local(batch, inps[:1], public_padding(rule, inps[0]))
    assert proof.owners[1:] == [0, 0, 0]


def _split(v, seed, n=3):
    """Additive shares of v (what the servers committed to, one vector each)."""
    rng = np.random.default_rng(seed)
    parts = [[int(x) for x in rng.integers(0, 2**62, len(v))] for _ in range(n - 1)]
    return [*parts, [(x - sum(p[i] for p in parts)) % R for i, x in enumerate(v)]]


def test_the_servers_check_each_slot_deals_the_vector_they_committed_to(batch):
    """The attack the binding check stops: a DO shares v for aggregation, then deals its slot
    with another valid gradient and the mask solved so the fingerprint is v's (after ρ)."""
    rule = batch.rule
    rho = 4242
    rng = np.random.default_rng(5)
    vs = [[*map(int, rng.integers(-300, 300, D)), 1000 + j] for j in range(2)]
    committed = [_split(v, j) for j, v in enumerate(vs)]
    inps = [rule.witness_input(v, hex(0xC0 + j), rho, MAX_Q) for j, v in enumerate(vs)]
    pad = public_padding(rule, inps[0])
    assert prove_local(batch, inps, pad, committed=committed).owners[:2] == [0xC0, 0xC1]
    v = vs[1]
    g2 = [x + 1 for x in v[:D]]  # still inside the bound: the rule holds for it
    mask = (fingerprint(v, rho) - fingerprint([*g2, 0], rho)) * pow(pow(rho, D + 1, R), -1, R)
    v2 = [*g2, mask % R]
    assert fingerprint(v2, rho) == fingerprint(v, rho)  # same public signals as v's slot
    forged = [inps[0], rule.witness_input(v2, hex(0xC1), rho, MAX_Q)]
    with pytest.raises(ProofError, match="binding check failed"):
        prove_local(batch, forged, pad, committed=committed)
    # a server's committed share that is not the DO's (e.g. another DO's) fails alike
    swapped = [committed[0], [committed[1][0], committed[0][1], committed[1][2]]]
    with pytest.raises(ProofError, match="binding check failed"):
        prove_local(batch, inps, pad, committed=swapped)
