"""Aggregate binding on the default (DSL) path: the MarketNorm rule written in omnidsl's DSL
exposes ``fp = fingerprint(g, rho)``, proved with omnidsl's own Groth16 and checked by its
generated verifier on the embedded chain; tampered / extra / dropped aggregate shares are caught
exactly as on the snarkjs path (tests/market/test_market_e2e.py)."""

from __future__ import annotations

import pytest
from market_helpers import DIM, ToySource, binding_scenario

from omnidsl.chain import embedded_chain
from omnidsl.market import dsl_rule
from omnidsl.market.aggregate import fingerprint
from omnidsl.market.demo import FEE, REWARD, run_demo

pytestmark = [pytest.mark.chain, pytest.mark.slow]


def test_layout_matches_the_rule(dsl):
    lay = dsl.layout
    assert dsl.binding and lay.n_public == dsl.circuit.r1cs.n_public == 4
    v = [3, -5, 0, 7, -4096, 4095, 1, -1, 987654321]  # the gradient, then the mask
    pub = dsl.circuit.public_signals(dsl.circuit.witness(
        dsl.witness_input(v, "0x00000000000000000000000000000000000000aa", 1234567, 1 << 20)))
    assert pub[lay.fp_index] == fingerprint(v, 1234567)
    assert pub[lay.owner_index] == 0xAA and pub[lay.rho_index] == 1234567
    assert pub[lay.pinned_index] == 1 << 20


def test_dsl_binding_detects_tampered_shares(dsl):
    binding_scenario(dsl, dsl.witness_input, dsl.pinned_value(1 << 30), DIM)


def test_default_demo_round_checks_the_binding(dsl, monkeypatch):
    monkeypatch.setattr(dsl_rule, "setup", lambda dim: dsl)  # reuse this module's keys
    src = ToySource()
    reports = run_demo(embedded_chain(), rounds=1, owners=3, malicious=1, servers=2, source=src,
                       log=lambda _m: None)
    rep = reports[0]
    assert rep.accepted == [1, 2] and rep.binding_ok is True and rep.commit_gas > 0
    assert "rule violated" in rep.rejected[0] and "refused by the servers" in rep.rejected[0]
    assert rep.reclaimed == REWARD + 2 * FEE  # 3 escrowed, 2 paid, both servers delivered
