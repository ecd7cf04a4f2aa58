"""Parser of the rule language: source text → :class:`omnidsl.lang.ast.Rule`.

The grammar (``grammar.lark``) is LALR(1) with a basic lexer.  Every syntax problem, whatever
the input, is reported as one :class:`~omnidsl.errors.DSLSyntaxError` with a located span (the
full source attached, so the caret excerpt prints) and, where it helps, a hint (see
:func:`_explain`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import re
from fractions import Fraction
from pathlib import Path

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedInput,
    VisitError,
)

from omnidsl.errors import DSLSyntaxError, InternalError, OmniDSLError, SourceSpan
from omnidsl.lang import ast

__all__ = [
    "GENERATOR_FUNCS",
    "MAX_DEPTH",
    "RESERVED",
    "grammar_text",
    "lark_parser",
    "parse",
    "parse_file",
]

#: words that cannot be used as names
RESERVED = frozenset(
    [
        "rule",
        "public",
        "private",
        "let",
        "assert",
        "output",
        "for",
        "in",
        "if",
        "else",
        "and",
        "or",
        "not",
        "fixed",
        "int",
        "field",
        "bits",
        "frac",
    ]
)
#: functions that accept a generator argument ``f(body for i in a..b)``
GENERATOR_FUNCS = frozenset({"sum", "all", "any", "min", "max"})
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
        err = _explain(exc, parser, source, file)
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
        return SourceSpan(self.file, *_start(tok), *_end(tok), self.shown)

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
        vis, name, typ = children
        return ast.InputDecl(self._span(meta), str(vis), self._name(name), typ)

    def type_spec(self, meta, children):
        base = str(children[0])
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
        return ast.Compare(self._span(meta), str(op), left, right)

    def binary(self, meta, children):
        left, op, right = children
        return ast.Binary(self._span(meta), str(op), left, right)

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
        if str(func) not in GENERATOR_FUNCS:
            raise DSLSyntaxError(
                f"`{func}` does not take a generator",
                self._tspan(func),
                hint="generators `f(expr for i in a..b)` work with "
                + ", ".join(sorted(GENERATOR_FUNCS)),
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


# ---------------------------------------------------------------- syntax error analysis

_KEYWORD_TERMS = {w.upper() for w in RESERVED}
_STMT_START = {"LET", "ASSERT", "OUTPUT", "PUBLIC", "PRIVATE", "RBRACE"}
_EXPR_START = {"NAME", "NUMBER", "LPAR", "MINUS", "NOT"}
_OPENERS = {"LPAR": "RPAR", "LSQB": "RSQB", "LBRACE": "RBRACE"}
_CLOSERS = {v: k for k, v in _OPENERS.items()}
_COMPARE_TERMS = {"LE", "GE", "EQEQ", "NE", "LT", "GT"}
_TERM_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": 'a "message"',
    "$END": "end of file",
}


def _term_text(parser: Lark, name: str) -> str:
    if name in _TERM_WORDS:
        return _TERM_WORDS[name]
    try:
        return f"'{parser.get_terminal(name).pattern.value}'"
    except (KeyError, AttributeError):
        return name


def _describe(tok: Token) -> str:
    if tok.type == "$END":
        return "end of file"
    text = str(tok)
    if tok.type == "NAME":
        return f"name '{text}'"
    if tok.type == "NUMBER":
        return f"number {text[:20]}"
    if tok.type == "STRING":
        return f"string {text[:20]}{'...' if len(text) > 20 else ''}"
    if tok.type in _KEYWORD_TERMS:
        return f"keyword '{text}'"
    return f"'{text}'"


_OPERATOR_TERMS = {"PLUS", "MINUS", "STAR", "SLASH", "AND", "OR", "IF", "LSQB", "LPAR"}


def _expected_text(parser: Lark, expected: set[str]) -> str:
    names = set(expected)
    parts: list[str] = []
    if len(names & (_COMPARE_TERMS | _OPERATOR_TERMS)) >= 3:
        names -= _COMPARE_TERMS | _OPERATOR_TERMS
        parts.append("an operator")
    if names & {"NAME", "NUMBER"} and len(names & _EXPR_START) >= 2:
        names -= _EXPR_START
        parts.append("an expression")
    parts += sorted(_term_text(parser, n) for n in names)
    if not parts:
        return "something else"
    if len(parts) > 8:
        parts = [*parts[:8], "..."]
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def _tokens_before(parser: Lark, source: str, pos: int) -> list[Token]:
    """The tokens (without comments/space) that start before ``pos``; stops at a lexing error."""
    out: list[Token] = []
    try:
        for tok in parser.lex(source):
            if tok.start_pos is None or tok.start_pos >= pos:
                break
            out.append(tok)
    except LarkError:
        pass
    return out


def _explain(exc: UnexpectedInput, parser: Lark, source: str, file: str) -> DSLSyntaxError:
    """Turn a lark error into one located DSLSyntaxError with a helpful message and hint."""

    def span_at(
        line: int, col: int, end_line: int | None = None, end_col: int | None = None
    ) -> SourceSpan:
        return SourceSpan(file, line, col, end_line, end_col, source)

    def tok_span(tok: Token) -> SourceSpan:
        return span_at(*_start(tok), *_end(tok))

    def err(msg: str, span: SourceSpan, hint: str | None = None) -> DSLSyntaxError:
        return DSLSyntaxError(msg, span, hint)

    if isinstance(exc, UnexpectedCharacters):
        before = _tokens_before(parser, source, exc.pos_in_stream or 0)
        return _open_comment(before, source, span_at) or _bad_character(
            exc, parser, source, span_at
        )

    tok: Token | None = getattr(exc, "token", None)
    expected = set(getattr(exc, "expected", None) or ())
    interactive = getattr(exc, "interactive_parser", None)
    if interactive is not None:  # LALR's expected set is too wide; ask what really fits
        with contextlib.suppress(LarkError):
            expected = set(interactive.accepts())
    if tok is None:  # UnexpectedEOF (not raised by LALR, handled for completeness)
        tok = Token("$END", "")
    at_end = tok.type == "$END"
    pos = len(source) if at_end or tok.start_pos is None else tok.start_pos
    before = _tokens_before(parser, source, pos)
    prev = before[-1] if before else None
    if at_end:
        if prev is None:
            return err(
                "empty rule file" if not source.strip() or prev is None else "unexpected end",
                span_at(1, 1),
                "a rule file holds one rule: `rule Name(D = 10) { ... }`",
            )
        here = span_at(*_end(prev))
    else:
        here = tok_span(tok)

    opened = _open_comment([*before, tok], source, span_at)
    if opened is not None:
        return opened

    # brackets
    stack: list[Token] = []
    for t in before:
        if t.type in _OPENERS:
            stack.append(t)
        elif t.type in _CLOSERS and stack and stack[-1].type == _CLOSERS[t.type]:
            stack.pop()
    top = stack[-1] if stack else None
    if tok.type in _CLOSERS:
        opener = _CLOSERS[tok.type]
        if top is None:
            return err(
                f"unmatched '{tok}'", here, f"remove it or add the opening '{_open_text(opener)}'"
            )
        if top.type != opener:
            if top.type == "LBRACE":
                return err(
                    f"unmatched '{tok}'",
                    here,
                    f"remove it or add the opening '{_open_text(opener)}'",
                )
            if tok.type == "RBRACE":
                return _never_closed(top, err, tok_span)
            return err(
                f"'{tok}' does not match '{top}'",
                here,
                f"the '{top}' at line {top.line}, column {top.column} is still open",
            )
    if top is not None and (
        at_end or (top.type != "LBRACE" and tok.type in _STMT_START | {"SEMICOLON"})
    ):
        return _never_closed(top, err, tok_span)

    if at_end:
        return err(f"unexpected end of file; expected {_expected_text(parser, expected)}", here)
    if tok.type == "RULE" and "$END" in expected:
        return err("only one rule per file", here, "put each rule in its own .omni file")
    if (
        "SEMICOLON" in expected
        and prev is not None
        and (_start(tok)[0] > _end(prev)[0] or tok.type in _STMT_START)
    ):
        return err(
            f"expected ';' after {_describe(prev)}",
            span_at(*_end(prev)),
            "every declaration and statement ends with ';'",
        )
    if tok.type == "EQUAL" and expected & _COMPARE_TERMS:
        return err(
            "unexpected '='",
            here,
            "use '==' to compare values; '=' only binds names (let, output, parameter defaults)",
        )
    if tok.type == "EQEQ" and "EQUAL" in expected:
        return err("unexpected '=='", here, "use '=' to bind a name; '==' compares values")
    if tok.type in _KEYWORD_TERMS and "NAME" in expected:
        if "NUMBER" in expected:
            return err(
                f"expected an expression, found keyword '{tok}'",
                here,
                f"'{tok}' is a reserved word and cannot be used as a name",
            )
        return err(
            f"'{tok}' is a reserved word and cannot be used as a name",
            here,
            f"rename it (e.g. '{tok}_'); reserved words: {', '.join(sorted(RESERVED))}",
        )
    if {"FIXED", "INT"} <= expected and tok.type == "NAME":
        return err(
            f"unknown type '{tok}'",
            here,
            "the types are `fixed` and `int`, e.g. `fixed[D] bits 16 frac 12` or `int bits 8` "
            "(and `field` for a raw field element)",
        )
    if prev is not None and prev.type in {"BITS", "FRAC"}:
        return err(
            f"expected a whole number after '{prev}', found {_describe(tok)}",
            here,
            "e.g. `fixed[D] bits 16 frac 12`",
        )
    hint: str | None
    if "LET" in expected and tok.type not in _STMT_START:
        hint = "statements start with public, private, let, assert or output"
        if tok.type == "SLASH":
            hint = "comments start with `//` or `/*`"
        nxt = _next_token(parser, source, tok)
        if tok.type == "NAME" and nxt is not None and nxt.type == "EQUAL":
            hint = f"bind names with `let {tok} = ...;`"
        elif tok.type == "SEMICOLON":
            hint = "remove the extra ';'"
        return err(f"expected a declaration or statement, found {_describe(tok)}", here, hint)
    if "DOTDOT" in expected and _in_range(before):
        return err(
            f"expected '..' in a range, found {_describe(tok)}",
            here,
            "ranges are written `start..stop` (stop excluded), e.g. `for i in 0..D`",
        )
    if tok.type == "STAR" and prev is not None and prev.type == "STAR":
        return err("unexpected '*'", here, "there is no power operator; write `x * x`")
    hint = None
    if tok.type == "SLASH" and not expected & _EXPR_START:
        hint = "comments start with `//` or `/*`"
    elif (
        prev is not None
        and prev.type in {"NAME", "NUMBER", "RPAR", "RSQB"}
        and tok.type in {"NAME", "NUMBER", "LPAR"}
    ):
        hint = "is an operator (+ - * / ...) or a ',' missing between the two?"
    return err(
        f"unexpected {_describe(tok)}; expected {_expected_text(parser, expected)}", here, hint
    )


def _start(tok: Token) -> tuple[int, int]:
    """(line, column) where a token starts (always set by the basic lexer)."""
    return tok.line or 1, tok.column or 1


def _end(tok: Token) -> tuple[int, int]:
    """(line, column) just after a token."""
    line, col = _start(tok)
    return tok.end_line or line, tok.end_column or col + len(tok)


def _open_comment(tokens: list[Token], source: str, span_at) -> DSLSyntaxError | None:
    """An unterminated ``/*`` lexes as '/' '*' (a closed one would be a comment token)."""
    for t in tokens:
        if t.type == "SLASH" and t.start_pos is not None and source[t.start_pos + 1 :][:1] == "*":
            return DSLSyntaxError(
                "unterminated block comment",
                span_at(*_start(t), _start(t)[0], _start(t)[1] + 2),
                "close the comment with `*/`",
            )
    return None


def _in_range(before: list[Token]) -> bool:
    """Whether the tokens end inside ``for i in <here>`` (after `in`, before `..`)."""
    for t in reversed(before):
        if t.type == "IN":
            return True
        if t.type in {"DOTDOT", "SEMICOLON", "LBRACE", "RBRACE"}:
            return False
    return False


def _open_text(term: str) -> str:
    return {"LPAR": "(", "LSQB": "[", "LBRACE": "{"}[term]


def _never_closed(opener: Token, err, tok_span) -> DSLSyntaxError:
    closer = {"LPAR": ")", "LSQB": "]", "LBRACE": "}"}[opener.type]
    return err(f"'{opener}' was never closed", tok_span(opener), f"add the matching '{closer}'")


def _next_token(parser: Lark, source: str, tok: Token) -> Token | None:
    try:
        for t in parser.lex(source):
            if (
                t.start_pos is not None
                and tok.start_pos is not None
                and t.start_pos > tok.start_pos
            ):
                return t
    except LarkError:
        return None
    return None


def _bad_character(exc, parser: Lark, source: str, span_at) -> DSLSyntaxError:
    pos = exc.pos_in_stream
    ch = source[pos] if 0 <= pos < len(source) else ""
    span = span_at(exc.line, exc.column)
    if ch == '"':
        return DSLSyntaxError(
            "unterminated string", span, 'a message string ends with `"` on the same line'
        )
    if ch == ".":
        near_digit = source[pos - 1 : pos].isdigit() or source[pos + 1 : pos + 2].isdigit()
        if near_digit:
            return DSLSyntaxError(
                "malformed number",
                span,
                "write decimals with digits on both sides of the point, e.g. 0.5 or 4.0",
            )
        return DSLSyntaxError("unexpected '.'", span, "ranges are written `start..stop`")
    if ch == "!":
        return DSLSyntaxError("unexpected '!'", span, "use `not x` to negate, `!=` for inequality")
    if ch in "&|":
        word = "and" if ch == "&" else "or"
        return DSLSyntaxError(f"unexpected '{ch}'", span, f"use the keyword `{word}`")
    if ch in "%^":
        return DSLSyntaxError(
            f"unexpected '{ch}'", span, "the operators are + - * / and comparisons"
        )
    if ch and (not ch.isprintable() or not ch.isascii()):
        return DSLSyntaxError(
            f"unexpected character U+{ord(ch):04X}", span, "rule files are plain ASCII text"
        )
    return DSLSyntaxError(f"unexpected character '{ch}'", span)
