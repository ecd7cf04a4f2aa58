"""Syntax error class: a reserved word used as a name."""

from __future__ import annotations

import pytest
from langhelp import check_error

from omnidsl.lang.parser import RESERVED


@pytest.mark.parametrize("word", sorted(RESERVED))
def test_reserved_word_as_let_name(word):
    src = f"rule R {{ let {word} = 1; }}"
    check_error(
        src,
        f"'{word}' is a reserved word and cannot be used as a name",
        1,
        14,
        hint=f"rename it (e.g. '{word}_')",
        width=len(word),
    )


def test_reserved_word_as_input_and_param_name():
    check_error(
        "rule R {\n  public in: fixed;\n}",
        "'in' is a reserved word and cannot be used as a name",
        2,
        10,
    )
    check_error("rule R(if = 3) { }", "'if' is a reserved word and cannot be used as a name", 1, 8)
    check_error("rule int { }", "'int' is a reserved word and cannot be used as a name", 1, 6)


def test_reserved_word_in_expression():
    check_error(
        "rule R { assert x > frac; }",
        "expected an expression, found keyword 'frac'",
        1,
        21,
        hint="'frac' is a reserved word",
    )


def test_reserved_word_as_loop_variable():
    check_error(
        "rule R { let s = sum(g[in] for in in 0..3); }",
        "expected an expression, found keyword 'in'",
        1,
        24,
    )
