"""Syntax error class: comparisons are non-associative (`a < b < c`)."""

from __future__ import annotations

from langhelp import check_error


def test_chained_comparison():
    check_error(
        "rule R {\n  assert 0 <= x < 10;\n}",
        "comparisons cannot be chained",
        2,
        17,
        hint="write `a <= b and b < c` instead of `a <= b < c`",
        width=1,
    )


def test_chained_equality():
    check_error("rule R { assert a == b == c; }", "comparisons cannot be chained", 1, 24, width=2)


def test_parenthesised_comparisons_are_fine_and_chain_inside_generator_is_not():
    from omnidsl.lang import parse

    parse("rule R { assert (a < b) == (b < c); }")
    check_error(
        "rule R { assert all(0 < g[i] < 1 for i in 0..3); }",
        "comparisons cannot be chained",
        1,
        30,
    )
