"""Prover-chosen bounds for monotone max/min lets (omnidsl/compiler/bounded.py) and the
sum-of-squares any/all (omnidsl/compiler/squares.py), attacked.

A chosen bound is a wire the prover picks: the R1CS must reject every choice that would let a
false statement through (u below the true maximum, l above the true minimum), and accept exactly
the inputs the rule's Python meaning accepts — checked exhaustively on small widths, over every
value of the chosen wires, at -O0 and -O2.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnidsl.compiler import compile_rule
from omnidsl.compiler.bounded import plan
from omnidsl.compiler.check import violated
from omnidsl.compiler.circuit import compile_file
from omnidsl.compiler.fuse import plan as fuse_plan
from omnidsl.compiler.pipeline import Pipeline
from omnidsl.errors import AssertionFailed, DSLTypeError
from omnidsl.field import R, limbs_to_ints, signed

CIRCUITS = Path(__file__).resolve().parents[2] / "circuits"


def chosen(src: str) -> set[str]:
    return set(plan(Pipeline(src, "t.omni", None).checked).lets)


def wire_of(c, name: str) -> int:
    return next(w for w, label in c.builder.labels.items() if label == f"main.{name}")


def accepts(c, raw: dict, force: dict[int, int] | None = None) -> bool:
    """Whether the forged witness (raw inputs, pinned wires, the rest best effort) satisfies
    the -O2 system; also checks the -O0 system on the same witness agrees."""
    full = c.full_witness(raw, forge=True, force=force)
    return violated(c.r1cs, full[c.kept]).size == 0


# ---------------------------------------------------------------- which lets are chosen

V = ("rule F(D = 4) { private x: fixed[D] bits 12 frac 4; public t: fixed bits 12 frac 4; "
     "public u: fixed bits 12 frac 4; ")


@pytest.mark.parametrize("body,expect", [
    ("let hi = max(x[i] for i in 0..D); assert hi <= t;", {"hi"}),
    ("let lo = min(x[i] for i in 0..D); assert lo >= t;", {"lo"}),
    ("let hi = max(x); let lo = min(x); assert hi - lo <= t; assert 2 * hi < u + 1;",
     {"hi", "lo"}),
    ("let hi = max(x); assert t >= rescale(hi / 3, 2) and -hi > -u;", {"hi"}),
    ("let hi = max(x); assert all(x[i] + hi <= t for i in 0..D);", {"hi"}),
    # the wrong direction: hi >= t needs the exact maximum
    ("let hi = max(x); assert hi >= t;", set()),
    ("let lo = min(x); assert lo <= t;", set()),
    ("let hi = max(x); assert -hi <= t;", set()),
    ("let hi = max(x); assert hi - hi <= t;", set()),
    # outputs, equality, non-monotone functions, other lets, disjunctions: exact
    ("let hi = max(x); assert hi <= t; output o = hi;", set()),
    ("let hi = max(x); assert hi == t;", set()),
    ("let hi = max(x); assert abs(hi) <= t;", set()),
    ("let hi = max(x); assert hi * hi <= t;", set()),
    ("let hi = max(x); let h2 = hi + 1; output o = h2;", set()),
    ("let hi = max(x); let h2 = abs(hi); assert h2 <= t;", set()),
    # through lets that are monotone in the value, with the direction composed
    ("let hi = max(x); let h2 = hi + 1; assert h2 <= t;", {"hi"}),
    ("let hi = max(x); let lo = min(x); let w = hi - lo; let w2 = w / 2; assert w2 < t;",
     {"hi", "lo"}),
    ("let hi = max(x); let lo = min(x); let w = lo - hi; assert w <= t;", set()),
    ("let hi = max(x); let w = -hi; assert w >= t;", {"hi"}),
    ("let hi = max(x); let w = -hi; assert w <= t;", set()),
    ("let hi = max(x); assert hi <= t or u > 0;", set()),
    ("let hi = max(x); assert any(x[i] <= hi - t for i in 0..D);", set()),
    ("let hi = max(x); output o = (hi <= t);", set()),
])
def test_only_monotone_uses_get_a_chosen_bound(body, expect):
    assert chosen(V + body + " }") == expect


def test_max_patterns_are_flattened_and_shared():
    src = V + ("let hi = max(x[i] for i in 0..D); let top = max(x[i] if x[i] > 0 else 0 "
               "for i in 0..D); let t2 = max(max(x[i], t) for i in 0..D); "
               "let t3 = max(0 if 0 >= x[i] else x[i] for i in 0..D); "
               "let no = max(x[i] if x[i] < 0 else 0 for i in 0..D); "
               "assert hi <= t and top <= t and t2 <= u and t3 <= u and no <= u; }")
    p = plan(Pipeline(src, "t.omni", None).checked)
    assert [len(p.lets[n].terms) for n in ("hi", "top", "t2", "t3", "no")] == [1, 2, 2, 2, 1]
    # the entries of x are bounded once (by hi); top, t2, t3 go through hi
    assert [t.share for t in p.lets["top"].terms] == ["hi", None]
    assert [t.share for t in p.lets["t3"].terms] == [None, "hi"]
    assert p.lets["no"].terms[0].share is None  # a min-shaped select is one opaque term


def test_sharing_never_rejects_a_true_statement():
    """A bound is bounded through an earlier one only when the earlier one's terms are all
    among its own: ``a = max(max(x[i], 3) ...)`` must not push ``b = max(x[i], 0 ...)`` to 3."""
    src = ("rule A(D = 3) { private x: int[D] bits 3; public t: int bits 4; public c: int bits 4;"
           " let a = max(max(x[i], 3) for i in 0..D); let h = max(x);"
           " let b = max(x[i] if x[i] > 0 else 0 for i in 0..D); let m = max(max(x[i], 2) for i in 0..D);"
           " assert a <= t and b < c and h + m <= t + c; }")
    p = plan(Pipeline(src, "a.omni", None).checked)
    assert [t.share for t in p.lets["b"].terms] == ["h", None]
    assert [t.share for t in p.lets["m"].terms] == ["h", None]
    assert [t.share for t in p.lets["h"].terms] == [None]  # a has the extra term 3
    for opt in (0, 2):
        c = compile_rule(src, "a.omni", None, opt)
        for x in itertools.product(range(-4, 4), repeat=3):
            for t, cap in ((3, 1), (5, 3), (7, 2)):
                ok = (max(max(x), 3) <= t and max(max(x), 0) < cap
                      and max(x) + max(max(x), 2) <= t + cap)
                inp = {"x": list(x), "t": t, "c": cap}
                if ok:
                    assert violated(c.r1cs, c.witness(inp)).size == 0
                else:
                    with pytest.raises(AssertionFailed):
                        c.witness(inp)


def test_outliers_at_the_hand_optimum():
    n = [compile_file(CIRCUITS / "outliers.omni", {"D": d}, 2).r1cs.n_constraints
         for d in (16, 32)]
    per_entry = (n[1] - n[0]) / 16
    # the hand-written peer (benchmarks/circom/outliers.circom) needs 52 per entry
    assert per_entry <= 52
    f = fuse_plan(Pipeline.from_file(CIRCUITS / "outliers.omni", {"D": 4}).checked)
    assert "x" in f.implied  # l <= x[i] <= u proves x's range


def test_committed_inputs_keep_their_range_check():
    src = ("rule C(D = 4) { public r: fixed[D] bits 12 frac 4 committed; public t: fixed bits 12 "
           "frac 4; let hi = max(r); let lo = min(r); assert hi - lo <= t; }")
    assert chosen(src) == {"hi", "lo"}
    p = Pipeline(src, "t.omni", None).checked
    assert not plan(p).upper and not fuse_plan(p).implied
    src2 = src.replace("public r", "private r").replace(" committed", "")
    assert fuse_plan(Pipeline(src2, "t.omni", None).checked).implied == {"r"}


# ---------------------------------------------------------------- attacks on outliers

def _outliers(d: int = 4):
    return compile_file(CIRCUITS / "outliers.omni", {"D": d, "K": 2}, 2)


def test_outliers_bounds_below_the_truth_are_rejected():
    c = _outliers()
    x = [300, -200, 500, -50]  # raw encodings (frac 8)
    raw = {"x": x, "spread": 700, "cap": 600}
    assert accepts(c, raw)
    hi, lo, top = (wire_of(c, n) for n in ("hi", "lo", "top"))
    for v in (499, 400, -200, 0, -32768):  # u below max(x)
        assert not accepts(c, raw, {hi: v}), v
    for v in (-199, -50, 0, 500, 32767):  # l above min(x)
        assert not accepts(c, raw, {lo: v}), v
    for v in (499, 0, -1, -32768):  # top below max(max(x), 0)
        assert not accepts(c, raw, {top: v}), v
    for v in (32768, 1 << 40, -(1 << 40)):  # outside the 16-bit range of the bound
        for w in (hi, lo, top):
            assert not accepts(c, raw, {w: v}), (w, v)
    # a looser bound is still a bound: accepted only while the assertions hold for it
    assert accepts(c, raw, {hi: 500, lo: -200})
    assert not accepts(c, raw, {hi: 501})  # 501 - (-200) > 700
    assert not accepts(c, raw, {lo: -201})
    assert accepts(c, raw, {top: 599}) and not accepts(c, raw, {top: 600})


def test_outliers_false_statements_have_no_witness():
    c = _outliers()
    hi, lo, top = (wire_of(c, n) for n in ("hi", "lo", "top"))
    window = range(-700, 701, 100)
    for raw in ({"x": [300, -200, 500, -50], "spread": 699, "cap": 600},   # spread 700
                {"x": [300, -200, 500, -50], "spread": 700, "cap": 500},   # top = cap
                {"x": [-300, -200, -500, -50], "spread": 700, "cap": 0}):  # 0 < cap fails
        for u, lv in itertools.product(window, window):
            assert not accepts(c, raw, {hi: u, lo: lv}), (raw, u, lv)
        for t in window:
            assert not accepts(c, raw, {top: t}), (raw, t)


def test_outliers_wide_entries_are_rejected_without_their_own_range_check():
    c = _outliers()
    for bad in (32768, -32769, 1 << 20, -(1 << 40), -(1 << 61)):
        raw = {"x": [bad, 0, 100, -100], "spread": 32767, "cap": 32767}
        assert not accepts(c, raw), bad
        for u in (32767, -32768, 0, 100):
            for lv in (-32768, 32767, -100):
                assert not accepts(c, raw, {wire_of(c, "hi"): u, wire_of(c, "lo"): lv})


def test_all_zero_entries_have_no_witness():
    c = _outliers()
    raw = {"x": [0, 0, 0, 0], "spread": 100, "cap": 100}
    assert not accepts(c, raw)
    with pytest.raises(AssertionFailed, match=r"any\(x\[i\] != 0 for i in 0..D\) is false "
                       r"\(all entries are zero\)"):
        c.witness({"x": [0.0] * 4, "spread": 1.0, "cap": 1.0})
    w = c.witness({"x": [0.0, 0.0, 0.0, 2 ** -8], "spread": 1.0, "cap": 1.0})
    assert c.decoded_outputs(w) == {"n_large": 0}


# ---------------------------------------------------------------- exhaustive meaning

SMALL = """rule S(D = 3) { private x: int[D] bits 3; public s: int bits 4; public c: int bits 4;
  assert any(x[i] != 0 for i in 0..D);
  let hi = max(x[i] for i in 0..D);
  let lo = min(x[i] for i in 0..D);
  assert hi - lo <= s;
  let top = max(x[i] if x[i] > 0 else 0 for i in 0..D);
  assert top < c;
  output n = sum(1 if x[i] * 2 > c else 0 for i in 0..D);
}"""


def small_meaning(x, s, c) -> bool:
    return any(v != 0 for v in x) and max(x) - min(x) <= s and max(max(x), 0) < c


@pytest.mark.parametrize("opt", [0, 2])
def test_small_rule_exhaustive(opt):
    """Every x in [-4, 3]^3 with several (s, c): the witness exists exactly when the rule's
    meaning holds, and its output is the Python value."""
    c = compile_rule(SMALL, "s.omni", None, opt)
    assert chosen(SMALL) == {"hi", "lo", "top"}
    seen = set()
    for x in itertools.product(range(-4, 4), repeat=3):
        for s, cap in ((0, 1), (3, 2), (7, 4), (2, 7), (5, 0)):
            ok = small_meaning(x, s, cap)
            seen.add(ok)
            inp = {"x": list(x), "s": s, "c": cap}
            if not ok:
                with pytest.raises(AssertionFailed):
                    c.witness(inp)
                continue
            w = c.witness(inp)
            assert c.decoded_outputs(w) == {"n": sum(2 * v > cap for v in x)}
    assert seen == {True, False}


def test_small_rule_every_choice_of_the_bounds():
    """For inputs around the edges, every value of the three chosen wires in their 3-bit
    interval: some choice satisfies the R1CS iff the meaning holds, at -O0
    and -O2 alike."""
    c0, c2 = (compile_rule(SMALL, "s.omni", None, o) for o in (0, 2))
    wires = [wire_of(c2, n) for n in ("hi", "lo", "top")]
    assert wires == [wire_of(c0, n) for n in ("hi", "lo", "top")]
    values = range(-4, 4)  # the whole interval (outside it: the tests above)
    rng = np.random.default_rng(3)
    cases = [((3, -4, 0), 7, 4), ((3, -4, 0), 6, 4), ((2, 2, 2), 0, 3), ((2, 2, 2), 0, 2),
             ((-1, -3, -2), 2, 1), ((-1, -3, -2), 2, 0), ((0, 0, 0), 7, 7), ((0, 0, 1), 1, 2)]
    cases += [(tuple(int(v) for v in rng.integers(-4, 4, 3)), int(rng.integers(-2, 8)),
               int(rng.integers(-2, 6)))]
    for x, s, cap in cases:
        raw = {"x": list(x), "s": s, "c": cap}
        found = {0: False, 2: False}
        for u, lv, t in itertools.product(values, repeat=3):
            full = c2.full_witness(raw, forge=True, force=dict(zip(wires, (u, lv, t), strict=True)))
            sat0 = violated(c0.r1cs, full).size == 0
            sat2 = violated(c2.r1cs, full[c2.kept]).size == 0
            assert sat0 == sat2
            found[0] |= sat0
            found[2] |= sat2
            if sat2:  # only true bounds can satisfy it
                assert u >= max(x) and lv <= min(x) and t >= max(max(x), 0), (x, u, lv, t)
        assert found[0] == found[2] == small_meaning(x, s, cap), (x, s, cap)


def test_bounds_through_lets_every_choice():
    """``let w = hi - lo; let m = w / 2; assert m <= s``: the chain is monotone, so hi and lo
    are chosen; every (u, l) in their intervals satisfies the R1CS only if u >= max and
    l <= min, and some does exactly when floor((max - min) / 2) <= s."""
    src = ("rule L(D = 3) { private x: int[D] bits 3; public s: int bits 3; "
           "let hi = max(x[i] for i in 0..D); let lo = min(x); let w = hi - lo; "
           "let m = w / 2; assert m <= s; }")
    assert chosen(src) == {"hi", "lo"}
    c = compile_rule(src, "l.omni", None, 2)
    hi, lo = wire_of(c, "hi"), wire_of(c, "lo")
    for x, s in (((3, -4, 0), 3), ((3, -4, 0), 2), ((1, 1, 1), 0), ((-2, 0, 1), 1),
                 ((-2, 0, 1), 0), ((3, 2, -1), -1)):
        found = False
        for u, lv in itertools.product(range(-4, 4), repeat=2):
            if accepts(c, {"x": list(x), "s": s}, {hi: u, lo: lv}):
                found = True
                assert u >= max(x) and lv <= min(x), (x, s, u, lv)
        assert found == ((max(x) - min(x)) // 2 <= s), (x, s)


# ---------------------------------------------------------------- random monotone shapes

TERMS = st.tuples(st.sampled_from([-2, -1, 1, 2, 3]), st.sampled_from(["hi", "lo", "t"]))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lhs=st.lists(TERMS, min_size=1, max_size=3), op=st.sampled_from(["<", "<=", ">", ">="]),
       rhs=st.integers(-6, 6), output=st.booleans(), via_let=st.booleans(),
       seed=st.integers(0, 2 ** 16))
def test_random_assertions_over_max_and_min(lhs, op, rhs, output, via_let, seed):
    """``assert a*hi + b*lo + c*t op k`` (or the sum bound by a ``let`` first): chosen bounds
    where monotone, the exact tree otherwise; either way some choice of the bound wires
    satisfies the R1CS exactly when the Python meaning holds, and only with true bounds."""
    expr = " + ".join(f"{k} * {n}" for k, n in lhs)
    check = f"let w = {expr}; assert w {op} {rhs};" if via_let else f"assert {expr} {op} {rhs};"
    src = ("rule H(D = 3) { private x: int[D] bits 3; public t: int bits 3; "
           "let hi = max(x[i] for i in 0..D); let lo = min(x); "
           + check + (" output o = lo;" if output else "") + " }")
    try:
        c = compile_rule(src, "h.omni", None, 2)
    except DSLTypeError:  # statically false from the bounds: refused at compile time
        return
    picked = chosen(src)
    if output:
        assert "lo" not in picked
    rng = np.random.default_rng(seed)
    ops = {"<": int.__lt__, "<=": int.__le__, ">": int.__gt__, ">=": int.__ge__}
    for _ in range(2):
        x = [int(v) for v in rng.integers(-4, 4, 3)]
        t = int(rng.integers(-4, 4))
        val = {"hi": max(x), "lo": min(x), "t": t}
        ok = ops[op](sum(k * val[n] for k, n in lhs), rhs)
        raw = {"x": x, "t": t}
        wires = {n: wire_of(c, n) for n in sorted(picked)}
        any_sat = False
        for vals in itertools.product(range(-4, 4), repeat=len(wires)):
            pin = dict(zip(wires.values(), vals, strict=True))
            if accepts(c, raw, pin):
                any_sat = True
                got = dict(zip(wires, vals, strict=True))
                assert got.get("hi", max(x)) >= max(x) and got.get("lo", min(x)) <= min(x)
        if not wires:
            any_sat = accepts(c, raw)
        assert any_sat == ok, (src, x, t)


# ---------------------------------------------------------------- sums of squares

def _bool_cost(body: str, decl: str = "private x: int[D] bits 10; public y: int bits 10;",
               d: int = 8) -> int:
    """-O0 constraints of body beyond the declarations' range checks."""
    head = f"rule A(D = {d}) {{ {decl} "
    return (compile_rule(head + body + " }", "a.omni", None, 0).r1cs.n_constraints
            - compile_rule(head + " }", "a.omni", None, 0).r1cs.n_constraints)


def test_any_and_all_cost_one_product_per_entry():
    assert _bool_cost("assert any(x[i] != y for i in 0..D);") == 8 + 1
    assert _bool_cost("output o = any(x[i] != y for i in 0..D);") == 8 + 2 + 1  # + copy
    assert _bool_cost("output o = all(x[i] == 2 * y for i in 0..D);") == 8 + 2 + 1
    assert _bool_cost("output o = any(x != 3);") == 8 + 2 + 1
    # other shapes keep the elementwise tests
    assert _bool_cost("output o = any(x[i] == y for i in 0..D);") == 2 * 8 + 2 + 1
    assert _bool_cost("output o = all(x[i] != y for i in 0..D);") == 2 * 8 + 2 + 1


@pytest.mark.parametrize("opt", [0, 2])
def test_any_inside_a_loop(opt):
    """A folded ``any(... for j)`` nested in an ``all(... for i)`` (independent of i: the
    checker refuses outer loop variables) is right; ``any(x != y[i])``, a whole-vector
    comparison with the loop's values, is refused (it used to pair x[i] with y[i]: 3 where the
    rule means 2 for x = [1, 1, 1], y = [1, 2, 3])."""
    src = ("rule A(D = 3) { private x: int[D] bits 4; public y: int[D] bits 4; "
           "assert all(any(x[j] != y[0] for j in 0..D) for i in 0..2); "
           "output o = sum(1 if any(x[j] != 1 for j in 0..D) else 0 for i in 0..D); }")
    c = compile_rule(src, "a.omni", None, opt)
    rng = np.random.default_rng(5)
    for _ in range(20):
        x = [int(v) for v in rng.integers(-2, 2, 3)]
        y = [int(v) for v in rng.integers(-2, 2, 3)]
        if all(v == y[0] for v in x):
            with pytest.raises(AssertionFailed):
                c.witness({"x": x, "y": y})
            continue
        want = 3 * any(v != 1 for v in x)
        assert c.decoded_outputs(c.witness({"x": x, "y": y})) == {"o": want}
    loop_src = ("rule A(D = 3) { private x: int[D] bits 4; public y: int[D] bits 4; "
                "output o = sum(1 if any(x != y[i]) else 0 for i in 0..D); }")
    with pytest.raises(DSLTypeError, match=r"a.omni:1:92: error: a whole-vector operation inside a "
                       r"generator cannot use the loop variable 'i'"):
        compile_rule(loop_src, "a.omni", None, opt)


def _two_squares(p: int) -> tuple[int, int]:
    """a, b with a² + b² = p for a prime p ≡ 1 (mod 4) (Cornacchia / Hermite–Serret)."""
    z = next(pow(g, (p - 1) // 4, p) for g in range(2, 100) if pow(g, (p - 1) // 2, p) == p - 1)
    a, b = p, z
    while b * b > p:
        a, b = b, a % b
    return b, math.isqrt(p - b * b)


def test_a_sum_of_squares_that_could_wrap_is_not_used():
    """r = a² + b²: with 130-bit entries Σ x² can be 0 mod r while x != 0, so the fold is
    refused (n·max(d²) ≥ r) and the elementwise tests decide — correctly."""
    a, b = _two_squares(R)
    assert a * a + b * b == R and a > 0 and b > 0  # the wrap an unchecked fold would hit
    body = "output o = any(x[i] != 0 for i in 0..D);"
    assert _bool_cost(body, "private x: int[D] bits 130;", 2) == 2 * 2 + 2 + 1  # not folded
    assert _bool_cost(body, "private x: int[D] bits 126;", 2) == 2 + 2 + 1  # 2·2^250 < r
    src = "rule W { private x: int[2] bits 130; output o = any(x[i] != 0 for i in 0..2); }"
    c = compile_rule(src, "w.omni", None, 2)
    w = c.witness({"x": [str(a), str(b)]})
    assert c.decoded_outputs(w) == {"o": 1}
    for v in (0, 2, -1):  # the output forged to what a wrapped sum would say: rejected
        full = c.full_witness({"x": [a, b]}, forge=True, force={1: v})
        assert violated(c.r1cs, full[c.kept]).size > 0, v


def test_forged_square_sums_are_rejected():
    c = _outliers()
    raw = {"x": [0, 0, 0, 0], "spread": 100, "cap": 100}
    full = c.full_witness(raw, forge=True)
    vals = [signed(v) for v in limbs_to_ints(full)]
    inner = range(1 + 1 + 2 + 4, len(vals))
    for wire in inner:  # pin any one internal wire to 1: the all-zero row still fails
        if abs(vals[wire]) < 1 << 60:
            w = c.full_witness(raw, forge=True, force={wire: 1})
            assert violated(c.r1cs, w[c.kept]).size > 0, wire


# ---------------------------------------------------------------- random rules of bounds

BODIES = {  # body text -> its value for one entry v
    "x[i]": lambda v: v,
    "x[i] if x[i] > 0 else 0": lambda v: max(v, 0),
    "max(x[i], 1)": lambda v: max(v, 1),
    "0 if 0 >= x[i] else x[i]": lambda v: max(v, 0),
    "x[i] if x[i] < 1 else 1": lambda v: min(v, 1),
    "min(x[i], -1)": lambda v: min(v, -1),
    "2 * x[i]": lambda v: 2 * v,
    "x[i] + 1": lambda v: v + 1,
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lets=st.lists(st.tuples(st.sampled_from(["max", "min"]), st.sampled_from(sorted(BODIES))),
                     min_size=1, max_size=4),
       checks=st.lists(st.tuples(st.lists(st.tuples(st.sampled_from([-2, -1, 1, 2]),
                                                    st.integers(0, 3)), min_size=1, max_size=2),
                                 st.sampled_from(["<", "<=", ">", ">="]), st.integers(-4, 4)),
                       min_size=1, max_size=3),
       seed=st.integers(0, 2 ** 16))
def test_random_rules_of_bounds_keep_their_meaning(lets, checks, seed):
    """Several max/min lets over overlapping bodies (patterns, constants, shared terms) under
    random assertions: the honest witness exists exactly when the Python meaning holds."""
    n = len(lets)
    text = " ".join(f"let a{k} = {f}({body} for i in 0..D);" for k, (f, body) in enumerate(lets))
    conds = []
    for terms, op, k in checks:
        lhs = " + ".join(f"{c} * a{j % n}" for c, j in terms)
        conds.append((terms, op, k, f"assert {lhs} {op} t + {k};"))
    src = ("rule R(D = 3) { private x: int[D] bits 3; public t: int bits 4; " + text + " "
           + " ".join(c[3] for c in conds) + " }")
    try:
        c = compile_rule(src, "r.omni", None, 2)
    except DSLTypeError:  # statically false from the bounds
        return
    ops = {"<": int.__lt__, "<=": int.__le__, ">": int.__gt__, ">=": int.__ge__}
    rng = np.random.default_rng(seed)
    for _ in range(6):
        x = [int(v) for v in rng.integers(-4, 4, 3)]
        t = int(rng.integers(-8, 8))
        vals = [(max if f == "max" else min)(BODIES[body](v) for v in x) for f, body in lets]
        ok = all(ops[op](sum(cf * vals[j % n] for cf, j in terms), t + k)
                 for terms, op, k, _ in conds)
        if ok:
            assert violated(c.r1cs, c.witness({"x": x, "t": t})).size == 0, (src, x, t)
        else:
            with pytest.raises(AssertionFailed):
                c.witness({"x": x, "t": t})
