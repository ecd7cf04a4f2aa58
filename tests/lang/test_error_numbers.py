"""Syntax error class: malformed and out-of-range number literals."""

from __future__ import annotations

from langhelp import check_error


def test_trailing_point():
    check_error(
        "rule R { let v = 4.; }",
        "malformed number",
        1,
        19,
        hint="digits on both sides of the point",
    )


def test_leading_point():
    check_error("rule R { let v = .5; }", "malformed number", 1, 18)


def test_lone_dot():
    check_error("rule R { let v = a . b; }", "unexpected '.'", 1, 20, hint="start..stop")


def test_huge_exponent_is_rejected_quickly():
    check_error(
        "rule R { let v = 1e999999999; }",
        "number literal 1e999999999 is out of range",
        1,
        18,
        width=11,
    )


def test_too_many_digits():
    digits = "9" * 200
    err = check_error(
        f"rule R {{ let v = {digits}; }}", f"number literal {'9' * 20}... is out of range", 1, 18
    )
    assert "80 digits" in err.hint


def test_power_operator():
    check_error("rule R { let v = a ** 2; }", "unexpected '*'", 1, 21, hint="no power operator")
