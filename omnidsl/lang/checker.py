"""Type, scale and bound checker: annotates every expression of a parsed rule with ExprInfo.

Rules enforced (see docs/gadgets.md): names resolve; arity and vector/scalar shapes fit; indices
are affine in the loop variable and statically in range; ``+ - compare`` align scales exactly by
multiplying with 2^k; ``*`` adds scales; literals must be exact dyadic numbers; division only by
constants; ``norm()`` only as a factor of a comparison side; every value's integer bound stays
below 2^250 (DSLBoundError otherwise).  This module holds the rule-level checks; expressions are
typed by ``expressions.py``, bounds computed by ``bounds.py``, built-ins ruled by ``builtins.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from omnidsl.errors import DSLBoundError
from omnidsl.lang import ast
from omnidsl.lang.ast import expr_text
from omnidsl.lang.bounds import FIELD_MAX, convert_bounds
from omnidsl.lang.builtins import REGISTRY
from omnidsl.lang.expressions import FIELD_HINT, MAX_LENGTH, ExprChecker
from omnidsl.lang.types import (
    DEFAULT_BITS,
    DEFAULT_FRAC,
    FIELD_BITS,
    MAX_INPUT_BITS,
    MAX_SCALE,
    ExprInfo,
    InputInfo,
)

__all__ = ["CheckedRule", "Checker", "OutputInfo", "check", "expr_text"]


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

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"CheckedRule({self.name}{', ' + params if params else ''})"


class Checker(ExprChecker):
    """Rule-level checks: parameters, declarations, statements and outputs."""

    def __init__(self, rule: ast.Rule, overrides: dict[str, int] | None):
        self.rule = rule
        self.overrides = dict(overrides or {})
        self.params: dict[str, int] = {}
        self.inputs: dict[str, InputInfo] = {}
        self.lets: dict[str, ExprInfo] = {}
        self.outputs: dict[str, OutputInfo] = {}
        self.output_call = None

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
        if name in self.names():
            raise self.err(node, f"'{name}' is already defined",
                           "each param, input, let and output needs its own name")
        if name in REGISTRY:
            raise self.err(node, f"'{name}' is a built-in function name")

    def declare_input(self, decl: ast.InputDecl) -> None:
        self._fresh(decl.name, decl)
        t = decl.type
        if t.base == "field":
            if decl.committed:
                raise self.err(decl.type, "a `field` input cannot be `committed`",
                               "commit a vector of fixed or int entries")
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
        if decl.committed:
            self._check_committed(decl, length)
        self.inputs[decl.name] = InputInfo(decl.name, decl.visibility, t.base, length, bits,
                                           frac, decl.span, decl.committed)

    def _check_committed(self, decl: ast.InputDecl, length: int | None) -> None:
        if decl.visibility != "public":
            raise self.err(decl, "only a public vector can be `committed`",
                           "a private input is already hidden: drop `committed`")
        if length is None:
            raise self.err(decl.type, "`committed` applies to vectors, not scalars",
                           f"declare `public {decl.name}: fixed[N] ... committed;`")

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
            call = v if isinstance(v, ast.Call) else None
            entry = REGISTRY.get(call.func) if call is not None else None
            self.output_call = call if entry is not None and entry.output_only else None
            try:
                info = self.ex(stmt.value, None)
            finally:
                self.output_call = None
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


def check(rule: ast.Rule, params: dict[str, int] | None = None) -> CheckedRule:
    """Check a parsed rule (parameter overrides applied) and annotate its expressions."""
    return Checker(rule, params).run()
