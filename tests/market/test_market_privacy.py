"""Model privacy in a real market round (docs/privacy.md): the data owners' vectors — what they
encode, share and prove — are gradients of the published (perturbed) model, never of the clear
one, and the model owner's update, made from the servers' aggregate, is the clear-model step."""

from __future__ import annotations

import numpy as np
import pytest

from omnidsl.chain import embedded_chain
from omnidsl.errors import InputError
from omnidsl.market import model_pin, roles
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



def test_a_round_with_noise_on_the_published_model(monkeypatch):
    """``model_noise`` σ = 0.1 through a real round: the task pins the noisy published model,
    the MO's reference and every DO's shared vector are gradients at that same model (mapped
    back: at θ + n, not at θ), and the MO applies the aggregate to its clear θ."""
    src = DigitsSource(owners=3, n_malicious=1, attack="scaling", model_name="mlp", hidden=2,
                       seed=3, model_noise=0.1)
    clear_before = src.params.copy()
    shared: list[list[int]] = []
    real_share = roles.DataOwner.share

    def spy(self, task_id, q, servers, *a, **kw):
        shared.append(list(q))
        return real_share(self, task_id, q, servers, *a, **kw)

    pins: list[list[bytes]] = []

    def on_round(actors, report):
        if report is not None:
            pins.append(model_pin.pinned_hashes(actors.mo.market, report.task_id))

    monkeypatch.setattr(roles.DataOwner, "share", spy)
    reports = run_demo(embedded_chain(), rounds=1, owners=3, malicious=1, servers=2, source=src,
                       prover="local", log=lambda _m: None, on_round=on_round)
    rep = reports[0]
    assert rep.accepted == [1, 2] and rep.binding_ok is True and len(shared) == 3
    pert, held, noisy = src.perturbation, src.published, clear_before + src.noise
    assert pert is not None and np.any(src.noise != 0)
    assert pins == [[model_pin.publication_hash(held)]]  # the task pins the noisy model
    np.testing.assert_array_equal(held, pert.perturb(src.model, noisy))
    np.testing.assert_array_equal(src.ref, src.model.loss_and_grad(held, src.root.X,
                                                                   src.root.y)[1])
    steps = []
    for i in (1, 2):
        d = src.owner_list[i].data
        g = src.model.loss_and_grad(noisy, d.X, d.y)[1]  # at θ + n, clear coordinates
        g = g * (0.99 * np.linalg.norm(src.ref) / np.linalg.norm(g))
        q_clear = encode(g, 12, 16)
        np.testing.assert_array_equal(np.array(shared[i])[pert.source_index(src.model)], q_clear)
        at_theta = src.model.loss_and_grad(clear_before, d.X, d.y)[1]
        at_theta = at_theta * (0.99 * np.linalg.norm(src.ref) / np.linalg.norm(at_theta))
        assert np.mean(encode(at_theta, 12, 16) == q_clear) < 0.9  # not the gradient at θ
        steps.append(q_clear / 4096)
    np.testing.assert_allclose(src.params, clear_before - src.lr * (steps[0] + steps[1]) / 2,
                               atol=1e-12)


def test_model_noise_is_refused_with_a_source_of_ones_own():
    src = DigitsSource(owners=2, n_malicious=0)
    with pytest.raises(InputError, match="model_noise applies to the default source"):
        run_demo(embedded_chain(), rounds=1, owners=2, malicious=0, servers=2, source=src,
                 prover="local", log=lambda _m: None, model_noise=0.1)
