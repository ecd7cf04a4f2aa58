"""``market mo publish`` / ``mo check --clear`` (omnidsl/market/private_model.py): the role
commands' model owner sends the data owners a perturbed (optionally noisy) model and maps the
aggregate back with the secret it kept (docs/privacy.md)."""

from __future__ import annotations

import json
import stat

import numpy as np
import pytest

from omnidsl.cli import main
from omnidsl.errors import InputError
from omnidsl.market import model_pin, private_model
from omnidsl.ml import model_recovery as mr
from omnidsl.ml.data import load_digits_split
from omnidsl.ml.models import build_model


class _Pins:
    """Stands in for the market: the task pins the given publication hashes."""

    def __init__(self, hashes):
        self.hashes = hashes


@pytest.fixture
def pinned(monkeypatch):
    monkeypatch.setattr(model_pin, "pinned_hashes", lambda market, task_id: market.hashes)


@pytest.mark.parametrize("name", ["mlp", "logreg"])
def test_the_published_model_computes_the_same_function_and_maps_back(tmp_path, pinned, name):
    model = build_model(name, hidden=20 if name == "mlp" else None)
    hidden = 20 if name == "mlp" else None
    theta = model.init(np.random.default_rng(1))
    state = tmp_path / "mo"
    published = private_model.publish(state, theta, name, 0.0, hidden)
    assert not np.any(published == theta)
    test = load_digits_split()[1]
    assert np.array_equal(model.logits(published, test.X).argmax(1),
                          model.logits(theta, test.X).argmax(1))
    pin = model_pin.publication_hash(published)
    secret = private_model.secret_path(state, pin)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert "noise" not in json.loads(secret.read_text())
    # a DO's gradient on the published model, mapped back: the gradient on the clear model
    g_pub = model.loss_and_grad(published, test.X[:50], test.y[:50])[1]
    g_clear = model.loss_and_grad(theta, test.X[:50], test.y[:50])[1]
    back = private_model.clear_gradient(_Pins([pin]), state, 7, g_pub)
    np.testing.assert_allclose(back, g_clear, atol=1e-12)
    with pytest.raises(InputError, match="pins 0 models"):
        private_model.clear_gradient(_Pins([]), state, 7, g_pub)
    with pytest.raises(InputError, match="pins 2 models"):
        private_model.clear_gradient(_Pins([pin, b"\1" * 32]), state, 7, g_pub)
    with pytest.raises(InputError, match="no secret for its pinned model"):
        private_model.clear_gradient(_Pins([b"\2" * 32]), state, 7, g_pub)
    with pytest.raises(InputError, match="a sum of 3 entries"):
        private_model.clear_gradient(_Pins([pin]), state, 7, np.ones(3))


def test_with_noise_the_published_model_is_the_noisy_point(tmp_path, pinned):
    model = build_model("mlp", hidden=30)
    theta = model.init(np.random.default_rng(2))
    published = private_model.publish(tmp_path, theta, "mlp", 0.2, 30)
    est = mr.canonical(model, published)
    quiet = private_model.publish(tmp_path, theta, "mlp", 0.0, 30)
    truth = mr.align(model, mr.canonical(model, quiet), est)  # the clear model, same order
    err = mr.relative_error(model, est, truth, theta)
    assert 0.17 < err < 0.23  # ≈ σ per parameter (in units of the layer spread; 200 runs: 0.19–0.21)
    # mapped back, a gradient at the published model is the gradient at θ + n, not at θ
    X, y = load_digits_split()[1].X[:50], load_digits_split()[1].y[:50]
    back = private_model.clear_gradient(_Pins([model_pin.publication_hash(published)]),
                                        tmp_path, 1, model.loss_and_grad(published, X, y)[1])
    assert not np.allclose(back, model.loss_and_grad(theta, X, y)[1], atol=1e-6)


def test_bad_input_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="not the 650 finite parameters of logreg"):
        private_model.publish(tmp_path, np.zeros(10), "logreg")
    with pytest.raises(InputError, match="model noise"):
        private_model.publish(tmp_path, np.zeros(650), "logreg", -1.0)
    with pytest.raises(InputError, match="has no hidden layer"):
        private_model.publish(tmp_path, np.zeros(650), "logreg", 0.0, 5)
    bad = tmp_path / "published-00.json"
    bad.write_text("{}")
    with pytest.raises(InputError, match="not a published model's secret"):
        private_model.load_secret(bad)


def test_mo_publish_command(tmp_path, capsys):
    model = build_model("logreg")
    theta = model.init(np.random.default_rng(3))
    np.save(tmp_path / "theta.npy", theta)
    out, state = tmp_path / "pub.npy", tmp_path / "st"
    assert main(["market", "mo", "publish", "--clear-model", str(tmp_path / "theta.npy"),
                 "--model", "logreg", "--model-noise", "0.1", "-o", str(out), "--state",
                 str(state), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    published = np.load(out)
    assert printed["sha256"] == model_pin.model_digest(published).hex()
    assert private_model.secret_path(state, model_pin.publication_hash(published)).exists()
    assert not np.any(published == theta)
    assert main(["market", "mo", "publish", "--clear-model", str(tmp_path / "none.npy"),
                 "--model", "logreg", "-o", str(tmp_path / "x.npy"), "--state",
                 str(state)]) == 1
    err = capsys.readouterr().err
    assert "no such model file" in err and "Traceback" not in err
    assert not (tmp_path / "x.npy").exists()
