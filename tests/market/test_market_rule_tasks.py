"""Tasks of a market rule file (omnidsl/market/tasks.py) on the embedded chain: a user's own rule
file runs a round; a task pins the reference's commitment, τ and the norm bounds and publishes
the reference; a data owner whose reference differs in one entry is refused — off-chain by the
check, on-chain by a real proof that does not verify against the pin."""

from __future__ import annotations

import numpy as np
import pytest
from market_helpers import DIM, ToySource

from omnidsl.chain import embedded_chain
from omnidsl.errors import ChainError
from omnidsl.market import dsl_rule, tasks
from omnidsl.market.attestation import sign_digest
from omnidsl.market.client import Reject
from omnidsl.market.demo import BOND, FEE, REWARD, run_demo, setup_actors
from omnidsl.solidity.render import batch_calldata

pytestmark = [pytest.mark.chain, pytest.mark.slow]

MY_RULE = """// a user's own market rule: other names, an extra pinned bound, a committed anchor
rule MyRule(D = 4) {
    private delta: fixed[D] bits 16 frac 12;
    public  owner: int bits 161;
    public  rho: field;
    public  anchor: fixed[D] bits 16 frac 12 committed;
    public  linf: fixed bits 16 frac 12;
    public  max_norm: fixed bits 32 frac 12;
    private blind: field;

    assert all(abs(delta[i]) <= linf for i in 0..D), "an entry exceeds linf";
    assert norm2(delta) <= max_norm * max_norm, "L2 norm too large";
    assert dot(delta, anchor) > 0, "points away from the anchor";
    output seal = fingerprint(delta, rho, blind);
}
"""
REF = np.linspace(-0.5, 0.5, DIM)
VALUES = {"ref": REF, "tau": 0.5, "max_norm": 4.0, "min_norm": 0.01}


@pytest.fixture(scope="module")
def cosine() -> dsl_rule.DslRule:
    return dsl_rule.setup_file(dsl_rule.COSINE_RULE, {"D": DIM})


def test_a_task_opened_with_a_users_rule_file_runs_a_round(tmp_path):
    path = tmp_path / "my_rule.omni"
    path.write_text(MY_RULE)
    src = ToySource()
    reports = run_demo(embedded_chain(), rounds=1, owners=3, malicious=1, servers=2, source=src,
                       rule_file=path, rule_values={"linf": 1.0}, log=lambda _m: None)
    rep = reports[0]
    assert rep.accepted == [1, 2] and rep.binding_ok is True
    assert "rule violated" in rep.rejected[0]
    assert len(src.applied) == 1 and np.allclose(
        src.applied[0], (REF * 1.1 + REF * 1.2), atol=2 / 4096)


def _open(w3, rule, values=VALUES, n_owners=2):
    actors = setup_actors(w3, rule, n_owners=n_owners, n_servers=3)
    now = int(w3.eth.get_block("latest")["timestamp"])
    tid = tasks.open_task(actors.mo, rule, [s.account for s in actors.servers], values, REWARD,
                          FEE, n_owners * (REWARD + 3 * FEE), now + 3600,
                          deliver_by=now + 7200, bond=BOND)
    return actors, tid


def test_the_task_pins_the_commitment_tau_and_bounds_and_publishes_the_reference(cosine):
    w3 = embedded_chain()
    actors, tid = _open(w3, cosine)
    market = actors.mo.market
    terms = tasks.task_terms(market, tid, cosine)
    ref_q = [round(x * 4096) for x in REF]
    assert terms == {"ref": ref_q, "tau": 2048, "max_norm": 4 * 4096, "min_norm": 41}
    pins = market.pinned(tid)
    assert pins == {3: cosine.circuit.commitment("ref", [str(v) for v in ref_q]), 4: 2048,
                    5: 4 * 4096, 6: 41}
    [data] = market.published(tid, 3)
    assert tasks.unpack_entries(data, 16, DIM) == ref_q and len(data) == 2 * DIM
    # the DO's own copy, one entry off: refused off-chain
    tasks.check_reference(cosine, "ref", ref_q, pins[3])
    off = list(ref_q)
    off[3] += 1
    with pytest.raises(tasks.ReferenceMismatch, match="not the task's reference"):
        tasks.check_reference(cosine, "ref", off, pins[3])


def test_a_model_owner_who_publishes_another_reference_is_refused_by_every_data_owner(cosine):
    w3 = embedded_chain()
    actors = setup_actors(w3, cosine, n_owners=1, n_servers=2)
    mo = actors.mo
    terms = tasks.encode_terms(cosine, VALUES)
    now = int(w3.eth.get_block("latest")["timestamp"])
    tid = mo.open_task([s.account for s in actors.servers], REWARD, FEE, REWARD + 2 * FEE,
                       now + 3600, deliver_by=now + 7200, pinned=cosine.pins(terms))
    with pytest.raises(tasks.ReferenceMismatch, match="published nothing"):
        tasks.task_terms(mo.market, tid, cosine)
    off = list(terms["ref"])
    off[0] -= 1
    tasks.publish(mo, tid, cosine.iface.pin("ref"), off)
    with pytest.raises(tasks.ReferenceMismatch, match="none of which commits") as info:
        tasks.task_terms(mo.market, tid, cosine)
    assert "market_cosine.omni" in str(info.value)
    tasks.publish(mo, tid, cosine.iface.pin("ref"), terms["ref"])  # the right one, later
    assert tasks.task_terms(mo.market, tid, cosine)["ref"] == terms["ref"]
    # a task that pins nothing for tau lets a proof choose it: refused too
    tid2 = mo.open_task([s.account for s in actors.servers], REWARD, FEE, REWARD + 2 * FEE,
                        now + 3600, deliver_by=now + 7200,
                        pinned={i: v for i, v in cosine.pins(terms).items() if i != 4})
    with pytest.raises(Exception, match="does not pin tau"):
        tasks.task_terms(mo.market, tid2, cosine)


def test_a_proof_against_a_reference_one_entry_off_does_not_verify_against_the_pin(cosine):
    w3 = embedded_chain()
    actors, tid = _open(w3, cosine)
    mo, servers, dos = actors.mo, actors.servers, actors.dos
    market = mo.market
    grad = [round(x * 4096 * 1.1) for x in REF]
    for do in dos:
        do.share(tid, grad, servers)
    for s in servers:
        s.commit(tid)
    for s in servers:
        s.reveal(tid)
    rho = market.task(tid).rho
    terms = tasks.task_terms(market, tid, cosine)
    off = dict(terms, ref=[*terms["ref"][:3], terms["ref"][3] + 1, *terms["ref"][4:]])
    honest, cheat = dos
    assert cosine.satisfies(grad, off)  # the cheat has a witness for its own reference
    items = cosine.prove_many([cosine.witness_input(honest.vectors[tid], honest.account, rho,
                                                    terms),
                               cosine.witness_input(cheat.vectors[tid], cheat.account, rho, off)])
    pin = market.pinned(tid)[3]
    assert int(items[0][1][3]) == pin and int(items[1][1][3]) != pin
    for s in servers:  # the local prover stands in for every server's own prover
        s.record(tid, items)
    res = servers[0].submit(tid, items, cosigners=servers[1:])
    assert res.accepted == [honest.account]
    assert [(r[1], r[2]) for r in res.rejected] == [(cheat.account, Reject.PINNED_MISMATCH)]
    # the same proof claiming the pinned commitment: a real proof that does not verify
    proof, public = items[1]
    forged = [(proof, [*public[:3], str(pin), *public[4:]])]
    proofs, inputs = batch_calldata(forged)
    digest = market.attestation_digest(tid, proofs, inputs)
    sigs = b"".join(sign_digest(w3, s.account, digest, s.signer) for s in servers)
    res = market.submit_batch(tid, proofs, inputs, sigs, servers[0].account)
    assert res.accepted == [] and [(r[1], r[2]) for r in res.rejected] == [
        (cheat.account, Reject.INVALID_PROOF)]


def test_a_task_whose_verifier_is_not_the_rules_is_refused(cosine):
    w3 = embedded_chain()
    actors = setup_actors(w3, cosine, n_owners=1, n_servers=2)
    mo = actors.mo
    other = dsl_rule.setup_file(dsl_rule.COSINE_RULE, {"D": DIM})  # same rule, another key
    mo.deploy_verifier(other.vk)  # the MO still claims cosine's rule hash
    now = int(w3.eth.get_block("latest")["timestamp"])
    tid = tasks.open_task(mo, cosine, [s.account for s in actors.servers], VALUES, REWARD, FEE,
                          REWARD + 2 * FEE, now + 3600, deliver_by=now + 7200)
    assert mo.market.task(tid).rule_hash == cosine.rule_hash
    tasks.check_task(mo.market, tid, cosine)  # hash, layout and pins look right ...
    with pytest.raises(ChainError, match="is not the verifier of rule MarketCosine's key"):
        tasks.task_terms(mo.market, tid, cosine)  # ... but the code is another key's
