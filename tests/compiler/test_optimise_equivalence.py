"""Random rules: the -O1/-O2 systems are equivalent to the -O0 one.

For each random rule (per-entry comparisons against public inputs, generators, conditionals,
random scalar expressions): the witness of every level satisfies its system, is the -O0 witness
restricted to the kept wires, and gives the same public signals; and for corrupted assignments
of the kept wires the optimised system holds iff the -O0 system holds on the recorded extension.
"""

from __future__ import annotations

import random

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from omnidsl.compiler import compile_rule
from omnidsl.compiler.check import violated
from omnidsl.compiler.optimise import optimise_full
from omnidsl.errors import AssertionFailed, OmniDSLError
from omnidsl.field import R, ints_to_limbs, limbs_to_ints

HEADER = """rule Q(D = {d}) {{
    private g: fixed[D] bits 12 frac 4;
    public  t: fixed bits 12 frac 4;
    private x: fixed bits 10 frac 3;
    public  k: int bits 6;
"""

GENERATORS = [
    "sum(1 if abs(g[i]) > t else 0 for i in 0..D)",
    "sum(g[i] if g[i] >= t else 0 for i in 0..D)",
    "max(g[i] - t for i in 0..D)",
    "min(abs(g[i]) for i in 0..D)",
    "sum(g[i] * x for i in 0..D)",
    "sum(1 if g[i] > t and g[i] < x else 0 for i in 0..D)",
    "sum(g[i] * g[i] for i in 0..D)",
    "max(g[i] if g[i] > t else t for i in 0..D)",
]
STATEMENTS = [
    'assert all(g[i] <= t or g[i] > t - 1 for i in 0..D), "never fails";',
    'assert sum(1 if g[i] < t else 0 for i in 0..D) <= D, "never fails";',
    'assert any(g[i] != t + 200 for i in 0..D), "never fails";',
]

leaf = st.sampled_from(["x", "t", "g[0]", "g[1]", "k", "1", "0.5", "3"])


def _node(a):
    return st.one_of(
        st.tuples(a, st.sampled_from(["+", "-", "*"]), a).map(lambda p: f"({p[0]} {p[1]} {p[2]})"),
        a.map(lambda s: f"abs({s})"),
        st.tuples(st.sampled_from(["min", "max"]), a, a).map(lambda p: f"{p[0]}({p[1]}, {p[2]})"),
        st.tuples(a, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), a, a, a).map(
            lambda p: f"({p[3]} if {p[0]} {p[1]} {p[2]} else {p[4]})"),
    )


scalar = st.recursive(leaf, _node, max_leaves=5)
body = st.lists(st.one_of(st.sampled_from(GENERATORS), scalar,
                          st.sampled_from(STATEMENTS)), min_size=1, max_size=4)


def _source(d: int, items: list[str]) -> str:
    lines = [HEADER.format(d=d)]
    for j, item in enumerate(items):
        lines.append(f"    {item}\n" if item.startswith("assert") else
                     f"    output o{j} = {item};\n")
    return "".join(lines) + "}\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=body, d=st.integers(2, 5), seed=st.integers(0, 2**32 - 1))
def test_optimised_rules_equivalent(items, d, seed):
    src = _source(d, items)
    try:
        c0 = compile_rule(src, "q.omni", None, 0)
    except OmniDSLError:
        event("rejected by the compiler")
        return  # rejected cleanly (e.g. a constant-only output)
    rng = np.random.default_rng(seed)
    inputs = {"g": [float(v) for v in rng.integers(-400, 400, d) / 16],
              "t": float(rng.integers(-200, 200)) / 16, "x": float(rng.integers(-300, 300)) / 8,
              "k": int(rng.integers(-30, 30))}
    try:
        w0 = c0.witness(inputs)
    except AssertionFailed:
        event("assertion failed")
        return
    event("checked")
    full = c0.full_witness(inputs)
    public = c0.public_signals(w0)
    for level in (1, 2):
        c = compile_rule(src, "q.omni", None, level)
        w = c.witness(inputs)  # checks every constraint of the optimised system
        assert c.public_signals(w) == public
        assert np.array_equal(w, full[c.kept])
        assert c.r1cs.n_constraints <= c0.r1cs.n_constraints
        _iff_on_corruptions(c0.r1cs, full, level, random.Random(seed))


def _iff_on_corruptions(orig, full, level: int, rng: random.Random) -> None:
    res = optimise_full(orig, level)
    zk0 = limbs_to_ints(full[res.kept])
    for _ in range(6):
        zk = list(zk0)
        j = rng.randrange(1, len(zk))
        zk[j] = rng.choice([(zk[j] + 1) % R, (zk[j] - 1) % R, zk[j] ^ 1, rng.randrange(R)])
        ok_opt = violated(res.r1cs, ints_to_limbs(zk)).size == 0
        ok_orig = violated(orig, ints_to_limbs(res.extend(zk, orig.n_wires))).size == 0
        assert ok_opt == ok_orig
