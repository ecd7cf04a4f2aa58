"""Malicious data-owner behaviours.

Gradient attacks transform an honest gradient; ``label_flip`` poisons the training data instead.
``adaptive`` knows a naive rule (an L2 bound) and stays just inside it while pointing the update in
the harmful direction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from omnidsl.ml.data import Dataset

GradientAttack = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def sign_flip(g: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return -g


def scaling(factor: float = 10.0) -> GradientAttack:
    def attack(g: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return factor * g
    return attack


def gaussian_noise(sigma: float = 0.05) -> GradientAttack:
    def attack(g: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return g + rng.normal(0.0, sigma, g.shape)
    return attack


def adaptive(naive_l2_bound: float, margin: float = 0.99) -> GradientAttack:
    """Reverse the honest direction and rescale to just inside the naive L2 bound."""
    def attack(g: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n = float(np.linalg.norm(g))
        return -g * (margin * naive_l2_bound / n) if n > 0 else g
    return attack


def label_flip(data: Dataset) -> Dataset:
    """Poison the shard: label y becomes (k−1−y)."""
    return Dataset(data.X, (data.n_classes - 1) - data.y, data.n_classes)


@dataclass(frozen=True)
class Attack:
    """A named attack: either a gradient transform or a data poisoning."""

    name: str
    gradient: GradientAttack | None = None
    poison: Callable[[Dataset], Dataset] | None = None


def standard_attacks(naive_l2_bound: float) -> list[Attack]:
    """The five attacks of the experiments."""
    return [
        Attack("sign_flip", gradient=sign_flip),
        Attack("scaling", gradient=scaling(10.0)),
        Attack("gaussian_noise", gradient=gaussian_noise(0.05)),
        Attack("label_flip", poison=label_flip),
        Attack("adaptive", gradient=adaptive(naive_l2_bound)),
    ]
