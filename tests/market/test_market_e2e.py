"""End to end with the REAL generated Groth16 verifier and REAL proofs (circom2 + snarkjs keys of
the market rule, omnidsl's verifier template): the demo's rounds, an invalid (stolen) proof that
earns nothing, and the aggregate binding catching tampered aggregate shares."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from omnidsl.field import R
from omnidsl.market import circom_rule as cr
from omnidsl.market.aggregate import fingerprint
from omnidsl.market.chains import embedded_chain
from omnidsl.market.client import Reject
from omnidsl.market.demo import FEE, REWARD, run_demo, setup_actors

pytestmark = [pytest.mark.chain, pytest.mark.slow]

DIM = 8


@dataclass
class ToySource:
    """A tiny deterministic GradientSource: DO 0 scales its gradient far beyond the bound."""

    owners: int = 3
    n_params: int = DIM
    malicious: list[bool] = field(default_factory=list)
    applied: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.malicious = [i == 0 for i in range(self.owners)]
        self.base = np.linspace(-0.5, 0.5, DIM)

    def reference(self) -> np.ndarray:
        return self.base

    def gradients(self) -> list[np.ndarray]:
        gs = [self.base * (1 + 0.1 * i) for i in range(self.owners)]
        gs[0] = gs[0] * 10.0  # fits 16 bits, but breaks the L2 bound
        return gs

    def apply(self, aggregate: np.ndarray, n_accepted: int) -> None:
        self.applied.append(aggregate.copy())

    def accuracy(self) -> float:
        return float(len(self.applied))


def test_demo_round_with_real_proofs(rule, rule_dir):
    w3 = embedded_chain()
    src = ToySource()
    lines: list[str] = []
    reports = run_demo(w3, rounds=1, owners=3, malicious=1, servers=2, workdir=rule_dir,
                       source=src, log=lines.append, prover="snarkjs")
    rep = reports[0]
    assert rep.accepted == [1, 2]
    assert "rule violated" in rep.rejected[0] and "invalid_proof" in rep.rejected[0]
    assert rep.batch_size == 3 and rep.binding_ok and rep.batch_gas > 0
    assert rep.reclaimed == 3 * (REWARD + FEE) - 2 * (REWARD + FEE)
    # the MO applied exactly the fixed-point sum of the accepted gradients
    q = [np.rint(g * 4096) for g in src.gradients()[1:]]
    assert np.array_equal(src.applied[0] * 4096, q[0] + q[1])
    assert "gas/batch" in lines[-1] and "DO0 (m)" in lines[-1]


def test_tampered_aggregate_is_detected(rule):
    w3 = embedded_chain()
    actors = setup_actors(w3, rule, n_owners=3, n_servers=3)
    mo, servers, dos = actors.mo, actors.servers, actors.dos
    market = mo.market
    now = int(w3.eth.get_block("latest")["timestamp"])
    max_norm2 = 10**12
    tid = mo.open_task([s.account for s in servers], REWARD, FEE, 3 * (REWARD + FEE), now + 600,
                       pinned_value=max_norm2)
    grads = [[(7 * i + 3 * j) % 200 - 100 for j in range(DIM)] for i in range(3)]
    for do, q in zip(dos, grads, strict=True):
        do.share(tid, q, servers)
    for s in servers:
        s.commit(tid)
    info = market.task(tid)
    assert info.challenge_fixed
    items = rule.prove_many([cr.witness_input(q, d.account, info.rho, max_norm2)
                             for q, d in zip(grads, dos, strict=True)])
    # a proof bound to another challenge is refused before any pairing
    bad = rule.prove_many([cr.witness_input(grads[2], dos[2].account, (info.rho + 1) % R,
                                            max_norm2)])
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
    # auditing one server (opening its commitment) pins the culprit
    assert mo.audit(tid, servers[0], accepted, shares[0])
    assert not mo.audit(tid, servers[2], accepted, tampered[2])
    # a server slips in the share of a data owner who was not accepted
    extra = [s.aggregate_share(tid, [*accepted, dos[2].account]) for s in servers]
    assert not mo.check_aggregate(tid, mo.reconstruct(extra))
    # a server drops one accepted data owner
    dropped = [*shares[:2], servers[2].aggregate_share(tid, accepted[:1])]
    assert not mo.check_aggregate(tid, mo.reconstruct(dropped))
    outcomes = [e for e in market.contract.events.AggregateChecked().get_logs(from_block=0)]
    assert [bool(e["args"]["matched"]) for e in outcomes] == [True, False, False, False]
