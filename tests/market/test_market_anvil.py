"""The demo's rounds on anvil (a real node over JSON-RPC): omnidsl's own pipeline (DSL rule,
compiler, dev setup, Groth16 prover, generated verifier) and the snarkjs rule, both with the
aggregate binding."""

from __future__ import annotations

import pytest
from market_helpers import DIM, ToySource

from omnidsl.chain import anvil
from omnidsl.market.demo import FEE, REWARD, run_demo

pytestmark = [pytest.mark.chain, pytest.mark.slow]


@pytest.mark.parametrize("prover", ["omnidsl", "snarkjs"])
def test_demo_rounds_on_anvil(rule, rule_dir, prover):
    assert rule.dim == DIM
    with anvil() as w3:
        src = ToySource(owners=4)
        reports = run_demo(w3, rounds=2, owners=4, malicious=1, servers=3, workdir=rule_dir,
                           source=src, log=lambda _m: None, prover=prover)
    assert [r.accepted for r in reports] == [[1, 2, 3], [1, 2, 3]]
    assert all("refused by the servers" in r.rejected[0] for r in reports)  # not attested
    assert all(r.binding_ok is True for r in reports)  # both rules expose the fingerprint
    # 4 escrowed, 3 paid; all 3 servers delivered (fees paid, bonds returned)
    assert all(r.reclaimed == REWARD + 3 * FEE for r in reports)
    assert all(r.commit_gas > 0 for r in reports)  # commitments and seed reveals
    assert len(src.applied) == 2
