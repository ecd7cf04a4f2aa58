"""The model owner's private model for the role commands (``market mo publish``, ``mo check
--clear``): what ``market demo``'s source does each round (docs/privacy.md), as two steps.

- :func:`publish` — from the MO's clear parameters θ: draw a fresh
  :class:`~omnidsl.ml.privacy.IsometricPerturbation` and, with σ > 0, fresh noise n
  (:func:`~omnidsl.ml.privacy.publication_noise`); return perturb(θ + n), the model the DOs get
  (pin it with ``market mo open --model FILE``), and keep the perturbation's secret in the MO's
  state folder as ``published-<keccak256 of the pin>.json`` (mode 600; the noise is not kept:
  mapping back does not need it).
- :func:`clear_gradient` — map a task's aggregate (``mo check``'s sum, in the published model's
  coordinates) back to the clear coordinates with the secret of the model the task pins.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from omnidsl.errors import InputError
from omnidsl.market import model_pin
from omnidsl.ml.models import MLP, MODEL_CHOICES, Model, build_model
from omnidsl.ml.privacy import IsometricPerturbation, check_noise, publication_noise

log = logging.getLogger(__name__)


def secret_path(state: Path, pin: bytes) -> Path:
    """Where the secret of the published model with publication hash ``pin`` is kept."""
    return state / f"published-{pin.hex()}.json"


def _model(name: str, hidden: int | None) -> Model:
    if name not in MODEL_CHOICES:
        raise InputError(f"unknown model {name!r}", hint="choose " + ", ".join(MODEL_CHOICES))
    if hidden is not None and MODEL_CHOICES[name][1] == 0:
        raise InputError(f"--hidden {hidden}: {name} has no hidden layer")
    if hidden is not None and hidden < 2:
        raise InputError(f"--hidden {hidden}: an MLP needs at least 2 hidden units")
    return build_model(name, hidden=hidden)


def publish(state: Path, clear: Any, name: str, sigma: float = 0.0,
            hidden: int | None = None) -> np.ndarray:
    """The model to send to the DOs for ``clear`` (a ``name`` model); its secret goes to
    ``state``.  InputError for a parameter vector of the wrong size or a bad σ."""
    from omnidsl.market.owner import _write_private

    model = _model(name, hidden)
    theta = np.asarray(clear, dtype=np.float64)
    if theta.ndim != 1 or theta.size != model.n_params or not np.all(np.isfinite(theta)):
        raise InputError(f"the clear model has shape {theta.shape}, not the {model.n_params} "
                         f"finite parameters of {name}" + (f" with {hidden} hidden units"
                                                           if hidden else ""))
    sigma = check_noise(sigma)
    noise = publication_noise(model, theta, sigma) if sigma > 0 else 0.0
    pert = IsometricPerturbation.fresh(model)
    published = pert.perturb(model, theta + noise)
    pin = model_pin.publication_hash(published)
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_private(secret_path(state, pin), json.dumps({
        "model": name, "hidden": model.n_hidden if isinstance(model, MLP) else None,
        "sigma": sigma, "perm": None if pert.perm is None else pert.perm.tolist(),
        "shift": pert.shift.tolist(), "bias_shift": pert.bias_shift}))
    log.info("published a perturbed %s (σ = %g); its secret is %s", name, sigma,
             secret_path(state, pin))
    return published


def load_secret(path: Path) -> tuple[Model, IsometricPerturbation]:
    """The model and perturbation recorded by :func:`publish` (InputError naming the file)."""
    try:
        rec = json.loads(path.read_text())
        model = _model(rec["model"], rec["hidden"] if rec["model"] != "logreg" else None)
        perm = None if rec["perm"] is None else np.asarray(rec["perm"], dtype=np.int64)
        pert = IsometricPerturbation(perm, np.asarray(rec["shift"], dtype=np.float64),
                                     float(rec["bias_shift"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a published model's secret ({exc})") from None
    return model, pert


def clear_gradient(market: Any, state: Path, task_id: int, grad: Any) -> np.ndarray:
    """``grad`` (a sum of gradients of the model ``task_id`` pins) in the clear coordinates;
    InputError if the task pins no single model or ``state`` holds no secret for it."""
    pins = sorted(set(model_pin.pinned_hashes(market, task_id)))
    if len(pins) != 1:
        raise InputError(f"task {task_id} pins {len(pins)} models: nothing to map back to",
                         hint="--clear needs a task opened with --model FILE from mo publish")
    path = secret_path(state, pins[0])
    if not path.exists():
        raise InputError(f"task {task_id}: no secret for its pinned model in {state}",
                         hint="the model must come from `market mo publish` with this --state")
    model, pert = load_secret(path)
    g = np.asarray(grad, dtype=np.float64)
    if g.shape != (model.n_params,):
        raise InputError(f"task {task_id}: a sum of {g.size} entries for a model of "
                         f"{model.n_params} parameters")
    return pert.recover_gradient(model, g)
