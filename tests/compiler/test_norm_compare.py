"""Audit: norm() comparisons agree with exact arithmetic for every sign combination, including
both norms zero (a·‖u‖ vs b·‖v‖ with a < 0 < b and u = v = 0 once made `0 < 0` true)."""

from __future__ import annotations

import itertools

import pytest

from omnidsl.compiler import compile_rule
from omnidsl.compiler.check import violated
from omnidsl.errors import AssertionFailed

OPS = (">=", ">", "<=", "<")
VECS = [(0, 0), (1, 0), (1, 1), (-2, 1)]
SCAL = [-2, -1, 0, 1, 2]


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def ge(a: int, p: int, b: int, q: int) -> bool:
    """Exact a·√p >= b·√q for integers (p, q >= 0)."""
    sa, sb = _sign(a) * (p > 0), _sign(b) * (q > 0)
    if sa != sb:
        return sa > sb
    if sa == 0:
        return True
    return a * a * p >= b * b * q if sa > 0 else a * a * p <= b * b * q


def holds(op: str, a: int, p: int, b: int, q: int) -> bool:
    return {">=": ge(a, p, b, q), "<=": ge(b, q, a, p), ">": not ge(b, q, a, p),
            "<": not ge(a, p, b, q)}[op]


RULE = """rule N { private u: int[2] bits 3; private v: int[2] bits 3;
  private a: int bits 3; private b: int bits 3;
  output o0 = a * norm(u) >= b * norm(v); output o1 = a * norm(u) > b * norm(v);
  output o2 = a * norm(u) <= b * norm(v); output o3 = a * norm(u) < b * norm(v);
  output o4 = a >= b * norm(v); output o5 = a * norm(u) < b; }"""


@pytest.mark.parametrize("opt", [0, 2])
def test_norm_comparison_values_exhaustive(opt):
    c = compile_rule(RULE, "n.omni", None, opt)
    n2 = lambda x: x[0] * x[0] + x[1] * x[1]  # noqa: E731
    for u, v, a, b in itertools.product(VECS, VECS, SCAL, SCAL):
        w = c.witness({"u": list(u), "v": list(v), "a": a, "b": b})
        out = c.decoded_outputs(w)
        p, q = n2(u), n2(v)
        want = [holds(op, a, p, b, q) for op in OPS]
        want += [ge(a, 1, b, q), not ge(a, p, b, 1)]
        got = [bool(out[f"o{k}"]) for k in range(6)]
        assert got == want, (u, v, a, b)


@pytest.mark.parametrize("op", OPS)
def test_asserted_norm_comparison_rejects_false_statements(op):
    """`assert -1*norm(u) < norm(v)` with u = v = 0 is the false statement 0 < 0."""
    src = f"""rule N {{ private u: int[2] bits 3; private v: int[2] bits 3;
      public t: int bits 3; assert t * norm(u) {op} norm(v); }}"""
    c = compile_rule(src, "n.omni", None, 2)
    for u, v, t in itertools.product(VECS, VECS, SCAL):
        p, q = u[0] ** 2 + u[1] ** 2, v[0] ** 2 + v[1] ** 2
        inputs = {"u": list(u), "v": list(v), "t": t}
        if holds(op, t, p, 1, q):
            assert violated(c.r1cs, c.witness(inputs)).size == 0
        else:
            with pytest.raises(AssertionFailed):
                c.witness(inputs)
            forged = c.full_witness(inputs, forge=True)
            assert violated(c.r1cs, forged[c.kept]).size > 0, (u, v, t)


def test_constant_coefficients_not_statically_true():
    """-norm(u) < norm(v) is not a tautology (false at u = v = 0): it must cost constraints."""
    c = compile_rule("rule N { private u: int[2] bits 3; private v: int[2] bits 3; "
                     "assert -1 * norm(u) < norm(v); }", "n.omni", None, 0)
    with pytest.raises(AssertionFailed):
        c.witness({"u": [0, 0], "v": [0, 0]})
    assert violated(c.r1cs, c.witness({"u": [0, 1], "v": [0, 0]})).size == 0
