"""Lowering of a checked rule to constraint blocks and witness steps, vectorised.

A generator ``f(body for i in a..b)`` is lowered once, with ``i`` bound to the numpy vector
``arange(a, b)``: ``g[i]`` becomes the batch of g's wires at those indices and every gadget emits
one block of (b - a) rows.  Whole-vector expressions (``g * ref``) use the same batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from omnidsl.errors import AssertionFailed, DSLTypeError, InternalError
from omnidsl.field import R
from omnidsl.lang import ast
from omnidsl.lang.checker import CheckedRule, division_pq, expr_text
from omnidsl.lang.types import MAX_BOUND, ExprInfo, InputInfo, NormProduct, dyadic_exponent
from omnidsl.r1cs.system import WIRE_BITS_FULL

from . import gadgets as g
from .builder import Builder, WitnessState, width
from .gadgets import V
from .lc import LC

#: scalars with more terms than this are copied into a wire before being broadcast
WIDE = 8
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


@dataclass
class InputLayout:
    name: str
    visibility: str
    length: int | None
    bits: int
    frac: int
    wire: int
    info: InputInfo


@dataclass
class OutputLayout:
    name: str
    length: int | None
    scale: int
    wire: int
    #: "field" for a raw field-element output (fingerprint()), else "num"
    kind: str = "num"


def fmt(x: int, s: int) -> str:
    """A decoded fixed-point value for messages."""
    if s == 0:
        return str(int(x))
    f = Fraction(int(x), 1 << s)
    return f"{float(f):.10g}"


def _side(e: ast.Expr, value: str) -> str:
    text = expr_text(e.span)
    return text if e.info is not None and e.info.is_const else f"{text} = {value}"


class Lowerer:
    def __init__(self, checked: CheckedRule):
        self.c = checked
        self.b = Builder()
        self.env: dict[str, LV] = {}
        self.inputs: list[InputLayout] = []
        self.outputs: list[OutputLayout] = []
        self.sign_bits: dict[int, tuple[int, np.ndarray]] = {}
        self._last_cos_fail = None

    # ------------------------------------------------------------ top level
    def run(self) -> Builder:
        b = self.b
        for o in self.c.outputs:
            n = o.length or 1
            bits = WIRE_BITS_FULL if o.kind == "field" else width(o.lo, o.hi)
            w = b.alloc(n, big=max(abs(o.lo), abs(o.hi)) >= g.SMALL, bits=bits)
            self.outputs.append(OutputLayout(o.name, o.length, o.scale, int(w[0]), o.kind))
            self._label(o.name, w, o.length)
        order = [i for i in self.c.inputs if i.visibility == "public"]
        order += [i for i in self.c.inputs if i.visibility == "private"]
        for inp in order:
            # a k-bit input lies in [-2^(k-1), 2^(k-1) - 1] (encode_input enforces it; the
            # range check below proves it), so |v| <= 2^(k-1) < 2^k: width k
            bits = WIRE_BITS_FULL if inp.base == "field" else width(inp.lo, inp.hi)
            w = b.alloc(inp.count, big=inp.bits > 62, bits=bits)
            self.inputs.append(InputLayout(inp.name, inp.visibility, inp.length, inp.bits,
                                           inp.frac, int(w[0]), inp))
            self._label(inp.name, w, inp.length)
            if inp.base == "field":  # a raw field element: no bound, no range check
                self.env[inp.name] = LV("field", V(b.wires_lc(w), 0, R - 1), 0, None)
                continue
            v = V(b.wires_lc(w), inp.lo, inp.hi)
            self.env[inp.name] = LV("num", v, inp.frac, inp.length)
        for lay in self.inputs:  # range checks, in declaration-visibility order
            inp = lay.info
            if inp.base == "field":
                continue
            b.line = inp.span.line
            bits = g.range_bits(b, self.env[inp.name].v, inp.bits, 1 << (inp.bits - 1))
            self.sign_bits[lay.wire] = (inp.count, bits[:, inp.bits - 1])
        for stmt in self.c.rule.body:
            b.line = stmt.span.line
            self.statement(stmt)
        return b

    def _label(self, name: str, wires: np.ndarray, length: int | None) -> None:
        if length is None:
            self.b.labels[int(wires[0])] = f"main.{name}"
        else:
            for j, w in enumerate(wires.tolist()):
                self.b.labels[w] = f"main.{name}[{j}]"

    def statement(self, stmt: ast.Stmt) -> None:
        if isinstance(stmt, ast.Let):
            if not stmt.value.info.is_const:  # constants are folded where they are used
                self.env[stmt.name] = self.lower(stmt.value, None)
        elif isinstance(stmt, ast.Assert):
            self.assert_true(stmt.cond, None, stmt)
        elif isinstance(stmt, ast.Output):
            self.output(stmt)

    def output(self, stmt: ast.Output) -> None:
        b = self.b
        lay = next(o for o in self.outputs if o.name == stmt.name)
        val = stmt.value
        if isinstance(val, ast.Call) and val.func == "fingerprint":
            # Horner's last accumulator is the output wire itself: no copy constraint
            v = self.fingerprint(val, lay.wire)
            self.env[stmt.name] = LV("field", v, 0, None)
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
                return LV("bool", g.const(int(info.const)), 0, info.length)
            return self.const_lv(info.const)
        b = self.b
        if isinstance(e, ast.Name):
            if e.id not in self.env:
                raise InternalError(f"name {e.id} not lowered")
            return self.env[e.id]
        if isinstance(e, ast.Index):
            base = self.lower(e.base, None)
            a, c = e.index.info.affine
            rows = np.array([c], np.int64) if a == 0 else a * loop.idx + c
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
            if x.v.const is not None or y.v.const is not None:
                # a constant factor (folded by the checker or by a gadget): its encoding at its
                # own scale, so the product's scale is the sum, as the checker computed it
                c, other = (x, y) if x.v.const is not None else (y, x)
                return LV("num", g.mul_const(b, other.v, c.v.const), other.scale + c.scale, n)
            xv, yv = self.fit(x.v, y.v)
            return LV("num", g.mul(b, xv, yv), x.scale + y.scale, n)
        p, q = division_pq(e.right.info.const)
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
    def fingerprint(self, e: ast.Call, out: int | None = None) -> V:
        vec, rho = self.lower(e.args[0], None), self.lower(e.args[1], None)
        mask = self.lower(e.args[2], None).v if len(e.args) > 2 else None
        return g.fingerprint(self.b, vec.v, rho.v, out, mask)

    def call(self, e: ast.Call, loop: Loop | None) -> LV:
        b, f, info = self.b, e.func, e.info
        if f == "fingerprint":
            return LV("field", self.fingerprint(e), 0, None)
        if f == "rescale":
            x = self.lower(e.args[0], loop)
            frac = info.scale
            if frac >= x.scale:
                return LV("num", g.shift(b, x.v, frac - x.scale), frac, x.length)
            return LV("num", g.div_floor(b, x.v, 1 << (x.scale - frac), 1), frac, x.length)
        args = [self.lower(a, loop if f not in ("dot", "norm2") else None) for a in e.args]
        if f == "abs":
            return LV("num", self.abs(args[0].v), args[0].scale, args[0].length)
        if f in ("min", "max"):
            if len(args) == 1:
                return LV("num", self.reduce_minmax(f, args[0].v), args[0].scale, None)
            s = info.scale
            xv, yv = self.fit(self.at_scale(args[0], s), self.at_scale(args[1], s))
            return LV("num", self.minmax(f, xv, yv), s, self.length_of(*args))
        if f in ("all", "any"):
            return LV("bool", self.reduce_bool(f, args[0].v), 0, None)
        if f == "sum":
            v = args[0].v
            return LV("num", V(v.lc.sum_rows(), v.lo * v.n, v.hi * v.n), args[0].scale, None)
        if f in ("dot", "norm2"):
            u = args[0]
            w = args[1] if f == "dot" else u
            p = g.mul(b, u.v, w.v)
            lo, hi = (p.lo * p.n, p.hi * p.n) if f == "dot" else (0, p.hi * p.n)
            return LV("num", V(p.lc.sum_rows(), lo, hi), u.scale + w.scale, None)
        raise InternalError(f"cannot lower call {f}")

    def abs(self, x: V) -> V:
        b = self.b
        lo, hi = (x.lo, x.hi) if x.lo >= 0 else (-x.hi, -x.lo) if x.hi <= 0 else (
            0, max(-x.lo, x.hi))
        if x.lo >= 0:
            return V(x.lc, lo, hi)
        if x.hi <= 0:
            return V(g.mul_const(b, x, -1).lc, lo, hi)
        s = self.known_sign(x)
        if s is None:
            s = g.ge0(b, x)
        two_s_minus_1 = V(g.lin(b, s, 2, g.const(1), -1).lc, -1, 1)
        r = g.mul(b, two_s_minus_1, x)
        return V(r.lc, lo, hi)

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

    def minmax(self, f: str, x: V, y: V) -> V:
        b = self.b
        le = g.ge0(b, g.lin(b, y, 1, x, -1))  # x <= y
        r = g.select(b, le, x, y) if f == "min" else g.select(b, le, y, x)
        # exact min/max (le is a sound decision): as tight as the checker's bound, so a rule it
        # accepts never needs a range check wider than the field
        pick = min if f == "min" else max
        return V(r.lc, pick(x.lo, y.lo), pick(x.hi, y.hi))

    def reduce_minmax(self, f: str, v: V) -> V:
        while v.n > 1:
            half = v.n // 2
            ev = np.arange(0, 2 * half, 2)
            x = V(v.lc.take(ev), v.lo, v.hi)
            y = V(v.lc.take(ev + 1), v.lo, v.hi)
            m = self.minmax(f, x, y)
            if v.n % 2:
                last = V(v.lc.take(np.array([v.n - 1])), v.lo, v.hi)
                m = V(self._concat(m.lc, last.lc), m.lo, m.hi)
            v = m
        return v

    def _concat(self, a: LC, c: LC) -> LC:
        t = max(a.t, c.t)
        pad = lambda lc: LC(  # noqa: E731
            np.pad(lc.wires, ((0, 0), (0, t - lc.t))),
            np.pad(lc.cids, ((0, 0), (0, t - lc.t)), constant_values=self.b.ZERO), lc.const)
        a2, c2 = pad(a), pad(c)
        if a2.const != c2.const:
            raise InternalError("concatenating rows with different constants")
        return LC(np.concatenate([a2.wires, c2.wires]), np.concatenate([a2.cids, c2.cids]),
                  a2.const)

    def reduce_bool(self, f: str, v: V) -> V:
        b = self.b
        if v.n == 1:
            return v
        total = V(v.lc.sum_rows(), 0, v.n)
        if f == "all":
            return g.is_zero(b, g.lin(b, g.const(v.n), 1, total, -1))
        return g.b_not(b, g.is_zero(b, total))

    def generator(self, e: ast.Generator, loop: Loop | None) -> LV:
        start = int(e.range.start.info.const)
        stop = int(e.range.stop.info.const)
        inner = Loop(e.var, np.arange(start, stop, dtype=np.int64))
        body = self.lower(e.body, inner)
        v = body.v
        if v.n == 1 and inner.n > 1:
            v = self.fit(v, V(LC.constant(0, inner.n), 0, 0))[0]
            v = V(v.lc.broadcast(inner.n), v.lo, v.hi)
        if e.func == "sum":
            return LV("num", V(v.lc.sum_rows(), v.lo * v.n, v.hi * v.n), body.scale, None)
        if e.func in ("all", "any"):
            return LV("bool", self.reduce_bool(e.func, v), 0, None)
        return LV("num", self.reduce_minmax(e.func, v), body.scale, None)

    # ------------------------------------------------------------ norm comparisons
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
            cv = w.eval(c.lc, True)
            pv = w.eval(p.lc, True)
            cv, pv = int(cv[min(j, cv.shape[0] - 1)]), int(pv[min(j, pv.shape[0] - 1)])
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

    # ------------------------------------------------------------ assertions
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


def lower(checked: CheckedRule) -> Lowerer:
    low = Lowerer(checked)
    low.run()
    return low
