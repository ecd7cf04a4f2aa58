"""Lowering of a checked rule to constraint blocks and witness steps, vectorised.

A generator ``f(body for i in a..b)`` is lowered once, with ``i`` bound to the numpy vector
``arange(a, b)``: ``g[i]`` becomes the batch of g's wires at those indices and every gadget emits
one block of (b - a) rows.  Whole-vector expressions (``g * ref``) use the same batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from omnidsl.errors import InternalError
from omnidsl.field import R
from omnidsl.lang import ast
from omnidsl.lang.bounds import division_pq
from omnidsl.lang.builtins import REGISTRY
from omnidsl.lang.checker import CheckedRule
from omnidsl.lang.types import ExprInfo, InputInfo, dyadic_exponent
from omnidsl.r1cs.system import WIRE_BITS_FULL

from . import bounded, fuse
from . import gadgets as g
from .assertions import AssertLowering
from .bounded import BoundLowering
from .builder import Builder, width
from .gadgets import V
from .lc import LC
from .norms import NormLowering
from .poseidon_gadget import commit
from .squares import SquaresLowering
from .values import LV, Loop

__all__ = ["LV", "WIDE", "InputLayout", "Loop", "Lowerer", "OutputLayout"]

#: scalars with more terms than this are copied into a wire before being broadcast
WIDE = 8


@dataclass
class InputLayout:
    name: str
    visibility: str
    length: int | None
    bits: int
    frac: int
    wire: int
    info: InputInfo
    #: the public commitment wire of a ``committed`` vector (its entries are private wires)
    commitment: int | None = None


@dataclass
class OutputLayout:
    name: str
    length: int | None
    scale: int
    wire: int
    #: "field" for a raw field-element output (fingerprint()), else "num"
    kind: str = "num"


class Lowerer(AssertLowering, NormLowering, BoundLowering, SquaresLowering):
    """Walks a checked rule and emits constraint blocks and witness steps into a Builder."""

    #: the gadget library, for the built-in lowerings of the registry (omnidsl/lang/builtins.py)
    g = g

    def __init__(self, checked: CheckedRule):
        self.c = checked
        self.b = Builder()
        self.env: dict[str, LV] = {}
        self.inputs: list[InputLayout] = []
        self.outputs: list[OutputLayout] = []
        self.sign_bits: dict[int, tuple[int, np.ndarray]] = {}
        self._last_cos_fail = None
        self.chosen = bounded.plan(checked)
        self.fusion = fuse.plan(checked, self.chosen)

    # ------------------------------------------------------------ top level
    def run(self) -> Builder:
        b = self.b
        for o in self.c.outputs:
            n = o.length or 1
            bits = WIRE_BITS_FULL if o.kind == "field" else width(o.lo, o.hi)
            w = b.alloc(n, big=max(abs(o.lo), abs(o.hi)) >= g.SMALL, bits=bits)
            self.outputs.append(OutputLayout(o.name, o.length, o.scale, int(w[0]), o.kind))
            self._label(o.name, w, o.length)
        # public signals, then private ones; a committed vector has its commitment among the
        # public inputs and its entries after the private inputs
        order = [i for i in self.c.inputs if i.visibility == "public"]
        order += [i for i in self.c.inputs if i.visibility == "private"]
        order += [i for i in self.c.inputs if i.committed]
        hashes: dict[str, int] = {}
        for inp in order:
            if inp.committed and inp.name not in hashes:
                hashes[inp.name] = int(b.alloc(1, big=True)[0])
                b.labels[hashes[inp.name]] = f"main.{inp.name}.commitment"
                continue
            # a k-bit input lies in [-2^(k-1), 2^(k-1) - 1] (encode_input enforces it; the
            # range check below proves it), so |v| <= 2^(k-1) < 2^k: width k
            fb = self.fusion.bounds.get(inp.name)
            lo, hi = (inp.lo, inp.hi) if fb is None else (fb.lo, fb.hi)
            wbits = WIRE_BITS_FULL if inp.base == "field" else width(lo, hi)
            w = b.alloc(inp.count, big=inp.bits > 62, bits=wbits)
            self.inputs.append(InputLayout(inp.name, inp.visibility, inp.length, inp.bits,
                                           inp.frac, int(w[0]), inp, hashes.get(inp.name)))
            self._label(inp.name, w, inp.length)
            if inp.base == "field":  # a raw field element: no bound, no range check
                self.env[inp.name] = LV("field", V(b.wires_lc(w), 0, R - 1), 0, None)
                continue
            v = V(b.wires_lc(w), lo, hi)
            self.env[inp.name] = LV("num", v, inp.frac, inp.length)
        for lay in self.inputs:  # range checks, in declaration-visibility order
            inp = lay.info
            if inp.base == "field":
                continue
            b.line = inp.span.line
            fb = self.fusion.bounds.get(inp.name)
            if fb is not None:  # asserted constant bounds: one interval check (fuse.py),
                b.line = fb.checks[0].stmt.span.line  # reported on the (first) assertion
                g.interval(b, self.env[inp.name].v, fb.lo, fb.hi, self._fused_fail(fb, lay))
                continue
            if inp.name in self.fusion.implied:  # proven by its asserted bounds (fuse.py)
                continue
            rbits = g.range_bits(b, self.env[inp.name].v, inp.bits, 1 << (inp.bits - 1))
            self.sign_bits[lay.wire] = (inp.count, rbits[:, inp.bits - 1])
        for lay in self.inputs:  # commitments bind the (range-checked) entries
            if lay.commitment is not None:
                b.line = lay.info.span.line
                h = commit(b, self.env[lay.name].v.lc, lay.bits)
                b.linear(b.sub(b.wires_lc(np.array([lay.commitment])), h))
        for stmt in self.c.rule.body:
            b.line = stmt.span.line
            try:
                self.statement(stmt)
            except InternalError as exc:  # a compiler bug: say which statement triggered it
                raise InternalError(f"{exc} (while lowering {stmt.span})") from exc
        return b

    def _label(self, name: str, wires: np.ndarray, length: int | None) -> None:
        if length is None:
            self.b.labels[int(wires[0])] = f"main.{name}"
        else:
            for j, w in enumerate(wires.tolist()):
                self.b.labels[w] = f"main.{name}[{j}]"

    def statement(self, stmt: ast.Stmt) -> None:
        if isinstance(stmt, ast.Let):
            if stmt.name in self.chosen.lets:  # used only monotonically: a chosen bound
                self.env[stmt.name] = self.lower_bound(self.chosen.lets[stmt.name])
            elif not stmt.value.info.is_const:  # constants are folded where they are used
                self.env[stmt.name] = self.lower(stmt.value, None)
        elif isinstance(stmt, ast.Assert):
            self.assert_true(stmt.cond, None, stmt)
        elif isinstance(stmt, ast.Output):
            self.output(stmt)

    def output(self, stmt: ast.Output) -> None:
        b = self.b
        lay = next(o for o in self.outputs if o.name == stmt.name)
        val = stmt.value
        call = val if isinstance(val, ast.Call) else None
        entry = REGISTRY.get(call.func) if call is not None else None
        if call is not None and entry is not None and entry.lower_output is not None:
            # the gadget writes the output wire itself (no copy constraint)
            self.env[stmt.name] = entry.lower_output(self, call, lay.wire)
            return
        x = self.lower(stmt.value, None)
        v = x.v
        if stmt.type is not None and x.kind == "num":
            if lay.scale >= x.scale:
                v = g.shift(b, v, lay.scale - x.scale)
            else:
                v = g.div_floor(b, v, 1 << (x.scale - lay.scale), 1)
        n = lay.length or 1
        w = np.arange(lay.wire, lay.wire + n, dtype=np.int64)
        lc = v.lc.broadcast(n)
        b.linear(b.sub(b.wires_lc(w), lc))
        big = v.big
        b.step(lambda st: st.set(w, np.broadcast_to(st.eval(lc, big), (n,))))
        b.set_bits(w, width(v.lo, v.hi))  # the value written is in [v.lo, v.hi]
        self.env[stmt.name] = LV(x.kind, V(b.wires_lc(w), v.lo, v.hi), lay.scale, lay.length)

    # ------------------------------------------------------------ helpers
    def const_lv(self, value: Fraction, scale: int | None = None) -> LV:
        s = dyadic_exponent(value) if scale is None else scale
        if s is None:
            raise InternalError("a non-dyadic constant reached lowering")
        x = value * (1 << s)
        if x.denominator != 1:
            raise InternalError("inexact constant reached lowering")
        return LV("num", g.const(int(x)), s)

    def at_scale(self, x: LV, s: int) -> V:
        if x.kind != "num" or s == x.scale:
            return x.v
        if s < x.scale:
            raise InternalError("scale alignment went down")
        return g.shift(self.b, x.v, s - x.scale)

    def fit(self, *vals: V) -> list[V]:
        """Make scalars broadcastable: wide ones are copied into a wire first."""
        n = max(v.n for v in vals)
        out = []
        for v in vals:
            if v.n == 1 and n > 1 and v.lc.t > WIDE:
                v = g.materialise(self.b, v)
            out.append(v)
        return out

    @staticmethod
    def length_of(*xs: LV) -> int | None:
        for x in xs:
            if x.length is not None:
                return x.length
        return None

    # ------------------------------------------------------------ expressions
    def lower(self, e: ast.Expr, loop: Loop | None) -> LV:
        info: ExprInfo = e.info
        if info is not None and info.is_const and info.kind in ("num", "bool"):
            if info.kind == "bool":
                return LV("bool", g.const(int(info.value)), 0, info.length)
            return self.const_lv(info.value)
        b = self.b
        if isinstance(e, ast.Name):
            if e.id not in self.env:
                raise InternalError(f"name {e.id} not lowered")
            return self.env[e.id]
        if isinstance(e, ast.Index):
            base = self.lower(e.base, None)
            a, c = e.index.info.affine
            if a == 0:
                rows = np.array([c], np.int64)
            else:
                assert loop is not None  # the checker allows the loop variable only in a loop
                rows = a * loop.idx + c
            lc = base.v.lc.take(rows)
            return LV(base.kind, V(lc, base.v.lo, base.v.hi), base.scale, None)
        if isinstance(e, ast.Unary):
            x = self.lower(e.operand, loop)
            if e.op == "not":
                return LV("bool", g.b_not(b, x.v), 0, x.length)
            return LV("num", g.mul_const(b, x.v, -1), x.scale, x.length)
        if isinstance(e, ast.Binary):
            return self.binary(e, loop)
        if isinstance(e, ast.Compare):
            return self.compare(e, loop)
        if isinstance(e, ast.BoolOp):
            x, y = self.lower(e.left, loop), self.lower(e.right, loop)
            xv, yv = self.fit(x.v, y.v)
            r = g.b_and(b, xv, yv) if e.op == "and" else g.b_or(b, xv, yv)
            return LV("bool", r, 0, self.length_of(x, y))
        if isinstance(e, ast.Cond):
            if e.cond.info.is_const:  # the checker typed it as the chosen branch
                return self.lower(e.then if e.cond.info.const else e.other, loop)
            c = self.lower(e.cond, loop)
            x, y = self.lower(e.then, loop), self.lower(e.other, loop)
            s = info.scale
            cv, xv, yv = self.fit(c.v, self.at_scale(x, s), self.at_scale(y, s))
            return LV(info.kind, g.select(b, cv, xv, yv), s, self.length_of(c, x, y))
        if isinstance(e, ast.Call):
            return self.call(e, loop)
        if isinstance(e, ast.Generator):
            return self.generator(e, loop)
        raise InternalError(f"cannot lower {type(e).__name__}")

    def binary(self, e: ast.Binary, loop: Loop | None) -> LV:
        b, info = self.b, e.info
        x, y = self.lower(e.left, loop), self.lower(e.right, loop)
        n = self.length_of(x, y)
        if e.op in "+-":
            s = info.scale
            xv, yv = self.fit(self.at_scale(x, s), self.at_scale(y, s))
            return LV("num", g.lin(b, xv, 1, yv, 1 if e.op == "+" else -1), s, n)
        if e.op == "*":
            # a constant factor (folded by the checker or by a gadget): its encoding at its
            # own scale, so the product's scale is the sum, as the checker computed it
            if x.v.const is not None:
                return LV("num", g.mul_const(b, y.v, x.v.const), y.scale + x.scale, n)
            if y.v.const is not None:
                return LV("num", g.mul_const(b, x.v, y.v.const), x.scale + y.scale, n)
            xv, yv = self.fit(x.v, y.v)
            return LV("num", g.mul(b, xv, yv), x.scale + y.scale, n)
        p, q = division_pq(e.right.info.value)
        return LV("num", g.div_floor(b, x.v, p, q), x.scale, n)

    def sides(self, e: ast.Compare, loop: Loop | None) -> tuple[LV, LV, int]:
        x, y = self.lower(e.left, loop), self.lower(e.right, loop)
        if x.kind == "bool":
            return x, y, 0
        s = max(x.scale, y.scale)
        return x, y, s

    def diff(self, e: ast.Compare, loop: Loop | None) -> tuple[V, LV, LV, int]:
        """The value d with (left op right) <=> d >= 0 (for <, <=, >, >=), or left - right."""
        x, y, s = self.sides(e, loop)
        xv, yv = self.fit(self.at_scale(x, s), self.at_scale(y, s))
        b = self.b
        if e.op in (">=", "==", "!="):
            d = g.lin(b, xv, 1, yv, -1)
        elif e.op == ">":
            d = g.lin(b, g.lin(b, xv, 1, yv, -1), 1, g.const(1), -1)
        elif e.op == "<=":
            d = g.lin(b, yv, 1, xv, -1)
        else:
            d = g.lin(b, g.lin(b, yv, 1, xv, -1), 1, g.const(1), -1)
        return d, x, y, s

    def compare(self, e: ast.Compare, loop: Loop | None) -> LV:
        if e.left.info.kind == "norm" or e.right.info.kind == "norm":
            return LV("bool", self.norm_compare(e, loop, None), 0, None)
        d, x, y, _ = self.diff(e, loop)
        n = self.length_of(x, y)
        if e.op == "==":
            return LV("bool", g.is_zero(self.b, d), 0, n)
        if e.op == "!=":
            return LV("bool", g.b_not(self.b, g.is_zero(self.b, d)), 0, n)
        return LV("bool", g.ge0(self.b, d), 0, n)

    # ------------------------------------------------------------ calls
    def value(self, kind: str, v: V, scale: int = 0, length: int | None = None) -> LV:
        """A lowered value (for the registry's lowerings)."""
        return LV(kind, v, scale, length)

    def call(self, e: ast.Call, loop: Loop | None) -> LV:
        folded = self.folded_bool(e) if loop is None else None  # (a vector in a loop: as is)
        if folded is not None:
            return folded
        return REGISTRY[e.func].lower(self, e, loop)

    def folded_bool(self, e: ast.Call | ast.Generator) -> LV | None:
        """``any(a != b ...)`` / ``all(a == b ...)`` by a sum of squares (squares.py)."""
        s = self.sum_squares(e)
        if s is None:
            return None
        zero = g.is_zero(self.b, s)
        return LV("bool", zero if e.func == "all" else g.b_not(self.b, zero), 0, None)

    def known_sign(self, x: V) -> V | None:
        """Reuse the sign bit of an input's range check when x is plainly input wires."""
        lc = x.lc
        if lc.t != 1 or lc.const != 0 or not (lc.cids == self.b.ONE).all():
            return None
        w = lc.wires[:, 0]
        for first, (count, signs) in self.sign_bits.items():
            if w.min() >= first and w.max() < first + count:
                return V(self.b.wires_lc(signs[w - first]), 0, 1)
        return None

    def generator(self, e: ast.Generator, loop: Loop | None) -> LV:
        folded = self.folded_bool(e)
        if folded is not None:
            return folded
        start = int(e.range.start.info.value)
        stop = int(e.range.stop.info.value)
        inner = Loop(e.var, np.arange(start, stop, dtype=np.int64))
        body = self.lower(e.body, inner)
        v = body.v
        if v.n == 1 and inner.n > 1:
            v = self.fit(v, V(LC.constant(0, inner.n), 0, 0))[0]
            v = V(v.lc.broadcast(inner.n), v.lo, v.hi)
        reduce = REGISTRY[e.func].reduce_lower
        if reduce is None:
            raise InternalError(f"{e.func}() has no generator form")
        return reduce(self, e, v, body.scale)
