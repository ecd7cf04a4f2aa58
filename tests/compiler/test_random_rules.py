"""Random expressions: the compiler either rejects them with an OmniDSLError or computes exactly
what an independent exact-rational oracle computes, with a satisfied R1CS."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnidsl.compiler import compile_rule
from omnidsl.compiler.check import violated
from omnidsl.errors import OmniDSLError
from omnidsl.field import signed
from omnidsl.lang import ast

HEADER = ("rule Z { private x: fixed bits 10 frac 3; public y: int bits 6; "
          "private v: fixed[3] bits 8 frac 2;")
LITS = ["0", "1", "0.5", "2", "3", "0.25", "7", "1.75"]

leaf = st.sampled_from(["x", "y", "v[0]", "v[1]", "v[2]", *LITS])


def _node(children):
    a = children
    return st.one_of(
        st.tuples(a, st.sampled_from(["+", "-", "*"]), a).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(a, st.sampled_from(["3", "4", "0.5", "-2", "5"])).map(
            lambda t: f"({t[0]} / {t[1]})"),
        a.map(lambda s: f"abs({s})"),
        a.map(lambda s: f"(-{s})"),
        st.tuples(st.sampled_from(["min", "max"]), a, a).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.tuples(a, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), a, a, a).map(
            lambda t: f"({t[3]} if {t[0]} {t[1]} {t[2]} else {t[4]})"),
        st.tuples(a, st.integers(0, 4)).map(lambda t: f"rescale({t[0]}, {t[1]})"),
        st.just("sum(v[i] * x for i in 0..3)"),
        st.just("max(v[i] for i in 0..3)"),
    )


exprs = st.recursive(leaf, _node, max_leaves=6)


def oracle(e: ast.Expr, env: dict[str, Fraction]) -> Fraction:
    """Exact semantics: real arithmetic, except floor division/rescale of the encoding."""
    if isinstance(e, ast.Num):
        return e.value
    if isinstance(e, ast.Name):
        return env[e.id]
    if isinstance(e, ast.Index):
        return env[f"{e.base.id}[{int(e.index.info.affine[1])}]"]
    if isinstance(e, ast.Unary):
        return -oracle(e.operand, env)
    if isinstance(e, ast.Binary):
        a, b = oracle(e.left, env), oracle(e.right, env)
        if e.op == "+":
            return a + b
        if e.op == "-":
            return a - b
        if e.op == "*":
            return a * b
        s = e.left.info.scale  # floor at the dividend's scale, constant or not (docs/dsl.md)
        return Fraction(math.floor(a * (1 << s) / b), 1 << s)
    if isinstance(e, ast.Compare):
        a, b = oracle(e.left, env), oracle(e.right, env)
        return Fraction(int({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b,
                             "==": a == b, "!=": a != b}[e.op]))
    if isinstance(e, ast.Cond):
        return oracle(e.then, env) if oracle(e.cond, env) else oracle(e.other, env)
    if isinstance(e, ast.Call):
        args = [oracle(a, env) for a in e.args]
        if e.func == "abs":
            return abs(args[0])
        if e.func == "min":
            return min(args)
        if e.func == "max":
            return max(args)
        if e.func == "rescale":
            f = int(args[1])
            return Fraction(math.floor(args[0] * (1 << f)), 1 << f)
    if isinstance(e, ast.Generator):
        vals = []
        for i in range(3):
            env2 = dict(env)
            vals.append(oracle(_subst(e.body, i), env2))
        return sum(vals) if e.func == "sum" else max(vals)
    raise AssertionError(type(e).__name__)


def _subst(body: ast.Expr, i: int) -> ast.Expr:
    """Evaluate a generator body at one index by rewriting v[i] into v[k] lookups."""
    if isinstance(body, ast.Index):
        n = ast.Index(body.span, body.base, body.index)
        n.info = body.info
        n.index = ast.Num(body.span, Fraction(i), str(i))
        n.index.info = type(body.index.info)("index", affine=(0, i))
        return n
    if isinstance(body, ast.Binary):
        n = ast.Binary(body.span, body.op, _subst(body.left, i), _subst(body.right, i))
        n.info = body.info
        return n
    return body


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=exprs, seed=st.integers(0, 2**32 - 1))
def test_random_expressions_match_oracle(expr, seed):
    src = f"{HEADER} output o = {expr}; }}"
    try:
        c = compile_rule(src, "z.omni", None, 2)
    except OmniDSLError:
        return  # rejected cleanly (non-dyadic constant, constant-only expression, ...)
    rng = np.random.default_rng(seed)
    x = Fraction(int(rng.integers(-512, 512)), 8)
    y = Fraction(int(rng.integers(-32, 32)))
    v = [Fraction(int(t), 4) for t in rng.integers(-128, 128, 3)]
    w = c.witness({"x": float(x), "y": int(y), "v": [float(t) for t in v]})
    assert violated(c.r1cs, w).size == 0
    env = {"x": x, "y": y, "v[0]": v[0], "v[1]": v[1], "v[2]": v[2]}
    stmt = c.rule.rule.body[-1]
    want = oracle(stmt.value, env)
    o = c.outputs[0]
    got = Fraction(signed(c.public_signals(w)[0]), 1 << o.scale)
    assert got == want, (src, got, want)
