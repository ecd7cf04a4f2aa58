"""Federated training over rounds with a validity rule in the loop.

Each round: the model owner computes a reference gradient on its root data, every data owner
computes its gradient (malicious ones attack), the rule decides which are valid, and the model
owner applies the mean of the accepted gradients (it only ever sees their sum).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from omnidsl.ml.attacks import Attack
from omnidsl.ml.data import Dataset
from omnidsl.ml.models import Model

#: validator(gradients, reference) → one accept/reject per gradient
Validator = Callable[[Sequence[np.ndarray], np.ndarray], list[bool]]


@dataclass
class Owner:
    """A data owner: its shard and, if malicious, its attack."""

    data: Dataset
    attack: Attack | None = None

    def __post_init__(self) -> None:
        if self.attack is not None and self.attack.poison is not None:
            self.data = self.attack.poison(self.data)

    @property
    def malicious(self) -> bool:
        return self.attack is not None

    def gradient(self, model: Model, params: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        _, g = model.loss_and_grad(params, self.data.X, self.data.y)
        if self.attack is not None and self.attack.gradient is not None:
            g = self.attack.gradient(g, rng)
        return g


@dataclass
class RoundLog:
    round: int
    accuracy: float
    accepted: list[int] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)


def root_reference(model: Model, params: np.ndarray, root: Dataset) -> np.ndarray:
    """FLTrust's reference for a round: the gradient of the model ``params`` (the one the data
    owners train on) on the model owner's small clean root set ``root``."""
    return np.asarray(model.loss_and_grad(params, root.X, root.y)[1], dtype=np.float64)


def train(model: Model, params: np.ndarray, owners: Sequence[Owner], root: Dataset,
          test: Dataset, rounds: int, lr: float, validator: Validator | None,
          seed: int = 0) -> tuple[np.ndarray, list[RoundLog]]:
    """Run ``rounds`` of training; ``validator=None`` accepts everything (no rule)."""
    rng = np.random.default_rng(seed)
    logs: list[RoundLog] = []
    for t in range(rounds):
        ref = root_reference(model, params, root)
        grads = [o.gradient(model, params, rng) for o in owners]
        ok = validator(grads, ref) if validator is not None else [True] * len(grads)
        accepted = [i for i, v in enumerate(ok) if v]
        if accepted:
            params = params - lr * np.sum([grads[i] for i in accepted], axis=0) / len(accepted)
        logs.append(RoundLog(t + 1, model.accuracy(params, test.X, test.y), accepted,
                             [i for i, v in enumerate(ok) if not v]))
    return params, logs
