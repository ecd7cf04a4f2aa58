"""Bound arithmetic of the checker: exact integer intervals of fixed-point encodings.

A numeric value of scale ``s`` is the integer ``X = v * 2**s``; every function here works on the
inclusive bounds ``[lo, hi]`` of such encodings (docs/gadgets.md, "Numbers, scales and bounds").
"""

from __future__ import annotations

import math
from fractions import Fraction

from omnidsl.field import R
from omnidsl.lang.types import ExprInfo, dyadic_exponent, encode_const

#: the largest field element: the bound recorded for field values (which are not integers)
FIELD_MAX = R - 1


def bits(x: int) -> int:
    """Bit length of |x|."""
    return abs(x).bit_length()


def const_info(value: Fraction) -> ExprInfo:
    """The info of a numeric constant: its smallest exact scale, encoding as both bounds."""
    e = dyadic_exponent(value)
    s = 0 if e is None else e
    x = int(value * (1 << s)) if e is not None else int(value)
    return ExprInfo("num", None, s, x, x, const=Fraction(value))


def bool_info(length: int | None, const: int | Fraction | None = None) -> ExprInfo:
    """The info of a condition (0/1), constant when ``const`` is given."""
    if const is not None:
        c = int(const)
        return ExprInfo("bool", length, 0, c, c, const=Fraction(c))
    return ExprInfo("bool", length, 0, 0, 1)


def field_info() -> ExprInfo:
    """The info of a raw field element (no integer bound)."""
    return ExprInfo("field", None, 0, 0, FIELD_MAX)


def copy_info(i: ExprInfo) -> ExprInfo:
    return ExprInfo(i.kind, i.length, i.scale, i.lo, i.hi, i.const, i.affine, i.norm)


def aligned(i: ExprInfo, s: int) -> tuple[int, int]:
    """Bounds of the value at scale ``s`` (>= its own scale)."""
    if i.is_const:
        x = encode_const(i.value, s)
        return x, x
    return i.lo << (s - i.scale), i.hi << (s - i.scale)


def convert_bounds(lo: int, hi: int, scale: int, frac: int) -> tuple[int, int]:
    """Bounds after converting from ``scale`` to ``frac`` fractional bits (floor when dropping)."""
    if frac >= scale:
        return lo << (frac - scale), hi << (frac - scale)
    return lo >> (scale - frac), hi >> (scale - frac)


def division_pq(c: Fraction) -> tuple[int, int]:
    """x / c as floor(X * q / p) with p > 0."""
    p, q = abs(c.numerator), c.denominator
    return p, (q if c > 0 else -q)


def mul_bounds(a_lo: int, a_hi: int, b_lo: int, b_hi: int) -> tuple[int, int]:
    prods = (a_lo * b_lo, a_lo * b_hi, a_hi * b_lo, a_hi * b_hi)
    return min(prods), max(prods)


def floordiv_bounds(lo: int, hi: int, q: int, p: int) -> tuple[int, int]:
    """Bounds of floor(X*q/p) for X in [lo, hi], p > 0 (q may be negative)."""
    a, b = lo * q, hi * q
    if a > b:
        a, b = b, a
    return a // p, b // p


def abs_bounds(lo: int, hi: int) -> tuple[int, int]:
    """Bounds of |X| for X in [lo, hi]."""
    return (lo, hi) if lo >= 0 else (-hi, -lo) if hi <= 0 else (0, max(-lo, hi))


def rescaled_const(value: Fraction, frac: int) -> Fraction:
    """A constant truncated (floor) to ``frac`` fractional bits."""
    return Fraction(math.floor(value * (1 << frac)), 1 << frac)
