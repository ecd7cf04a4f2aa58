"""Values of the lowering: a lowered expression (:class:`LV`) and a generator's loop."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .gadgets import V

#: the comparison that holds when an asserted one fails (for messages)
NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


@dataclass
class LV:
    """A lowered value: kind, batch, fixed-point scale, vector length (None: scalar)."""

    kind: str
    v: V
    scale: int = 0
    length: int | None = None


@dataclass
class Loop:
    var: str
    idx: np.ndarray

    @property
    def n(self) -> int:
        return int(self.idx.shape[0])


def fmt(x: int, s: int) -> str:
    """A decoded fixed-point value for messages."""
    if s == 0:
        return str(int(x))
    f = Fraction(int(x), 1 << s)
    return f"{float(f):.10g}"
