"""The checker's constant folding: deciding sides of `and`/`or`, constant `if`, division of
constants (floor at the dividend's scale), and the located error of an always-false assertion."""

from __future__ import annotations

from fractions import Fraction

import pytest

from omnidsl.errors import DSLTypeError
from omnidsl.lang.checker import check
from omnidsl.lang.parser import parse

HEAD = "rule T(D = 7) {\n  private x: fixed bits 16 frac 8;\n  private v: int[4] bits 6;\n"


def checked(line: str):
    return check(parse(HEAD + f"  {line}\n}}\n", "t.omni"))


def let(expr: str):
    return checked(f"let e = {expr};").lets["e"]


@pytest.mark.parametrize("expr,const", [
    ("x > 0 and 1 > 2", 0), ("1 > 2 and x > 0", 0), ("x > 0 or 2 > 1", 1),
    ("2 > 1 or x > 0", 1), ("(x > 0 and 1 > 2) or 1 > 2", 0), ("not (x > 0 and 1 > 2)", 1),
    ("all(v[i] > 0 and 1 > 2 for i in 0..4)", 0), ("1 > 2 and 2 > 1", 0), ("2 > 1 and 3 > 2", 1),
])
def test_deciding_constant_sides_fold(expr, const):
    i = let(expr)
    assert i.kind == "bool" and i.is_const and i.const == const


@pytest.mark.parametrize("expr", ["x > 0 and 2 > 1", "x > 0 or 1 > 2", "v > 0 and 2 > 1"])
def test_non_deciding_constant_sides_do_not_fold(expr):
    assert not let(expr).is_const


def test_constant_if_is_its_branch():
    assert let("2 if 1 > 0 else x").const == 2
    b = let("x if 1 > 2 else v[0] * 0.5")
    assert (b.kind, b.scale, b.lo, b.hi, b.is_const) == ("num", 1, -32, 31, False)  # v[0] * 0.5 only
    c = let("x > 0 if 2 > 1 else 1 > 2")
    assert c.kind == "bool" and not c.is_const
    assert let("x * (3 if D > 5 else 1)").scale == 8  # a product by the constant 3


@pytest.mark.parametrize("expr,value", [
    ("D / 2", 3), ("-D / 2", -4), ("D / -2", -4), ("D / 2 * 2", 6), ("(D + 0.5) / 2", Fraction(7, 2)),
    ("D * 0.5", Fraction(7, 2)), ("1 / 3", 0), ("D / 0.5", 14),
])
def test_constant_division_floors_at_the_dividend_scale(expr, value):
    assert let(expr).const == value


def test_division_by_a_zero_constant():
    with pytest.raises(DSLTypeError, match="division by zero"):
        checked("let e = D / (D - 7);")


def test_odd_parameter_half_is_an_integer_everywhere():
    c = check(parse("rule H(D = 7, H = D / 2) { private v: fixed[D / 2] bits 8; "
                    "output s = sum(v[i] for i in 0..D / 2); }", "h.omni"))
    assert c.params == {"D": 7, "H": 3} and c.inputs[0].length == 3


def test_always_false_assertion_points_at_the_false_part():
    with pytest.raises(DSLTypeError) as info:
        checked("assert x != 0 and 3 <= -1;")
    err = info.value
    assert (err.span.line, err.span.column, err.span.end_column) == (4, 21, 28)
    assert str(err).splitlines()[0] == ("t.omni:4:21: error: `3 <= -1` is always false, so this "
                                        "assertion never holds")
    assert err.hint and "no input can satisfy it" in err.hint
