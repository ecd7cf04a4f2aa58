"""Model privacy by accuracy-lossless perturbation (after Yang et al., arXiv 2002.09843).

The model owner hands data owners a *perturbed* MLP that computes exactly the same function:
hidden units are permuted by a secret permutation π and scaled by secret positive factors s
(ReLU is positively homogeneous):  W1' = W1·P·S,  b1' = b1·P·S,  W2' = S⁻¹·Pᵀ·W2,  b2' = b2.
Gradients taken on the perturbed model map back to the true model's gradients exactly:
  ∂L/∂W1 = ∂L/∂W1'·S·Pᵀ,  ∂L/∂b1 = ∂L/∂b1'·S·Pᵀ,  ∂L/∂W2 = P·S⁻¹·∂L/∂W2',  ∂L/∂b2 = ∂L/∂b2'.
The scale factors are powers of two, so every step is exact in floating point (no rounding), and
because the map is linear, the model owner can also recover the true *sum* of accepted gradients.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import numpy as np

from omnidsl.ml.models import MLP


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
