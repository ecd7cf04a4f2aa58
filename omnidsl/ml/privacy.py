"""Model privacy by accuracy-lossless perturbation (after Yang et al., arXiv 2002.09843).

The model owner hands data owners a *perturbed* MLP that computes exactly the same function:
hidden units are permuted by a secret permutation π and scaled by secret positive factors s
(ReLU is positively homogeneous):  W1' = W1·P·S,  b1' = b1·P·S,  W2' = S⁻¹·Pᵀ·W2,  b2' = b2.
Gradients taken on the perturbed model map back to the true model's gradients exactly:
  ∂L/∂W1 = ∂L/∂W1'·S·Pᵀ,  ∂L/∂b1 = ∂L/∂b1'·S·Pᵀ,  ∂L/∂W2 = P·S⁻¹·∂L/∂W2',  ∂L/∂b2 = ∂L/∂b2'.
The scale factors are powers of two, so every step is exact in floating point (no rounding), and
because the map is linear, the model owner can also recover the true *sum* of accepted gradients.

The market uses :class:`IsometricPerturbation` instead (a derangement of the hidden units and the
softmax gauge on the output layer, no rescaling): its gradient map is a permutation of entries,
so the validity rule decides exactly as on the clear model.  What either hides: docs/privacy.md.

Noise on the published model (:func:`publication_noise`, opt-in): the model owner publishes
perturb(θ + n) with fresh Gaussian noise n each round, per layer relative to that layer's weight
spread; the data owners' gradients, mapped back, are then gradients at θ + n (docs/privacy.md,
"Doing better: noise on the published model").
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import numpy as np

from omnidsl.errors import InputError
from omnidsl.ml.models import MLP, Model


@dataclass(frozen=True)
class Perturbation:
    """The model owner's secret: a hidden-unit permutation and power-of-two scale exponents."""

    perm: np.ndarray  # hidden unit j of the perturbed model is unit perm[j] of the true model
    log2_scale: np.ndarray  # int exponents e_j; perturbed unit j is scaled by 2^e_j

    @staticmethod
    def fresh(n_hidden: int, max_exp: int = 3) -> Perturbation:
        """A new secret from the OS CSPRNG."""
        rng = np.random.default_rng(secrets.randbits(128))
        return Perturbation(rng.permutation(n_hidden),
                            rng.integers(-max_exp, max_exp + 1, n_hidden))

    def _scale(self) -> np.ndarray:
        return np.ldexp(1.0, self.log2_scale.astype(np.int64))

    def perturb(self, model: MLP, params: np.ndarray) -> np.ndarray:
        """True parameters → perturbed parameters (same predictions)."""
        W1, b1, W2, b2 = model.unpack(params)
        s = self._scale()
        return MLP.pack(W1[:, self.perm] * s, b1[self.perm] * s, W2[self.perm, :] / s[:, None], b2)

    def recover_gradient(self, model: MLP, grad: np.ndarray) -> np.ndarray:
        """Gradient w.r.t. the perturbed parameters → gradient w.r.t. the true parameters."""
        gW1, gb1, gW2, gb2 = model.unpack(grad)
        s = self._scale()
        inv = np.empty_like(self.perm)
        inv[self.perm] = np.arange(self.perm.shape[0])
        tW1 = (gW1 * s)[:, inv]
        tb1 = (gb1 * s)[inv]
        tW2 = (gW2 / s[:, None])[inv, :]
        return MLP.pack(tW1, tb1, tW2, gb2)


def _derangement(n: int, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random permutation of ``n`` >= 2 items without a fixed point."""
    while True:
        p = rng.permutation(n)
        if not np.any(p == np.arange(n)):
            return p


@dataclass(frozen=True)
class IsometricPerturbation:
    """The market's perturbation: function-preserving *and* an isometry of the gradient space.

    - MLP: the hidden units are permuted by a secret derangement π (no unit keeps its place);
    - both models: the output layer gets the softmax gauge  W_out' = W_out + u·1ᵀ,
      b_out' = b_out + c·1  (every logit of a sample moves by the same amount: same
      probabilities, same loss, same gradient).

    The gradient on the perturbed model is the true gradient with its entries permuted (the
    gauge leaves it unchanged), so the map back is a permutation of coordinates: it preserves
    every inner product, norm and fixed-point entry, and the validity rule decides exactly as on
    the clear model (docs/privacy.md).  Positive rescaling of hidden units (:class:`Perturbation`)
    is not used: it would change the norm and the cosine the rule checks.
    """

    perm: np.ndarray | None  # MLP: perturbed hidden unit j is true unit perm[j]; None: no layer
    shift: np.ndarray  # u, one value per input of the output layer
    bias_shift: float  # c

    @staticmethod
    def fresh(model: Model) -> IsometricPerturbation:
        """A new secret from the OS CSPRNG, scaled like the model's output weights."""
        rng = np.random.default_rng(secrets.randbits(128))
        if isinstance(model, MLP):
            return IsometricPerturbation(_derangement(model.n_hidden, rng),
                                         rng.normal(0.0, 1.0, model.n_hidden),
                                         float(rng.normal(0.0, 1.0)))
        return IsometricPerturbation(None, rng.normal(0.0, 1.0, model.n_features),
                                     float(rng.normal(0.0, 1.0)))

    def perturb(self, model: Model, params: np.ndarray) -> np.ndarray:
        """True parameters → the parameters published to data owners (same predictions)."""
        u, c = self.shift[:, None], self.bias_shift
        if isinstance(model, MLP):
            assert self.perm is not None
            W1, b1, W2, b2 = model.unpack(params)
            return MLP.pack(W1[:, self.perm], b1[self.perm], W2[self.perm, :] + u, b2 + c)
        k = model.n_classes
        W, b = params[: -k].reshape(model.n_features, k), params[-k:]
        return np.concatenate([(W + u).ravel(), b + c])

    def source_index(self, model: Model) -> np.ndarray:
        """``src`` with  true_gradient = perturbed_gradient[src]  (a permutation of indices)."""
        idx = np.arange(model.n_params)
        if not isinstance(model, MLP):
            return idx
        assert self.perm is not None
        inv = np.empty_like(self.perm)
        inv[self.perm] = np.arange(self.perm.shape[0])
        W1, b1, W2, b2 = model.unpack(idx)
        return MLP.pack(W1[:, inv], b1[inv], W2[inv, :], b2).astype(np.int64)

    def recover_gradient(self, model: Model, grad: np.ndarray) -> np.ndarray:
        """Gradient (or any sum of gradients) on the perturbed model → on the true model."""
        return np.asarray(grad)[self.source_index(model)]


# ---------------------------------------------------------------- noise on the published model
def layers(model: Model) -> list[tuple[slice, slice]]:
    """(weights, biases) index ranges of each layer in the flat parameter vector."""
    if isinstance(model, MLP):
        d, h, k = model.n_features, model.n_hidden, model.n_classes
        a, b, c = d * h, d * h + h, d * h + h + h * k
        return [(slice(0, a), slice(a, b)), (slice(b, c), slice(c, c + k))]
    dk = model.n_features * model.n_classes
    return [(slice(0, dk), slice(dk, dk + model.n_classes))]


def layer_spreads(model: Model, params: np.ndarray) -> np.ndarray:
    """Per parameter: the standard deviation of its layer's weight matrix (biases take their
    layer's), the scale the published model's noise is relative to."""
    out = np.empty(model.n_params)
    for w, b in layers(model):
        s = float(np.std(params[w]))
        out[w], out[b] = s, s
    return out


def check_noise(sigma: float) -> float:
    """``sigma`` as a float, or InputError (a finite number >= 0)."""
    try:
        value = float(sigma)
    except (TypeError, ValueError):
        raise InputError(f"model noise {sigma!r} is not a number") from None
    if not np.isfinite(value) or value < 0:
        raise InputError(f"model noise {sigma!r} must be a finite number >= 0",
                         hint="0 publishes the model without noise; 0.1 adds to each weight "
                              "Gaussian noise of 0.1 x its layer's weight spread")
    return value


def publication_noise(model: Model, params: np.ndarray, sigma: float,
                      rng: np.random.Generator | None = None) -> np.ndarray:
    """Fresh noise for one round's published model: n_i ~ N(0, (σ·spread_i)²) with spread_i
    the standard deviation of the weights of parameter i's layer (:func:`layer_spreads`),
    drawn from the OS CSPRNG unless ``rng`` is given (tests)."""
    sigma = check_noise(sigma)
    gen = rng if rng is not None else np.random.default_rng(secrets.randbits(128))
    return gen.normal(0.0, 1.0, model.n_params) * (sigma * layer_spreads(model, params))
