"""The round's model is pinned by the task (omnidsl/market/model_pin.py): a model owner that sends
different data owners different models — to read one gradient out of the aggregate
(docs/privacy.md) — or pins one model and sends another is refused by the data owners before
they train or prove."""

from __future__ import annotations

import numpy as np
import pytest

from omnidsl.chain import embedded_chain
from omnidsl.market import model_pin, tasks
from omnidsl.market.demo import FEE, REWARD, run_demo, setup_actors
from omnidsl.ml.federated import DigitsSource
from omnidsl.ml.models import MLP

pytestmark = [pytest.mark.chain, pytest.mark.slow]


def _dead_unit_copy(src: DigitsSource, j: int = 5) -> np.ndarray:
    """The attack's model for DO B: hidden unit j of the published model is dead."""
    W1, b1, W2, b2 = src.model.unpack(src.published.copy())
    b1 = b1.copy()
    b1[j] = -1e6
    return MLP.pack(W1, b1, W2, b2)


def _task(mo, rule, servers, model):
    now = int(mo.market.w3.eth.get_block("latest")["timestamp"])
    return tasks.open_task(mo, rule, servers, {"max_norm": 2.0}, REWARD, FEE, REWARD + 2 * FEE,
                           now + 3600, deliver_by=now + 7200, model=model)


def test_a_data_owner_given_another_model_than_the_pinned_one_refuses():
    src = DigitsSource(owners=2, n_malicious=0, model_name="mlp", hidden=16)
    src.reference()  # the round's published (perturbed) model
    rule = tasks.demo_rule(None, 4)  # any rule: the model pin does not depend on it
    w3 = embedded_chain()
    actors = setup_actors(w3, rule, n_owners=1, n_servers=2)
    mo, market, servers = actors.mo, actors.mo.market, [s.account for s in actors.servers]
    tid = _task(mo, rule, servers, src.published)
    assert model_pin.pinned_hashes(market, tid) == [model_pin.publication_hash(src.published)]
    model_pin.check_model(market, tid, src.published.copy())  # DO A: the pinned model
    with pytest.raises(model_pin.ModelMismatch, match=f"task {tid}: the model held here .* is "
                       "not the model the task pins"):
        model_pin.check_model(market, tid, _dead_unit_copy(src))  # DO B: the attack's copy
    one_off = src.published.copy()
    one_off[1000] = np.nextafter(one_off[1000], np.inf)  # one weight, one ulp
    with pytest.raises(model_pin.ModelMismatch, match="is not the model the task pins"):
        model_pin.check_model(market, tid, one_off)
    # contribute's check: a DO that does not say which model it trained on is refused too
    with pytest.raises(model_pin.ModelMismatch, match="pins the round's model; give the model"):
        model_pin.check_held(market, tid, None)
    # a second, different model published for the same task: every DO refuses
    model_pin.publish_model(market, tid, _dead_unit_copy(src), mo.account)
    for held in (src.published, _dead_unit_copy(src)):
        with pytest.raises(model_pin.ModelMismatch, match="pinned 2 different models"):
            model_pin.check_model(market, tid, held)
    # a task that pins no model: a DO holding a model refuses, one without has nothing to check
    tid2 = _task(mo, rule, servers, None)
    with pytest.raises(model_pin.ModelMismatch, match=f"task {tid2} pins no model"):
        model_pin.check_model(market, tid2, src.published)
    model_pin.check_held(market, tid2, None)


def _demo(src, monkeypatch, publish=None):
    checked: list[tuple[int, str | None]] = []
    real = model_pin.refusal

    def spy(market, task_id, params):
        why = real(market, task_id, params)
        checked.append((task_id, why))
        return why

    monkeypatch.setattr(model_pin, "refusal", spy)
    if publish is not None:
        monkeypatch.setattr(model_pin, "publish_model", publish)
    reports = run_demo(embedded_chain(), rounds=1, owners=3, malicious=1, servers=2, source=src,
                       prover="local", log=lambda _m: None)
    return reports[0], checked


def test_the_demo_pins_the_published_model_and_every_data_owner_checks_it(monkeypatch):
    src = DigitsSource(owners=3, n_malicious=1, attack="scaling", model_name="mlp", hidden=2,
                       seed=3)
    pinned: list[bytes] = []
    real = model_pin.publish_model

    def record(market, task_id, params, sender):
        pinned.append(model_pin.publication_hash(params))
        return real(market, task_id, params, sender)

    rep, checked = _demo(src, monkeypatch, record)
    assert pinned == [model_pin.publication_hash(src.published)]
    assert checked == [(rep.task_id, None)] * 3  # each DO checked and found the pinned model
    assert rep.accepted == [1, 2]

