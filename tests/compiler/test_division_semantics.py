"""One division semantics (docs/dsl.md §4): ``x / c`` is the floor of the exact quotient at x's
scale, for constants and parameters exactly as for inputs (a constant's scale is the smallest
number of fractional bits that represents it: 0 for integers and parameters)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from omnidsl.compiler import compile_rule
from omnidsl.errors import AssertionFailed, DSLTypeError
from omnidsl.lang.checker import check
from omnidsl.lang.parser import parse

RULE = """rule Div(D = 7) {{
    private y: int bits 8;
    private f: fixed bits 16 frac 1;
    output by_param = D / {c};
    output by_input = y / {c};
    output lit = {lit} / {c};
    output frac1 = f / {c};
}}"""


@pytest.mark.parametrize("value", [7, -7, 5, 0, 1, -1, 100])
@pytest.mark.parametrize("c", ["2", "3", "-2", "4", "0.5", "-0.75"])
def test_parameter_literal_and_input_divide_alike(value, c):
    circuit = compile_rule(RULE.format(c=c, lit=value), "d.omni", {"D": value}, 2)
    half = value + 0.5  # a frac-1 value (scale 1) and the literal form of the same value
    out = circuit.decoded_outputs(circuit.witness({"y": value, "f": half}))
    assert out["by_param"] == out["by_input"] == out["lit"], out
    exact = Fraction(value) / Fraction(c)
    assert out["by_param"] == math.floor(exact)  # floor, at scale 0
    c2 = compile_rule(RULE.format(c=c, lit=half), "d.omni", {"D": value}, 0)
    o2 = c2.decoded_outputs(c2.witness({"y": value, "f": half}))
    assert o2["lit"] == o2["frac1"] == Fraction(math.floor(Fraction(half) * 2 / Fraction(c)), 2)


def test_odd_parameter_halves_floor_everywhere():
    """`D / 2` with D = 7 is 3 wherever it is used: output, vector length, range bound,
    parameter default, comparison constant."""
    src = """rule H(D = 7, H = D / 2) {
        private v: fixed[D / 2] bits 8 frac 0;
        output h = H;
        output s = sum(v[i] for i in 0..D / 2);
        assert sum(v) <= D / 2;
    }"""
    c = compile_rule(src, "h.omni", None, 2)
    assert c.rule.params == {"D": 7, "H": 3}
    assert c.inputs[0].length == 3
    assert c.decoded_outputs(c.witness({"v": [1, 1, 1]})) == {"h": 3, "s": 3}
    with pytest.raises(AssertionFailed, match="D / 2"):
        c.witness({"v": [1, 1, 2]})  # 4 > 3


@pytest.mark.parametrize("expr,value", [
    ("7 / 2", 3), ("-7 / 2", -4), ("7 / -2", -4), ("7.5 / 2", Fraction(7, 2)),
    ("0.75 / 2", Fraction(1, 4)), ("1 / 3", 0), ("-1 / 3", -1), ("3 / 0.75", 4),
    ("7 * 0.5", Fraction(7, 2)),  # an exact half: multiply by a dyadic constant
])
def test_constant_division_values(expr, value):
    c = check(parse(f"rule C {{ let v = {expr}; }}", "c.omni"))
    assert c.lets["v"].const == value


def test_non_dyadic_dividend_is_a_type_error():
    with pytest.raises(DSLTypeError, match="not exactly representable"):
        check(parse("rule C { private x: int bits 4; output o = x + 0.1 / 2; }", "c.omni"))
