"""ML layer: models, encoding, attacks, perturbation privacy, training with the rule."""

from __future__ import annotations

import numpy as np
import pytest

from omnidsl.errors import InputError
from omnidsl.ml.attacks import standard_attacks
from omnidsl.ml.data import load_digits_split, partition
from omnidsl.ml.encoding import decode, encode
from omnidsl.ml.experiment import Setting, run
from omnidsl.ml.models import MLP, LogisticRegression
from omnidsl.ml.privacy import Perturbation
from omnidsl.ml.rules import NormCosineRule


@pytest.fixture(scope="module")
def digits():
    return load_digits_split()


def test_digits_ship_with_sklearn(digits):
    train, test = digits
    assert train.X.shape[1] == 64 and len(train) + len(test) == 1797
    assert train.X.min() >= 0.0 and train.X.max() <= 1.0


def test_mlp_has_about_7_5k_parameters():
    assert MLP(64, 100, 10).n_params == 7510


@pytest.mark.parametrize("model", [LogisticRegression(64, 10), MLP(64, 8, 10)])
def test_gradient_matches_finite_differences(model, digits):
    train, _ = digits
    X, y = train.X[:20], train.y[:20]
    p = model.init(np.random.default_rng(3))
    _, g = model.loss_and_grad(p, X, y)
    rng = np.random.default_rng(4)
    for i in rng.choice(model.n_params, 12, replace=False):
        e = np.zeros_like(p)
        e[i] = 1e-6
        num = (model.loss_and_grad(p + e, X, y)[0] - model.loss_and_grad(p - e, X, y)[0]) / 2e-6
        assert abs(num - g[i]) < 1e-6 + 1e-4 * abs(g[i])


def test_encoding_round_trip_and_errors():
    v = np.array([0.5, -1.25, 3.999, 0.0])
    assert np.array_equal(decode(encode(v, 12, 16), 12), np.rint(v * 4096) / 4096)
    with pytest.raises(InputError, match="does not fit in 16 signed bits"):
        encode(np.array([8.0]), 12, 16)
    with pytest.raises(InputError, match="not finite"):
        encode(np.array([0.1, np.nan]), 12, 16)
    assert encode(np.array([100.0]), 12, 16, clip=True)[0] == (1 << 15) - 1


def test_perturbation_preserves_predictions_and_recovery_is_exact(digits):
    train, _ = digits
    model = MLP(64, 100, 10)
    p = model.init(np.random.default_rng(0))
    pert = Perturbation.fresh(100)
    q = pert.perturb(model, p)
    assert not np.allclose(p, q)  # the data owners do not see the true model
    X, y = train.X[:200], train.y[:200]
    assert np.array_equal(model.logits(p, X).argmax(1), model.logits(q, X).argmax(1))
    _, g_true = model.loss_and_grad(p, X, y)
    _, g_pert = model.loss_and_grad(q, X, y)
    np.testing.assert_allclose(pert.recover_gradient(model, g_pert), g_true, rtol=1e-9, atol=1e-12)
    # sums of perturbed gradients map back to the sum of true gradients, exactly (linear map,
    # power-of-two scales)
    g2 = g_pert * 0.5
    assert np.array_equal(pert.recover_gradient(model, g_pert + g2),
                          pert.recover_gradient(model, g_pert) + pert.recover_gradient(model, g2))


def test_perturbations_are_fresh():
    a, b = Perturbation.fresh(100), Perturbation.fresh(100)
    assert not (np.array_equal(a.perm, b.perm) and np.array_equal(a.log2_scale, b.log2_scale))


def test_rule_rejects_each_gradient_attack(digits):
    train, _ = digits
    shards, root = partition(train, 8, root_size=100)
    model = MLP(64, 100, 10)
    p = model.init(np.random.default_rng(0))
    _, ref = model.loss_and_grad(p, root.X, root.y)
    _, g = model.loss_and_grad(p, shards[0].X, shards[0].y)
    rule = NormCosineRule(max_norm=3 * float(np.linalg.norm(ref)), tau=0.3)
    assert rule.accepts(g, ref)
    rng = np.random.default_rng(0)
    for attack in standard_attacks(naive_l2_bound=rule.max_norm):
        if attack.gradient is not None:
            bad = attack.gradient(g, rng)
            assert not rule.accepts(bad, ref), attack.name


@pytest.mark.slow
def test_rule_keeps_accuracy_within_two_points_of_all_honest():
    setting = Setting(rounds=40)
    honest = run(setting, None, False)[-1].accuracy
    drops = {}
    for attack in standard_attacks(naive_l2_bound=1.5):
        with_rule = run(setting, attack, True)[-1].accuracy
        assert with_rule >= honest - 0.02, (attack.name, with_rule, honest)
        drops[attack.name] = honest - run(setting, attack, False)[-1].accuracy
    # without the rule at least the sign-flip, scaling and adaptive attacks hurt
    assert sum(d > 0.05 for d in drops.values()) >= 3, drops
