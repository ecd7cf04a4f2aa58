"""Helpers for the rule-language tests (imported by the test modules of this folder)."""

from __future__ import annotations

import pytest

from omnidsl.errors import DSLSyntaxError
from omnidsl.lang import ast
from omnidsl.lang.parser import parse


def sexpr(node: object) -> str:
    """A fully parenthesised, unambiguous rendering of an AST node (for structural asserts)."""
    match node:
        case ast.Num(text=text):
            return text
        case ast.Name(id=name):
            return name
        case ast.Index(base=b, index=i):
            return f"{sexpr(b)}[{sexpr(i)}]"
        case ast.Unary(op=op, operand=x):
            return f"({op} {sexpr(x)})"
        case ast.Binary(op=op, left=a, right=b) | ast.Compare(op=op, left=a, right=b):
            return f"({op} {sexpr(a)} {sexpr(b)})"
        case ast.BoolOp(op=op, left=a, right=b):
            return f"({op} {sexpr(a)} {sexpr(b)})"
        case ast.Call(func=f, args=args):
            return f"{f}({', '.join(sexpr(a) for a in args)})"
        case ast.Generator(func=f, body=b, var=v, range=r):
            return f"{f}({sexpr(b)} for {v} in {sexpr(r.start)}..{sexpr(r.stop)})"
        case ast.Cond(cond=c, then=t, other=o):
            return f"(if {sexpr(c)} {sexpr(t)} {sexpr(o)})"
    raise AssertionError(f"not an expression: {node!r}")


def expr_of(text: str) -> ast.Expr:
    """Parse ``text`` as the value of a let binding and return the expression."""
    rule = parse(f"rule T {{ let v = {text}; }}")
    stmt = rule.body[0]
    assert isinstance(stmt, ast.Let)
    return stmt.value


def syntax_error(source: str, file: str = "bad.omni") -> DSLSyntaxError:
    """The DSLSyntaxError that parsing ``source`` raises (fails the test if none)."""
    with pytest.raises(DSLSyntaxError) as info:
        parse(source, file)
    return info.value


def caret(err: DSLSyntaxError) -> tuple[int, int]:
    """(column, width) of the caret marker in the printed error (1-based column)."""
    lines = str(err).splitlines()
    marker = next(line for line in lines if line.lstrip().startswith("^"))
    col = marker.index("^") + 1
    return col, len(marker.strip())


def check_error(
    source: str,
    message: str,
    line: int,
    col: int,
    *,
    hint: str | None = None,
    width: int | None = None,
    file: str = "bad.omni",
) -> DSLSyntaxError:
    """Assert the full shape of a syntax error: prefix, message, excerpt line, caret, hint."""
    err = syntax_error(source, file)
    text = str(err)
    first = text.splitlines()[0]
    assert first == f"{file}:{line}:{col}: error: {message}", text
    assert err.span is not None and err.span.source == source
    src_line = source.splitlines()[line - 1].replace("\t", " ")
    assert text.splitlines()[1] == src_line, text
    got_col, got_width = caret(err)
    assert got_col == col, text
    if width is not None:
        assert got_width == width, text
    if hint is not None:
        assert err.hint is not None and hint in err.hint, text
        assert text.splitlines()[-1].startswith("hint: "), text
    return err
