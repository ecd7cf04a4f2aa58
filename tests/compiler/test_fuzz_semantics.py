"""Fuzz the checker and lowering with ill- and well-typed expressions: every rule either compiles
(and its witness for random inputs satisfies the R1CS or fails an assertion cleanly) or is
rejected with an OmniDSLError — never another exception."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnidsl.compiler import compile_rule
from omnidsl.compiler.check import violated
from omnidsl.errors import AssertionFailed, OmniDSLError

HEADER = ("rule F(D = 3) { private a: fixed bits 12 frac 4; public b: int bits 5; "
          "private u: fixed[D] bits 10 frac 2; public w: fixed[D] bits 9 frac 3;")

leaf = st.sampled_from(["a", "b", "u", "w", "u[0]", "w[2]", "u[i]", "w[i + 1]", "i", "D", "0.5",
                        "3", "0.1", "-1", "u[3]", "norm(u)", "nope", "(a > b)", "(u <= w)",
                        "a", "b", "u[1]", "w[0]", "u[i]", "u[i]", "2", "0.25"])


def _node(c):
    return st.one_of(
        st.tuples(c, st.sampled_from(["+", "-", "*", "/", "<", "<=", "==", "!=", "and", "or"]),
                  c).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["abs", "min", "max", "sum", "all", "any", "dot", "norm2",
                                   "norm", "len", "rescale"]),
                  st.lists(c, min_size=1, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.tuples(st.sampled_from(["sum", "all", "any", "min", "max"]), c,
                  st.sampled_from(["0..D", "0..2", "1..D", "2..2", "0..4"])).map(
            lambda t: f"{t[0]}({t[1]} for i in {t[2]})"),
        st.tuples(c, c, c).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
        st.tuples(c, st.sampled_from(["<", ">=", "==", "!="]), c, c, c).map(
            lambda t: f"({t[3]} if {t[0]} {t[1]} {t[2]} else {t[4]})"),
        st.tuples(c, st.sampled_from(["<", ">=", "!="]), c).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        c.map(lambda s: f"(not {s})"),
        c.map(lambda s: f"-{s}"),
    )


exprs = st.recursive(leaf, _node, max_leaves=5)
stmts = st.lists(st.tuples(st.sampled_from(["let x{k} = ", "assert ", "output o{k} = "]), exprs),
                 min_size=1, max_size=3)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=stmts, seed=st.integers(0, 2**16))
def test_any_rule_compiles_or_fails_cleanly(body, seed):
    src = HEADER + " ".join(kind.format(k=k) + e + ";" for k, (kind, e) in enumerate(body)) + "}"
    try:
        c = compile_rule(src, "f.omni", None, seed % 3)
    except OmniDSLError as exc:
        assert str(exc).startswith("f.omni:")
        return
    rng = np.random.default_rng(seed)
    inputs = {"a": int(rng.integers(-2048, 2048)) / 16, "b": int(rng.integers(-16, 16)),
              "u": (rng.integers(-512, 512, 3) / 4).tolist(),
              "w": (rng.integers(-256, 256, 3) / 8).tolist()}
    try:
        wit = c.witness(inputs)
    except AssertionFailed as exc:
        assert str(exc).startswith("f.omni:")
        return
    assert violated(c.r1cs, wit).size == 0
