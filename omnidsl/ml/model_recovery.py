"""What a data owner can recover of the model owner's clear parameters (docs/privacy.md).

The attack a DO can run on the models it is sent, one per round:

1. **Canonical form** (:func:`canonical`): remove the softmax gauge (each row of the output
   layer's weights and its bias minus their mean over the classes).  What is left is the clear
   model's canonical form with its hidden units in a secret order (and, with noise, plus noise).
2. **Align** (:func:`align`): put the hidden units of another round's canonical form in the
   order of an anchor round's, by matching units (greedy on the distance of their incoming
   weights, bias and outgoing weights; units are far apart, so even noisy copies match).
3. **Average** (:func:`estimate`): the mean of the aligned canonical forms of R rounds.  Without
   noise one round gives the clear canonical form exactly; with noise σ each round's error per
   parameter is ≈ σ × its layer's spread and the mean of R rounds of the same model shrinks it
   like 1/√R (the MO's updates between rounds add a drift the average does not remove).

:func:`relative_error` scores an estimate against the truth, in units of each layer's spread.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from omnidsl.ml.models import MLP, Model
from omnidsl.ml.privacy import layer_spreads


def canonical(model: Model, params: np.ndarray) -> np.ndarray:
    """``params`` with the softmax gauge removed (the output layer centred over the classes)."""
    p = np.array(params, dtype=np.float64)
    if isinstance(model, MLP):
        W1, b1, W2, b2 = model.unpack(p)
        return MLP.pack(W1, b1, W2 - W2.mean(axis=1, keepdims=True), b2 - b2.mean())
    k = model.n_classes
    W, b = p[:-k].reshape(model.n_features, k), p[-k:]
    return np.concatenate([(W - W.mean(axis=1, keepdims=True)).ravel(), b - b.mean()])


def _units(model: MLP, params: np.ndarray) -> np.ndarray:
    """One row per hidden unit: its incoming weights, its bias, its outgoing weights."""
    W1, b1, W2, _ = model.unpack(params)
    return np.concatenate([W1.T, b1[:, None], W2], axis=1)


def matching(anchor: np.ndarray, other: np.ndarray) -> np.ndarray:
    """``order`` with ``other[order[j]]`` the row matched to ``anchor[j]`` (greedy: the closest
    remaining pair first)."""
    dist = (anchor**2).sum(axis=1)[:, None] + (other**2).sum(axis=1)[None, :] \
        - 2.0 * anchor @ other.T
    n = anchor.shape[0]
    order = np.full(n, -1)
    taken = np.zeros(n, dtype=bool)
    for flat in np.argsort(dist, axis=None):
        j, m = divmod(int(flat), n)
        if order[j] < 0 and not taken[m]:
            order[j], taken[m] = m, True
    return order


def align(model: Model, canon: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """``canon`` with its hidden units reordered to match ``anchor``'s (softmax regression has
    none: returned as is)."""
    if not isinstance(model, MLP):
        return np.asarray(canon)
    order = matching(_units(model, anchor), _units(model, canon))
    W1, b1, W2, b2 = model.unpack(np.asarray(canon))
    return MLP.pack(W1[:, order], b1[order], W2[order, :], b2)


def estimate(model: Model, published: Sequence[np.ndarray]) -> np.ndarray:
    """The DO's estimate of the clear canonical form from the models it was sent (in the hidden
    order of the first one): the mean of their aligned canonical forms."""
    if not published:
        raise ValueError("no published model to estimate from")
    anchor = canonical(model, published[0])
    forms = [anchor] + [align(model, canonical(model, p), anchor) for p in published[1:]]
    return np.mean(forms, axis=0)


def relative_error(model: Model, est: np.ndarray, truth: np.ndarray,
                   clear: np.ndarray) -> float:
    """Root-mean-square of (est − truth) per parameter, each in units of its layer's weight
    spread in the clear model ``clear`` (:func:`~omnidsl.ml.privacy.layer_spreads`)."""
    spread = layer_spreads(model, clear)
    return float(np.sqrt(np.mean(((est - truth) / spread) ** 2)))
