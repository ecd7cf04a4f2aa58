"""The checker: types, fixed-point scales, integer bounds, and its located errors."""

from __future__ import annotations

from fractions import Fraction

import pytest

from omnidsl.errors import DSLBoundError, DSLTypeError
from omnidsl.lang.checker import check
from omnidsl.lang.parser import parse

DECLS = """private g: fixed[8] bits 16 frac 12; public r: fixed[8] bits 16 frac 12;
  public s: fixed bits 32 frac 12; private n: int bits 8; private h: fixed[4] bits 10 frac 2;"""


def checked(body: str, params: dict | None = None, header: str = "T(D = 8)"):
    return check(parse(f"rule {header} {{ {DECLS}\n {body} }}", "t.omni"), params)


def info_of(expr: str):
    c = checked(f"let v = {expr};")
    return c.lets["v"]


def err(body: str, cls=DSLTypeError, params=None, header: str = "T(D = 8)"):
    with pytest.raises(cls) as exc:
        checked(body, params, header)
    text = str(exc.value)
    assert text.startswith("t.omni:3:"), text  # located on the body line
    assert "^" in text  # with a caret under the source
    return text


def test_inputs_and_defaults():
    c = check(parse("rule R { private a: fixed; public b: int; private v: fixed[3] bits 8; }"))
    a, b, v = c.inputs
    assert (a.bits, a.frac, b.bits, b.frac, v.bits, v.frac, v.length) == (32, 16, 32, 0, 8, 16, 3)
    assert (v.lo, v.hi) == (-128, 127)


@pytest.mark.parametrize(
    "expr,scale,lo,hi,length",
    [
        ("g[0] * g[1]", 24, -(1 << 15) * ((1 << 15) - 1), 1 << 30, None),
        ("g[0] + 1.5", 12, -(1 << 15) + 6144, (1 << 15) - 1 + 6144, None),
        ("g[0] + h[0]", 12, -(1 << 15) - (512 << 10), (1 << 15) - 1 + (511 << 10), None),
        ("g * r", 24, -(1 << 15) * ((1 << 15) - 1), 1 << 30, 8),
        ("abs(g[2])", 12, 0, 1 << 15, None),
        ("sum(g[i] * g[i] for i in 0..D)", 24, 8 * -(1 << 15) * ((1 << 15) - 1), 8 << 30, None),
        ("norm2(g)", 24, 0, 8 << 30, None),
        ("dot(g, r)", 24, 8 * -(1 << 15) * ((1 << 15) - 1), 8 << 30, None),
        ("g[1] / 4", 12, -(1 << 13), ((1 << 15) - 1) // 4, None),
        ("rescale(g[1] * g[1], 12)", 12, (-(1 << 15) * ((1 << 15) - 1)) >> 12, 1 << 18, None),
        ("n * 0.5", 1, -128, 127, None),
        ("max(g[0], n)", 12, -(1 << 15), 127 << 12, None),
        ("g[0] if n > 0 else h[1]", 12, -512 << 10, 511 << 10, None),
    ],
)
def test_scales_and_bounds(expr, scale, lo, hi, length):
    i = info_of(expr)
    assert (i.kind, i.scale, i.lo, i.hi, i.length) == ("num", scale, lo, hi, length)


def test_constants_fold_and_params():
    i = info_of("D * 2 + 0.25")
    assert i.const == Fraction(65, 4)
    c = checked("let v = D;", {"D": 3})
    assert c.lets["v"].const == 3 and c.params == {"D": 3}


def test_bool_infos():
    assert info_of("g[0] <= s and not (n == 1)").kind == "bool"
    assert info_of("abs(g) <= 4.0").length == 8
    assert info_of("all(abs(g[i]) <= 4.0 for i in 0..D)").length is None
    assert info_of("dot(g, r) >= s * norm(g) * norm(r)").kind == "bool"


@pytest.mark.parametrize(
    "body,msg,hint",
    [
        ("let v = q + 1;", "unknown name 'q'", None),
        ("let v = gg[0];", "unknown name 'gg'", "did you mean 'g'?"),
        ("let v = abs(g[0], g[1]);", "abs() takes 1 argument(s), got 2", "usage: abs(x)"),
        ("let v = dot(g);", "dot() takes 2 argument(s)", None),
        ("let v = foo(g);", "unknown function 'foo'", None),
        ("let v = g + h;", "vector lengths differ: [4, 8]", None),
        ("let v = dot(g, s);", "dot() needs a vector", None),
        ("let v = sum(s);", "sum() needs a vector", None),
        ("let v = g[8];", "index 8 is out of range for a vector of length 8", "valid indices"),
        ("let v = sum(g[i + 1] for i in 0..D);", "index 8 is out of range", None),
        (
            "let v = sum(g[i] * i for i in 0..D);",
            "loop variable 'i' can only be used inside an index",
            None,
        ),
        ("let v = sum(g[i * i] for i in 0..D);", "affine", None),
        ("let v = sum(g for i in 0..D);", "body must be one element", None),
        ("let v = norm(g);", "norm() can only be used as a factor", "norm2"),
        ("let v = norm(g) + 1 <= 3;", "norm() can only be used as a factor", None),
        ("let v = g[0] / s;", "division is only by constants", None),
        ("let v = g[0] / 0;", "division by zero", None),
        ("let v = g[0] + 0.1;", "not exactly representable", "dyadic"),
        ("let v = g[0] + (n > 1);", "`+` needs numbers", None),
        ("assert g[0];", "an assertion needs a condition", None),
        ("assert 1 > 2;", "always false", None),
        ("let g = 1;", "'g' is already defined", None),
        ("let v = sum(g[i] for i in 3..3);", "range 3..3 is empty", None),
        ("let v = sum(sum(g[i] + h[j] for j in 0..4) for i in 0..D);", "nested generator", None),
        ("let v = min(s);", "min() of one argument needs a vector", None),
        ("let v = 1 if n else 2;", "`if` needs a condition", None),
        ("let v = g[0] == norm(g);", "support <, <=, >, >= only", None),
    ],
)
def test_type_errors(body, msg, hint):
    text = err(body)
    assert msg in text
    if hint:
        assert f"hint: {hint}" in text or hint in text.split("hint:")[-1]


@pytest.mark.parametrize(
    "body,msg",
    [
        ("let a = s * s * s * s * s * s; let v = a * a;", "beyond the 2^250 limit"),
        ("let v = rescale(g[0], 200) * rescale(g[1], 200);", "scale overflow"),
        ("output o: fixed bits 8 frac 12 = g[0];", "may not fit in 8 bits"),
    ],
)
def test_bound_errors(body, msg):
    text = err(body, DSLBoundError)
    assert msg in text and "hint:" in text


def test_declaration_errors():
    with pytest.raises(DSLBoundError, match="bits 300 is out of range"):
        check(parse("rule R { private a: fixed bits 300; }"))
    with pytest.raises(DSLTypeError, match="vector length must be an integer constant"):
        check(parse("rule R { private a: fixed[2.5]; }"))
    with pytest.raises(DSLTypeError, match="unknown name 'x'"):
        check(parse("rule R { private a: fixed[x]; }"))
    with pytest.raises(DSLTypeError, match="has no parameter 'E'"):
        check(parse("rule R(D = 1) { private a: fixed[D]; }"), {"E": 2})
    with pytest.raises(DSLTypeError, match="vector length 0 is out of range"):
        check(parse("rule R(D = 1) { private a: fixed[D]; }"), {"D": 0})


def test_outputs_convert_scale():
    c = checked("output m: fixed frac 8 = sum(g[i] for i in 0..D) / D; output t = g * r;")
    m, t = c.outputs
    assert (m.scale, m.length, t.scale, t.length) == (8, None, 24, 8)
    assert m.hi == ((8 * ((1 << 15) - 1)) // 8) >> 4
