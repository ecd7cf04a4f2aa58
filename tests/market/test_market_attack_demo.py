"""The attack demo at CI size: `market demo --attack sign_flip --rule cosine` (the committed-cosine
rule, omnidsl/market/rules/market_cosine.omni), real proofs and the chain, data owners training a perturbed MLP
(docs/results.md has the full-size runs).  A sign-flipped gradient fits the norm bound, so only
the cosine test against the published reference refuses it."""

from __future__ import annotations

import numpy as np
import pytest

from omnidsl.chain import embedded_chain
from omnidsl.market import demo
from omnidsl.market.demo import REWARD, run_demo
from omnidsl.market.tasks import shipped_rule
from omnidsl.ml.federated import DigitsSource

pytestmark = [pytest.mark.chain, pytest.mark.slow]

RULE = shipped_rule("cosine")


def test_a_sign_flipping_data_owner_is_refused_on_chain_and_honest_ones_are_paid(monkeypatch):
    src = DigitsSource(owners=3, n_malicious=1, attack="sign_flip", model_name="mlp", hidden=2,
                       seed=4, tau=0.2, norm_factor=1.0)
    actors: list[demo.Actors] = []
    real_setup = demo.setup_actors

    def keep(*a, **kw):
        actors.append(real_setup(*a, **kw))
        return actors[-1]

    monkeypatch.setattr(demo, "setup_actors", keep)
    w3 = embedded_chain()
    reports = run_demo(w3, rounds=1, owners=3, malicious=1, servers=2, source=src,
                       prover="local", norm_factor=1.0, rule_file=RULE,
                       rule_values={"tau": 0.2, "min_norm": 0.01}, log=lambda _m: None)
    (rep,) = reports
    market, dos = actors[0].mo.market, actors[0].dos
    # the flipped gradient is inside the L2 bound: only the cosine test can refuse it
    ref = src.ref
    assert np.linalg.norm(src.owner_gradient(0)) <= np.linalg.norm(ref)
    assert rep.accepted == [1, 2] and "rule violated" in rep.rejected[0]
    assert rep.binding_ok is True
    accepted = market.contract.events.ProofAccepted().get_logs(
        from_block=0, argument_filters={"taskId": rep.task_id})
    assert sorted(str(e["args"]["dataOwner"]) for e in accepted) == \
        sorted(w3.to_checksum_address(d.account) for d in dos[1:])
    assert not market.is_paid(rep.task_id, dos[0].account)
    assert all(market.is_paid(rep.task_id, d.account) for d in dos[1:])
    assert rep.reclaimed >= REWARD  # the malicious DO's reward went back to the MO
