"""Lexical facts shared by the parser and the syntax-error explainer: reserved words and
token positions."""

from __future__ import annotations

from lark import Token

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
        "committed",
    ]
)


def token_start(tok: Token) -> tuple[int, int]:
    """(line, column) where a token starts (always set by the basic lexer)."""
    return tok.line or 1, tok.column or 1


def token_end(tok: Token) -> tuple[int, int]:
    """(line, column) just after a token."""
    line, col = token_start(tok)
    return tok.end_line or line, tok.end_column or col + len(tok)
