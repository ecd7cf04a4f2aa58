"""Fixed-point encoding of gradients, matching the DSL's ``fixed ... bits B frac F`` semantics:
a real v is the integer round(v·2^F), which must fit in B signed bits."""

from __future__ import annotations

import numpy as np

from omnidsl.errors import InputError


def encode(values: np.ndarray, frac: int, bits: int, clip: bool = False) -> np.ndarray:
    """Reals → int64 fixed point.  Out of range raises InputError unless ``clip``."""
    v = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(v)):
        bad = int(np.argmax(~np.isfinite(v)))
        raise InputError(f"value #{bad} is not finite ({v[bad]})")
    q = np.rint(v * (1 << frac))
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if clip:
        q = np.clip(q, lo, hi)
    elif q.size and (q.min() < lo or q.max() > hi):
        bad = int(np.argmax((q < lo) | (q > hi)))
        raise InputError(f"value #{bad} = {v[bad]} does not fit in {bits} signed bits at frac {frac}",
                         hint=f"representable range is [{lo / (1 << frac)}, {hi / (1 << frac)}]")
    return q.astype(np.int64)


def decode(q: np.ndarray, frac: int) -> np.ndarray:
    """int fixed point → float64."""
    return np.asarray(q, dtype=np.float64) / float(1 << frac)
