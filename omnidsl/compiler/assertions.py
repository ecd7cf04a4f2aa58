"""Lowering of ``assert``: conditions constrained to hold directly (no decision bit where the
condition is a comparison, an ``and`` or an ``all``), with witness-time messages that name the
failing values (``AssertionFailed``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from omnidsl.errors import AssertionFailed, DSLTypeError
from omnidsl.lang import ast
from omnidsl.lang.ast import expr_text

from . import gadgets as g
from .builder import WitnessState
from .fuse import FusedBound, FusedCheck, Fusion
from .gadgets import V
from .lc import LC
from .values import LV, NEGATED, Loop, fmt


def _side(e: ast.Expr, value: str) -> str:
    text = expr_text(e.span)
    return text if e.info is not None and e.info.is_const else f"{text} = {value}"


#: a failed assertion's report: the witness and the mask of failing rows (raises)
FailReport = Callable[[WitnessState, np.ndarray], None]


class AssertLowering:
    """``assert_true`` and its helpers (a mixin of ``Lowerer``)."""

    b: Any
    _last_cos_fail: FailReport | None
    env: dict[str, LV]
    fusion: Fusion

    if TYPE_CHECKING:  # provided by Lowerer and NormLowering
        def lower(self, e: ast.Expr, loop: Loop | None) -> LV: ...
        def at_scale(self, x: LV, s: int) -> V: ...
        def diff(self, e: ast.Compare, loop: Loop | None) -> tuple[V, LV, LV, int]: ...
        def norm_compare(self, e: ast.Compare, loop: Loop | None,
                         on_fail_stmt: ast.Assert | None) -> V: ...
        def sum_squares(self, e: ast.Expr) -> V | None: ...

    @staticmethod
    def _with_msg(msg: str, stmt: ast.Assert | None) -> str:
        if stmt is not None and stmt.message:
            return f"{msg} ({stmt.message})"
        return msg

    def _where(self, loop: Loop | None, j: int, n: int) -> str:
        if loop is not None:
            return f" at {loop.var} = {int(loop.idx[j])}"
        if n > 1:
            return f" at index {j}"
        return ""

    def assert_true(self, e: ast.Expr, loop: Loop | None, stmt: ast.Assert) -> None:
        b = self.b
        info = e.info
        if info.is_const:
            if info.const:
                return
            raise self._never(e, "is always false")
        if isinstance(e, ast.BoolOp) and e.op == "and":
            self.assert_true(e.left, loop, stmt)
            self.assert_true(e.right, loop, stmt)
            return
        if isinstance(e, ast.Generator) and e.func == "all":
            start = int(e.range.start.info.const)
            stop = int(e.range.stop.info.const)
            self.assert_true(e.body, Loop(e.var, np.arange(start, stop, dtype=np.int64)), stmt)
            return
        if isinstance(e, ast.Call) and e.func == "all" and e.args[0].info.kind == "bool":
            self.assert_true(e.args[0], loop, stmt)
            return
        if isinstance(e, ast.Compare) and id(e) in self.fusion.skip:
            return  # proven by its input's interval check (fuse.py)
        if isinstance(e, ast.Compare) and e.op in ("<", "<=", ">", ">=", "==", "!=") and not (
                e.left.info.kind == "norm" or e.right.info.kind == "norm"):
            d, x, y, s = self.diff(e, loop)
            fail = self._cmp_fail(e, stmt, x, y, s, loop)
            if e.op == "==":
                if d.const is not None and d.const != 0:
                    raise self._never(e, "can never hold (its sides always differ)")
                self._assert_zero(d, fail)
            elif e.op == "!=":
                if d.const == 0:
                    raise self._never(e, "can never hold (its sides are always equal)")
                self._assert_nonzero(d, fail)
            else:
                if d.hi < 0:
                    raise self._never(e, "can never hold for any input (from the bounds of "
                                      "its sides)")
                g.assert_nonneg(b, d, fail)
            return
        if (isinstance(e, ast.Generator) or (isinstance(e, ast.Call) and loop is None)) \
                and e.func == "any":
            sq = self.sum_squares(e)  # Σ d² != 0 (squares.py): one inverse
            if sq is not None:
                self._assert_nonzero(sq, self._false_fail(e, stmt))
                return
        fail = None
        if isinstance(e, ast.Compare):  # norm comparison
            v = self.norm_compare(e, loop, stmt)
            if v.const == 1:
                return
            fail = self._last_cos_fail
        else:
            v = self.lower(e, loop).v
        self._assert_one(v, e, stmt, loop, fail)

    @staticmethod
    def _never(e: ast.Expr, what: str) -> DSLTypeError:
        """A located error for an asserted condition that no input can satisfy."""
        return DSLTypeError(f"`{expr_text(e.span)}` {what}, so this assertion never holds",
                            e.span, "no input can satisfy it: fix or remove the condition")

    def _fused_fail(self, fb: FusedBound, lay: Any) -> FailReport:
        """The failure of an input's fused interval check: the first fused assertion (in rule
        order) that the offending entry breaks, with the message its own lowering gives."""

        def fail(w: WitnessState, bad: np.ndarray) -> None:
            j = int(np.argmax(bad))
            x = int(w.eval(self.env[fb.name].v.lc, True)[j])
            for c in fb.checks:
                if (c.lo is None or x >= c.lo) and (c.hi is None or x <= c.hi):
                    continue
                e, f = c.cmp, lay.frac
                val = (abs(x) if c.is_abs else x) << (c.scale - f)
                const = (e.right if isinstance(e.left, (ast.Name, ast.Index, ast.Call))
                         and not e.left.info.is_const else e.left).info.const
                cv = int(const * (1 << c.scale))
                lv, rv = (val, cv) if not e.left.info.is_const else (cv, val)
                where = self._where(None, j, bad.shape[0]) if lay.length is None else \
                    f" at {self._loop_var(c)} = {j}"
                msg = (f"{_side(e.left, fmt(lv, c.scale))} {NEGATED[e.op]} "
                       f"{_side(e.right, fmt(rv, c.scale))}{where}")
                raise AssertionFailed(self._with_msg(msg, c.stmt), e.span)

        return fail

    @staticmethod
    def _loop_var(c: FusedCheck) -> str:
        e = c.cmp.left if not c.cmp.left.info.is_const else c.cmp.right
        if isinstance(e, ast.Call):
            e = e.args[0]
        return e.index.id if isinstance(e, ast.Index) and isinstance(e.index, ast.Name) else "i"

    def _cmp_fail(self, e: ast.Compare, stmt: ast.Assert, x: LV, y: LV, s: int,
                  loop: Loop | None):
        xv, yv = self.at_scale(x, s), self.at_scale(y, s)

        def fail(w: WitnessState, bad: np.ndarray) -> None:
            j = int(np.argmax(bad))
            a = w.eval(xv.lc, True)
            c = w.eval(yv.lc, True)
            av, cv = a[j if a.shape[0] > 1 else 0], c[j if c.shape[0] > 1 else 0]
            msg = (f"{_side(e.left, fmt(av, s))} {NEGATED[e.op]} {_side(e.right, fmt(cv, s))}"
                   f"{self._where(loop, j, bad.shape[0])}")
            raise AssertionFailed(self._with_msg(msg, stmt), e.span)

        return fail

    def _assert_zero(self, d: V, fail) -> None:
        b = self.b
        b.linear(d.lc)
        big = d.big

        def step(w: WitnessState) -> None:
            v = w.eval(d.lc, big)
            bad = np.array([int(t) != 0 for t in v], bool) if v.dtype == object else v != 0
            if bad.any() and not w.permissive:
                fail(w, bad)

        b.step(step)

    def _assert_nonzero(self, d: V, fail) -> None:
        b = self.b
        n = d.n
        inv = b.alloc(n, big=True)  # a field inverse: no bound
        b.constrain(d.lc, b.wires_lc(inv), LC.constant(1))
        big = d.big

        def step(w: WitnessState) -> None:
            from omnidsl.field import R

            v = w.eval(d.lc, big)
            bad = np.array([int(t) % R == 0 for t in v], bool)
            if bad.any() and not w.permissive:
                fail(w, bad)
            w.set(inv, np.array([pow(int(t) % R, -1, R) if int(t) % R else 0 for t in v],
                                dtype=object))

        b.step(step)

    def _false_fail(self, e: ast.Expr, stmt: ast.Assert) -> FailReport:
        def fail(w: WitnessState, bad: np.ndarray) -> None:
            raise AssertionFailed(self._with_msg(f"{expr_text(e.span)} is false", stmt), e.span)

        return fail

    def _assert_one(self, v: V, e: ast.Expr, stmt: ast.Assert, loop: Loop | None,
                    fail=None) -> None:
        b = self.b
        if v.const is not None:
            if v.const == 1:
                return
            raise self._never(e, "is always false")
        b.linear(g.lin(b, v, 1, g.const(1), -1).lc)

        def step(w: WitnessState) -> None:
            r = w.eval(v.lc)
            bad = r != 1
            if bad.any() and not w.permissive:
                if fail is not None:
                    fail(w, bad)
                j = int(np.argmax(bad))
                msg = f"{expr_text(e.span)} is false{self._where(loop, j, bad.shape[0])}"
                raise AssertionFailed(self._with_msg(msg, stmt), e.span)

        b.step(step)
