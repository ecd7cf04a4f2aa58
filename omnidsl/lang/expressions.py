"""Typing of expressions: kinds, shapes, fixed-point scales and integer bounds (``ExprInfo``).

:class:`ExprChecker` annotates every expression node in place (``Expr.info``); the rule-level
checks (declarations, statements, outputs) are in ``checker.py``, the interval arithmetic in
``bounds.py`` and the rules of the built-in functions in the registry, ``builtins.py``.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from fractions import Fraction

from omnidsl.errors import DSLBoundError, DSLTypeError, SourceSpan
from omnidsl.lang import ast
from omnidsl.lang.bounds import (
    aligned,
    bits,
    bool_info,
    const_info,
    copy_info,
    division_pq,
    field_info,
    floordiv_bounds,
    mul_bounds,
)
from omnidsl.lang.builtins import REGISTRY, generator_names
from omnidsl.lang.types import (
    MAX_BOUND,
    MAX_BOUND_BITS,
    MAX_SCALE,
    ExprInfo,
    InputInfo,
    Kind,
    NormProduct,
    dyadic_exponent,
    encode_const,
)

FIELD_HINT = ("`field` values (field inputs and fingerprint()) have no integer bound: pass them to "
              "fingerprint() or bind them to an output, e.g. `output fp = fingerprint(g, rho);`")
#: longest vector or generator range
MAX_LENGTH = 1 << 26


@dataclass
class Loop:
    """The enclosing generator's variable and range (stop exclusive)."""

    var: str
    start: int
    stop: int


class ExprChecker:
    """Expression typing over the names a rule declared (filled in by ``Checker``)."""

    params: dict[str, int]
    inputs: dict[str, InputInfo]
    lets: dict[str, ExprInfo]
    outputs: dict
    #: the one call of an output-only built-in allowed right now (the whole value of an output)
    output_call: ast.Call | None = None

    def err(self, node: ast.Node | SourceSpan, msg: str, hint: str | None = None,
            cls: type = DSLTypeError) -> Exception:
        span = node if isinstance(node, SourceSpan) else node.span
        return cls(msg, span, hint)

    def names(self) -> list[str]:
        return [*self.params, *self.inputs, *self.lets, *self.outputs]

    # ------------------------------------------------------------ constants
    def const_int(self, e: ast.Expr, what: str) -> int:
        info = self.ex(e, None)
        if not info.is_const or info.kind != "num" or info.value.denominator != 1:
            raise self.err(e, f"{what} must be an integer constant",
                           "use numbers and parameters only")
        return int(info.value)

    # ------------------------------------------------------------ expressions
    def ex(self, e: ast.Expr, loop: Loop | None) -> ExprInfo:
        info = self._ex(e, loop)
        if (loop is not None and info.length is not None and not isinstance(e, ast.Name)
                and _uses_var(e, loop.var)):
            # the whole vector would be paired row by row with the loop's values (x != y[i]
            # compared x[i] with y[i]): a different rule than written
            raise self.err(e, "a whole-vector operation inside a generator cannot use the loop "
                           f"variable '{loop.var}'", f"index every vector with {loop.var} "
                           f"(e.g. x[{loop.var}]), or compute the vector part outside the "
                           "generator")
        if info.kind == "num" and not info.is_const:
            if info.scale > MAX_SCALE:
                raise self.err(e, f"scale overflow: the value has {info.scale} fractional bits",
                               "use rescale(x, F) to drop fractional bits", DSLBoundError)
            if info.mag >= MAX_BOUND:
                raise self.err(e, f"this value may reach about 2^{bits(info.mag)} in magnitude, "
                               f"beyond the 2^{MAX_BOUND_BITS} limit",
                               "narrow the inputs' `bits`, rescale() products, or use smaller "
                               "`frac` scales", DSLBoundError)
        e.info = info
        return info

    def _ex(self, e: ast.Expr, loop: Loop | None) -> ExprInfo:
        if isinstance(e, ast.Num):
            return const_info(e.value)
        if isinstance(e, ast.Name):
            return self.name(e, loop)
        if isinstance(e, ast.Index):
            return self.index(e, loop)
        if isinstance(e, ast.Unary):
            return self.unary(e, loop)
        if isinstance(e, ast.Binary):
            return self.binary(e, loop)
        if isinstance(e, ast.Compare):
            return self.compare(e, loop)
        if isinstance(e, ast.BoolOp):
            a, b = self.ex(e.left, loop), self.ex(e.right, loop)
            for side, i in ((e.left, a), (e.right, b)):
                self.need(side, i, "bool", f"`{e.op}` needs conditions on both sides")
            n = self.shape(e, a, b)
            # a constant side decides the result alone when it is false (`and`) / true (`or`)
            decides = int(e.op == "or")
            if any(i.is_const and int(bool(i.const)) == decides for i in (a, b)):
                return bool_info(n, decides)
            if a.is_const and b.is_const:
                return bool_info(n, int(bool(a.const)))  # neither decides: both equal
            return bool_info(n)
        if isinstance(e, ast.Cond):
            return self.cond(e, loop)
        if isinstance(e, ast.Call):
            return self.call(e, loop)
        if isinstance(e, ast.Generator):
            return self.generator(e, loop)
        raise self.err(e, f"unsupported expression {type(e).__name__}")

    def need(self, node: ast.Expr, info: ExprInfo, kind: str, msg: str) -> None:
        if info.kind == "norm":
            raise self._norm_misuse(node)
        if info.kind == "field" and kind != "field":
            raise self.err(node, f"{msg}; this is a raw field element (type `field`)",
                           FIELD_HINT)
        if info.kind != kind:
            what = {"num": "a number", "bool": "a condition", "index": "an index"}[info.kind]
            raise self.err(node, f"{msg}; this is {what}")

    def _norm_misuse(self, node: ast.Node) -> Exception:
        return self.err(node, "norm() can only be used as a factor of one side of a comparison",
                        "write e.g. `dot(u, v) >= t * norm(u) * norm(v)`, or use norm2()")

    def shape(self, node: ast.Expr, *infos: ExprInfo) -> int | None:
        lengths = {i.length for i in infos if i.length is not None}
        if len(lengths) > 1:
            raise self.err(node, f"vector lengths differ: {sorted(lengths)}",
                           "elementwise operations need vectors of equal length")
        return lengths.pop() if lengths else None

    def name(self, e: ast.Name, loop: Loop | None) -> ExprInfo:
        if e.id in self.params:
            return const_info(Fraction(self.params[e.id]))
        if e.id in self.inputs:
            inp = self.inputs[e.id]
            if inp.base == "field":
                return field_info()
            return ExprInfo("num", inp.length, inp.frac, inp.lo, inp.hi)
        if e.id in self.lets:
            return copy_info(self.lets[e.id])
        if e.id in self.outputs:
            o = self.outputs[e.id]
            if o.kind == "field":
                return field_info()
            kind: Kind = ("bool" if o.stmt.value.info.kind == "bool" and o.stmt.type is None
                          else "num")
            return ExprInfo(kind, o.length, o.scale, o.lo, o.hi)
        if loop is not None and e.id == loop.var:
            raise self.err(e, f"the loop variable '{e.id}' can only be used inside an index",
                           f"write e.g. g[{e.id}]")
        close = difflib.get_close_matches(e.id, self.names(), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "declare it as an input, let or param"
        raise self.err(e, f"unknown name '{e.id}'", hint)

    # ------------------------------------------------------------ indexing
    def affine(self, e: ast.Expr, loop: Loop | None) -> tuple[int, int]:
        """An index expression as (a, b): a*loopvar + b."""
        if isinstance(e, ast.Name) and loop is not None and e.id == loop.var:
            res = (1, 0)
        elif isinstance(e, ast.Num | ast.Name) and not (
                isinstance(e, ast.Name) and e.id not in self.params):
            info = self.ex(e, loop)
            if info.value.denominator != 1:
                raise self.err(e, "an index must be an integer")
            res = (0, int(info.value))
        elif isinstance(e, ast.Unary) and e.op == "-":
            a, b = self.affine(e.operand, loop)
            res = (-a, -b)
        elif isinstance(e, ast.Binary) and e.op in "+-*":
            a1, b1 = self.affine(e.left, loop)
            a2, b2 = self.affine(e.right, loop)
            if e.op == "+":
                res = (a1 + a2, b1 + b2)
            elif e.op == "-":
                res = (a1 - a2, b1 - b2)
            elif a1 and a2:
                raise self.err(e, "an index must be affine in the loop variable (no i*i)")
            else:
                res = (a1 * b2 + a2 * b1, b1 * b2)
        else:
            hint = "use the loop variable, integers and parameters, e.g. g[i + 1]"
            if isinstance(e, ast.Name) and e.id not in self.params:
                raise self.err(e, f"'{e.id}' cannot be used in an index", hint)
            raise self.err(e, "an index must be an affine expression of the loop variable", hint)
        e.info = ExprInfo("index", affine=res, const=Fraction(res[1]) if res[0] == 0 else None)
        return res

    def index(self, e: ast.Index, loop: Loop | None) -> ExprInfo:
        base = self.ex(e.base, loop)
        if base.kind == "norm":
            raise self._norm_misuse(e.base)
        if base.length is None:
            raise self.err(e.base, "only vectors can be indexed", "this is a scalar")
        a, b = self.affine(e.index, loop)
        if a == 0:
            lo_i = hi_i = b
        else:
            assert loop is not None  # a non-zero coefficient comes from the loop variable
            ends = (a * loop.start + b, a * (loop.stop - 1) + b)
            lo_i, hi_i = min(ends), max(ends)
        if lo_i < 0 or hi_i >= base.length:
            bad = lo_i if lo_i < 0 else hi_i
            raise self.err(e.index, f"index {bad} is out of range for a vector of length "
                           f"{base.length}", f"valid indices are 0..{base.length - 1}")
        return ExprInfo(base.kind, None, base.scale, base.lo, base.hi)

    # ------------------------------------------------------------ arithmetic
    def unary(self, e: ast.Unary, loop: Loop | None) -> ExprInfo:
        a = self.ex(e.operand, loop)
        if e.op == "not":
            self.need(e.operand, a, "bool", "`not` needs a condition")
            return bool_info(a.length, None if a.const is None else 1 - int(a.const))
        if a.kind == "norm":
            minus = _synthetic_num(e.span, Fraction(-1))
            return ExprInfo("norm", norm=NormProduct([*a.parts.factors, minus], a.parts.norms))
        self.need(e.operand, a, "num", "`-` needs a number")
        if a.is_const:
            return const_info(-a.value)
        return ExprInfo("num", a.length, a.scale, -a.hi, -a.lo)

    def binary(self, e: ast.Binary, loop: Loop | None) -> ExprInfo:
        a, b = self.ex(e.left, loop), self.ex(e.right, loop)
        if e.op == "*" and (a.kind == "norm" or b.kind == "norm"):
            return self.norm_product(e, a, b)
        self.need(e.left, a, "num", f"`{e.op}` needs numbers")
        self.need(e.right, b, "num", f"`{e.op}` needs numbers")
        n = self.shape(e, a, b)
        if a.is_const and b.is_const:
            if e.op == "/":
                return const_info(self.const_division(e, a, b))
            v = {"+": lambda: a.value + b.value, "-": lambda: a.value - b.value,
                 "*": lambda: a.value * b.value}[e.op]()
            return const_info(v)
        if e.op in "+-":
            s = self.common_scale(e, a, b)
            alo, ahi = aligned(a, s)
            blo, bhi = aligned(b, s)
            if e.op == "+":
                return ExprInfo("num", n, s, alo + blo, ahi + bhi)
            return ExprInfo("num", n, s, alo - bhi, ahi - blo)
        if e.op == "*":
            if a.is_const or b.is_const:
                c, x, cnode = (a, b, e.left) if a.is_const else (b, a, e.right)
                ec = self.const_scale(cnode, c, "multiply by")
                cv = encode_const(c.value, ec)
                lo, hi = mul_bounds(x.lo, x.hi, cv, cv)
                return ExprInfo("num", n, x.scale + ec, lo, hi)
            lo, hi = mul_bounds(a.lo, a.hi, b.lo, b.hi)
            return ExprInfo("num", n, a.scale + b.scale, lo, hi)
        # division by a constant
        if not b.is_const:
            raise self.err(e.right, "division is only by constants (numbers or params)",
                           "multiply instead, or compare `a <= c * b` rather than `a / b <= c`")
        if b.length is not None:
            raise self.err(e.right, "cannot divide by a vector")
        if b.const == 0:
            raise self.err(e.right, "division by zero")
        p, q = division_pq(b.value)
        if max(abs(a.lo * q), abs(a.hi * q), p) >= MAX_BOUND:
            raise self.err(e, "this division's intermediate x * denominator may exceed the 2^"
                           f"{MAX_BOUND_BITS} bound", "divide by a simpler constant",
                           DSLBoundError)
        lo, hi = floordiv_bounds(a.lo, a.hi, q, p)
        return ExprInfo("num", n, a.scale, lo, hi)

    def const_division(self, e: ast.Binary, a: ExprInfo, b: ExprInfo) -> Fraction:
        """``a / b`` of two constants with the runtime semantics: floor at a's scale (the
        smallest number of fractional bits that represents a exactly; 0 for integers)."""
        if b.const == 0:
            raise self.err(e.right, "division by zero")
        s = self.const_scale(e.left, a, "divide")
        return Fraction(math.floor(a.value * (1 << s) / b.value), 1 << s)

    def const_scale(self, node: ast.Expr, c: ExprInfo, what: str) -> int:
        ec = dyadic_exponent(c.value)
        if ec is None:
            raise self.err(node, f"the constant {c.const} is not exactly representable in fixed "
                           f"point (its denominator is not a power of two)",
                           "use a dyadic value such as 0.125, or divide: x / 3")
        return ec

    def common_scale(self, e: ast.Expr, a: ExprInfo, b: ExprInfo) -> int:
        assert isinstance(e, ast.Binary | ast.Compare)
        s = 0
        for node, i in ((e.left, a), (e.right, b)):
            s = max(s, self.const_scale(node, i, "align") if i.is_const else i.scale)
        return s

    def norm_product(self, e: ast.Binary, a: ExprInfo, b: ExprInfo) -> ExprInfo:
        parts = NormProduct()
        for node, i in ((e.left, a), (e.right, b)):
            if i.kind == "norm":
                parts.factors += i.parts.factors
                parts.norms += i.parts.norms
            else:
                self.need(node, i, "num", "`*` needs numbers")
                if i.length is not None:
                    raise self.err(node, "norm() products take scalar factors only")
                parts.factors.append(node)
        return ExprInfo("norm", norm=parts)

    def compare(self, e: ast.Compare, loop: Loop | None) -> ExprInfo:
        a, b = self.ex(e.left, loop), self.ex(e.right, loop)
        if a.kind == "norm" or b.kind == "norm":
            return self.norm_compare(e, a, b)
        if a.kind == "bool" and b.kind == "bool" and e.op in ("==", "!="):
            n = self.shape(e, a, b)
            return bool_info(n)
        self.need(e.left, a, "num", f"`{e.op}` compares numbers")
        self.need(e.right, b, "num", f"`{e.op}` compares numbers")
        n = self.shape(e, a, b)
        if a.is_const and b.is_const:
            av, bv = a.value, b.value
            ops = {"<": av < bv, "<=": av <= bv, ">": av > bv,
                   ">=": av >= bv, "==": av == bv, "!=": av != bv}
            return bool_info(n, int(ops[e.op]))
        s = self.common_scale(e, a, b)
        for node, i in ((e.left, a), (e.right, b)):
            lo, hi = aligned(i, s)
            if max(abs(lo), abs(hi)) >= MAX_BOUND:
                raise self.err(node, f"aligning this side to frac {s} exceeds the 2^"
                               f"{MAX_BOUND_BITS} bound", "rescale() the finer side first",
                               DSLBoundError)
        return bool_info(n)

    def norm_compare(self, e: ast.Compare, a: ExprInfo, b: ExprInfo) -> ExprInfo:
        if e.op in ("==", "!="):
            raise self.err(e, "norm() comparisons support <, <=, >, >= only")
        sides = []
        for node, i in ((e.left, a), (e.right, b)):
            if i.kind == "norm":
                sides.append(i.parts)
            else:
                self.need(node, i, "num", "a norm() comparison needs numbers")
                if i.length is not None:
                    raise self.err(node, "a norm() comparison needs scalars on both sides")
                sides.append(NormProduct([node], []))
        scales = []
        for side in sides:
            scale, mag = 0, 1
            for f in side.factors:
                fi = f.info
                fs = self.const_scale(f, fi, "use") if fi.is_const else fi.scale
                fm = abs(encode_const(fi.value, fs)) if fi.is_const else fi.mag
                scale, mag = scale + fs, mag * fm
            for v in side.norms:
                vi = v.info
                if vi.kind != "num" or vi.length is None:
                    raise self.err(v, "norm() needs a numeric vector")
                scale, mag = scale + vi.scale, mag * vi.mag * (math.isqrt(vi.length) + 1)
            scales.append((2 * scale, mag * mag))
        s = max(sc for sc, _ in scales)
        for (sc, m), node in zip(scales, (e.left, e.right), strict=True):
            if m << (s - sc) >= MAX_BOUND:
                raise self.err(node, "squaring this side of the norm() comparison exceeds the 2^"
                               f"{MAX_BOUND_BITS} bound", "use fewer bits or smaller scales",
                               DSLBoundError)
        return bool_info(None)

    def cond(self, e: ast.Cond, loop: Loop | None) -> ExprInfo:
        c = self.ex(e.cond, loop)
        self.need(e.cond, c, "bool", "`if` needs a condition")
        a, b = self.ex(e.then, loop), self.ex(e.other, loop)
        n = self.shape(e, c, a, b)
        if a.kind == "bool" and b.kind == "bool":
            return copy_info(a if c.const else b) if c.is_const else bool_info(n)
        self.need(e.then, a, "num", "both branches must be numbers (or both conditions)")
        self.need(e.other, b, "num", "both branches must be numbers (or both conditions)")
        if c.is_const:  # a constant condition: the expression is the chosen branch, exactly
            return copy_info(a if c.const else b)
        s = max(self.const_scale(e.then, a, "") if a.is_const else a.scale,
                self.const_scale(e.other, b, "") if b.is_const else b.scale)
        alo, ahi = aligned(a, s)
        blo, bhi = aligned(b, s)
        return ExprInfo("num", n, s, min(alo, blo), max(ahi, bhi))

    # ------------------------------------------------------------ calls
    def call(self, e: ast.Call, loop: Loop | None) -> ExprInfo:
        """A built-in call: name and argument count, then the registry entry's rule."""
        where = e.func_span or e.span
        entry = REGISTRY.get(e.func)
        if entry is None:
            close = difflib.get_close_matches(e.func, list(REGISTRY), n=1)
            raise self.err(where, f"unknown function '{e.func}'",
                           f"did you mean '{close[0]}'?" if close else
                           "built-ins: " + ", ".join(REGISTRY))
        if len(e.args) not in entry.arity:
            want = " or ".join(map(str, entry.arity))
            raise self.err(where, f"{e.func}() takes {want} argument(s), got {len(e.args)}",
                           f"usage: {entry.usage}")
        return entry.check(self, e, loop)

    def generator(self, e: ast.Generator, loop: Loop | None) -> ExprInfo:
        entry = REGISTRY.get(e.func)
        if entry is None or entry.reduce_check is None:
            raise self.err(e, f"{e.func}(... for ...) is not a reduction",
                           "use " + " or ".join(", ".join(generator_names()).rsplit(", ", 1)))
        start = self.const_int(e.range.start, "a range bound")
        stop = self.const_int(e.range.stop, "a range bound")
        if stop <= start:
            raise self.err(e.range, f"the range {start}..{stop} is empty",
                           "ranges are start..stop with stop exclusive and stop > start")
        if stop - start > MAX_LENGTH:
            raise self.err(e.range, f"the range {start}..{stop} has {stop - start} elements",
                           f"ranges may have at most {MAX_LENGTH} elements", DSLBoundError)
        if e.var in self.names():
            raise self.err(e.var_span or e, f"loop variable '{e.var}' shadows a name")
        if loop is not None:
            self._no_outer_var(e.body, loop.var)
        body = self.ex(e.body, Loop(e.var, start, stop))
        if body.kind == "norm":
            raise self._norm_misuse(e.body)
        if body.length is not None:
            raise self.err(e.body, "a generator's body must be one element, not a vector",
                           f"index the vector with the loop variable, e.g. g[{e.var}]")
        return entry.reduce_check(self, e, body, stop - start)

    def _no_outer_var(self, node: ast.Node, var: str) -> None:
        stack = [node]
        while stack:
            x = stack.pop()
            if isinstance(x, ast.Name) and x.id == var:
                raise self.err(x, f"the loop variable '{var}' of an enclosing generator cannot "
                               "be used in a nested generator", "compute the inner part with "
                               "whole-vector operations or a let")
            for v in vars(x).values():
                if isinstance(v, ast.Node):
                    stack.append(v)
                elif isinstance(v, list):
                    stack.extend(i for i in v if isinstance(i, ast.Node))


def _uses_var(node: ast.Node, var: str) -> bool:
    """Whether the Name ``var`` occurs below node."""
    stack: list[ast.Node] = [node]
    while stack:
        x = stack.pop()
        if isinstance(x, ast.Name) and x.id == var:
            return True
        for v in vars(x).values():
            if isinstance(v, ast.Node):
                stack.append(v)
            elif isinstance(v, list):
                stack.extend(i for i in v if isinstance(i, ast.Node))
    return False


def _synthetic_num(span: SourceSpan, value: Fraction) -> ast.Num:
    n = ast.Num(span, value, str(value))
    n.info = const_info(value)
    return n
