"""The interval arithmetic of the checker (omnidsl/lang/bounds.py): every bound contains every
value it stands for, and is tight (attained) where the docs promise exact bounds."""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from omnidsl.lang.bounds import (
    abs_bounds,
    aligned,
    bool_info,
    const_info,
    convert_bounds,
    division_pq,
    floordiv_bounds,
    mul_bounds,
    rescaled_const,
)
from omnidsl.lang.types import ExprInfo

ints = st.integers(-(1 << 70), 1 << 70)


@st.composite
def interval(draw) -> tuple[int, int]:
    a, b = draw(ints), draw(ints)
    return min(a, b), max(a, b)


@given(interval(), interval(), st.data())
def test_mul_bounds_exact(x, y, data):
    lo, hi = mul_bounds(*x, *y)
    a = data.draw(st.integers(*x))
    b = data.draw(st.integers(*y))
    assert lo <= a * b <= hi
    assert lo in {p * q for p in x for q in y} and hi in {p * q for p in x for q in y}


@given(interval(), st.integers(-1000, 1000).filter(bool), st.integers(1, 1000), st.data())
def test_floordiv_bounds_contain_every_quotient(x, q, p, data):
    lo, hi = floordiv_bounds(*x, q, p)
    v = data.draw(st.integers(*x))
    assert lo <= (v * q) // p <= hi
    assert {lo, hi} <= {(x[0] * q) // p, (x[1] * q) // p}  # attained at the ends


@given(interval(), st.data())
def test_abs_bounds_exact(x, data):
    lo, hi = abs_bounds(*x)
    v = data.draw(st.integers(*x))
    assert lo <= abs(v) <= hi
    assert lo == min(abs(v) for v in (x[0], x[1], 0) if x[0] <= v <= x[1])
    assert hi == max(abs(x[0]), abs(x[1]))


@given(interval(), st.integers(0, 40), st.integers(0, 40), st.data())
def test_convert_bounds_is_floor_of_the_conversion(x, scale, frac, data):
    lo, hi = convert_bounds(*x, scale, frac)
    v = data.draw(st.integers(*x))
    converted = math.floor(Fraction(v * (1 << frac), 1 << scale))
    assert lo <= converted <= hi


@given(st.fractions(max_denominator=1 << 20).filter(lambda f: f != 0), ints)
def test_division_pq(c, x):
    p, q = division_pq(c)
    assert p > 0 and Fraction(q, p) == 1 / c
    assert (x * q) // p == math.floor(x / c)


@given(st.integers(-(1 << 40), 1 << 40), st.integers(0, 30), st.integers(0, 30))
def test_constants_and_alignment(num, e, s):
    value = Fraction(num, 1 << e)
    info = const_info(value)
    assert info.is_const and info.kind == "num" and info.lo == info.hi
    assert Fraction(info.lo, 1 << info.scale) == value
    assert info.scale <= e  # the smallest exact scale
    target = max(s, info.scale)
    assert aligned(info, target) == (value * (1 << target),) * 2
    var = ExprInfo("num", None, info.scale, info.lo - 3, info.hi + 5)
    assert aligned(var, target) == ((info.lo - 3) << (target - info.scale),
                                    (info.hi + 5) << (target - info.scale))
    assert rescaled_const(value, s) == Fraction(math.floor(value * (1 << s)), 1 << s)


def test_bool_info():
    assert (bool_info(3).lo, bool_info(3).hi, bool_info(3).const) == (0, 1, None)
    assert bool_info(None, 1).const == 1 and bool_info(None, 0).hi == 0
