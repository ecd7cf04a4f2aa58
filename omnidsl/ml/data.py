"""Datasets that ship inside packages (no downloads): scikit-learn's digits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """Features in [0, 1] (float64, shape (n, d)) and integer labels (shape (n,))."""

    X: np.ndarray
    y: np.ndarray
    n_classes: int

    def __len__(self) -> int:
        return int(self.X.shape[0])

    def subset(self, idx: np.ndarray) -> Dataset:
        return Dataset(self.X[idx], self.y[idx], self.n_classes)


def load_digits_split(test_fraction: float = 0.25, seed: int = 0) -> tuple[Dataset, Dataset]:
    """scikit-learn's bundled 8×8 digits, scaled to [0, 1], split into train and test."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    X = bunch.data.astype(np.float64) / 16.0
    y = bunch.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = round(len(y) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return Dataset(X[train], y[train], 10), Dataset(X[test], y[test], 10)


def partition(data: Dataset, n_parts: int, seed: int = 0, root_size: int = 0
              ) -> tuple[list[Dataset], Dataset | None]:
    """IID split into ``n_parts`` data-owner shards, plus an optional small root set that the model
    owner keeps for its reference gradient (FLTrust)."""
    order = np.random.default_rng(seed).permutation(len(data))
    root = data.subset(order[:root_size]) if root_size else None
    rest = order[root_size:]
    return [data.subset(part) for part in np.array_split(rest, n_parts)], root
