"""Model privacy in a real market round (docs/privacy.md): the data owners' vectors — what they
encode, share and prove — are gradients of the published (perturbed) model, never of the clear
one, and the model owner's update, made from the servers' aggregate, is the clear-model step."""

from __future__ import annotations

import numpy as np
import pytest

from omnidsl.chain import embedded_chain
from omnidsl.market import roles
from omnidsl.market.demo import run_demo
from omnidsl.ml.encoding import encode
from omnidsl.ml.federated import DigitsSource

pytestmark = [pytest.mark.chain, pytest.mark.slow]


def test_data_owners_share_only_gradients_of_the_perturbed_model(monkeypatch):
    src = DigitsSource(owners=3, n_malicious=1, attack="scaling", model_name="mlp", hidden=2,
                       seed=3)
    clear_before = src.params.copy()
    shared: list[list[int]] = []  # in DO order
    real_share = roles.DataOwner.share

    def spy(self, task_id, q, servers, *a, **kw):  # what each DO hands to the servers
        shared.append(list(q))
        return real_share(self, task_id, q, servers, *a, **kw)

    monkeypatch.setattr(roles.DataOwner, "share", spy)
    reports = run_demo(embedded_chain(), rounds=1, owners=3, malicious=1, servers=2, source=src,
                       prover="local", log=lambda _m: None)
    rep = reports[0]
    assert rep.accepted == [1, 2] and rep.binding_ok is True and len(shared) == 3
    held = src.published
    assert not np.any(held == clear_before)  # the model the DOs trained on
    pert = src.perturbation
    assert pert is not None
    clear_steps = []
    for i in (1, 2):  # honest DOs: their shared vector is the published-model gradient
        d = src.owner_list[i].data
        g_clear = src.model.loss_and_grad(clear_before, d.X, d.y)[1]
        g_clear = g_clear * (0.99 * np.linalg.norm(src.ref) / np.linalg.norm(g_clear))
        q = np.array(shared[i])
        q_clear = encode(g_clear, 12, 16)
        nz = q_clear != 0
        assert np.mean(q[nz] == q_clear[nz]) < 0.5  # not the clear gradient's encoding ...
        np.testing.assert_array_equal(q[pert.source_index(src.model)], q_clear)  # ... permuted
        clear_steps.append(q_clear / 4096)
    # the MO mapped the servers' aggregate back: its clear model took the clear-model step
    expected = clear_before - src.lr * (clear_steps[0] + clear_steps[1]) / 2
    np.testing.assert_allclose(src.params, expected, atol=1e-12)

