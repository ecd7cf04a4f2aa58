"""Audit: single-wire forging against every gadget.

For each rule and each internal wire, the witness generator is run in forging mode with that wire
pinned to an alternative value (everything downstream recomputed from it, failing checks ignored).
* For a true statement, a forged witness that satisfies the R1CS must have the same public signals
  (outputs cannot be changed by a free wire).
* For a false statement, no forged witness may satisfy the R1CS.
The pinned values include off-by-one, negation, 0/1 swaps and −1 (= r − 1 in the field)."""

from __future__ import annotations

import pytest

from omnidsl.compiler import compile_rule
from omnidsl.compiler.check import violated
from omnidsl.field import limbs_to_ints, signed
from omnidsl.r1cs.system import R1CS

# (rule, true inputs, false inputs) in raw encodings
CASES = {
    "compare asserted": (
        "rule C { private x: int bits 6; public y: int bits 6; assert x >= y; assert x - 3 < y; "
        "output o = x; }", {"x": 5, "y": 3}, {"x": 2, "y": 3}),
    "compare equal edge": (
        "rule C { private x: int bits 6; public y: int bits 6; assert x <= y; output o = x > y; }",
        {"x": 3, "y": 3}, {"x": 4, "y": 3}),
    "decisions": (
        "rule D { private x: int bits 6; private y: int bits 6; "
        "output a = x >= y; output b = x == y; output c = x != y; output d = (x < y) or (x == 0); "
        "output e = not (x > 2) and y > 0; assert (x >= y) == (y <= x); }",
        {"x": -32, "y": 31}, None),
    "abs both paths": (
        "rule A { private x: int bits 6; private y: int bits 6; assert abs(x) <= 20; "
        "assert abs(x - y) >= 3; output o = abs(x) + abs(x + y); }",
        {"x": -20, "y": 5}, {"x": -21, "y": 5}),
    "min max select": (
        "rule M { private x: int bits 6; private y: int bits 6; output lo = min(x, y); "
        "output hi = max(x, y); output s = (x if x > 0 else y); assert max(x, y) <= 10; }",
        {"x": -7, "y": 9}, {"x": -7, "y": 11}),
    "division": (
        "rule Q { private x: fixed bits 8 frac 2; output a = x / 3; output b = x / -0.75; "
        "output c = rescale(x, 0); assert x / 3 >= -2; }",
        {"x": -24}, {"x": -25}),
    "sums": (
        "rule S { private g: int[4] bits 5; public m: int bits 10; "
        "assert sum(g[i] * g[i] for i in 0..4) <= m; output d = dot(g, g) + norm2(g); "
        "output t = sum(g); }",
        {"g": [3, -4, 5, -6], "m": 86}, {"g": [3, -4, 5, -6], "m": 85}),
    "all any": (
        "rule L { private g: int[4] bits 5; output a = all(g[i] > 0 for i in 0..4); "
        "output b = any(g == 3); assert all(abs(g) <= 9); assert any(g[i] < 0 for i in 0..4); }",
        {"g": [3, -4, 5, 9]}, {"g": [3, 4, 5, 9]}),
    "cosine": (
        "rule K { private g: int[3] bits 5; public r: int[3] bits 5; public t: fixed bits 6 "
        "frac 3; assert dot(g, r) >= t * norm(g) * norm(r); output o = -1 * norm(g) < norm(r); }",
        {"g": [3, 1, -2], "r": [2, 1, -1], "t": 7}, {"g": [3, 1, -2], "r": [2, 1, -1], "t": 8}),
    "cosine negative threshold": (
        "rule K { private g: int[3] bits 5; public r: int[3] bits 5; public t: fixed bits 6 "
        "frac 3; assert dot(g, r) >= t * norm(g) * norm(r); }",
        {"g": [-3, 1, -2], "r": [2, 1, -1], "t": -3}, {"g": [-3, 1, -2], "r": [2, 1, -1],
                                                        "t": -2}),
    "norms both sides": (
        "rule N { private u: int[2] bits 4; private v: int[2] bits 4; public t: int bits 4; "
        "assert t * norm(u) < norm(v); }",
        {"u": [0, 0], "v": [1, 0], "t": -2}, {"u": [0, 0], "v": [0, 0], "t": -2}),
}


def _alternatives(v: int) -> list[int]:
    return sorted({v + 1, v - 1, -v, 1 - v, 0, 1, -1} - {v})


def _forge_all(c, raw: dict, honest_pub: list[int] | None) -> None:
    base = c.full_witness(raw, forge=True)
    vals = [signed(x) for x in limbs_to_ints(base)]
    n_in = sum(lay.info.count for lay in c.inputs)
    first_internal = 1 + sum(o.length or 1 for o in c.outputs) + n_in
    outputs = range(1, 1 + sum(o.length or 1 for o in c.outputs))
    for wire in [*outputs, *range(first_internal, len(vals))]:
        if abs(vals[wire]) >= 1 << 60:
            continue
        for alt in _alternatives(vals[wire]):
            w = c.full_witness(raw, forge=True, force={wire: alt})[c.kept]
            if violated(c.r1cs, w).size == 0:
                assert honest_pub is not None, f"false statement forged via wire {wire} = {alt}"
                assert c.public_signals(w) == honest_pub, f"output changed via wire {wire}"


@pytest.mark.parametrize("opt", [0, 2])
@pytest.mark.parametrize("name", sorted(CASES))
def test_single_wire_forgeries(name, opt):
    src, good, bad = CASES[name]
    c = compile_rule(src, "f.omni", None, opt)
    honest = c.witness({k: ([str(x) for x in v] if isinstance(v, list) else str(v))
                        for k, v in good.items()})
    assert violated(c.r1cs, honest).size == 0
    _forge_all(c, good, c.public_signals(honest))
    if bad is not None:
        w = c.full_witness(bad, forge=True)[c.kept]
        assert violated(c.r1cs, w).size > 0
        _forge_all(c, bad, None)


def test_harness_detects_a_free_wire():
    """The harness itself: with the output's defining row dropped, the output is forgeable."""
    c = compile_rule("rule Z { private x: int bits 4; output o = x == 0; }", "z.omni", None, 0)
    r = c.r1cs
    rows = r.to_rows()
    kept_rows = [(a, b, cc) for a, b, cc in rows if a or b or 1 not in cc]
    assert len(kept_rows) == len(rows) - 1
    c.r1cs = R1CS.from_rows(r.n_wires, r.n_pub_out, r.n_pub_in, r.n_prv_in, kept_rows)
    honest = c.witness({"x": "5"})
    with pytest.raises(AssertionError, match="output changed"):
        _forge_all(c, {"x": 5}, c.public_signals(honest))
