"""Lowering of comparisons with ``norm()`` factors (cosine bounds without square roots): both
sides squared at a common scale, signs decided separately (docs/gadgets.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from omnidsl.errors import AssertionFailed, InternalError
from omnidsl.lang import ast
from omnidsl.lang.ast import expr_text
from omnidsl.lang.types import MAX_BOUND, NormProduct

from . import gadgets as g
from .assertions import FailReport
from .builder import WitnessState
from .gadgets import V
from .values import LV, NEGATED, Loop


class NormLowering:
    """``norm_compare`` and its helpers (a mixin of ``Lowerer``)."""

    b: Any
    _last_cos_fail: FailReport | None

    if TYPE_CHECKING:  # provided by Lowerer and AssertLowering
        def lower(self, e: ast.Expr, loop: Loop | None) -> LV: ...
        def fit(self, *vals: V) -> list[V]: ...
        def _where(self, loop: Loop | None, j: int, n: int) -> str: ...
        @staticmethod
        def _with_msg(msg: str, stmt: ast.Assert | None) -> str: ...

    def norm_side(self, prod: NormProduct, loop: Loop | None) -> tuple[V, int, V, int]:
        """(c, scale_c, P, scale_P): the side is c * sqrt(P)."""
        b = self.b
        c, sc = g.const(1), 0
        for f in prod.factors:
            x = self.lower(f, loop)
            c, sc = g.mul(b, *self.fit(c, x.v)), sc + x.scale
        p, sp = g.const(1), 0
        for u in prod.norms:
            x = self.lower(u, None)
            sq = g.mul(b, x.v, x.v)
            n2 = V(sq.lc.sum_rows(), 0, sq.hi * sq.n)
            if p.const != 1:
                n2 = g.materialise(b, n2)
                p = g.materialise(b, p)
            p, sp = g.mul(b, p, n2), sp + 2 * x.scale
        return c, sc, p, sp

    def norm_compare(self, e: ast.Compare, loop: Loop | None, on_fail_stmt: ast.Assert | None
                     ) -> V:
        b = self.b
        sides = []
        for node in (e.left, e.right):
            i = node.info
            sides.append(i.norm if i.kind == "norm" else NormProduct([node], []))
        (ca, sca, pa, spa), (cb, scb, pb, spb) = (self.norm_side(s, loop) for s in sides)
        op = e.op
        if op in ("<=", ">"):  # A <= B  <=>  B >= A ; A > B <=> not (B >= A)
            (ca, sca, pa, spa), (cb, scb, pb, spb) = (cb, scb, pb, spb), (ca, sca, pa, spa)
        # squares at a common scale
        sqa = g.mul(b, g.mul(b, *self.fit(ca, ca)), g.materialise(b, pa))
        sqb = g.mul(b, g.mul(b, *self.fit(cb, cb)), g.materialise(b, pb))
        ssa, ssb = 2 * sca + spa, 2 * scb + spb
        s = max(ssa, ssb)
        sqa, sqb = g.shift(b, sqa, s - ssa), g.shift(b, sqb, s - ssb)
        for v in (sqa, sqb):
            if max(abs(v.lo), abs(v.hi)) >= MAX_BOUND:
                raise InternalError("norm comparison bound slipped past the checker")
        sa = g.ge0(b, ca)
        sbp = g.ge0(b, g.lin(b, cb, 1, g.const(1), -1))
        strict_negated = op in ("<", ">")
        fail = None
        if on_fail_stmt is not None:
            fail = self._cos_fail(e, on_fail_stmt, (ca, sca, pa, spa), (cb, scb, pb, spb), op,
                                  loop)
        self._last_cos_fail = fail
        if fail is not None and not strict_negated and sbp.const == 1 and pa.const is not None:
            # exact only without a norm on the left: a < 0 = P = Q would be true but rejected
            g.assert_nonneg(b, ca, fail)
            g.assert_nonneg(b, g.lin(b, sqa, 1, sqb, -1), fail)
            return g.const(1)
        c1 = g.ge0(b, g.lin(b, sqa, 1, sqb, -1))
        c2 = g.ge0(b, g.lin(b, sqb, 1, sqa, -1))
        not_sbp = g.b_not(b, sbp)
        u = g.b_and(b, sa, g.b_or(b, not_sbp, c1))
        w = g.b_and(b, g.b_and(b, g.b_not(b, sa), not_sbp), c2)
        res = V(g.lin(b, u, 1, w, 1).lc, 0, 1)  # the two cases exclude each other
        if pa.const is None and pb.const is None:
            # a < 0 < b with norms on both sides: A >= B only when A = B = 0 (P = Q = 0), i.e.
            # A² + B² = 0; this third case excludes the other two (it needs ¬sa and sb)
            z = g.is_zero(b, g.lin(b, sqa, 1, sqb, 1))
            t = g.b_and(b, g.b_and(b, g.b_not(b, sa), sbp), z)
            res = V(g.lin(b, res, 1, t, 1).lc, 0, 1)
        return g.b_not(b, res) if strict_negated else res

    def _cos_fail(self, e, stmt, sa_, sb_, op, loop):
        def value(w: WitnessState, side, j: int) -> float:
            c, sc, p, sp = side
            cs = w.eval(c.lc, True)
            ps = w.eval(p.lc, True)
            cv, pv = int(cs[min(j, cs.shape[0] - 1)]), int(ps[min(j, ps.shape[0] - 1)])
            return (cv / 2.0 ** sc) * (pv / 2.0 ** sp) ** 0.5

        left_is_a = op not in ("<=", ">")

        def fail(w: WitnessState, bad: np.ndarray) -> None:
            j = int(np.argmax(bad))
            av, bv = value(w, sa_, j), value(w, sb_, j)
            lv, rv = (av, bv) if left_is_a else (bv, av)
            msg = (f"{expr_text(e.left.span)} = {lv:.10g} {NEGATED[e.op]} "
                   f"{expr_text(e.right.span)} = {rv:.10g}{self._where(loop, j, bad.shape[0])}")
            raise AssertionFailed(self._with_msg(msg, stmt), e.span)

        return fail
