"""Noise on the published model (docs/privacy.md, "Doing better"): the MO publishes
perturb(θ + n) with fresh noise per round; the reference and every DO's gradient are taken at that
same published point; the MO applies the mapped-back aggregate to its clear θ."""

from __future__ import annotations

import numpy as np
import pytest

from omnidsl.errors import InputError
from omnidsl.market import model_pin
from omnidsl.ml import model_recovery as mr
from omnidsl.ml.federated import DigitsSource
from omnidsl.ml.models import MLP
from omnidsl.ml.privacy import layers, publication_noise
from omnidsl.ml.rules import NormCosineRule


@pytest.mark.parametrize("model_name", ["mlp", "logreg"])
def test_the_noise_is_per_layer_relative_to_the_weight_spread_and_fresh(model_name):
    src = DigitsSource(owners=2, n_malicious=0, model_name=model_name, hidden=100,
                       model_noise=0.2)
    src.reference()
    first = src.noise.copy()
    for w, b in layers(src.model):  # σ × the layer's weight spread, on weights and biases alike
        spread = float(np.std(src.params[w]))
        noise = np.concatenate([first[w], first[b]])
        assert abs(float(np.std(noise)) / spread - 0.2) < 0.02
        assert abs(float(np.mean(noise))) < 0.02 * spread
    src.reference()
    assert not np.any(src.noise == first)  # fresh every round
    quiet = DigitsSource(owners=2, n_malicious=0, model_name=model_name, hidden=100)
    quiet.reference()  # the default: no noise, the published model is the clear one perturbed
    assert quiet.perturbation is not None
    np.testing.assert_array_equal(quiet.published, quiet.perturbation.perturb(quiet.model,
                                                                              quiet.params))


def test_a_bad_noise_level_is_a_clear_error():
    for bad in (-0.1, float("nan"), float("inf"), "x"):
        with pytest.raises(InputError, match="model noise"):
            DigitsSource(owners=2, n_malicious=0, model_noise=bad)  # type: ignore[arg-type]
    model = MLP(4, 3, 2)
    assert not np.any(publication_noise(model, np.ones(model.n_params), 0.0))


@pytest.mark.parametrize("model_name", ["mlp", "logreg"])
def test_reference_and_data_owners_take_their_gradients_at_the_same_published_model(model_name):
    """The invariant that keeps the rule's meaning: one published point per round, for the MO's
    reference and for every DO; the MO's step is the mapped-back aggregate applied to θ."""
    src = DigitsSource(owners=4, n_malicious=1, attack="sign_flip", model_name=model_name,
                       hidden=30, model_noise=0.1, seed=4)
    for _ in range(3):
        clear = src.params.copy()
        ref = src.reference()
        held = src.published
        pert = src.perturbation
        assert pert is not None
        # what is published: the perturbed noisy point, never the clear model or θ perturbed
        np.testing.assert_array_equal(held, pert.perturb(src.model, clear + src.noise))
        assert not np.allclose(held, pert.perturb(src.model, clear))
        model_pin.verify_model(held, [model_pin.publication_hash(held)], 1)
        np.testing.assert_array_equal(ref, src.model.loss_and_grad(held, src.root.X,
                                                                   src.root.y)[1])
        grads = src.gradients()
        for i, g in enumerate(grads):
            d = src.owner_list[i].data
            raw = src.model.loss_and_grad(held, d.X, d.y)[1]
            scaled = raw * (0.99 * np.linalg.norm(ref) / np.linalg.norm(raw))
            want = -scaled if src.malicious[i] else scaled
            np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-15)
            # mapped back: the gradient at θ + n, in the clear coordinates
            at_noisy = src.model.loss_and_grad(clear + src.noise, d.X, d.y)[1]
            np.testing.assert_allclose(pert.recover_gradient(src.model, raw), at_noisy,
                                       atol=1e-12)
        rule = NormCosineRule(max_norm=float(np.linalg.norm(ref)), tau=0.2, min_norm=0.01)
        ok = [rule.accepts(g, ref) for g in grads]
        assert ok == [not m for m in src.malicious]  # the rule still tells them apart
        acc = [i for i, v in enumerate(ok) if v]
        agg = np.sum([grads[i] for i in acc], axis=0)
        src.apply(agg, len(acc))
        np.testing.assert_allclose(src.params, clear - src.lr * pert.recover_gradient(
            src.model, agg) / len(acc), atol=1e-15)


def test_noise_slows_but_does_not_stop_training():
    """The accuracy cost is measured by benchmarks/model_noise.py; here: it still learns."""
    for sigma in (0.1, 0.5):
        src = DigitsSource(owners=4, n_malicious=0, model_name="logreg", model_noise=sigma)
        before = src.accuracy()
        for _ in range(5):
            src.reference()
            grads = src.gradients()
            src.apply(np.sum(grads, axis=0), len(grads))
        assert src.accuracy() > before + 0.3


def test_the_published_noisy_model_is_a_different_but_close_function():
    """What a DO gets at σ = 0.1 (the MLP after training): not the clear model's predictions on
    every sample, but on most of them (measured: benchmarks/model_noise.py)."""
    src = DigitsSource(owners=8, n_malicious=0, model_name="mlp", model_noise=0.1)
    for _ in range(10):
        src.reference()
        grads = src.gradients()
        src.apply(np.sum(grads, axis=0), len(grads))
    X = src.test.X
    clear = src.model.logits(src.params, X).argmax(1)
    agree = []
    for _ in range(5):
        src.reference()
        agree.append(float(np.mean(src.model.logits(src.published, X).argmax(1) == clear)))
        est = mr.canonical(src.model, src.published)  # the gauge does not change predictions
        assert np.array_equal(src.model.logits(est, X).argmax(1),
                              src.model.logits(src.published, X).argmax(1))
    assert 0.9 < float(np.mean(agree)) < 1.0


def test_a_fixed_offset_would_publish_the_trained_model(monkeypatch):
    """docs/privacy.md, "Why fresh noise": with the same n every round the published point
    θ + n is what training improves — the DOs hold the better model, the MO's θ the worse."""
    import omnidsl.ml.federated as federated

    fixed: dict[str, np.ndarray] = {}

    def same_noise(model, params, sigma, rng=None):
        if "n" not in fixed:
            fixed["n"] = publication_noise(model, params, sigma)
        return fixed["n"]

    monkeypatch.setattr(federated, "publication_noise", same_noise)
    src = DigitsSource(owners=8, n_malicious=0, model_name="mlp", model_noise=0.5, seed=3)
    for _ in range(20):
        src.reference()
        grads = src.gradients()
        src.apply(np.sum(grads, axis=0), len(grads))
    src.reference()
    X, y = src.test.X, src.test.y  # test loss: the published point's is the lower one
    held = src.model.loss_and_grad(src.published, X, y)[0]
    assert held < src.model.loss_and_grad(src.params, X, y)[0] - 0.05
