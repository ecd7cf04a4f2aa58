"""The data owner's attack on model privacy (docs/privacy.md, "What a DO can still learn"):
canonicalise away the gauge and the hidden-unit order, align and average across rounds.  Without
noise it recovers the clear model exactly; with noise σ its error per parameter is ≈ σ × the
layer's spread and shrinks like 1/√R over R publications of the same model."""

from __future__ import annotations

import numpy as np
import pytest

from omnidsl.ml import model_recovery as mr
from omnidsl.ml.federated import DigitsSource
from omnidsl.ml.models import MLP


def _trained(model_name: str, sigma: float, rounds: int = 8, seed: int = 2) -> DigitsSource:
    src = DigitsSource(owners=8, n_malicious=0, model_name=model_name, model_noise=sigma,
                       seed=seed)
    for _ in range(rounds):
        src.reference()
        grads = src.gradients()
        src.apply(np.sum(grads, axis=0), len(grads))
    return src


def _sorted_units(model: MLP, p: np.ndarray) -> np.ndarray:
    """A canonical order anyone can compute: hidden units sorted by their bias."""
    W1, b1, W2, b2 = model.unpack(p)
    o = np.argsort(b1)
    return MLP.pack(W1[:, o], b1[o], W2[o, :], b2)


@pytest.mark.parametrize("model_name", ["mlp", "logreg"])
def test_without_noise_one_published_model_gives_the_clear_model_exactly(model_name):
    """The weakness of the function-preserving perturbation alone, without any secret: the
    DO's canonical form of what it holds is the clear model's canonical form."""
    src = _trained(model_name, 0.0)
    src.reference()
    held = mr.canonical(src.model, src.published)
    clear = mr.canonical(src.model, src.params)
    if isinstance(src.model, MLP):
        held, clear = _sorted_units(src.model, held), _sorted_units(src.model, clear)
        assert not np.allclose(src.published, src.params)  # (the units were moved)
    np.testing.assert_allclose(held, clear, rtol=0, atol=1e-12)
    assert mr.relative_error(src.model, held, clear, src.params) < 1e-10


@pytest.mark.parametrize("model_name", ["mlp", "logreg"])
def test_with_noise_the_error_is_sigma_times_the_spread_and_averaging_shrinks_it(model_name):
    """Measured over R publications of the same (trained) model, fresh noise each: RMS error per
    parameter in units of the layer's spread ≈ σ at R = 1, ≈ σ/√R at R = 4 and 16."""
    sigma = 0.2
    src = _trained(model_name, sigma)
    pubs = []
    for r in range(16):
        src.reference()
        pubs.append(src.published.copy())
        if r == 0:
            assert src.perturbation is not None
            truth = mr.canonical(src.model, src.perturbation.perturb(src.model, src.params))
    errs = {R: mr.relative_error(src.model, mr.estimate(src.model, pubs[:R]), truth, src.params)
            for R in (1, 4, 16)}
    # the output layer loses its class-mean component to the canonical form: slightly below σ
    for R, err in errs.items():
        assert 0.85 * sigma / np.sqrt(R) < err < 1.05 * sigma / np.sqrt(R), (R, errs)


def test_averaging_across_training_rounds_is_limited_by_the_model_owner_s_updates():
    """Across real training rounds the model moves: the average of the last 5 rounds still
    beats one round at σ = 0.2, but not by √5."""
    sigma = 0.2
    src = _trained("mlp", sigma, rounds=6)
    recent = []
    for _ in range(5):
        src.reference()
        recent.append(src.published.copy())
        grads = src.gradients()
        src.apply(np.sum(grads, axis=0), len(grads))
    src.reference()
    assert src.perturbation is not None
    truth = mr.canonical(src.model, src.perturbation.perturb(src.model, src.params))
    last = src.published.copy()
    one = mr.relative_error(src.model, mr.canonical(src.model, last), truth, src.params)
    five = mr.relative_error(src.model, mr.estimate(src.model, [last, *recent[1:]]), truth,
                             src.params)
    assert five < 0.75 * one
    assert five > one / np.sqrt(5)


def _update_error(model_name: str, sigma: float) -> float:
    """How far a DO's reading of one round's update (from two consecutive published models) is
    from the MO's real update, relative to the update's norm."""
    src = _trained(model_name, sigma, rounds=4)
    src.reference()
    before_pub, before = src.published.copy(), src.params.copy()
    pert = src.perturbation
    assert pert is not None
    grads = src.gradients()
    src.apply(np.sum(grads, axis=0), len(grads))
    src.reference()
    anchor = mr.canonical(src.model, before_pub)
    after = mr.align(src.model, mr.canonical(src.model, src.published), anchor)
    true = mr.canonical(src.model, pert.perturb(src.model, src.params)) \
        - mr.canonical(src.model, pert.perturb(src.model, before))
    return float(np.linalg.norm(after - anchor - true) / np.linalg.norm(true))


def test_one_round_s_update_is_exact_without_noise_and_noisy_with_it():
    """The MO's update between two rounds (the mean accepted gradient, which the market
    otherwise shows only to the MO): a DO reads it exactly off two consecutive models without
    noise; with noise its error grows like σ.  Measured (round 5): the MLP's update is small
    against its weights (error > 2 × the update at σ = 0.1), softmax regression's is not
    (error < the update at σ = 0.1)."""
    for name in ("mlp", "logreg"):
        assert _update_error(name, 0.0) < 1e-9
        e1, e2 = _update_error(name, 0.1), _update_error(name, 0.2)
        assert 1.6 < e2 / e1 < 2.4, (name, e1, e2)
        assert e1 > 2.0 if name == "mlp" else e1 < 1.0, (name, e1)


def test_with_noise_averaging_recovers_the_function():
    """What noise does not hide: at σ = 0.2 one published MLP agrees with the clear model on
    ≈ 90 % of the test samples; the mean of 16 publications of the same model, on ≥ 95 %."""
    src = _trained("mlp", 0.2, rounds=10)
    X = src.test.X
    clear = src.model.logits(src.params, X).argmax(1)
    pubs, single = [], []
    for _ in range(16):
        src.reference()
        pubs.append(src.published.copy())
        single.append(float(np.mean(src.model.logits(src.published, X).argmax(1) == clear)))
    est = mr.estimate(src.model, pubs)
    est_agree = float(np.mean(src.model.logits(est, X).argmax(1) == clear))
    assert float(np.mean(single)) < 0.95 <= est_agree
