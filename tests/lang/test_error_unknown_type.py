"""Syntax error class: a type that is not `fixed`/`int`, or malformed type options."""

from __future__ import annotations

from langhelp import check_error

HINT = "the types are `fixed` and `int`"


def test_unknown_type_name():
    check_error(
        "rule R {\n  private g: float[D];\n}", "unknown type 'float'", 2, 14, hint=HINT, width=5
    )


def test_unknown_type_in_output():
    check_error("rule R { output o: real = 1; }", "unknown type 'real'", 1, 20, hint=HINT)


def test_bits_needs_a_whole_number():
    check_error(
        "rule R { public x: fixed bits n; }",
        "expected a whole number after 'bits', found name 'n'",
        1,
        31,
    )
    check_error(
        "rule R { public x: fixed bits 16 frac 1.5; }",
        "`frac` needs a whole number, got 1.5",
        1,
        39,
        width=3,
    )


def test_duplicate_type_option():
    check_error(
        "rule R { public x: fixed frac 8 bits 16 frac 4; }",
        "`frac` is given twice",
        1,
        41,
        hint="give `frac` once",
    )


def test_int_with_fraction_bits():
    check_error(
        "rule R { public n: int bits 8 frac 2; }",
        "`int` has no fractional bits",
        1,
        20,
        hint="fixed ... frac F",
    )


def test_missing_colon_before_type():
    check_error("rule R { public x fixed; }", "unexpected keyword 'fixed'; expected ':'", 1, 19)
