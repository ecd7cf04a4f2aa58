"""AST of the rule language: the contract between the parser (lang/) and the compiler.

Every node carries a :class:`~omnidsl.errors.SourceSpan`.  The parser produces these nodes
only; the checker (``lang/checker.py``) annotates expressions in place via ``Expr.info``
(type, fixed-point scale, integer bound), and the compiler lowers the checked tree.

Numbers are kept exact: ``Num.value`` is a :class:`fractions.Fraction` parsed from the literal
text (``4.0`` → 4, ``0.1`` → 1/10, ``1e-3`` → 1/1000).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

from omnidsl.errors import SourceSpan

Visibility = Literal["public", "private"]
BinaryOp = Literal["+", "-", "*", "/"]
CompareOp = Literal["<", "<=", ">", ">=", "==", "!="]
TypeBase = Literal["fixed", "int", "field"]


@dataclass(eq=False)
class Node:
    span: SourceSpan


# ---------------------------------------------------------------- expressions


@dataclass(eq=False)
class Expr(Node):
    #: filled by the checker: an ``omnidsl.lang.types.ExprInfo`` (type, scale, bound)
    info: Any = field(default=None, init=False, repr=False)


@dataclass(eq=False)
class Num(Expr):
    value: Fraction
    text: str  # the literal as written, for messages


@dataclass(eq=False)
class Name(Expr):
    id: str  # an input, a let binding, a parameter or a loop variable


@dataclass(eq=False)
class Index(Expr):
    base: Expr  # a vector-valued expression (usually a Name)
    index: Expr  # an integer expression over parameters, constants and loop variables


@dataclass(eq=False)
class Unary(Expr):
    op: Literal["-", "not"]
    operand: Expr


@dataclass(eq=False)
class Binary(Expr):
    op: BinaryOp
    left: Expr
    right: Expr


@dataclass(eq=False)
class Compare(Expr):
    op: CompareOp
    left: Expr
    right: Expr


@dataclass(eq=False)
class BoolOp(Expr):
    op: Literal["and", "or"]
    left: Expr
    right: Expr


@dataclass(eq=False)
class Call(Expr):
    """A built-in function call (the functions: the registry, ``lang/builtins.py``)."""

    func: str
    args: list[Expr]
    func_span: SourceSpan | None = None


@dataclass(eq=False)
class Range(Node):
    """``start..stop`` (stop exclusive); both integer expressions over params/constants."""

    start: Expr
    stop: Expr


@dataclass(eq=False)
class Generator(Expr):
    """``func(body for var in start..stop)`` with func in sum, all, any, min, max.

    Example: ``sum(g[i] * g[i] for i in 0..D)``.
    """

    func: str
    body: Expr
    var: str
    range: Range
    var_span: SourceSpan | None = None


@dataclass(eq=False)
class Cond(Expr):
    """``a if cond else b`` (both branches are computed; selection is constrained)."""

    cond: Expr
    then: Expr
    other: Expr


# ---------------------------------------------------------------- declarations


@dataclass(eq=False)
class TypeSpec(Node):
    """``fixed``, ``fixed[N]``, ``int``, ``int[N]``, with optional ``bits B`` and ``frac F``; or
    ``field`` (a raw public F_r element, only for fingerprint challenges).

    ``length`` is an integer expression over params (None for a scalar); ``bits``/``frac`` are
    None when omitted (the checker applies the documented defaults; ``int`` means frac 0).
    """

    base: TypeBase
    length: Expr | None
    bits: int | None
    frac: int | None


@dataclass(eq=False)
class Param(Node):
    name: str
    default: Expr | None  # integer constant expression; overridable with --param NAME=V


@dataclass(eq=False)
class InputDecl(Node):
    visibility: Visibility
    name: str
    type: TypeSpec
    #: ``committed``: the public signal is the vector's Poseidon commitment, the entries private
    committed: bool = False


# ---------------------------------------------------------------- statements


@dataclass(eq=False)
class Stmt(Node):
    pass


@dataclass(eq=False)
class Let(Stmt):
    name: str
    value: Expr
    name_span: SourceSpan | None = None


@dataclass(eq=False)
class Assert(Stmt):
    cond: Expr
    message: str | None = None  # optional ``assert cond, "message";``


@dataclass(eq=False)
class Output(Stmt):
    """``output name = expr;`` — a public output wire (circom order: outputs come first)."""

    name: str
    value: Expr
    type: TypeSpec | None = None  # optional ``output name: fixed frac 8 = expr;``
    name_span: SourceSpan | None = None


@dataclass(eq=False)
class Rule(Node):
    name: str
    params: list[Param]
    inputs: list[InputDecl]
    body: list[Stmt]
    file: str
    source: str


# ---------------------------------------------------------------- source text


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
