"""Python mirrors of the example rules' integer semantics (for fast experiments and as an oracle
against the compiled circuits).  The market demo decides validity with the real circuit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omnidsl.errors import InputError
from omnidsl.ml.encoding import encode


@dataclass(frozen=True)
class NormCosineRule:
    """circuits/cosine.omni semantics on fixed-point integers: every g_i fits ``bits`` signed bits
    at ``frac``, ⟨g, ref⟩ ≥ tau·‖g‖·‖ref‖ (checked squared, with signs), ‖g‖² ≤ max_norm² and
    ‖g‖² ≥ min_norm² with min_norm > 0 (so the all-zero update is refused; the default is the
    smallest positive value, 2^-frac); optionally also |g_i| ≤ linf (as in
    circuits/norm_bound.omni)."""

    max_norm: float
    tau: float
    linf: float | None = None
    min_norm: float = 2.0**-12
    bits: int = 16
    frac: int = 12

    def accepts(self, g: np.ndarray, ref: np.ndarray) -> bool:
        try:
            q = encode(g, self.frac, self.bits)
        except InputError:
            return False  # a gradient that cannot even be encoded has no witness
        r = encode(ref, self.frac, self.bits, clip=True)
        qi = [int(x) for x in q]
        ri = [int(x) for x in r]
        one = 1 << self.frac
        if self.linf is not None and max((abs(x) for x in qi), default=0) > round(self.linf * one):
            return False
        n2g = sum(x * x for x in qi)
        mn = round(self.max_norm * one)
        if n2g > mn * mn:
            return False
        lo = round(self.min_norm * one)
        if lo <= 0 or n2g < lo * lo:
            return False
        dot = sum(a * b for a, b in zip(qi, ri, strict=True))
        n2r = sum(x * x for x in ri)
        t = round(self.tau * one)
        rhs = t * t * n2g * n2r
        lhs = dot * dot * one * one
        if t >= 0:
            return dot >= 0 and lhs >= rhs
        return dot >= 0 or lhs <= rhs
