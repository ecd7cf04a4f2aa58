"""Attacks on the one-proof-per-batch market path (docs/market.md, "One proof per batch") on the
embedded chain, with real proofs of the shipped DSL rule's batch statement: a malicious server
(reordering, swapping, malleating, reusing a proof of another task or batch size, relaying),
a malicious model owner (a verifier that accepts anything, nothing, or reverts; swapping it;
reclaiming early or claiming a DO's reward), a network attacker (replays across tasks, markets
and chains, too little gas) and a malicious data owner (owner values that are no address, a
slot proving another gradient than the one it shared, a contract re-entering its payout).  Every
attack that the docs say fails is asserted to fail; what the docs say succeeds (every server
colluding) is asserted to succeed."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest
from eth_abi import encode
from market_helpers import HERE, advance_time
from web3 import Web3

from omnidsl.chain import deploy, embedded_chain
from omnidsl.errors import ChainError
from omnidsl.field import Q, R
from omnidsl.market import dsl_rule
from omnidsl.market.aggregate import fingerprint
from omnidsl.market.attestation import sign_digest
from omnidsl.market.batch_attest import attest_batch, record_batch, submit_batch_proof, vet_batch
from omnidsl.market.batch_rule import deploy_batch_verifier, setup_batch
from omnidsl.market.client import MarketClient, Reject
from omnidsl.market.demo import BOND, FEE, REWARD, setup_actors
from omnidsl.solidity.compile import compile_sources

pytestmark = [pytest.mark.chain]

D = 2
K = 3
N_SERVERS = 3
MAX_Q = 3 << dsl_rule.FRAC
COST = REWARD + N_SERVERS * FEE
LOW_GAS = 300_000  # enough to reach the batch verifier, not to finish it


@pytest.fixture(scope="module")
def batch():
    return setup_batch(dsl_rule.setup(D), K)


@pytest.fixture(scope="module")
def batch2(batch):
    return setup_batch(batch.rule, 2)


def _world(batch, batch2):
    w3 = embedded_chain()
    actors = setup_actors(w3, batch.rule, n_owners=6, n_servers=N_SERVERS)
    mo = actors.mo
    return SimpleNamespace(w3=w3, mo=mo, servers=actors.servers, dos=actors.dos,
                           market=mo.market, pins=batch.rule.pins(MAX_Q), verifiers={
                               K: deploy_batch_verifier(w3, batch, mo.account),
                               2: deploy_batch_verifier(w3, batch2, mo.account)})


@pytest.fixture(scope="module")
def world(batch, batch2):
    return _world(batch, batch2)


def _test_contract(w, name: str, *args):
    """Deploy the TEST-ONLY contract tests/market/contracts/<name>.sol."""
    src = (HERE / "contracts" / f"{name}.sol").read_text()
    cc = compile_sources({f"{name}.sol": src})[name]
    return deploy(w.w3, cc.abi, cc.bytecode, *args, sender=w.mo.account)


def _fixed_answer(w, mode: int) -> str:
    """A TEST-ONLY verifier answering false (0), true (1) or reverting (2) to every call."""
    return str(_test_contract(w, "FixedAnswerTestVerifier", mode).address)


def _task(w, paid_for=6, verifiers=None, vectors=None, extra=()):
    """A fresh task escrowing ``paid_for`` contributions, the given batch verifiers (k → address;
    default: the real ones for K and 2), every DO's shares committed (DO i's gradient:
    ``vectors[i]`` if given), ρ fixed."""
    now = int(w.w3.eth.get_block("latest")["timestamp"])
    tid = w.mo.open_task([s.account for s in w.servers], REWARD, FEE, paid_for * COST, now + 3600,
                         deliver_by=now + 7200, bond=BOND, pinned=w.pins)
    for k, v in (w.verifiers if verifiers is None else verifiers).items():
        w.market.set_batch_verifier(tid, k, v, w.mo.account)
    for i, do in enumerate([*w.dos, *extra]):
        do.share(tid, (vectors or {}).get(i, [(-1) ** i * (40 * i + 7), 13 * i - 50]), w.servers)
    for s in w.servers:
        s.commit(tid)
    for s in w.servers:
        s.reveal(tid)
    return tid, w.market.task(tid).rho


def _inputs(batch, dos, tid, rho):
    return [batch.rule.witness_input(d.vectors[tid], d.account, rho, MAX_Q) for d in dos]


def _sign_all(w, tid, proof):
    """Every server signs ``proof``'s calldata without vetting (all N colluding)."""
    digest = w.market.batch_proof_digest(tid, proof.words, proof.owners, proof.fps)
    return b"".join(sign_digest(w.w3, s.account, digest, s.signer) for s in w.servers)


def _colluding_submit(w, tid, proof, sender=None):
    return w.market.submit_batch_proof(tid, proof.words, proof.owners, proof.fps,
                                       _sign_all(w, tid, proof), sender or w.servers[0].account)


def _record(w, tid, proof, batch):
    """Each server's prover made the bound per-DO proof of every DO the batch names and the
    batch proof itself (its receipts)."""
    rho = w.market.task(tid).rho
    named = [d for d in w.dos if int(d.account, 16) in proof.owners]
    items = batch.rule.prove_many(_inputs(batch, named, tid, rho))
    for s in w.servers:
        s.record(tid, items)
        record_batch(s, tid, proof)


def _honest_submit(w, tid, proof, batch):
    _record(w, tid, proof, batch)
    return submit_batch_proof(w.servers, tid, proof, batch)


def _refused(w, tid, proof, match="invalid batch proof"):
    """Even with every server's signature the chain refuses the calldata; nothing moves."""
    before = w.market.task(tid)
    with pytest.raises(ChainError, match=match):
        _colluding_submit(w, tid, proof)
    after = w.market.task(tid)
    assert (after.accepted, after.fp_sum, after.remaining) == \
        (before.accepted, before.fp_sum, before.remaining)


def test_reordered_swapped_non_canonical_or_malleated_slots_credit_nobody(world, batch):
    w = world
    tid, rho = _task(w)
    proof = batch.prove(_inputs(batch, w.dos[:3], tid, rho))
    rot = [2, 0, 1]  # the same (owner, fingerprint) pairs in another slot order
    _refused(w, tid, replace(proof, owners=[proof.owners[j] for j in rot],
                             fps=[proof.fps[j] for j in rot]))
    fps = list(proof.fps)
    fps[0], fps[1] = fps[1], fps[0]  # slot 0 claims slot 1's fingerprint and vice versa
    _refused(w, tid, replace(proof, fps=fps))
    fps = list(proof.fps)
    fps[1] += R  # the same value mod r (fpSum adds mod r): refused by the verifier's < r check
    _refused(w, tid, replace(proof, fps=fps))
    words = list(proof.words)
    words[7] = Q - words[7]  # C negated: no longer a proof
    _refused(w, tid, replace(proof, words=words))
    # (−A, −B, C) is another valid proof of the same statement (Groth16 is malleable) ...
    words = list(proof.words)
    words[1] = Q - words[1]
    words[4], words[5] = Q - words[4], Q - words[5]
    twin = replace(proof, words=words)
    res = _honest_submit(w, tid, proof, batch)
    assert res.accepted == [d.account for d in w.dos[:3]]
    t = w.market.task(tid)
    assert t.fp_sum == sum(fingerprint(d.vectors[tid], rho) for d in w.dos[:3]) % R
    # ... but it needs every server's signature of its own words, and re-signed it pays nobody
    sigs = b"".join(attest_batch(s, tid, proof, batch) for s in w.servers)
    with pytest.raises(ChainError, match="not attested by server 0"):
        w.market.submit_batch_proof(tid, twin.words, twin.owners, twin.fps, sigs,
                                    w.servers[0].account)
    again = _colluding_submit(w, tid, twin)
    assert again.accepted == [] and {r for _, _, r in again.rejected} == {Reject.ALREADY_PAID}
    assert w.market.task(tid).fp_sum == t.fp_sum and w.market.task(tid).accepted == 3


def test_padding_and_owner_values_that_are_no_address_credit_nobody(world, batch):
    w = world
    tid, rho = _task(w)
    t0 = w.market.task(tid)
    inp = _inputs(batch, w.dos[3:4], tid, rho)[0]
    pad = batch.prove([dict(inp, owner="0")] * K)  # a batch of padding only (a real DO's copy)
    assert pad.owners == [0] * K
    assert vet_batch(w.servers[0], tid, pad, batch) is not None  # not its prover's ...
    record_batch(w.servers[0], tid, pad)
    assert vet_batch(w.servers[0], tid, pad, batch) is None  # ... once it is, it names nobody
    res = _honest_submit(w, tid, pad, batch)
    t = w.market.task(tid)
    assert res.accepted == [] and res.rejected == []
    assert (t.accepted, t.fp_sum, t.remaining) == (t0.accepted, t0.fp_sum, t0.remaining)
    # a DO that proves with owner −5 (the rule's owner is a signed 161-bit int): the chain sees
    # the field element r − 5 ≥ 2^160 (BadOwner), an honest server names it
    neg = batch.prove([dict(inp, owner=str(R - 5)), *_inputs(batch, w.dos[4:5], tid, rho)])
    assert neg.owners[0] == R - 5
    record_batch(w.servers[0], tid, neg)
    assert vet_batch(w.servers[0], tid, neg, batch) == "slot 0: no data owner address"
    res = _colluding_submit(w, tid, neg)
    assert res.accepted == [w.dos[4].account]
    assert [(j, r) for j, _, r in res.rejected] == [(0, Reject.BAD_OWNER)]
    t = w.market.task(tid)
    assert t.fp_sum == fingerprint(w.dos[4].vectors[tid], rho)  # slot 0's fp not added
    assert t.remaining == t0.remaining - COST


def test_a_batch_proof_is_bound_to_its_task_market_chain_and_size(world, batch, batch2):
    w = world
    tid_a, rho_a = _task(w)
    tid_b, rho_b = _task(w)
    proof = batch.prove(_inputs(batch, w.dos[:3], tid_a, rho_a))
    _record(w, tid_a, proof, batch)
    sigs = b"".join(attest_batch(s, tid_a, proof, batch) for s in w.servers)
    # replayed in another task with its signatures: the digest names the task
    with pytest.raises(ChainError, match="not attested by server 0"):
        w.market.submit_batch_proof(tid_b, proof.words, proof.owners, proof.fps, sigs,
                                    w.servers[0].account)
    _refused(w, tid_b, proof)  # re-signed there by all: another ρ, so not a proof there
    # another batch size: a 2-slot proof padded to K, a K-slot proof cut to 2
    two = batch2.prove(_inputs(batch, w.dos[:2], tid_b, rho_b))
    _refused(w, tid_b, replace(two, owners=[*two.owners, 0], fps=[*two.fps, two.fps[0]]))
    cut = batch.prove(_inputs(batch, w.dos[:2], tid_b, rho_b))
    _refused(w, tid_b, replace(cut, owners=cut.owners[:2], fps=cut.fps[:2]))
    # an outsider relaying (front-running) the attested calldata is not a server
    outsider = w.dos[5].account
    with pytest.raises(ChainError, match="not a registered server"):
        w.market.submit_batch_proof(tid_a, proof.words, proof.owners, proof.fps, sigs, outsider)
    # too little gas (a server sending it so that valid slots fail): the verifier's gas
    # precheck reverts the whole call, nothing is refused as invalid
    with pytest.raises(ChainError, match="insufficient gas for verification"):
        w.market.submit_batch_proof(tid_a, proof.words, proof.owners, proof.fps, sigs,
                                    w.servers[1].account, gas=LOW_GAS)
    assert w.market.task(tid_a).accepted == 0 and w.market.paid_state(tid_a, w.dos[0].account) == 0
    first = w.market.submit_batch_proof(tid_a, proof.words, proof.owners, proof.fps, sigs,
                                        w.servers[1].account)
    assert len(first.accepted) == 3 and first.gas_used > LOW_GAS + 50_000
    t = w.market.task(tid_a)
    replay = w.market.submit_batch_proof(tid_a, proof.words, proof.owners, proof.fps, sigs,
                                         w.servers[2].account)  # the same calldata again
    assert replay.accepted == [] and len(replay.rejected) == 3
    assert (w.market.task(tid_a).fp_sum, w.market.task(tid_a).remaining) == (t.fp_sum,
                                                                            t.remaining)
    # a reward credited in task a cannot be claimed in task b
    with pytest.raises(ChainError, match="no unclaimed reward"):
        w.market.claim_reward(tid_b, w.dos[0].account)
    # the digest binds the chain id and the market's address: another market (or chain)
    # needs new signatures of every server
    other = MarketClient.deploy(w.w3, sender=w.mo.account)
    args = (tid_a, proof.words, proof.owners, proof.fps)
    assert other.batch_proof_digest(*args) != w.market.batch_proof_digest(*args)
    words = [Web3.keccak(b"".join(int(x).to_bytes(32, "big") for x in v))
             for v in (proof.words, proof.owners, proof.fps)]
    ours = Web3.keccak(encode(["bytes32", "uint256", "address", "uint256", "bytes32", "bytes32",
                               "bytes32"],
                              [Web3.keccak(text="omnidsl.market.batchproof/v1"), w.w3.eth.chain_id,
                               w.market.address, tid_a, *words]))
    assert bytes(w.market.batch_proof_digest(*args)) == bytes(ours)


def test_a_model_owner_cannot_pay_or_block_through_the_batch_verifier(world, batch):
    w = world
    yes, no, boom = (_fixed_answer(w, m) for m in (1, 0, 2))
    tid, rho = _task(w, verifiers={K: yes})
    proof = batch.prove(_inputs(batch, w.dos[:3], tid, rho))
    for s in w.servers:
        record_batch(s, tid, proof)
    for s in w.servers:  # every honest server refuses a verifier that is not the batch key's
        with pytest.raises(ChainError, match="not the verifier of the batch key"):
            attest_batch(s, tid, proof, batch)
    with pytest.raises(ChainError, match="servers already committed"):
        w.market.set_batch_verifier(tid, K, w.verifiers[K], w.mo.account)  # no swap later
    with pytest.raises(ChainError, match="servers already committed"):
        w.market.set_batch_verifier(tid, 2, yes, w.mo.account)  # nor a new size
    # the boundary the docs state: if ALL servers collude, the accept-all verifier pays garbage
    junk = replace(proof, words=[1, 2] * 4, fps=[5, 6, 7])
    assert len(_colluding_submit(w, tid, junk).accepted) == 3
    # a verifier that refuses everything, or reverts: nothing credited, the submission reverts
    tid2, rho2 = _task(w, verifiers={K: no, 2: boom})
    real = batch.prove(_inputs(batch, w.dos[:3], tid2, rho2))
    _refused(w, tid2, real)
    _refused(w, tid2, replace(real, owners=real.owners[:2], fps=real.fps[:2]),
             match="FixedAnswer: refuses")
    # the per-proof path still pays the DOs in that task (the MO can block only its own batch)
    items = batch.rule.prove_many(_inputs(batch, w.dos[:1], tid2, rho2))
    for s in w.servers:
        s.record(tid2, items)
    assert w.servers[0].submit(tid2, items, cosigners=w.servers[1:]).accepted == \
        [w.dos[0].account]


def test_escrow_stays_exact_and_nobody_is_paid_twice_across_both_paths(batch, batch2):
    w = _world(batch, batch2)  # its own chain: the contract's whole balance is this task's
    m = w.market
    tid, rho = _task(w, paid_for=3)
    escrow = 3 * COST
    dos = w.dos

    def held_is_exact():
        assert m.total_held() == m.ether_balance()

    items = batch.rule.prove_many(_inputs(batch, dos[:1], tid, rho))  # DO0 by submitBatch
    for s in w.servers:
        s.record(tid, items)
    assert w.servers[0].submit(tid, items, cosigners=w.servers[1:]).accepted == [dos[0].account]
    first = batch.prove(_inputs(batch, [dos[0], dos[1]], tid, rho))  # DO0 again + DO1
    res = _honest_submit(w, tid, first, batch)
    assert res.accepted == [dos[1].account]
    assert [(j, r) for j, _, r in res.rejected] == [(0, Reject.ALREADY_PAID)]
    second = batch.prove(_inputs(batch, [dos[2], dos[3], dos[2]], tid, rho))
    res = _honest_submit(w, tid, second, batch)
    assert res.accepted == [dos[2].account]  # DO3: no escrow left; DO2's second slot: paid
    assert [(j, r) for j, _, r in res.rejected] == [(1, Reject.ESCROW_EXHAUSTED),
                                                    (2, Reject.ALREADY_PAID)]
    t = m.task(tid)
    assert (t.accepted, t.remaining) == (3, 0)
    assert t.fp_sum == sum(fingerprint(d.vectors[tid], rho) for d in dos[:3]) % R
    assert [m.paid_state(tid, d.account) for d in dos[:4]] == [1, 2, 2, 0]
    held_is_exact()
    paid_out = 0
    with pytest.raises(ChainError, match="no unclaimed reward"):
        m.claim_reward(tid, dos[0].account)  # credited by submitBatch: withdraw, not claim
    paid_out += m.withdraw(dos[0].account)[0]
    paid_out += m.claim_reward(tid, dos[1].account)[0]  # before the deadline
    with pytest.raises(ChainError, match="no unclaimed reward"):
        m.claim_reward(tid, w.mo.account)  # the MO cannot claim a DO's reward
    with pytest.raises(ChainError, match="delivery deadline not reached"):
        m.reclaim(tid, w.mo.account)
    w.mo.close(tid)
    for s in w.servers[:2]:  # server 2 withholds its aggregate share
        s.deliver(tid)
    advance_time(w.w3, 7200)
    reclaimed = m.reclaim(tid, w.mo.account)[0]
    assert reclaimed == 3 * FEE + BOND  # the withholder's fees and bond; no unclaimed reward
    with pytest.raises(ChainError, match="already reclaimed"):
        m.reclaim(tid, w.mo.account)
    held_is_exact()
    paid_out += m.claim_reward(tid, dos[2].account)[0]  # after the deadline and the reclaim
    with pytest.raises(ChainError, match="no unclaimed reward"):
        m.claim_reward(tid, dos[2].account)
    assert paid_out == 3 * REWARD
    fees = sum(m.withdraw(s.account)[0] for s in w.servers[:2])
    assert fees == 2 * (3 * FEE + BOND)
    assert paid_out + fees + reclaimed == escrow + N_SERVERS * BOND
    held_is_exact()
    assert m.ether_balance() == 0 and m.total_held() == 0



def _matching_mask(g: list[int], fp: int, rho: int) -> int:
    """The mask giving ``g`` the fingerprint ``fp`` under ρ (Σ g_i ρ^(i+1) + mask ρ^(D+1))."""
    return (fp - fingerprint([*g, 0], rho)) * pow(rho, -(D + 1), R) % R


def test_a_data_owner_cannot_enter_a_batch_with_another_gradient_than_it_shared(world, batch):
    """A DO shares a gradient the rule forbids (no bound per-DO proof of it can exist), then its
    slot of the batch carries a gradient the rule allows with a mask chosen after ρ so that the
    slot's fingerprint is that of the shared vector.  The batch statement holds: the chain
    credits it and the MO's fingerprint check passes while the aggregate carries the forbidden
    gradient (the slots are not bound to the committed shares).  So an honest server signs a
    slot only for a DO its own prover proved in this task (the bound per-DO proof) with exactly
    that slot's public signals."""
    from omnidsl.market.aggregate import binding_holds, reconstruct

    w = world
    bad = [5 << dsl_rule.FRAC, 0]  # |g_0| = 5.0 > 4.0: the rule has no witness for it
    tid, rho = _task(w, vectors={1: bad})
    honest, evil = w.dos[0], w.dos[1]
    assert not batch.rule.satisfies(evil.vectors[tid], MAX_Q)
    fp_bad = fingerprint(evil.vectors[tid], rho)
    fake = [0, 0]
    slot = batch.rule.witness_input([*fake, _matching_mask(fake, fp_bad, rho)], evil.account,
                                    rho, MAX_Q)
    proof = batch.prove([*_inputs(batch, [honest], tid, rho), slot])
    assert proof.fps[1] == fp_bad  # the fingerprint of the forbidden vector, proved valid
    items = batch.rule.prove_many(_inputs(batch, [honest], tid, rho))  # the honest DO's own
    for s in w.servers:  # each server's prover made the honest DO's per-DO proof and the batch
        s.record(tid, items)
        record_batch(s, tid, proof)
    for s in w.servers:
        with pytest.raises(ChainError, match=r"slot 1: .*no per-DO proof"):
            attest_batch(s, tid, proof, batch)
    # a slot whose public signals differ from its DO's per-DO proof is refused too
    other = batch.prove(_inputs(batch, [honest, honest], tid, rho))
    moved = batch.rule.witness_input([*honest.vectors[tid][:D], honest.vectors[tid][D] + 1],
                                     honest.account, rho, MAX_Q)
    odd = batch.prove([moved])
    for s in w.servers:
        record_batch(s, tid, odd)
        record_batch(s, tid, other)
    with pytest.raises(ChainError, match=r"slot 0: .*not the public signals of"):
        attest_batch(w.servers[0], tid, odd, batch)
    assert len(attest_batch(w.servers[0], tid, other, batch)) == 65  # the DO's own statement
    # what the vetting prevents: signed by every server, the chain credits the evil slot and
    # the MO's check of the delivered aggregate passes
    res = _colluding_submit(w, tid, proof)
    assert res.accepted == [honest.account, evil.account]
    t = w.market.task(tid)
    aggregate = reconstruct([s.aggregate_share(tid, res.accepted) for s in w.servers])
    assert binding_holds(aggregate, rho, t.fp_sum)
    assert aggregate[0] == (honest.vectors[tid][0] + bad[0]) % R  # the forbidden entry is in


def test_a_data_owner_contract_reentering_its_payout_is_paid_once(world, batch):
    from omnidsl.chain.tx import transact
    from omnidsl.market.roles import DataOwner

    w = world
    claimer = _test_contract(w, "ReentrantClaimerTestDO", w.market.address)
    do = DataOwner(str(claimer.address))
    tid, rho = _task(w, extra=[do])
    proof = batch.prove(_inputs(batch, [do, w.dos[0]], tid, rho))
    items = batch.rule.prove_many(_inputs(batch, [do, w.dos[0]], tid, rho))
    for s in w.servers:
        s.record(tid, items)
        record_batch(s, tid, proof)
    res = submit_batch_proof(w.servers, tid, proof, batch)
    assert res.accepted == [do.account, w.dos[0].account]
    held = w.market.ether_balance()
    transact(w.w3, claimer.functions.claim(tid), sender=w.mo.account)
    assert claimer.functions.received().call() == REWARD  # re-entering claimReward and
    assert claimer.functions.reentered().call() == 0  # withdraw inside the payment paid nothing
    assert w.w3.eth.get_balance(claimer.address) == REWARD
    assert w.market.ether_balance() == held - REWARD == w.market.total_held()
    assert w.market.paid_state(tid, do.account) == 3
    with pytest.raises(ChainError, match="no unclaimed reward"):
        transact(w.w3, claimer.functions.claim(tid), sender=w.mo.account)
