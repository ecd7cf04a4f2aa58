"""Numpy models with flat parameter vectors: multinomial logistic regression and a one-hidden-layer
MLP (64-100-10 = 7,510 parameters on digits, like the OmniLytics+ MLP; 64-700-10 = 52,510, the
paper-scale choice of ``market demo --model mlp-wide``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _one_hot(y: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((y.shape[0], k))
    out[np.arange(y.shape[0]), y] = 1.0
    return out


@dataclass(frozen=True)
class LogisticRegression:
    """Softmax regression; parameters = [W (d×k) row-major, b (k)]."""

    n_features: int
    n_classes: int

    @property
    def n_params(self) -> int:
        return self.n_features * self.n_classes + self.n_classes

    def init(self, rng: np.random.Generator) -> np.ndarray:
        return rng.normal(0.0, 0.01, self.n_params)

    def _unpack(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d, k = self.n_features, self.n_classes
        return p[: d * k].reshape(d, k), p[d * k :]

    def logits(self, p: np.ndarray, X: np.ndarray) -> np.ndarray:
        W, b = self._unpack(p)
        return X @ W + b

    def loss_and_grad(self, p: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        W, b = self._unpack(p)
        probs = _softmax(X @ W + b)
        n = X.shape[0]
        loss = float(-np.log(probs[np.arange(n), y] + 1e-12).mean())
        delta = (probs - _one_hot(y, self.n_classes)) / n
        return loss, np.concatenate([(X.T @ delta).ravel(), delta.sum(axis=0)])

    def accuracy(self, p: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
        return float((self.logits(p, X).argmax(axis=1) == y).mean())


@dataclass(frozen=True)
class MLP:
    """One hidden ReLU layer; parameters = [W1 (d×h), b1 (h), W2 (h×k), b2 (k)]."""

    n_features: int
    n_hidden: int
    n_classes: int

    @property
    def n_params(self) -> int:
        d, h, k = self.n_features, self.n_hidden, self.n_classes
        return d * h + h + h * k + k

    def init(self, rng: np.random.Generator) -> np.ndarray:
        d, h, k = self.n_features, self.n_hidden, self.n_classes
        return np.concatenate([
            # small random hidden biases, not zeros: a zero shared by every unit is the same
            # after any permutation of the units (docs/privacy.md)
            rng.normal(0.0, np.sqrt(2.0 / d), d * h), rng.normal(0.0, 0.01, h),
            rng.normal(0.0, np.sqrt(1.0 / h), h * k), np.zeros(k),
        ])

    def unpack(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        d, h, k = self.n_features, self.n_hidden, self.n_classes
        i = 0
        W1 = p[i : i + d * h].reshape(d, h); i += d * h  # noqa: E702
        b1 = p[i : i + h]; i += h  # noqa: E702
        W2 = p[i : i + h * k].reshape(h, k); i += h * k  # noqa: E702
        return W1, b1, W2, p[i : i + k]

    @staticmethod
    def pack(W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray) -> np.ndarray:
        return np.concatenate([W1.ravel(), b1, W2.ravel(), b2])

    def logits(self, p: np.ndarray, X: np.ndarray) -> np.ndarray:
        W1, b1, W2, b2 = self.unpack(p)
        return np.maximum(X @ W1 + b1, 0.0) @ W2 + b2

    def loss_and_grad(self, p: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        W1, b1, W2, b2 = self.unpack(p)
        pre = X @ W1 + b1
        hid = np.maximum(pre, 0.0)
        probs = _softmax(hid @ W2 + b2)
        n = X.shape[0]
        loss = float(-np.log(probs[np.arange(n), y] + 1e-12).mean())
        d_out = (probs - _one_hot(y, self.n_classes)) / n
        d_hid = (d_out @ W2.T) * (pre > 0)
        return loss, self.pack(X.T @ d_hid, d_hid.sum(axis=0), hid.T @ d_out, d_out.sum(axis=0))

    def accuracy(self, p: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
        return float((self.logits(p, X).argmax(axis=1) == y).mean())


Model = LogisticRegression | MLP


#: ``market demo --model`` names → (description, hidden units; 0 = softmax regression)
MODEL_CHOICES: dict[str, tuple[str, int]] = {
    "logreg": ("softmax regression (650 parameters)", 0),
    "mlp": ("64-100-10 MLP (7,510 parameters)", 100),
    "mlp-wide": ("64-700-10 MLP (52,510 parameters)", 700),
}


def build_model(name: str, n_features: int = 64, n_classes: int = 10,
                hidden: int | None = None) -> Model:
    """The model ``name`` (a key of :data:`MODEL_CHOICES`); ``hidden`` overrides an MLP's
    width (tests use small ones).  KeyError for an unknown name."""
    width = MODEL_CHOICES[name][1]
    if width == 0:
        return LogisticRegression(n_features, n_classes)
    return MLP(n_features, hidden or width, n_classes)
