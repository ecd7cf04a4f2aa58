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


def cosine_adaptive(g: np.ndarray, ref: np.ndarray, tau: float, max_norm: float,
                    margin: float = 0.05) -> np.ndarray:
    """The strongest update a cosine rule still accepts, against the honest direction ``g``.

    The attacker knows what the task publishes: the reference, τ and the L2 bound.  Of all
    updates with cos(·, ref) ≥ τ and norm ≤ max_norm it returns (up to ``margin``, for the
    fixed-point rounding) the one with the most negative inner product with ``g``: in the plane
    of ref and g, at the cosine threshold, at the norm bound, turned away from g.
    """
    rn = float(np.linalg.norm(ref))
    if rn == 0.0:
        return -g
    r = ref / rn
    h = -g - float(np.dot(-g, r)) * r
    hn = float(np.linalg.norm(h))
    if hn == 0.0:
        return (1.0 - margin) * max_norm * r
    c = min(1.0, max(tau, 0.0) + margin)
    return (1.0 - margin) * max_norm * (c * r + np.sqrt(1.0 - c * c) * h / hn)
