"""Syntax error class: unbalanced ( [ { brackets."""

from __future__ import annotations

from langhelp import check_error


def test_unclosed_paren_before_semicolon():
    check_error(
        "rule R {\n  assert abs(x > 1;\n}",
        "'(' was never closed",
        2,
        13,
        hint="add the matching ')'",
    )


def test_unclosed_bracket_before_semicolon():
    check_error(
        "rule R { let v = g[i + 1; }", "'[' was never closed", 1, 19, hint="add the matching ']'"
    )


def test_unclosed_brace_at_end_of_file():
    check_error(
        "rule R {\n  let v = 1;\n", "'{' was never closed", 1, 8, hint="add the matching '}'"
    )


def test_unclosed_paren_at_end_of_file():
    check_error("rule R { let v = (1 + 2", "'(' was never closed", 1, 18)


def test_mismatched_closer():
    check_error(
        "rule R { let v = f(a]; }",
        "']' does not match '('",
        1,
        21,
        hint="the '(' at line 1, column 19 is still open",
    )


def test_unmatched_closer():
    check_error("rule R { let v = a); }", "unmatched ')'", 1, 19, hint="add the opening '('")
    check_error("rule R { let v = 1; }\n}", "unmatched '}'", 2, 1)


def test_brace_closing_a_paren():
    check_error("rule R { let v = (a + b; }", "'(' was never closed", 1, 18)
    check_error("rule R { let v = (a + b }", "'(' was never closed", 1, 18)
