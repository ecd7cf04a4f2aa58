"""Aggregate binding on the default (DSL) path: the MarketNorm rule written in omnidsl's DSL
exposes ``fp = fingerprint(g, rho)``, proved with omnidsl's own Groth16 and checked by its
generated verifier on the embedded chain; tampered / extra / dropped aggregate shares are caught
exactly as on the snarkjs path (tests/market/test_market_e2e.py)."""

from __future__ import annotations

import pytest
from test_market_e2e import DIM, ToySource

from omnidsl.field import R
from omnidsl.market import dsl_rule
from omnidsl.market.aggregate import fingerprint
from omnidsl.market.chains import embedded_chain
from omnidsl.market.client import Reject
from omnidsl.market.demo import FEE, REWARD, run_demo, setup_actors

pytestmark = [pytest.mark.chain, pytest.mark.slow]


@pytest.fixture(scope="module")
def dsl() -> dsl_rule.DslRule:
    return dsl_rule.setup(DIM)


def test_layout_matches_the_rule(dsl):
    lay = dsl.layout
    assert dsl.binding and lay.n_public == dsl.circuit.r1cs.n_public == 4
    q = [3, -5, 0, 7, -4096, 4095, 1, -1]
    pub = dsl.circuit.public_signals(dsl.circuit.witness(
        dsl.witness_input(q, "0x00000000000000000000000000000000000000aa", 1234567, 1 << 20)))
    assert pub[lay.fp_index] == fingerprint(q, 1234567)
    assert pub[lay.owner_index] == 0xAA and pub[lay.rho_index] == 1234567
    assert pub[lay.pinned_index] == 1 << 20


def test_dsl_binding_detects_tampered_shares(dsl):
    w3 = embedded_chain()
    actors = setup_actors(w3, dsl, n_owners=3, n_servers=3)
    mo, servers, dos = actors.mo, actors.servers, actors.dos
    market = mo.market
    now = int(w3.eth.get_block("latest")["timestamp"])
    max_norm = dsl.pinned_value(1 << 30)
    tid = mo.open_task([s.account for s in servers], REWARD, FEE, 3 * (REWARD + FEE), now + 600,
                       pinned_value=max_norm)
    grads = [[(7 * i + 3 * j) % 200 - 100 for j in range(DIM)] for i in range(3)]
    for do, q in zip(dos, grads, strict=True):
        do.share(tid, q, servers)
    for s in servers:
        s.commit(tid)
    info = market.task(tid)
    assert info.challenge_fixed and info.rho_index == dsl.layout.rho_index
    items = dsl.prove_many([dsl.witness_input(q, d.account, info.rho, max_norm)
                            for q, d in zip(grads, dos, strict=True)])
    # a proof bound to another challenge is refused before any pairing
    bad = dsl.prove_many([dsl.witness_input(grads[2], dos[2].account, (info.rho + 1) % R,
                                            max_norm)])
    res = servers[1].submit(tid, [items[0], items[1], bad[0]])
    assert res.batch_valid
    assert res.rejected == [(2, dos[2].account, Reject.WRONG_CHALLENGE)]
    assert sorted(res.accepted) == sorted([dos[0].account, dos[1].account])
    info = market.task(tid)
    assert info.fp_sum == (fingerprint(grads[0], info.rho) + fingerprint(grads[1], info.rho)) % R

    accepted = [dos[0].account, dos[1].account]
    shares = [s.aggregate_share(tid, accepted) for s in servers]
    total = mo.reconstruct(shares)
    assert total == [a + b for a, b in zip(grads[0], grads[1], strict=True)]
    assert mo.check_aggregate(tid, total)

    # a server adds an error to its aggregate share
    tampered = [list(v) for v in shares]
    tampered[2][5] = (tampered[2][5] + 1) % R
    assert not mo.check_aggregate(tid, mo.reconstruct(tampered))
    assert mo.audit(tid, servers[0], accepted, shares[0])
    assert not mo.audit(tid, servers[2], accepted, tampered[2])
    # a server slips in the share of a data owner who was not accepted
    extra = [s.aggregate_share(tid, [*accepted, dos[2].account]) for s in servers]
    assert not mo.check_aggregate(tid, mo.reconstruct(extra))
    # a server drops one accepted data owner
    dropped = [*shares[:2], servers[2].aggregate_share(tid, accepted[:1])]
    assert not mo.check_aggregate(tid, mo.reconstruct(dropped))
    outcomes = list(market.contract.events.AggregateChecked().get_logs(from_block=0))
    assert [bool(e["args"]["matched"]) for e in outcomes] == [True, False, False, False]


def test_default_demo_round_checks_the_binding(dsl, monkeypatch):
    monkeypatch.setattr(dsl_rule, "setup", lambda dim: dsl)  # reuse this module's keys
    src = ToySource()
    reports = run_demo(embedded_chain(), rounds=1, owners=3, malicious=1, servers=2, source=src,
                       log=lambda _m: None)
    rep = reports[0]
    assert rep.accepted == [1, 2] and rep.binding_ok is True and rep.commit_gas > 0
    assert "rule violated" in rep.rejected[0] and "invalid_proof" in rep.rejected[0]
