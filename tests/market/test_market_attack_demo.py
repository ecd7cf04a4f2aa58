"""The attack demo at CI size: `market demo --attack sign_flip --rule cosine` (the committed-cosine
rule, omnidsl/market/rules/market_cosine.omni), real proofs and the chain, data owners training a perturbed MLP
(docs/results.md has the full-size runs).  A sign-flipped gradient fits the norm bound, so only
the cosine test against the published reference refuses it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from omnidsl.chain import embedded_chain
from omnidsl.market import demo
from omnidsl.market.demo import BOND, FEE, REWARD, run_demo
from omnidsl.market.tasks import shipped_rule
from omnidsl.ml.attacks import Attack, scaling
from omnidsl.ml.federated import DigitsSource

pytestmark = [pytest.mark.chain, pytest.mark.slow]

RULE = shipped_rule("cosine")


@pytest.fixture
def actors(monkeypatch) -> list[demo.Actors]:
    """The demo's actors of each round (the MO's market client, the DOs), captured as
    ``run_demo`` sets them up."""
    captured: list[demo.Actors] = []
    real_setup = demo.setup_actors

    def keep(*a, **kw):
        captured.append(real_setup(*a, **kw))
        return captured[-1]

    monkeypatch.setattr(demo, "setup_actors", keep)
    return captured


def test_a_sign_flipping_data_owner_is_refused_on_chain_and_honest_ones_are_paid(actors):
    src = DigitsSource(owners=3, n_malicious=1, attack="sign_flip", model_name="mlp", hidden=2,
                       seed=4, tau=0.2, norm_factor=1.0)
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


@pytest.mark.parametrize("what", ["refused", "unshared"])
def test_a_round_where_every_data_owner_is_refused_is_a_normal_outcome(actors, what):
    """Every DO is malicious: the round ends normally — nobody is paid, the model is not
    updated, every server delivers (an empty sum) and gets its bond back, the MO reclaims the
    whole escrow.  ``refused``: each DO shares a gradient the rule refuses (scaling, noise, sign
    flip); ``unshared``: no gradient even fits the fixed-point range, so the servers hold no
    share at all (this raised "holds no shares" in every server's delivery)."""
    src = DigitsSource(owners=3, n_malicious=3, attack="mixed", model_name="mlp", hidden=2,
                       seed=4, tau=0.2, norm_factor=1.0)
    if what == "unshared":
        huge = Attack("scaling", gradient=scaling(1e4))
        src.owner_list = [dataclasses.replace(o, attack=huge) for o in src.owner_list]
    before = src.params.copy()
    initial = src.accuracy()
    w3 = embedded_chain()
    (rep,) = run_demo(w3, rounds=1, owners=3, malicious=3, servers=2, source=src,
                      prover="local", norm_factor=1.0, rule_file=RULE,
                      rule_values={"tau": 0.2, "min_norm": 0.01}, log=lambda _m: None)
    market, dos, servers = actors[0].mo.market, actors[0].dos, actors[0].servers
    assert rep.accepted == [] and sorted(rep.rejected) == [0, 1, 2]
    reason = "not encodable" if what == "unshared" else "rule violated"
    assert all(reason in why for why in rep.rejected.values()), rep.rejected
    assert rep.batch_size == 0 and rep.batch_gas == 0 and rep.binding_ok is True
    assert np.array_equal(src.params, before) and rep.accuracy == initial  # no update
    assert not any(market.is_paid(rep.task_id, d.account) for d in dos)
    delivered = market.contract.events.AggregateDelivered().get_logs(
        from_block=0, argument_filters={"taskId": rep.task_id})
    assert sorted(str(e["args"]["server"]) for e in delivered) == \
        sorted(w3.to_checksum_address(s.account) for s in servers)
    assert all(int(e["args"]["paid"]) == BOND for e in delivered)  # the bond back, no fee
    assert not market.contract.events.AggregateWithheld().get_logs(
        from_block=0, argument_filters={"taskId": rep.task_id})
    assert rep.reclaimed == 3 * (REWARD + 2 * FEE)  # the whole escrow
