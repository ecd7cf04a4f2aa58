"""Audit: every gadget's value equals exact arithmetic on the whole (small) input domain,
including the range ends, equal operands, negative dividends and fixed-point divisors."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction as F

import pytest

from omnidsl.compiler import compile_rule
from omnidsl.field import signed

RULE = """rule S { private x: int bits 4; private y: int bits 4; private f: fixed bits 6 frac 2;
  output ge = x >= y; output gt = x > y; output le = x <= y; output lt = x < y;
  output eq = x == y; output ne = x != y;
  output ax = abs(x); output ad = abs(x - y); output af = abs(f);
  output mn = min(x, y); output mx = max(x, y); output mf = min(f, x);
  output d3 = x / 3; output dm3 = x / -3; output d4 = x / 4; output df = f / 0.75;
  output dq = f / -2.5; output rs = rescale(f, 0); output rs1 = rescale(f * f, 1);
  output sel = (x if x > y else y * 2);
  output bo = (x > 0 and y > 0) or not (x == y);
  output bb = (x > 0) == (y > 0); output bn = (x > 0) != (f > 0);
  output cf = f >= x; output cg = f < 0.5;
}"""


def floor_div(a: F, c: F, scale: int) -> F:
    """x / c: floor of the encoding a·2^s / c, at scale s."""
    return F(math.floor(a * (1 << scale) / c), 1 << scale)


def oracle(x: int, y: int, f: F) -> dict[str, F]:
    return {
        "ge": x >= y, "gt": x > y, "le": x <= y, "lt": x < y, "eq": x == y, "ne": x != y,
        "ax": abs(x), "ad": abs(x - y), "af": abs(f), "mn": min(x, y), "mx": max(x, y),
        "mf": min(f, x), "d3": floor_div(F(x), F(3), 0), "dm3": floor_div(F(x), F(-3), 0),
        "d4": floor_div(F(x), F(4), 0), "df": floor_div(f, F(3, 4), 2),
        "dq": floor_div(f, F(-5, 2), 2), "rs": F(math.floor(f)),
        "rs1": F(math.floor(f * f * 2), 2), "sel": x if x > y else 2 * y,
        "bo": (x > 0 and y > 0) or x != y, "bb": (x > 0) == (y > 0), "bn": (x > 0) != (f > 0),
        "cf": f >= x, "cg": f < F(1, 2),
    }


@pytest.mark.parametrize("opt", [0, 2])
def test_gadget_values_exhaustive(opt):
    c = compile_rule(RULE, "s.omni", None, opt)
    fs = [F(k, 4) for k in (-32, -31, -5, -3, -1, 0, 1, 2, 3, 31)]
    for x, y in itertools.product(range(-8, 8), repeat=2):
        for f in fs[(x + y) % 3 :: 3]:
            w = c.witness({"x": x, "y": y, "f": float(f)})
            pub = c.public_signals(w)
            want = oracle(x, y, f)
            for o, val in zip(c.outputs, pub, strict=False):
                got = F(signed(val), 1 << o.scale)
                assert got == F(want[o.name]), (o.name, x, y, f, got, want[o.name])


VEC = """rule V { private g: int[5] bits 4; public t: int bits 4;
  output mn = min(g); output mx = max(g); output mi = min(g[i] - t for i in 1..4);
  output al = all(g[i] >= t for i in 0..5); output an = any(g[i] == t for i in 0..5);
  output av = all(g > t); output s = sum(g[i] * t for i in 0..5); output d = dot(g, g);
  output n = norm2(g); output sg = sum(g); output a1 = all(g[i] > t for i in 2..3);
}"""


def test_vector_gadgets_exhaustive_edges():
    c = compile_rule(VEC, "v.omni", None, 2)
    vals = [-8, -1, 0, 1, 7]
    for g in itertools.product(vals, repeat=5):
        if sum(g) % 7:  # a spread subset (incl. all-equal and extreme vectors) keeps this fast
            continue
        for t in (-8, 0, 7):
            w = c.witness({"g": list(g), "t": t})
            out = c.decoded_outputs(w)
            assert out == {
                "mn": min(g), "mx": max(g), "mi": min(v - t for v in g[1:4]),
                "al": int(all(v >= t for v in g)), "an": int(any(v == t for v in g)),
                "av": int(all(v > t for v in g)), "s": sum(v * t for v in g),
                "d": sum(v * v for v in g), "n": sum(v * v for v in g), "sg": sum(g),
                "a1": int(g[2] > t),
            }, (g, t)
