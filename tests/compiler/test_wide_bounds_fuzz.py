"""Audit: rules over wide inputs, witnessed at the extremes of their declared ranges.

Every gadget's bit width comes from the lowering's bound of its operand.  If that bound is looser
than the checker's (which enforces the 2^250 limit), a rule the checker accepts can need a range
check wider than the field (InternalError); if it were tighter than the truth, an honest extreme
value would fall outside its decomposition.  So: compile never raises InternalError, and a witness
at the range extremes either satisfies the R1CS or fails an assertion cleanly."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnidsl.compiler import compile_rule
from omnidsl.compiler.check import violated
from omnidsl.errors import AssertionFailed, InternalError, OmniDSLError

HEADER = ("rule W { private a: int bits 120; private b: int bits 3; private c: fixed bits 100 "
          "frac 40; public u: int[3] bits 70; ")
BOUNDS = {"a": 1 << 119, "b": 4, "c": 1 << 99, "u": 1 << 69}

leaf = st.sampled_from(["a", "b", "c", "u[0]", "u[i]", "abs(a)", "abs(b)", "3", "-1", "0.5",
                        "min(abs(a), b)", "max(-abs(c), b)", "rescale(c, 2)", "sum(u)",
                        "dot(u, u)", "norm2(u)"])


def _node(x):
    return st.one_of(
        st.tuples(x, st.sampled_from(["+", "-", "*", "/", "<", ">=", "==", "!="]), x).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["min", "max"]), x, x).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        x.map(lambda s: f"abs({s})"),
        st.tuples(st.sampled_from(["sum", "max", "min", "all", "any"]), x).map(
            lambda t: f"{t[0]}({t[1]} for i in 0..3)"),
        st.tuples(x, x, x).map(lambda t: f"({t[0]} if {t[1]} > {t[2]} else {t[2]})"),
        x.map(lambda s: f"({s} / 3)"),
    )


exprs = st.recursive(leaf, _node, max_leaves=5)


def extremes():
    """Raw encodings at the range ends (most negative, most positive, 0, -1)."""
    picks = []
    for k in range(4):
        vals = {}
        for j, (name, m) in enumerate(BOUNDS.items()):
            v = (-m, m - 1, 0, -1)[(k + j) % 4]
            vals[name] = [str(v)] * 3 if name == "u" else str(v)
        picks.append(vals)
    return picks


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=exprs, kind=st.sampled_from(["assert", "output o ="]))
def test_wide_rules_never_hit_internal_errors(expr, kind):
    src = f"{HEADER} {kind} {expr}; }}"
    try:
        c = compile_rule(src, "w.omni", None, 0)
    except InternalError:
        raise
    except OmniDSLError:
        return
    for inputs in extremes():
        try:
            w = c.witness(inputs)
        except AssertionFailed:
            continue
        assert violated(c.r1cs, w).size == 0


@pytest.mark.parametrize("f", ["min", "max"])
def test_minmax_bound_is_tight(f):
    """min(|a|, b) is small although |a| is not: the checker accepts the product, and so must
    the lowering (it used [min lo, max hi] and asked for a 377-bit range check)."""
    src = (f"rule M {{ private a: int bits 200; private b: int bits 2; private x: int bits 60; "
           f"assert {f}(abs(a), b) * x * x * x <= 5 * {1 if f == 'min' else 0}; }}")
    if f == "max":
        src = src.replace("abs(a)", "-abs(a)").replace("<= 5 * 0", ">= -8")
    c = compile_rule(src, "m.omni", None, 2)
    top = (1 << 59) - 1
    for a, b, x in itertools.product((0, 5, -(1 << 199)), (-2, 1), (-top, top, 1)):
        inputs = {"a": str(a), "b": b, "x": str(x)}
        m = min(abs(a), b) if f == "min" else max(-abs(a), b)
        ok = m * x ** 3 <= 5 if f == "min" else m * x ** 3 >= -8
        if ok:
            assert violated(c.r1cs, c.witness(inputs)).size == 0
        else:
            with pytest.raises(AssertionFailed):
                c.witness(inputs)


def test_comparisons_at_the_bound_limit():
    """Sides just below 2^250 (differences just below 2^251): extremes decide correctly, a false
    assertion cannot be forged, and nothing wraps modulo r."""
    src = """rule B { private x: int bits 240; private y: int bits 240;
      output ge = x * 1023 >= y * 1023; output eq = x * 1023 == y * 1023;
      output mx = max(x * 1023, -y * 1023); assert x * 1023 + 7 > y * 1023; }"""
    c = compile_rule(src, "b.omni", None, 2)
    lo, hi = -(1 << 239), (1 << 239) - 1
    for x, y in itertools.product((lo, -1, 0, hi), repeat=2):
        inputs = {"x": str(x), "y": str(y)}
        if not 1023 * x + 7 > 1023 * y:
            with pytest.raises(AssertionFailed):
                c.witness(inputs)
            forged = c.full_witness({"x": x, "y": y}, forge=True)[c.kept]
            assert violated(c.r1cs, forged).size > 0
            continue
        out = c.decoded_outputs(c.witness(inputs))
        assert out == {"ge": int(x >= y), "eq": int(x == y), "mx": max(1023 * x, -1023 * y)}
