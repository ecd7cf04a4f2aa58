"""Parser of the rule language: source text → :class:`omnidsl.lang.ast.Rule`.

The grammar (``grammar.lark``) is LALR(1) with a basic lexer.  Every syntax problem, whatever
the input, is reported as one :class:`~omnidsl.errors.DSLSyntaxError` with a located span (the
full source attached, so the caret excerpt prints) and, where it helps, a hint (see
:func:`omnidsl.lang.explain.explain`).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from fractions import Fraction
from pathlib import Path
from typing import cast

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import (
    LarkError,
    UnexpectedInput,
    VisitError,
)

from omnidsl.errors import DSLSyntaxError, InternalError, OmniDSLError, SourceSpan
from omnidsl.lang import ast
from omnidsl.lang.builtins import GENERATOR_FUNCS, REGISTRY, generator_names
from omnidsl.lang.explain import explain
from omnidsl.lang.lexicon import RESERVED, token_end, token_start

__all__ = [
    "GENERATOR_FUNCS",
    "MAX_DEPTH",
    "RESERVED",
    "grammar_text",
    "lark_parser",
    "parse",
    "parse_file",
]

#: maximal nesting depth of an expression (keeps every recursive pass far from Python's limit)
MAX_DEPTH = 200
#: longest number literal accepted (digits and exponent); beyond that values are meaningless
MAX_NUMBER_CHARS = 80
MAX_EXPONENT = 80

_GRAMMAR_FILE = Path(__file__).with_name("grammar.lark")


def grammar_text() -> str:
    """The lark grammar of the language."""
    return _GRAMMAR_FILE.read_text(encoding="utf-8")


@functools.cache
def lark_parser() -> Lark:
    """The (cached) LALR parser built from ``grammar.lark``."""
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="basic",
        propagate_positions=True,
        maybe_placeholders=True,
    )


def parse(source: str, file: str = "<rule>") -> ast.Rule:
    """Parse one rule; raise :class:`DSLSyntaxError` (and nothing else) if it is malformed."""
    if not isinstance(source, str):
        raise DSLSyntaxError(f"rule source must be text, not {type(source).__name__}")
    parser = lark_parser()
    try:
        tree = parser.parse(source)
    except UnexpectedInput as exc:
        err = explain(exc, parser, source, file)
        if err.span is not None and err.span.source is not None:
            err.span = dataclasses.replace(err.span, source=_display_text(source))
        raise err from None
    except LarkError as exc:  # pragma: no cover - lark raises UnexpectedInput for bad input
        raise DSLSyntaxError(
            f"cannot parse: {exc}", SourceSpan(file, 1, 1, source=source)
        ) from None
    shown = _display_text(source)
    _check_depth(tree, file, shown)
    try:
        rule = _Builder(file, source, shown).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, OmniDSLError):
            raise exc.orig_exc from None
        raise InternalError(f"parser bug: {exc.orig_exc!r}") from exc.orig_exc
    if not isinstance(rule, ast.Rule):  # pragma: no cover - the grammar's start is one rule
        raise InternalError("parser produced no rule")
    return rule


def parse_file(path: str | Path) -> ast.Rule:
    """Read and parse a ``.omni`` file; the path, as given, names the file in error messages."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise OmniDSLError(f"cannot read rule file {name}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")  # editors on Windows may write a byte-order mark
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DSLSyntaxError(
            f"rule file is not valid UTF-8 (byte {exc.start})",
            SourceSpan(name, line, col),
            hint="save the file as UTF-8 text",
        ) from None
    return parse(text, name)


# ---------------------------------------------------------------- helpers


def _check_depth(tree: Tree, file: str, source: str) -> None:
    """Reject trees nested deeper than :data:`MAX_DEPTH` (iteratively, no recursion).

    The error points at the start of the outermost expression that is too deep.
    """
    stack: list[tuple[Tree, int, Tree | None]] = [(tree, 0, None)]
    while stack:
        node, depth, top = stack.pop()
        if depth > MAX_DEPTH + 3:  # start, rule_def and the statement sit above the expression
            m = (top or node).meta
            raise DSLSyntaxError(
                f"expression nested too deeply (more than {MAX_DEPTH} levels)",
                SourceSpan(file, m.line, m.column, None, None, source),
                hint="split it into several `let` bindings",
            )
        for child in node.children:
            if isinstance(child, Tree):
                # the first expression level below a statement (depth 3) is the "top"
                stack.append((child, depth + 1, child if depth + 1 == 3 else top))


_ODD_BREAKS = re.compile("\r(?!\n)|[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _display_text(source: str) -> str:
    """``source`` with the line breaks that only ``str.splitlines`` knows turned into spaces.

    Lines and columns count ``\n`` only (lark's convention); SourceSpan.excerpt splits with
    ``splitlines``.  Replacing a lone ``\r``, form feed etc. by a space (same length, so columns
    stay) keeps the caret excerpt on the right line.  Ordinary text is returned unchanged.
    """
    return _ODD_BREAKS.sub(" ", source)


def _number(tok: Token, span: SourceSpan) -> Fraction:
    text = str(tok)
    mantissa, _, exp = text.lower().partition("e")
    if len(mantissa) > MAX_NUMBER_CHARS or (exp and abs(int(exp[:12])) > MAX_EXPONENT):
        raise DSLSyntaxError(
            f"number literal {text[:20]}{'...' if len(text) > 20 else ''} is out of range",
            span,
            hint=f"literals have at most {MAX_NUMBER_CHARS} digits and exponents within "
            f"±{MAX_EXPONENT}",
        )
    return Fraction(text)


def _unescape(literal: str) -> str:
    """Decode a string literal (without its quotes); ``\\n``, ``\\t``, ``\\\\``, ``\\"``."""
    out: list[str] = []
    it = iter(literal)
    for ch in it:
        if ch == "\\":
            nxt = next(it, "")
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
        else:
            out.append(ch)
    return "".join(out)


@v_args(meta=True)
class _Builder(Transformer):
    """Lark tree → AST nodes (every node gets an exact span)."""

    def __init__(self, file: str, source: str, shown: str):
        super().__init__(visit_tokens=False)
        self.file = file
        self.source = source  # the rule's text, as given
        self.shown = shown  # the same text as spans carry it (see _display_text)

    # -- spans
    def _span(self, meta) -> SourceSpan:
        return SourceSpan(
            self.file, meta.line, meta.column, meta.end_line, meta.end_column, self.shown
        )

    def _tspan(self, tok: Token) -> SourceSpan:
        return SourceSpan(self.file, *token_start(tok), *token_end(tok), self.shown)

    def _name(self, tok: Token) -> str:
        return str(tok)

    # -- top level
    def start(self, meta, children):
        return children[0]

    def rule_def(self, meta, children):
        name = self._name(children[0])
        params: list[ast.Param] = []
        inputs: list[ast.InputDecl] = []
        body: list[ast.Stmt] = []
        for item in children[1:]:
            if isinstance(item, _Params):
                params = list(item)
            elif isinstance(item, ast.InputDecl):
                inputs.append(item)
            elif isinstance(item, ast.Stmt):
                body.append(item)
        return ast.Rule(self._span(meta), name, params, inputs, body, self.file, self.source)

    def params(self, meta, children):
        return _Params(c for c in children if c is not None)

    def param(self, meta, children):
        return ast.Param(self._span(meta), self._name(children[0]), children[1])

    def input_decl(self, meta, children):
        vis, name, typ, committed = children
        return ast.InputDecl(self._span(meta), cast(ast.Visibility, str(vis)), self._name(name), typ,
                             committed is not None)

    def type_spec(self, meta, children):
        base = cast(ast.TypeBase, str(children[0]))  # the grammar's terminals
        length = children[1]
        opts: dict[str, int] = {}
        for kind, value in children[2:]:
            key = str(kind)
            if key in opts:
                raise DSLSyntaxError(
                    f"`{key}` is given twice", self._tspan(kind), hint=f"give `{key}` once"
                )
            span = self._tspan(value)
            text = str(value)
            if not text.isdigit() or len(text) > 6:
                raise DSLSyntaxError(
                    f"`{key}` needs a whole number, got {text}",
                    span,
                    hint=f"e.g. `{key} 16`",
                )
            opts[key] = int(text)
        if base == "int" and opts.get("frac", 0) != 0:
            raise DSLSyntaxError(
                "`int` has no fractional bits",
                self._span(meta),
                hint="use `fixed ... frac F` for a fractional value (int means frac 0)",
            )
        return ast.TypeSpec(self._span(meta), base, length, opts.get("bits"), opts.get("frac"))

    def type_opt(self, meta, children):
        return children[0], children[1]

    def let_stmt(self, meta, children):
        name, value = children
        return ast.Let(self._span(meta), self._name(name), value, self._tspan(name))

    def assert_stmt(self, meta, children):
        message = None if children[1] is None else _unescape(str(children[1])[1:-1])
        return ast.Assert(self._span(meta), children[0], message)

    def output_stmt(self, meta, children):
        name, typ, value = children
        return ast.Output(self._span(meta), self._name(name), value, typ, self._tspan(name))

    # -- expressions
    def cond(self, meta, children):
        then, cond, other = children
        return ast.Cond(self._span(meta), cond, then, other)

    def or_op(self, meta, children):
        return ast.BoolOp(self._span(meta), "or", children[0], children[1])

    def and_op(self, meta, children):
        return ast.BoolOp(self._span(meta), "and", children[0], children[1])

    def not_op(self, meta, children):
        return ast.Unary(self._span(meta), "not", children[0])

    def comp_op(self, meta, children):
        return children[0]

    def compare(self, meta, children):
        if len(children) > 3:
            first, second = children[1], children[3]
            raise DSLSyntaxError(
                "comparisons cannot be chained",
                self._tspan(second),
                hint=f"write `a {first} b and b {second} c` instead of `a {first} b {second} c`",
            )
        left, op, right = children
        return ast.Compare(self._span(meta), cast(ast.CompareOp, str(op)), left, right)

    def binary(self, meta, children):
        left, op, right = children
        return ast.Binary(self._span(meta), cast(ast.BinaryOp, str(op)), left, right)

    def neg(self, meta, children):
        return ast.Unary(self._span(meta), "-", children[1])

    def index(self, meta, children):
        return ast.Index(self._span(meta), children[0], children[1])

    def call(self, meta, children):
        func = children[0]
        args = [c for c in children[1:] if c is not None]
        return ast.Call(self._span(meta), self._name(func), args, self._tspan(func))

    def generator(self, meta, children):
        func, body, var, rng = children
        entry = REGISTRY.get(str(func))
        if entry is None or not entry.is_reduction:
            raise DSLSyntaxError(
                f"`{func}` does not take a generator",
                self._tspan(func),
                hint="generators `f(expr for i in a..b)` work with "
                + ", ".join(sorted(generator_names())),
            )
        return ast.Generator(
            self._span(meta), str(func), body, self._name(var), rng, self._tspan(var)
        )

    def range(self, meta, children):
        return ast.Range(self._span(meta), children[0], children[2])

    def num(self, meta, children):
        tok = children[0]
        span = self._span(meta)
        return ast.Num(span, _number(tok, span), str(tok))

    def name(self, meta, children):
        return ast.Name(self._span(meta), self._name(children[0]))


class _Params(list):
    """Marker for the parameter list among a rule's children."""
