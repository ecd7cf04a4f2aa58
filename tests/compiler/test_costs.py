"""Constraint costs of the gadgets, pinned (the table in docs/gadgets.md)."""

from __future__ import annotations

import pytest

from omnidsl.compiler import compile_rule
from omnidsl.compiler import gadgets as g
from omnidsl.compiler.builder import Builder
from omnidsl.compiler.gadgets import V


def fresh(lo: int, hi: int, n: int = 1) -> tuple[Builder, V]:
    b = Builder()
    w = b.alloc(n)
    return b, V(b.wires_lc(w), lo, hi)


@pytest.mark.parametrize("k", [1, 8, 16, 64, 200])
def test_range_check_costs_k_plus_1(k):
    b, x = fresh(0, (1 << k) - 1, n=3)
    g.range_bits(b, x, k)
    assert b.n_constraints() == 3 * (k + 1)


@pytest.mark.parametrize("lo,hi,k", [(-5, 5, 3), (-(1 << 20), (1 << 20) - 1, 20), (-1, 1000, 10)])
def test_assert_nonneg_cost(lo, hi, k):
    b, x = fresh(lo, hi)
    g.assert_nonneg(b, x)
    assert b.n_constraints() == k + 1
    b, x = fresh(0, hi)
    g.assert_nonneg(b, x)  # statically true
    assert b.n_constraints() == 0


@pytest.mark.parametrize("lo,hi,k", [(-5, 5, 3), (-8, 7, 3), (-(1 << 30), 1 << 30, 31)])
def test_decision_ge0_cost(lo, hi, k):
    b, x = fresh(lo, hi)
    g.ge0(b, x)
    assert b.n_constraints() == k + 2


def test_small_gadget_costs():
    cases = {
        "mul": (lambda b, x, y: g.mul(b, x, y), 1),
        "select": (lambda b, x, y: g.select(b, V(x.lc, 0, 1), x, y), 1),
        "is_zero": (lambda b, x, y: g.is_zero(b, x), 2),
        "and": (lambda b, x, y: g.b_and(b, V(x.lc, 0, 1), V(y.lc, 0, 1)), 1),
        "or": (lambda b, x, y: g.b_or(b, V(x.lc, 0, 1), V(y.lc, 0, 1)), 1),
        "not": (lambda b, x, y: g.b_not(b, V(x.lc, 0, 1)), 0),
        "mul_const": (lambda b, x, y: g.mul_const(b, x, 12345), 0),
        "lin": (lambda b, x, y: g.lin(b, x, 3, y, -7), 0),
    }
    for name, (fn, cost) in cases.items():
        b = Builder()
        x = V(b.wires_lc(b.alloc(4)), -100, 100)
        y = V(b.wires_lc(b.alloc(4)), -100, 100)
        fn(b, x, y)
        assert b.n_constraints() == 4 * cost, name


@pytest.mark.parametrize("p,rem_cost", [(4, 3), (1024, 11), (3, 6), (10, 10)])
def test_division_cost(p, rem_cost):
    b, x = fresh(0, (1 << 16) - 1)
    g.div_floor(b, x, p, 1)
    y_bits = ((1 << 16) - 1) // p
    assert b.n_constraints() == rem_cost + (y_bits.bit_length() + 1) + 1


def cost(src: str, **params: int) -> int:
    return compile_rule(src, "t.omni", params or None, 0).r1cs.n_constraints


def test_input_range_check_costs_bits_plus_1():
    assert cost("rule R { private x: int bits 8; }") == 9
    assert cost("rule R { public x: fixed[5] bits 16 frac 4; }") == 5 * 17
    assert cost("rule R { private x: fixed; }") == 33  # default fixed: bits 32 frac 16


def test_abs_reuses_the_input_sign_bit():
    base = cost("rule R { private x: fixed[4] bits 16 frac 8; }")
    # abs of an input: 1 multiplication (the sign bit comes from the range check)
    assert cost("rule R { private x: fixed[4] bits 16 frac 8; output a = abs(x); }") == \
        base + 4 * (1 + 1)  # + output's linear constraint
    # abs of a computed value needs its own sign decision (k + 2) + 1
    assert cost("rule R { private x: fixed[4] bits 16 frac 8; output a = abs(x + x); }") == \
        base + 4 * ((16 + 2) + 1 + 1)  # x + x in [-2^16, 2^16): k = 16


def test_norm_bound_cost_per_entry():
    """16-bit entries with |g| <= 4 asserted: one fused interval check of g + 16384 (16 bits +
    1 recomposition + 1 product, omnidsl/compiler/fuse.py) + 1 (square); it was 17 (range) +
    17 (abs + 15-bit check) + 1 before the fusion."""
    src = """rule N(D = 4) { private g: fixed[D] bits 16 frac 12; public m: fixed bits 32 frac 12;
      assert all(abs(g[i]) <= 4.0 for i in 0..D);
      assert sum(g[i] * g[i] for i in 0..D) <= m * m; }"""
    for d in (4, 100):
        assert cost(src, D=d) == 19 * d + 33 + 1 + 64


def test_cse_shares_repeated_products():
    one = cost("rule R { private g: fixed[50] bits 16 frac 12; output a = norm2(g); }")
    two = cost("rule R { private g: fixed[50] bits 16 frac 12; output a = norm2(g); "
               "output b = dot(g, g); }")
    assert two == one + 1
