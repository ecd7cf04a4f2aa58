"""One proof per batch (docs/market.md, "One proof per batch"): the batch statement of the
shipped market rule (k copies sharing ρ and the pins), real proofs, its generated verifier and
``Market.submitBatchProof`` on the embedded chain.  Every check of the per-proof path is
attacked here: slot owner / fingerprint / pinned value tampering, padding, double payment,
missing attestation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from omnidsl.chain import embedded_chain
from omnidsl.compiler.check import violated
from omnidsl.errors import AssertionFailed, ChainError, InputError, ProofError
from omnidsl.field import R
from omnidsl.market import dsl_rule
from omnidsl.market.aggregate import fingerprint
from omnidsl.market.attestation import sign_digest
from omnidsl.market.batch_attest import attest_batch, record_batch, submit_batch_proof
from omnidsl.market.batch_rule import deploy_batch_verifier, setup_batch
from omnidsl.market.demo import BOND, FEE, REWARD, setup_actors
from omnidsl.mpc.batch_system import compose
from omnidsl.proving import prove

pytestmark = [pytest.mark.chain]

D = 4
K = 4
N_SERVERS = 3
MAX_Q = 3 << dsl_rule.FRAC


@pytest.fixture(scope="module")
def batch():
    return setup_batch(dsl_rule.setup(D), K)


@pytest.fixture(scope="module")
def world(batch):
    w3 = embedded_chain()
    actors = setup_actors(w3, batch.rule, n_owners=6, n_servers=N_SERVERS)
    mo = actors.mo
    verifier = deploy_batch_verifier(w3, batch, mo.account)
    return w3, actors, verifier


def _open(world, batch):
    w3, actors, _ = world
    mo, servers, dos = actors.mo, actors.servers, actors.dos
    now = int(w3.eth.get_block("latest")["timestamp"])
    return mo.open_task([s.account for s in servers], REWARD, FEE,
                        len(dos) * (REWARD + N_SERVERS * FEE), now + 3600, deliver_by=now + 7200,
                        bond=BOND, pinned=batch.rule.pins(MAX_Q))


def _task(world, batch):
    """A fresh task with the batch verifier for K, every DO's shares committed, ρ fixed."""
    _, actors, verifier = world
    mo, servers, dos = actors.mo, actors.servers, actors.dos
    tid = _open(world, batch)
    mo.market.set_batch_verifier(tid, K, verifier, mo.account)
    rng = np.random.default_rng(tid)
    for do in dos:
        do.share(tid, [int(v) for v in rng.integers(-300, 300, D)], servers)
    for s in servers:
        s.commit(tid)
    for s in servers:
        s.reveal(tid)
    return tid, mo.market.task(tid).rho


def _inputs(batch, dos, tid, rho, max_q=MAX_Q):
    return [batch.rule.witness_input(d.vectors[tid], d.account, rho, max_q) for d in dos]


def _signed_by_all(servers, tid, proof):
    """Every server signs ``proof``'s digest without vetting (as colluding servers would)."""
    market = servers[0].market
    digest = market.batch_proof_digest(tid, proof.words, proof.owners, proof.fps)
    sigs = b"".join(sign_digest(market.w3, s.account, digest, s.signer) for s in servers)
    return market.submit_batch_proof(tid, proof.words, proof.owners, proof.fps, sigs,
                                     servers[0].account)


def _record_per_do(servers, batch, dos, tid, rho):
    """The servers' prover made the bound per-DO proofs of ``dos`` (what a server requires of
    every DO a batch names before it signs the batch)."""
    items = batch.rule.prove_many(_inputs(batch, dos, tid, rho))
    for s in servers:
        s.record(tid, items)


def _submit(actors, tid, proof, batch):
    """The servers' prover made ``proof`` (and the per-DO proofs of the DOs it names): each
    records it, vets it and signs; one submits."""
    named = [d for d in actors.dos if int(d.account, 16) in proof.owners]
    _record_per_do(actors.servers, batch, named, tid, actors.mo.market.task(tid).rho)
    for s in actors.servers:
        record_batch(s, tid, proof)
    return submit_batch_proof(actors.servers, tid, proof, batch)


def _submit_tampered(actors, tid, proof):
    """Every server signs the tampered calldata: the chain alone must refuse it."""
    with pytest.raises(ChainError, match="invalid batch proof"):
        _signed_by_all(actors.servers, tid, proof)


def test_the_batch_statement_holds_iff_every_slot_holds(batch):
    rule = batch.rule
    rng = np.random.default_rng(1)
    inps = [rule.witness_input([*map(int, rng.integers(-300, 300, D)), 7 + j], hex(0xA0 + j),
                               99, MAX_Q) for j in range(K)]
    wit = batch.witness(inps)
    assert violated(batch.system.r1cs, wit).size == 0
    sys_ = batch.system
    assert sys_.r1cs.n_constraints == K * rule.circuit.r1cs.n_constraints
    assert sys_.layout.n_public == 2 * K + rule.iface.n_public - 2
    pub = [int(v) for v in batch.prove(inps).public]
    assert pub[K:2 * K] == [0xA0 + j for j in range(K)]  # each slot bound to its owner ...
    for j, inp in enumerate(inps):  # ... and its own fingerprint
        v = [int(x) for x in inp["g"]] + [int(inp["mask"])]
        assert pub[j] == fingerprint(v, 99)
    assert pub[2 * K:] == [99, MAX_Q]  # ρ and the pin: one wire each
    # one slot that breaks the rule: no batch witness, and the slot is named
    bad = dict(inps[2], g=[str(4 << dsl_rule.FRAC)] * D)
    with pytest.raises((AssertionFailed, InputError)):
        batch.witness([*inps[:2], bad, inps[3]])
    # a slot witness forged past its assertion leaves exactly that slot's rows violated
    raw = {n: [int(x) for x in v] if isinstance(v, list) else int(v) for n, v in bad.items()}
    forged = rule.circuit.full_witness(raw, forge=True, wires=rule.circuit.kept)
    slots = [rule.circuit.witness(i) for i in inps]
    slots[2] = forged
    rows = violated(sys_.r1cs, sys_.witness(slots))
    m = rule.circuit.r1cs.n_constraints
    assert rows.size and set((rows // m).tolist()) == {2}
    assert violated(rule.circuit.r1cs, forged).size == rows.size
    # the oracle: each slot alone and the batch prove (and verify) alike
    assert all(prove(rule.pk, w).verified for w in slots[:2])
    with pytest.raises(ProofError):
        prove(rule.pk, forged)  # the forged slot alone does not verify ...
    with pytest.raises(ProofError):
        prove(batch.pk, sys_.witness(slots))  # ... nor any batch holding it
    # slots must agree on the shared values
    with pytest.raises(InputError, match="slot 1: public signal"):
        batch.witness([inps[0], dict(inps[1], rho="98")])


def test_compose_refuses_a_rule_with_two_outputs(batch):
    r1cs = batch.rule.circuit.r1cs
    with pytest.raises(InputError, match="exactly one output"):
        compose(replace(r1cs, n_pub_out=2, n_pub_in=r1cs.n_pub_in - 1), 0, 1, 2)


def test_a_batch_proof_credits_every_real_slot_and_padding_credits_nobody(world, batch):
    _, actors, _ = world
    market, dos = actors.mo.market, actors.dos
    tid, rho = _task(world, batch)
    proof = batch.prove(_inputs(batch, dos[:3], tid, rho))  # 3 DOs + 1 padding slot
    assert proof.owners[3] == 0 and proof.fps[3] == proof.fps[0]  # padding copies slot 0
    res = _submit(actors, tid, proof, batch)
    assert res.accepted == [d.account for d in dos[:3]] and not res.rejected
    t = market.task(tid)
    assert t.accepted == 3
    assert t.fp_sum == sum(proof.fps[:3]) % R  # the padding fingerprint is not counted
    assert t.fp_sum == sum(fingerprint(d.vectors[tid], rho) for d in dos[:3]) % R
    assert [market.paid_state(tid, d.account) for d in dos[:4]] == [2, 2, 2, 0]
    assert market.is_paid(tid, dos[0].account) and not market.is_paid(tid, dos[3].account)
    assert t.remaining == 3 * (REWARD + N_SERVERS * FEE)  # 6 escrowed, 3 reserved
    held = market.ether_balance()
    amount, _ = market.claim_reward(tid, dos[0].account)
    assert amount == REWARD and market.ether_balance() == held - REWARD
    assert market.paid_state(tid, dos[0].account) == 3
    with pytest.raises(ChainError, match="no unclaimed reward"):
        market.claim_reward(tid, dos[0].account)  # once
    with pytest.raises(ChainError, match="no unclaimed reward"):
        market.claim_reward(tid, dos[3].account)  # never credited
    assert market.total_held() == market.ether_balance()
    # double payment: the same proof again, and a new proof naming a paid DO, credit nobody
    again = _submit(actors, tid, proof, batch)
    assert again.accepted == [] and [r[0] for r in again.rejected] == [0, 1, 2]
    mixed = batch.prove(_inputs(batch, [dos[3], dos[1], dos[3]], tid, rho))
    res = _submit(actors, tid, mixed, batch)
    assert res.accepted == [dos[3].account]  # slot 1 paid before, slot 2 paid in this batch
    assert sorted((i, str(r)) for i, _, r in res.rejected) == [(1, "1"), (2, "1")]
    assert market.task(tid).fp_sum == (t.fp_sum + mixed.fps[0]) % R
    # one paid state for both paths: a DO credited by a batch proof is refused by submitBatch
    items = batch.rule.prove_many(_inputs(batch, dos[1:2], tid, rho))
    for s in actors.servers:
        s.record(tid, items)
    res = actors.servers[0].submit(tid, items, cosigners=actors.servers[1:])
    assert res.accepted == [] and res.rejected[0][2] == 1  # Reject.ALREADY_PAID


def test_tampered_owner_fingerprint_or_pin_is_refused(world, batch):
    _, actors, _ = world
    dos = actors.dos
    tid, rho = _task(world, batch)
    proof = batch.prove(_inputs(batch, dos[:4], tid, rho))
    owners = list(proof.owners)
    owners[1] = int(dos[5].account, 16)  # a stranger claims slot 1
    _submit_tampered(actors, tid, replace(proof, owners=owners))
    owners = list(proof.owners)
    owners[0], owners[1] = owners[1], owners[0]  # two slots swap owners
    _submit_tampered(actors, tid, replace(proof, owners=owners))
    fps = list(proof.fps)
    fps[2] = (fps[2] + 1) % R  # moves the fingerprint sum
    _submit_tampered(actors, tid, replace(proof, fps=fps))
    owners = list(proof.owners)
    owners[3] = 0  # a real slot turned into padding (its fingerprint dropped)
    _submit_tampered(actors, tid, replace(proof, owners=owners))
    # proved under another max_norm than the task pins: the chain uses its own pin
    loose = batch.prove(_inputs(batch, dos[:4], tid, rho, max_q=MAX_Q + 1))
    _submit_tampered(actors, tid, loose)
    # proved for another challenge
    _submit_tampered(actors, tid, batch.prove(_inputs(batch, dos[:4], tid, (rho + 1) % R)))
    assert actors.mo.market.task(tid).accepted == 0
    res = _submit(actors, tid, proof, batch)  # the untampered one still pays
    assert len(res.accepted) == 4


def test_a_batch_proof_needs_every_server_and_the_tasks_verifier(world, batch):
    w3, actors, verifier = world
    mo, servers, dos = actors.mo, actors.servers, actors.dos
    tid, rho = _task(world, batch)
    proof = batch.prove(_inputs(batch, dos[:2], tid, rho))
    market = mo.market
    digest = market.batch_proof_digest(tid, proof.words, proof.owners, proof.fps)
    two = b"".join(sign_digest(w3, s.account, digest, s.signer) for s in servers[:2])
    with pytest.raises(ChainError, match="one signature per server"):
        market.submit_batch_proof(tid, proof.words, proof.owners, proof.fps, two,
                                  servers[0].account)
    forged = two + sign_digest(w3, servers[1].account, digest, servers[1].signer)
    with pytest.raises(ChainError, match="not attested by server 2"):
        market.submit_batch_proof(tid, proof.words, proof.owners, proof.fps, forged,
                                  servers[0].account)
    # a signature over the batch's per-proof digest does not attest the batch proof
    other = market.attestation_digest(tid, proof.words, proof.owners)
    sigs = b"".join(sign_digest(w3, s.account, other, s.signer) for s in servers)
    with pytest.raises(ChainError, match="not attested by server 0"):
        market.submit_batch_proof(tid, proof.words, proof.owners, proof.fps, sigs,
                                  servers[0].account)
    with pytest.raises(ChainError, match="no batch verifier for this size"):
        _signed_by_all(servers, tid, replace(proof, owners=proof.owners[:3], fps=proof.fps[:3]))
    assert market.task(tid).accepted == 0
    # the verifier is the MO's term: set once per size, before the servers bond
    with pytest.raises(ChainError, match="servers already committed"):
        market.set_batch_verifier(tid, K + 1, verifier, mo.account)
    tid2 = _open(world, batch)
    with pytest.raises(ChainError, match="only the task owner"):
        market.set_batch_verifier(tid2, K, verifier, servers[0].account)
    market.set_batch_verifier(tid2, K, verifier, mo.account)
    assert market.batch_verifier(tid2, K) == verifier and market.batch_verifier(tid2, 2) is None
    with pytest.raises(ChainError, match="already set"):
        market.set_batch_verifier(tid2, K, verifier, mo.account)


def test_an_honest_server_signs_only_its_own_batch_proof_of_committed_dos(world, batch):
    _, actors, _ = world
    mo, servers, dos = actors.mo, actors.servers, actors.dos
    tid, rho = _task(world, batch)
    proof = batch.prove(_inputs(batch, dos[:3], tid, rho))
    honest = servers[2]
    with pytest.raises(ChainError, match="prover did not produce it"):
        attest_batch(honest, tid, proof, batch)  # made elsewhere (e.g. by a DO with the key)
    record_batch(honest, tid, proof)
    owners = list(proof.owners)
    owners[0], owners[1] = owners[1], owners[0]
    with pytest.raises(ChainError, match="prover did not produce it"):
        attest_batch(honest, tid, replace(proof, owners=owners), batch)
    stranger = "0x" + "ab" * 20  # shared nothing in this task: no committed share to deliver
    inp = dict(_inputs(batch, dos[:1], tid, rho)[0], owner=str(int(stranger, 16)))
    odd = batch.prove([inp])
    record_batch(honest, tid, odd)
    with pytest.raises(ChainError, match=r"slot 0: .* holds no committed share"):
        attest_batch(honest, tid, odd, batch)
    with pytest.raises(ChainError, match=r"slot 0: .* no per-DO proof"):
        attest_batch(honest, tid, proof, batch)  # the DOs' bound per-DO proofs come first
    _record_per_do([honest], batch, dos[:3], tid, rho)
    assert len(attest_batch(honest, tid, proof, batch)) == 65
    # a task whose batch verifier is another key's (here the rule's own): refused
    tid2 = _open(world, batch)
    mo.market.set_batch_verifier(tid2, K, mo.verifier, mo.account)
    with pytest.raises(ChainError, match="not the verifier of the batch key"):
        attest_batch(honest, tid2, proof, batch)


def test_a_demo_round_with_batch_proof_pays_the_valid_dos_and_checks_the_binding(dsl,
                                                                                  monkeypatch):
    from market_helpers import ToySource

    from omnidsl.market.demo import run_demo

    monkeypatch.setattr(dsl_rule, "setup", lambda dim: dsl)  # reuse the module's keys
    w3 = embedded_chain()
    seen = {}
    reports = run_demo(w3, rounds=1, owners=3, malicious=1, servers=3, source=ToySource(),
                       prover="local", batch_proof=True, log=lambda _m: None,
                       on_round=lambda a, r: seen.setdefault("actors", a))
    rep = reports[0]
    assert rep.accepted == [1, 2] and rep.binding_ok is True
    assert "rule violated" in rep.rejected[0]
    market, dos = seen["actors"].mo.market, seen["actors"].dos
    assert market.batch_verifier(rep.task_id, 3) is not None
    events = market.contract.events.BatchSubmitted().get_logs(from_block=0)
    assert [(e.args["proofs"], e.args["accepted"]) for e in events] == [(3, 2)]  # 1 padding
    assert [market.paid_state(rep.task_id, d.account) for d in dos] == [0, 3, 3]  # claimed
    assert rep.reclaimed == REWARD + 3 * FEE  # 3 escrowed, 2 paid, every server delivered
