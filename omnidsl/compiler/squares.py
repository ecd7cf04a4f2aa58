"""``any(a != b ...)`` / ``all(a == b ...)`` as one zero test of a sum of squares.

Elementwise, each ``a_i != b_i`` is an is-zero test (2 constraints) before the reduction.  With
``d_i = a_i − b_i`` proven in ``[lo, hi]`` (the checker's bounds, which the range checks of the
inputs and the gadgets' outputs guarantee in every satisfying assignment), ``S = Σ d_i²`` is an
integer in ``[0, n·M]`` with ``M = max(lo², hi²)``.  When ``n·M < r`` the sum cannot wrap, so
``S ≡ 0 (mod r)`` exactly when every ``d_i = 0``: ``any(d_i != 0)`` is ``S != 0`` and
``all(d_i == 0)`` is ``S == 0`` — n products and one zero test (docs/gadgets.md).  Otherwise
(or for one element) the elementwise lowering is kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from omnidsl.field import R
from omnidsl.lang import ast

from . import gadgets as g
from .gadgets import V
from .values import Loop

#: the reduction and the comparison it folds
_FOLDS = {("any", "!="), ("all", "==")}


class SquaresLowering:
    """``sum_squares``: the sum of squares of a folded any/all (a mixin of ``Lowerer``)."""

    b: Any

    if TYPE_CHECKING:  # provided by Lowerer
        def diff(self, e: ast.Compare, loop: Loop | None) -> tuple[V, Any, Any, int]: ...

    def sum_squares(self, e: ast.Expr) -> V | None:
        """S = Σ d_i² of ``any(a != b ...)`` / ``all(a == b ...)`` (a generator, or a call on a
        vector comparison) when it cannot wrap mod r; None for every other expression."""
        if isinstance(e, ast.Generator):
            cmp, loop = e.body, Loop(e.var, np.arange(int(e.range.start.info.value),
                                                        int(e.range.stop.info.value),
                                                        dtype=np.int64))
        elif isinstance(e, ast.Call) and len(e.args) == 1:
            cmp, loop = e.args[0], None
        else:
            return None
        if (e.func, getattr(cmp, "op", None)) not in _FOLDS or not isinstance(cmp, ast.Compare):
            return None
        if cmp.left.info.kind != "num" or cmp.right.info.kind != "num":
            return None
        n = cmp.info.length if loop is None else loop.n
        if n is None or n < 2 or not _fits(cmp, n):
            return None
        d = self.diff(cmp, loop)[0]
        if d.n != n:  # a body that does not depend on the loop variable
            return None
        if d.n * max(d.lo * d.lo, d.hi * d.hi) >= R:
            return None
        return g.dot(self.b, d, d, square=True)


def _fits(cmp: ast.Compare, n: int) -> bool:
    """The checker's bound of a − b (at the common scale) keeps n·max(d²) below r."""
    a, b = cmp.left.info, cmp.right.info
    s = max(a.scale, b.scale)
    lo = a.lo * (1 << (s - a.scale)) - b.hi * (1 << (s - b.scale))
    hi = a.hi * (1 << (s - a.scale)) - b.lo * (1 << (s - b.scale))
    return n * max(lo * lo, hi * hi) < R
