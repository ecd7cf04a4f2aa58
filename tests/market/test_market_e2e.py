"""End to end with the REAL generated Groth16 verifier and REAL proofs (circom2 + snarkjs keys of
the market rule, omnidsl's verifier template): the demo's rounds (a stolen proof is refused by the
servers), a stolen proof that earns nothing on-chain even when every server attests it, and the
aggregate binding catching tampered aggregate shares."""

from __future__ import annotations

import numpy as np
import pytest
from market_helpers import DIM, ToySource, binding_scenario

from omnidsl.chain import embedded_chain
from omnidsl.market import circom_rule as cr
from omnidsl.market.demo import FEE, REWARD, run_demo

pytestmark = [pytest.mark.chain, pytest.mark.slow]

def test_demo_round_with_real_proofs(rule, rule_dir):
    w3 = embedded_chain()
    src = ToySource()
    lines: list[str] = []
    reports = run_demo(w3, rounds=1, owners=3, malicious=1, servers=2, workdir=rule_dir,
                       source=src, log=lines.append, prover="snarkjs")
    rep = reports[0]
    assert rep.accepted == [1, 2]
    # DO 0 has no witness; its stolen copy of an honest proof is not attested by the servers
    # (binding_scenario checks that the chain refuses it even when they all sign it)
    assert "rule violated" in rep.rejected[0] and "refused by the servers" in rep.rejected[0]
    assert rep.batch_size == 2 and rep.binding_ok and rep.batch_gas > 0
    # 3 escrowed, 2 paid; both servers delivered, so their fees and bonds are not reclaimed
    n_servers = 2
    assert rep.reclaimed == 3 * (REWARD + n_servers * FEE) - 2 * (REWARD + n_servers * FEE)
    # the MO applied exactly the fixed-point sum of the accepted gradients
    q = [np.rint(g * 4096) for g in src.gradients()[1:]]
    assert np.array_equal(src.applied[0] * 4096, q[0] + q[1])
    assert "gas/batch" in lines[-1] and "DO0 (m)" in lines[-1]


def test_tampered_aggregate_is_detected(rule):
    binding_scenario(rule, cr.witness_input, 10**12, DIM)
