"""The paper-scale model of ``market demo --model mlp-wide`` (issue 14, item 3): ≥ 50k
parameters, trained through the same private round as the small MLP."""

from __future__ import annotations

import numpy as np

from omnidsl.ml.federated import MODELS, DigitsSource
from omnidsl.ml.models import MLP, MODEL_CHOICES, LogisticRegression, build_model


def test_every_choice_builds_and_the_wide_one_has_50k_parameters():
    assert set(MODELS) == set(MODEL_CHOICES)
    assert isinstance(build_model("logreg"), LogisticRegression)
    assert build_model("mlp").n_params == 7_510
    wide = build_model("mlp-wide")
    assert isinstance(wide, MLP) and wide.n_params == 52_510 >= 50_000
    assert f"{wide.n_params:,}" in MODEL_CHOICES["mlp-wide"][0]


def test_a_private_round_of_the_wide_model_learns():
    src = DigitsSource(owners=4, n_malicious=0, model_name="mlp-wide", seed=3)
    assert src.n_params == 52_510
    before = src.accuracy()
    for _ in range(3):
        ref = src.reference()
        grads = src.gradients()
        assert ref.shape == (52_510,) and all(g.shape == ref.shape for g in grads)
        clear = src.model.loss_and_grad(src.params, src.owner_list[0].data.X,
                                        src.owner_list[0].data.y)[1]
        assert src.perturbation is not None
        raw = src.model.loss_and_grad(src.published, src.owner_list[0].data.X,
                                      src.owner_list[0].data.y)[1]
        np.testing.assert_allclose(src.perturbation.recover_gradient(src.model, raw), clear,
                                   atol=1e-12)
        src.apply(np.sum(grads, axis=0), len(grads))
    assert src.accuracy() > before
