"""Syntax error class: '=' where '==' is meant and vice versa."""

from __future__ import annotations

from langhelp import check_error


def test_assignment_in_assert():
    check_error(
        "rule R {\n  assert x = 1;\n}",
        "unexpected '='",
        2,
        12,
        hint="use '==' to compare values",
        width=1,
    )


def test_assignment_inside_condition():
    check_error("rule R { let v = a if b = 1 else c; }", "unexpected '='", 1, 25, hint="'=='")


def test_double_equals_in_let():
    check_error("rule R { let v == 1; }", "unexpected '=='", 1, 16, hint="use '=' to bind", width=2)


def test_double_equals_in_output_and_param():
    check_error("rule R { output o == 1; }", "unexpected '=='", 1, 19, hint="use '=' to bind")
    check_error("rule R(D == 3) { }", "unexpected '=='", 1, 10, hint="use '=' to bind")
