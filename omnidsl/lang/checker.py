"""Type, scale and bound checker: annotates every expression of a parsed rule with ExprInfo.

Rules enforced (see docs/gadgets.md): names resolve; arity and vector/scalar shapes fit; indices
are affine in the loop variable and statically in range; ``+ - compare`` align scales exactly by
multiplying with 2^k; ``*`` adds scales; literals must be exact dyadic numbers; division only by
constants; ``norm()`` only as a factor of a comparison side; every value's integer bound stays
below 2^250 (DSLBoundError otherwise).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from fractions import Fraction

from omnidsl.errors import DSLBoundError, DSLTypeError, SourceSpan
from omnidsl.field import R
from omnidsl.lang import ast
from omnidsl.lang.types import (
    DEFAULT_BITS,
    DEFAULT_FRAC,
    FIELD_BITS,
    MAX_BOUND,
    MAX_BOUND_BITS,
    MAX_INPUT_BITS,
    MAX_SCALE,
    ExprInfo,
    InputInfo,
    NormProduct,
    dyadic_exponent,
    encode_const,
    floordiv_bounds,
    mul_bounds,
)

BUILTINS = ("abs", "min", "max", "sum", "all", "any", "dot", "norm2", "norm", "rescale", "len",
            "fingerprint")
GENERATOR_FUNCS = ("sum", "all", "any", "min", "max")
USAGE = {
    "abs": "abs(x)", "min": "min(a, b), min(v) or min(f(i) for i in a..b)",
    "max": "max(a, b), max(v) or max(f(i) for i in a..b)",
    "sum": "sum(v) or sum(f(i) for i in a..b)", "all": "all(conds) or all(c(i) for i in a..b)",
    "any": "any(conds) or any(c(i) for i in a..b)", "dot": "dot(u, v)", "norm2": "norm2(v)",
    "norm": "a >= c * norm(u) * norm(v) (inside a comparison)", "rescale": "rescale(x, F)",
    "len": "len(v)",
    "fingerprint": "output fp = fingerprint(v, rho[, mask]);  (rho, mask: `field` inputs)",
}
FIELD_HINT = ("`field` values (field inputs and fingerprint()) have no integer bound: pass them to "
              "fingerprint() or bind them to an output, e.g. `output fp = fingerprint(g, rho);`")
MAX_LENGTH = 1 << 26


@dataclass
class OutputInfo:
    name: str
    length: int | None
    scale: int
    lo: int
    hi: int
    stmt: ast.Output
    #: "field" for a raw field-element output (fingerprint()), else "num" (numbers and bools)
    kind: str = "num"


@dataclass
class CheckedRule:
    """A rule whose expressions carry ``info``; plus resolved params, inputs and outputs."""

    rule: ast.Rule
    params: dict[str, int]
    inputs: list[InputInfo]
    outputs: list[OutputInfo]
    lets: dict[str, ExprInfo] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.rule.name


@dataclass
class _Loop:
    var: str
    start: int
    stop: int


def expr_text(span: SourceSpan) -> str:
    """The source text covered by a span (single or multi line), whitespace-collapsed."""
    if span.source is None:
        return "?"
    lines = span.source.splitlines()
    end_line = span.end_line or span.line
    end_col = span.end_column or span.column + 1
    if not (1 <= span.line <= len(lines)) or end_line > len(lines):
        return "?"
    if end_line == span.line:
        text = lines[span.line - 1][span.column - 1 : end_col - 1]
    else:
        parts = [lines[span.line - 1][span.column - 1 :]]
        parts += lines[span.line : end_line - 1]
        parts.append(lines[end_line - 1][: end_col - 1])
        text = " ".join(p.strip() for p in parts)
    return " ".join(text.split())


def _bits(x: int) -> int:
    return abs(x).bit_length()


class Checker:
    def __init__(self, rule: ast.Rule, overrides: dict[str, int] | None):
        self.rule = rule
        self.overrides = dict(overrides or {})
        self.params: dict[str, int] = {}
        self.inputs: dict[str, InputInfo] = {}
        self.lets: dict[str, ExprInfo] = {}
        self.outputs: dict[str, OutputInfo] = {}
        #: the one fingerprint() call allowed right now (the whole value of an output)
        self._fp_ok: ast.Call | None = None

    # ------------------------------------------------------------ errors
    def err(self, node: ast.Node | SourceSpan, msg: str, hint: str | None = None,
            cls: type = DSLTypeError) -> Exception:
        span = node if isinstance(node, SourceSpan) else node.span
        return cls(msg, span, hint)

    def _names(self) -> list[str]:
        return [*self.params, *self.inputs, *self.lets, *self.outputs]

    # ------------------------------------------------------------ rule
    def run(self) -> CheckedRule:
        rule = self.rule
        for p in rule.params:
            if p.name in self.params:
                raise self.err(p, f"parameter '{p.name}' is declared twice")
            if p.name in self.overrides:
                v = self.overrides.pop(p.name)
                if isinstance(v, bool) or not isinstance(v, int):
                    raise self.err(p, f"parameter '{p.name}' must be an integer, got {v!r}")
                self.params[p.name] = v
            elif p.default is not None:
                self.params[p.name] = self.const_int(p.default, "parameter default")
            else:
                raise self.err(p, f"parameter '{p.name}' has no value",
                               f"give it a default or pass --param {p.name}=VALUE")
        if self.overrides:
            name = sorted(self.overrides)[0]
            known = ", ".join(self.params) or "none"
            raise self.err(rule, f"rule {rule.name} has no parameter '{name}'",
                           f"its parameters are: {known}")
        for decl in rule.inputs:
            self.declare_input(decl)
        for stmt in rule.body:
            self.statement(stmt)
        return CheckedRule(rule, dict(self.params), list(self.inputs.values()),
                           list(self.outputs.values()), dict(self.lets))

    def _fresh(self, name: str, node: ast.Node) -> None:
        if name in self._names():
            raise self.err(node, f"'{name}' is already defined",
                           "each param, input, let and output needs its own name")
        if name in BUILTINS:
            raise self.err(node, f"'{name}' is a built-in function name")

    def declare_input(self, decl: ast.InputDecl) -> None:
        self._fresh(decl.name, decl)
        t = decl.type
        if t.base == "field":
            self._field_input(decl)
            return
        length = None
        if t.length is not None:
            length = self.const_int(t.length, "vector length")
            if not 1 <= length <= MAX_LENGTH:
                raise self.err(t.length, f"vector length {length} is out of range",
                               f"lengths must be between 1 and {MAX_LENGTH}")
        bits = DEFAULT_BITS[t.base] if t.bits is None else t.bits
        frac = DEFAULT_FRAC[t.base] if t.frac is None else t.frac
        if t.base == "int" and frac != 0:
            raise self.err(t, "an int has no fractional bits", "use `fixed ... frac F`")
        if not 1 <= bits <= MAX_INPUT_BITS:
            raise self.err(t, f"bits {bits} is out of range", f"use 1..{MAX_INPUT_BITS}",
                           DSLBoundError)
        if not 0 <= frac <= MAX_SCALE:
            raise self.err(t, f"frac {frac} is out of range", f"use 0..{MAX_SCALE}",
                           DSLBoundError)
        self.inputs[decl.name] = InputInfo(decl.name, decl.visibility, t.base, length, bits,
                                           frac, decl.span)

    def _field_input(self, decl: ast.InputDecl) -> None:
        t = decl.type
        if t.length is not None:
            raise self.err(t, "a `field` input is a scalar (no vectors of field elements)",
                           "declare `public rho: field;`")
        if t.bits is not None or t.frac is not None:
            raise self.err(t, "a `field` input takes no `bits`/`frac`",
                           "it is a raw element of F_r, not a fixed-point number")
        self.inputs[decl.name] = InputInfo(decl.name, decl.visibility, "field", None, FIELD_BITS,
                                           0, decl.span)

    def statement(self, stmt: ast.Stmt) -> None:
        if isinstance(stmt, ast.Let):
            self._fresh(stmt.name, stmt)
            info = self.ex(stmt.value, None)
            if info.kind == "norm":
                raise self._norm_misuse(stmt.value)
            if info.kind == "field":
                raise self.err(stmt.value, "a `field` value cannot be bound with let", FIELD_HINT)
            self.lets[stmt.name] = info
        elif isinstance(stmt, ast.Assert):
            info = self.ex(stmt.cond, None)
            if info.kind != "bool":
                raise self.err(stmt.cond, "an assertion needs a condition (true/false)",
                               "compare values, e.g. `assert x <= 4.0`")
            if info.is_const and info.const == 0:
                part = _false_part(stmt.cond)
                raise self.err(part, f"`{expr_text(part.span)}` is always false, so this "
                               "assertion never holds", "no input can satisfy it: fix or "
                               "remove the constant condition")
        elif isinstance(stmt, ast.Output):
            self._fresh(stmt.name, stmt)
            v = stmt.value
            self._fp_ok = v if isinstance(v, ast.Call) and v.func == "fingerprint" else None
            try:
                info = self.ex(stmt.value, None)
            finally:
                self._fp_ok = None
            if info.kind == "field":
                self.field_output(stmt)
                return
            if stmt.type is not None and stmt.type.base == "field":
                raise self.err(stmt.value, "a `field` output needs a field value",
                               "e.g. `output fp: field = fingerprint(g, rho);`, or drop the type")
            if info.kind not in ("num", "bool"):
                raise self._norm_misuse(stmt.value) if info.kind == "norm" else self.err(
                    stmt.value, "an output must be a number or a condition")
            if info.is_const:
                self.const_scale(stmt.value, info, "output")
            scale, lo, hi = info.scale, info.lo, info.hi
            if stmt.type is not None:
                t = stmt.type
                if t.length is not None:
                    n = self.const_int(t.length, "vector length")
                    if n != info.length:
                        raise self.err(t, f"declared length {n} but the value has "
                                       f"{'no length' if info.length is None else info.length}")
                frac = DEFAULT_FRAC[t.base] if t.frac is None else t.frac
                if t.base == "int" and frac != 0:
                    raise self.err(t, "an int has no fractional bits")
                lo, hi = convert_bounds(lo, hi, scale, frac)
                scale = frac
                if t.bits is not None:
                    if not 1 <= t.bits <= MAX_INPUT_BITS:
                        raise self.err(t, f"bits {t.bits} is out of range", cls=DSLBoundError)
                    if lo < -(1 << (t.bits - 1)) or hi >= 1 << (t.bits - 1):
                        raise self.err(stmt.value, f"the value may not fit in {t.bits} bits "
                                       f"(bound [{lo}, {hi}] at frac {frac})",
                                       "widen the output or bound the value with min/max",
                                       DSLBoundError)
            if info.kind == "bool":
                scale = 0
            out = OutputInfo(stmt.name, info.length, scale, lo, hi, stmt)
            self.outputs[stmt.name] = out
        else:  # pragma: no cover - the parser produces only these
            raise self.err(stmt, f"unknown statement {type(stmt).__name__}")

    def field_output(self, stmt: ast.Output) -> None:
        t = stmt.type
        if t is not None and (t.base != "field" or t.length is not None or t.bits is not None
                              or t.frac is not None):
            raise self.err(t, "this output is a raw field element; it has no fixed-point type",
                           "write `output fp = ...;` or `output fp: field = ...;`")
        self.outputs[stmt.name] = OutputInfo(stmt.name, None, 0, 0, FIELD_MAX, stmt, "field")

    # ------------------------------------------------------------ constants
    def const_int(self, e: ast.Expr, what: str) -> int:
        info = self.ex(e, None)
        if not info.is_const or info.kind != "num" or info.const.denominator != 1:
            raise self.err(e, f"{what} must be an integer constant",
                           "use numbers and parameters only")
        return int(info.const)

    # ------------------------------------------------------------ expressions
    def ex(self, e: ast.Expr, loop: _Loop | None) -> ExprInfo:
        info = self._ex(e, loop)
        if info.kind == "num" and not info.is_const:
            if info.scale > MAX_SCALE:
                raise self.err(e, f"scale overflow: the value has {info.scale} fractional bits",
                               "use rescale(x, F) to drop fractional bits", DSLBoundError)
            if info.mag >= MAX_BOUND:
                raise self.err(e, f"this value may reach about 2^{_bits(info.mag)} in magnitude, "
                               f"beyond the 2^{MAX_BOUND_BITS} limit",
                               "narrow the inputs' `bits`, rescale() products, or use smaller "
                               "`frac` scales", DSLBoundError)
        e.info = info
        return info

    def _ex(self, e: ast.Expr, loop: _Loop | None) -> ExprInfo:
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

    def name(self, e: ast.Name, loop: _Loop | None) -> ExprInfo:
        if e.id in self.params:
            return const_info(Fraction(self.params[e.id]))
        if e.id in self.inputs:
            inp = self.inputs[e.id]
            if inp.base == "field":
                return ExprInfo("field", None, 0, 0, FIELD_MAX)
            return ExprInfo("num", inp.length, inp.frac, inp.lo, inp.hi)
        if e.id in self.lets:
            return _copy(self.lets[e.id])
        if e.id in self.outputs:
            o = self.outputs[e.id]
            if o.kind == "field":
                return ExprInfo("field", None, 0, 0, FIELD_MAX)
            kind = "bool" if o.stmt.value.info.kind == "bool" and o.stmt.type is None else "num"
            return ExprInfo(kind, o.length, o.scale, o.lo, o.hi)
        if loop is not None and e.id == loop.var:
            raise self.err(e, f"the loop variable '{e.id}' can only be used inside an index",
                           f"write e.g. g[{e.id}]")
        close = difflib.get_close_matches(e.id, self._names(), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "declare it as an input, let or param"
        raise self.err(e, f"unknown name '{e.id}'", hint)

    # ------------------------------------------------------------ indexing
    def affine(self, e: ast.Expr, loop: _Loop | None) -> tuple[int, int]:
        """An index expression as (a, b): a*loopvar + b."""
        if isinstance(e, ast.Name) and loop is not None and e.id == loop.var:
            res = (1, 0)
        elif isinstance(e, ast.Num | ast.Name) and not (
                isinstance(e, ast.Name) and e.id not in self.params):
            info = self.ex(e, loop)
            if info.const.denominator != 1:
                raise self.err(e, "an index must be an integer")
            res = (0, int(info.const))
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

    def index(self, e: ast.Index, loop: _Loop | None) -> ExprInfo:
        base = self.ex(e.base, loop)
        if base.kind == "norm":
            raise self._norm_misuse(e.base)
        if base.length is None:
            raise self.err(e.base, "only vectors can be indexed", "this is a scalar")
        a, b = self.affine(e.index, loop)
        if a == 0:
            lo_i = hi_i = b
        else:
            ends = (a * loop.start + b, a * (loop.stop - 1) + b)
            lo_i, hi_i = min(ends), max(ends)
        if lo_i < 0 or hi_i >= base.length:
            bad = lo_i if lo_i < 0 else hi_i
            raise self.err(e.index, f"index {bad} is out of range for a vector of length "
                           f"{base.length}", f"valid indices are 0..{base.length - 1}")
        return ExprInfo(base.kind, None, base.scale, base.lo, base.hi)

    # ------------------------------------------------------------ arithmetic
    def unary(self, e: ast.Unary, loop: _Loop | None) -> ExprInfo:
        a = self.ex(e.operand, loop)
        if e.op == "not":
            self.need(e.operand, a, "bool", "`not` needs a condition")
            return bool_info(a.length, None if a.const is None else 1 - int(a.const))
        if a.kind == "norm":
            minus = _synthetic_num(e.span, Fraction(-1))
            return ExprInfo("norm", norm=NormProduct([*a.norm.factors, minus], a.norm.norms))
        self.need(e.operand, a, "num", "`-` needs a number")
        if a.is_const:
            return const_info(-a.const)
        return ExprInfo("num", a.length, a.scale, -a.hi, -a.lo)

    def binary(self, e: ast.Binary, loop: _Loop | None) -> ExprInfo:
        a, b = self.ex(e.left, loop), self.ex(e.right, loop)
        if e.op == "*" and (a.kind == "norm" or b.kind == "norm"):
            return self.norm_product(e, a, b)
        self.need(e.left, a, "num", f"`{e.op}` needs numbers")
        self.need(e.right, b, "num", f"`{e.op}` needs numbers")
        n = self.shape(e, a, b)
        if a.is_const and b.is_const:
            if e.op == "/":
                return const_info(self.const_division(e, a, b))
            v = {"+": lambda: a.const + b.const, "-": lambda: a.const - b.const,
                 "*": lambda: a.const * b.const}[e.op]()
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
                cv = encode_const(c.const, ec)
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
        p, q = division_pq(b.const)
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
        return Fraction(math.floor(a.const * (1 << s) / b.const), 1 << s)

    def const_scale(self, node: ast.Expr, c: ExprInfo, what: str) -> int:
        ec = dyadic_exponent(c.const)
        if ec is None:
            raise self.err(node, f"the constant {c.const} is not exactly representable in fixed "
                           f"point (its denominator is not a power of two)",
                           "use a dyadic value such as 0.125, or divide: x / 3")
        return ec

    def common_scale(self, e: ast.Expr, a: ExprInfo, b: ExprInfo) -> int:
        s = 0
        for node, i in ((e.left, a), (e.right, b)):
            s = max(s, self.const_scale(node, i, "align") if i.is_const else i.scale)
        return s

    def norm_product(self, e: ast.Binary, a: ExprInfo, b: ExprInfo) -> ExprInfo:
        parts = NormProduct()
        for node, i in ((e.left, a), (e.right, b)):
            if i.kind == "norm":
                parts.factors += i.norm.factors
                parts.norms += i.norm.norms
            else:
                self.need(node, i, "num", "`*` needs numbers")
                if i.length is not None:
                    raise self.err(node, "norm() products take scalar factors only")
                parts.factors.append(node)
        return ExprInfo("norm", norm=parts)

    def compare(self, e: ast.Compare, loop: _Loop | None) -> ExprInfo:
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
            ops = {"<": a.const < b.const, "<=": a.const <= b.const, ">": a.const > b.const,
                   ">=": a.const >= b.const, "==": a.const == b.const, "!=": a.const != b.const}
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
                sides.append(i.norm)
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
                fm = abs(encode_const(fi.const, fs)) if fi.is_const else fi.mag
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

    def cond(self, e: ast.Cond, loop: _Loop | None) -> ExprInfo:
        c = self.ex(e.cond, loop)
        self.need(e.cond, c, "bool", "`if` needs a condition")
        a, b = self.ex(e.then, loop), self.ex(e.other, loop)
        n = self.shape(e, c, a, b)
        if a.kind == "bool" and b.kind == "bool":
            return _copy(a if c.const else b) if c.is_const else bool_info(n)
        self.need(e.then, a, "num", "both branches must be numbers (or both conditions)")
        self.need(e.other, b, "num", "both branches must be numbers (or both conditions)")
        if c.is_const:  # a constant condition: the expression is the chosen branch, exactly
            return _copy(a if c.const else b)
        s = max(self.const_scale(e.then, a, "") if a.is_const else a.scale,
                self.const_scale(e.other, b, "") if b.is_const else b.scale)
        alo, ahi = aligned(a, s)
        blo, bhi = aligned(b, s)
        return ExprInfo("num", n, s, min(alo, blo), max(ahi, bhi))

    # ------------------------------------------------------------ calls
    def call(self, e: ast.Call, loop: _Loop | None) -> ExprInfo:
        f = e.func
        where = e.func_span or e.span
        if f not in BUILTINS:
            close = difflib.get_close_matches(f, BUILTINS, n=1)
            raise self.err(where, f"unknown function '{f}'",
                           f"did you mean '{close[0]}'?" if close else
                           "built-ins: " + ", ".join(BUILTINS))
        arity = {"abs": (1,), "min": (1, 2), "max": (1, 2), "sum": (1,), "all": (1,),
                 "any": (1,), "dot": (2,), "norm2": (1,), "norm": (1,), "rescale": (2,),
                 "len": (1,), "fingerprint": (2, 3)}[f]
        if len(e.args) not in arity:
            want = " or ".join(map(str, arity))
            raise self.err(where, f"{f}() takes {want} argument(s), got {len(e.args)}",
                           f"usage: {USAGE[f]}")
        if f == "fingerprint":
            return self.fingerprint(e, loop)
        if f == "rescale":
            x = self.ex(e.args[0], loop)
            self.need(e.args[0], x, "num", "rescale() needs a number")
            frac = self.const_int(e.args[1], "rescale()'s scale")
            if not 0 <= frac <= MAX_SCALE:
                raise self.err(e.args[1], f"scale {frac} is out of range", cls=DSLBoundError)
            if x.is_const:
                return const_info(Fraction(math.floor(x.const * (1 << frac)), 1 << frac))
            lo, hi = convert_bounds(x.lo, x.hi, x.scale, frac)
            return ExprInfo("num", x.length, frac, lo, hi)
        args = [self.ex(a, loop) for a in e.args]
        if f in ("all", "any"):
            self.need(e.args[0], args[0], "bool", f"{f}() needs conditions")
            return bool_info(None, args[0].const)
        for node, i in zip(e.args, args, strict=True):
            self.need(node, i, "num", f"{f}() needs numbers")
        if f == "len":
            if args[0].length is None:
                raise self.err(e.args[0], "len() needs a vector")
            return const_info(Fraction(args[0].length))
        if f == "abs":
            a = args[0]
            if a.is_const:
                return const_info(abs(a.const))
            lo, hi = (a.lo, a.hi) if a.lo >= 0 else (-a.hi, -a.lo) if a.hi <= 0 else (0, a.mag)
            return ExprInfo("num", a.length, a.scale, lo, hi)
        if f in ("min", "max"):
            if len(args) == 1:
                a = args[0]
                if a.length is None:
                    raise self.err(e.args[0], f"{f}() of one argument needs a vector",
                                   f"use {f}(a, b) for two scalars")
                return ExprInfo("num", None, a.scale, a.lo, a.hi)
            a, b = args
            n = self.shape(e, a, b)
            if a.is_const and b.is_const:
                return const_info(min(a.const, b.const) if f == "min" else max(a.const, b.const))
            s = self.common_scale(ast.Binary(e.span, "+", e.args[0], e.args[1]), a, b)
            alo, ahi = aligned(a, s)
            blo, bhi = aligned(b, s)
            if f == "min":
                return ExprInfo("num", n, s, min(alo, blo), min(ahi, bhi))
            return ExprInfo("num", n, s, max(alo, blo), max(ahi, bhi))
        for node, i in zip(e.args, args, strict=True):
            if i.length is None:
                raise self.err(node, f"{f}() needs a vector", "this is a scalar")
            if i.is_const:
                raise self.err(node, f"{f}() needs a vector input")
        if f == "sum":
            a = args[0]
            return ExprInfo("num", None, a.scale, a.lo * a.length, a.hi * a.length)
        if f == "dot":
            a, b = args
            self.shape(e, a, b)
            lo, hi = mul_bounds(a.lo, a.hi, b.lo, b.hi)
            return ExprInfo("num", None, a.scale + b.scale, lo * a.length, hi * a.length)
        a = args[0]
        if f == "norm2":
            return ExprInfo("num", None, 2 * a.scale, 0, a.mag * a.mag * a.length)
        return ExprInfo("norm", norm=NormProduct([], [e.args[0]]))

    def fingerprint(self, e: ast.Call, loop: _Loop | None) -> ExprInfo:
        """``fingerprint(v, rho)``: Σ_i v_i·ρ^(i+1) mod r, a field value (outputs only)."""
        if e is not self._fp_ok:
            raise self.err(e, "fingerprint() can only be the whole value of an output",
                           "write `output fp = fingerprint(g, rho);`")
        self._fp_ok = None  # not again inside its own arguments
        v, rho = self.ex(e.args[0], loop), self.ex(e.args[1], loop)
        if v.kind in ("norm", "field"):
            self.need(e.args[0], v, "num", "fingerprint() needs a numeric vector")
        if v.kind != "num":
            raise self.err(e.args[0], "fingerprint() needs a numeric vector; this is a condition",
                           "pass the vector itself, e.g. fingerprint(g, rho)")
        if v.length is None or v.is_const:
            raise self.err(e.args[0], "fingerprint() needs a vector", "this is a scalar"
                           if v.length is None else "pass a vector input, e.g. fingerprint(g, rho)")
        if rho.kind != "field":
            raise self.err(e.args[1], "fingerprint()'s challenge must be a `field` value",
                           "declare it `public rho: field;` and pass rho")
        if len(e.args) > 2 and self.ex(e.args[2], loop).kind != "field":
            raise self.err(e.args[2], "fingerprint()'s mask must be a `field` value",
                           "declare it `private mask: field;` and pass mask")
        return ExprInfo("field", None, 0, 0, FIELD_MAX)

    def generator(self, e: ast.Generator, loop: _Loop | None) -> ExprInfo:
        if e.func not in GENERATOR_FUNCS:
            raise self.err(e, f"{e.func}(... for ...) is not a reduction",
                           "use sum, all, any, min or max")
        start = self.const_int(e.range.start, "a range bound")
        stop = self.const_int(e.range.stop, "a range bound")
        if stop <= start:
            raise self.err(e.range, f"the range {start}..{stop} is empty",
                           "ranges are start..stop with stop exclusive and stop > start")
        if stop - start > MAX_LENGTH:
            raise self.err(e.range, f"the range {start}..{stop} has {stop - start} elements",
                           f"ranges may have at most {MAX_LENGTH} elements", DSLBoundError)
        if e.var in self._names():
            raise self.err(e.var_span or e, f"loop variable '{e.var}' shadows a name")
        if loop is not None:
            self._no_outer_var(e.body, loop.var)
        body = self.ex(e.body, _Loop(e.var, start, stop))
        if body.kind == "norm":
            raise self._norm_misuse(e.body)
        if body.length is not None:
            raise self.err(e.body, "a generator's body must be one element, not a vector",
                           f"index the vector with the loop variable, e.g. g[{e.var}]")
        n = stop - start
        if e.func in ("all", "any"):
            self.need(e.body, body, "bool", f"{e.func}() needs a condition")
            return bool_info(None, body.const)
        self.need(e.body, body, "num", f"{e.func}() needs numbers")
        if body.is_const:
            raise self.err(e.body, f"{e.func}() over a constant body",
                           "the body must depend on an input")
        if e.func == "sum":
            return ExprInfo("num", None, body.scale, body.lo * n, body.hi * n)
        return ExprInfo("num", None, body.scale, body.lo, body.hi)

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


# ------------------------------------------------------------------ helpers

#: the largest field element: the bound recorded for field values (which are not integers)
FIELD_MAX = R - 1


def _false_part(cond: ast.Expr) -> ast.Expr:
    """The innermost constant-false part that makes an always-false condition false: a false
    side of an `and`, or the body of an `all`."""
    node = cond
    while True:
        if isinstance(node, ast.BoolOp) and node.op == "and":
            side = next((x for x in (node.left, node.right)
                         if x.info is not None and x.info.is_const and not x.info.const), None)
            if side is None:
                return node
            node = side
        elif isinstance(node, ast.Generator) and node.func == "all" and node.body.info.is_const:
            node = node.body
        elif isinstance(node, ast.Call) and node.func == "all" and node.args[0].info.is_const:
            node = node.args[0]
        else:
            return node


def const_info(value: Fraction) -> ExprInfo:
    e = dyadic_exponent(value)
    s = 0 if e is None else e
    x = int(value * (1 << s)) if e is not None else int(value)
    return ExprInfo("num", None, s, x, x, const=Fraction(value))


def bool_info(length: int | None, const: int | Fraction | None = None) -> ExprInfo:
    if const is not None:
        c = int(const)
        return ExprInfo("bool", length, 0, c, c, const=Fraction(c))
    return ExprInfo("bool", length, 0, 0, 1)


def aligned(i: ExprInfo, s: int) -> tuple[int, int]:
    if i.is_const:
        x = encode_const(i.const, s)
        return x, x
    return i.lo << (s - i.scale), i.hi << (s - i.scale)


def convert_bounds(lo: int, hi: int, scale: int, frac: int) -> tuple[int, int]:
    if frac >= scale:
        return lo << (frac - scale), hi << (frac - scale)
    return lo >> (scale - frac), hi >> (scale - frac)


def division_pq(c: Fraction) -> tuple[int, int]:
    """x / c as floor(X * q / p) with p > 0."""
    p, q = abs(c.numerator), c.denominator
    return p, (q if c > 0 else -q)


def _copy(i: ExprInfo) -> ExprInfo:
    return ExprInfo(i.kind, i.length, i.scale, i.lo, i.hi, i.const, i.affine, i.norm)


def _synthetic_num(span: SourceSpan, value: Fraction) -> ast.Num:
    n = ast.Num(span, value, str(value))
    n.info = const_info(value)
    return n


def check(rule: ast.Rule, params: dict[str, int] | None = None) -> CheckedRule:
    """Check a parsed rule (parameter overrides applied) and annotate its expressions."""
    return Checker(rule, params).run()
