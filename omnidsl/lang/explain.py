"""The syntax-error explainer: a lark parse error → one located DSLSyntaxError with a message
in the rule's terms and, where it helps, a hint (unclosed brackets, missing ';', '=' for '==',
reserved words, unknown types, bad characters, unterminated comments and strings, ...).

Only :func:`explain` is public; ``parser.parse`` calls it for every ``UnexpectedInput``.
"""

from __future__ import annotations

import contextlib

from lark import Lark, Token
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput

from omnidsl.errors import DSLSyntaxError, SourceSpan
from omnidsl.lang.lexicon import RESERVED, token_end, token_start

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


def explain(exc: UnexpectedInput, parser: Lark, source: str, file: str) -> DSLSyntaxError:
    """Turn a lark error into one located DSLSyntaxError with a helpful message and hint."""

    def span_at(
        line: int, col: int, end_line: int | None = None, end_col: int | None = None
    ) -> SourceSpan:
        return SourceSpan(file, line, col, end_line, end_col, source)

    def tok_span(tok: Token) -> SourceSpan:
        return span_at(*token_start(tok), *token_end(tok))

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
        here = span_at(*token_end(prev))
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
        and (token_start(tok)[0] > token_end(prev)[0] or tok.type in _STMT_START)
    ):
        return err(
            f"expected ';' after {_describe(prev)}",
            span_at(*token_end(prev)),
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


def _open_comment(tokens: list[Token], source: str, span_at) -> DSLSyntaxError | None:
    """An unterminated ``/*`` lexes as '/' '*' (a closed one would be a comment token)."""
    for t in tokens:
        if t.type == "SLASH" and t.start_pos is not None and source[t.start_pos + 1 :][:1] == "*":
            return DSLSyntaxError(
                "unterminated block comment",
                span_at(*token_start(t), token_start(t)[0], token_start(t)[1] + 2),
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
