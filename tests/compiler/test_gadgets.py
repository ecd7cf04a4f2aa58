"""Soundness of every gadget: valid inputs satisfy the R1CS, invalid ones are rejected by the
witness generator, and forged witnesses (decision bits / outputs set to "pass") violate it."""

from __future__ import annotations

import operator

import numpy as np
import pytest

from omnidsl.compiler import compile_rule
from omnidsl.compiler.check import violated
from omnidsl.errors import AssertionFailed, InputError
from omnidsl.field import R, ints_to_limbs, limbs_to_ints, signed

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
       "==": operator.eq, "!=": operator.ne}
RNG = np.random.default_rng(7)


def build(src: str, opt: int = 0, **params: int):
    return compile_rule(src, "t.omni", params or None, opt)


def satisfied(c, inputs) -> np.ndarray:
    w = c.witness(inputs)
    assert violated(c.r1cs, w).size == 0
    return w


def forged_fails(c, raw) -> None:
    w = c.full_witness(raw, forge=True)
    assert violated(c.r1cs, w[c.kept]).size > 0


def set_wire(w: np.ndarray, wire: int, value: int) -> np.ndarray:
    w = w.copy()
    w[wire] = ints_to_limbs([value])[0]
    return w


# ------------------------------------------------------------------ input range checks

RANGE = """rule R { private x: fixed[4] bits 10 frac 4; public p: int bits 8;
  output s = sum(x[i] for i in 0..4) + p; }"""


@pytest.mark.parametrize("opt", [0, 2])
def test_input_range_valid_random(opt):
    c = build(RANGE, opt)
    for _ in range(20):
        x = RNG.integers(-512, 512, 4)
        p = int(RNG.integers(-128, 128))
        w = satisfied(c, {"x": (x / 16).tolist(), "p": p})
        assert c.decoded_outputs(w)["s"] == pytest.approx(x.sum() / 16 + p)


@pytest.mark.parametrize("bad", [32.0, -32.0625, 1e9])
def test_input_out_of_range_rejected(bad):
    c = build(RANGE)
    with pytest.raises(InputError, match=r"x\[2\]"):
        c.witness({"x": [0, 0, bad, 0], "p": 0})


@pytest.mark.parametrize("raw", [512, -513, 1 << 40, -(1 << 40)])
@pytest.mark.parametrize("opt", [0, 2])
def test_input_out_of_range_forged(raw, opt):
    c = build(RANGE, opt)
    forged_fails(c, {"x": [0, raw, 0, 0], "p": 0})
    forged_fails(c, {"x": [0, 0, 0, 0], "p": raw})


@pytest.mark.parametrize("opt", [0, 2])
def test_field_wraparound_forged(opt):
    """Huge field elements (r-2^9, 2^200) posing as x: the range check catches them."""
    c = build(RANGE, opt)
    w = c.witness({"x": [0, 0, 0, 0], "p": 0})
    xwire = int(np.flatnonzero(c.kept == c.inputs[1].wire)[0])
    for v in (R - (1 << 9) - 1, 1 << 200, R - (1 << 200), (R + 1) // 2):
        assert violated(c.r1cs, set_wire(w, xwire, v)).size > 0


def test_raw_field_strings():
    c = build(RANGE)
    w = c.witness({"x": [str(R - 1), "0x10", "3", "-16"], "p": "0x7f"})
    assert c.decoded_outputs(w)["s"] == pytest.approx((-1 + 16 + 3 - 16) / 16 + 127)
    with pytest.raises(InputError, match="out of range"):
        c.witness({"x": ["512", 0, 0, 0], "p": 0})
    with pytest.raises(InputError, match="not a field element"):
        c.witness({"x": [str(R), 0, 0, 0], "p": 0})


# ------------------------------------------------------------------ comparisons

def cmp_rule(op: str, asserted: bool) -> str:
    body = f"assert x {op} y;" if asserted else f"output r = x {op} y;"
    return f"rule C {{ private x: fixed bits 12 frac 3; public y: int bits 6; {body} }}"


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("opt", [0, 2])
def test_asserted_comparison(op, opt):
    c = build(cmp_rule(op, True), opt)
    pairs = [(RNG.integers(-2048, 2048) / 8, int(RNG.integers(-32, 32))) for _ in range(30)]
    pairs += [(5.0, 5), (4.875, 5), (5.125, 5), (-255.875, 31), (255.875, -32)]
    for x, y in pairs:
        if OPS[op](x, y):
            satisfied(c, {"x": x, "y": y})
        else:
            with pytest.raises(AssertionFailed, match=r"t.omni:1:\d+: assertion failed: x ="):
                c.witness({"x": x, "y": y})
            forged_fails(c, {"x": int(x * 8), "y": y})


@pytest.mark.parametrize("op", list(OPS))
def test_decision_comparison_and_forged_bit(op):
    c = build(cmp_rule(op, False), 0)
    out_wire = c.outputs[0].wire
    for x, y in [(1.5, 1), (1.0, 1), (0.875, 1), (-256.0, 31), (255.875, -32)]:
        w = satisfied(c, {"x": x, "y": y})
        truth = OPS[op](x, y)
        assert c.decoded_outputs(w)["r"] == int(truth)
        if not truth:  # forge "pass": output and every decision bit set to 1
            f = set_wire(w, out_wire, 1)
            for rec in c.builder.decisions:
                if rec[0] in ("ge0", "is_zero"):
                    for wire in rec[1].tolist():
                        f = set_wire(f, wire, 1 - limbs_to_ints(w[wire : wire + 1])[0])
            assert violated(c.r1cs, f).size > 0


# ------------------------------------------------------------------ abs / min / max / select

ARITH = """rule A { private a: fixed[3] bits 14 frac 4; private b: fixed[3] bits 14 frac 6;
  output ab = abs(a); output mn = min(a, b); output mx = max(a, b);
  output c = a if a > b else b * 2;
  output lo = min(a[i] for i in 0..3); output hi = max(b); }"""


@pytest.mark.parametrize("opt", [0, 2])
def test_abs_min_max_select_random(opt):
    c = build(ARITH, opt)
    for _ in range(15):
        a = RNG.integers(-8192, 8192, 3) / 16
        b = RNG.integers(-8192, 8192, 3) / 64
        w = satisfied(c, {"a": a.tolist(), "b": b.tolist()})
        out = c.decoded_outputs(w)
        assert out["ab"] == pytest.approx(np.abs(a).tolist())
        assert out["mn"] == pytest.approx(np.minimum(a, b).tolist())
        assert out["mx"] == pytest.approx(np.maximum(a, b).tolist())
        assert out["c"] == pytest.approx(np.where(a > b, a, 2 * b).tolist())
        assert out["lo"] == pytest.approx(a.min())
        assert out["hi"] == pytest.approx(b.max())


def test_outputs_cannot_be_forged():
    """Every output is uniquely determined: changing one violates a constraint."""
    c = build(ARITH, 2)
    w = satisfied(c, {"a": [1.5, -2.25, 3.0], "b": [-1.0, 0.5, 3.0]})
    for o in c.outputs:
        for j in range(o.length or 1):
            wire = o.wire + j
            v = signed(limbs_to_ints(w[wire : wire + 1])[0])
            for delta in (1, -1, R - 2 * v if v else 1):
                assert violated(c.r1cs, set_wire(w, wire, v + delta)).size > 0


# ------------------------------------------------------------------ division / rescale

DIV = """rule D { private x: fixed[5] bits 20 frac 8; output q = x / 3; output h = x / 4;
  output r = rescale(x, 2); output n = x / -2.5; }"""


@pytest.mark.parametrize("opt", [0, 2])
def test_division_floor_semantics(opt):
    c = build(DIV, opt)
    xs = [-1000.5, -0.00390625, 0.0, 3.0, 2047.99609375]
    w = satisfied(c, {"x": xs})
    out = c.decoded_outputs(w)
    enc = [round(x * 256) for x in xs]
    assert out["q"] == [(e // 3) / 256 for e in enc]
    assert out["h"] == [(e // 4) / 256 for e in enc]
    assert out["r"] == [(e // 64) / 4 for e in enc]
    assert out["n"] == [((-2 * e) // 5) / 256 for e in enc]


def test_division_alternative_quotient_forged():
    """x*q = p*y + rem has other field solutions (rem' in range, y' huge): y's range check
    rejects them."""
    c = build("rule D { private x: int bits 10; output q = x / 3; }", 0)
    w = satisfied(c, {"x": 100})
    _, y, rem, p = next(r for r in c.builder.decisions if r[0] == "div")
    assert p == 3 and limbs_to_ints(w[y])[0] == 33 and limbs_to_ints(w[rem])[0] == 1
    for rem_new in (0, 2):
        y_new = (100 - rem_new) * pow(3, -1, R) % R
        f = set_wire(set_wire(w, int(y[0]), y_new), int(rem[0]), rem_new)
        f = set_wire(f, c.outputs[0].wire, y_new)
        assert violated(c.r1cs, f).size > 0


# ------------------------------------------------------------------ booleans, ==, all / any

BOOL = """rule B { private x: int[4] bits 8; public t: int bits 8;
  output e = x == t; output ne = x != t;
  output both = x[0] > t and x[1] > t; output either = x[0] > t or not (x[1] > t);
  output al = all(x[i] >= t for i in 0..4); output an = any(x[i] == t for i in 0..4); }"""


@pytest.mark.parametrize("opt", [0, 2])
def test_boolean_gadgets_random(opt):
    c = build(BOOL, opt)
    for _ in range(25):
        x = RNG.integers(-3, 4, 4)
        t = int(RNG.integers(-3, 4))
        out = c.decoded_outputs(satisfied(c, {"x": x.tolist(), "t": t}))
        assert out["e"] == (x == t).astype(int).tolist()
        assert out["ne"] == (x != t).astype(int).tolist()
        assert out["both"] == int(x[0] > t and x[1] > t)
        assert out["either"] == int(x[0] > t or not x[1] > t)
        assert out["al"] == int((x >= t).all())
        assert out["an"] == int((x == t).any())


def test_is_zero_forged():
    c = build(BOOL, 0)
    w = satisfied(c, {"x": [1, 2, 3, 4], "t": 2})
    # claim x[0] == t: output e[0] := 1 and its is_zero output := 1 (with any inverse)
    rec = next(r for r in c.builder.decisions if r[0] == "is_zero")
    f = set_wire(set_wire(w, c.outputs[0].wire, 1), int(rec[1][0]), 1)
    assert violated(c.r1cs, f).size > 0


ASSERTS = """rule S { private x: int[4] bits 8; public t: int bits 8;
  assert all(x[i] != t for i in 0..4); assert any(x[i] > t for i in 0..4);
  assert x[0] > 0 and x[1] < 3 or not (x[2] == 1); }"""


def test_asserted_boolean_combinations():
    c = build(ASSERTS, 2)
    satisfied(c, {"x": [1, 2, 3, 4], "t": 0})
    with pytest.raises(AssertionFailed, match=r"x\[i\] = 0 == t = 0 at i = 2"):
        c.witness({"x": [1, 2, 0, 4], "t": 0})
    with pytest.raises(AssertionFailed, match=r"any\(.*\) is false"):
        c.witness({"x": [1, 2, 3, 4], "t": 5})
    with pytest.raises(AssertionFailed, match="is false"):
        c.witness({"x": [-1, 5, 1, 4], "t": -2})
    forged_fails(c, {"x": [1, 2, 0, 4], "t": 0})
    forged_fails(c, {"x": [1, 2, 3, 4], "t": 5})
    forged_fails(c, {"x": [-1, 5, 1, 4], "t": -2})


# ------------------------------------------------------------------ reductions and cosine

COS = """rule Cos(D = 6) { private g: fixed[D] bits 12 frac 8; public ref: fixed[D] bits 12 frac 8;
  public tau: fixed bits 10 frac 8;
  assert dot(g, ref) >= tau * norm(g) * norm(ref); }"""


def cos_ok(g, ref, tau) -> bool | None:
    d = float(np.dot(g, ref))
    rhs = tau * float(np.linalg.norm(g)) * float(np.linalg.norm(ref))
    if abs(d - rhs) < 1e-3:
        return None  # too close to call in floating point
    return d >= rhs


@pytest.mark.parametrize("opt", [0, 2])
def test_cosine_random_signs(opt):
    c = build(COS, opt)
    seen = set()
    for _ in range(60):
        g = RNG.integers(-2048, 2048, 6) / 256
        ref = RNG.integers(-2048, 2048, 6) / 256
        tau = int(RNG.integers(-255, 256)) / 256
        want = cos_ok(g, ref, tau)
        if want is None:
            continue
        seen.add((want, tau >= 0))
        inputs = {"g": g.tolist(), "ref": ref.tolist(), "tau": tau}
        if want:
            satisfied(c, inputs)
        else:
            with pytest.raises(AssertionFailed, match="dot"):
                c.witness(inputs)
            raw = {"g": (g * 256).astype(int).tolist(), "ref": (ref * 256).astype(int).tolist(),
                   "tau": int(tau * 256)}
            forged_fails(c, raw)
    assert seen == {(True, True), (True, False), (False, True), (False, False)}


def test_cosine_constant_positive_threshold_and_strict():
    src = """rule C2 { private g: fixed[3] bits 12 frac 8; public r: fixed[3] bits 12 frac 8;
      assert dot(g, r) > 0.5 * norm(g) * norm(r); output o = 0.25 * norm(g) <= norm(r); }"""
    c = build(src, 2)
    w = satisfied(c, {"g": [1.0, 0.0, 0.0], "r": [1.0, 0.5, 0.0]})
    assert c.decoded_outputs(w)["o"] == 1
    w = satisfied(c, {"g": [4.0, 1.0, 0.0], "r": [0.5, 0.0, 0.0]})
    assert c.decoded_outputs(w)["o"] == 0
    with pytest.raises(AssertionFailed):
        c.witness({"g": [1.0, 0.0, 0.0], "r": [0.0, 1.0, 0.0]})
    forged_fails(c, {"g": [256, 0, 0], "r": [0, 256, 0]})


NORM = """rule N(D = 8) { private g: fixed[D] bits 16 frac 12; public m: fixed bits 32 frac 12;
  assert all(abs(g[i]) <= 4.0 for i in 0..D);
  assert sum(g[i] * g[i] for i in 0..D) <= m * m; output n2 = norm2(g); }"""


@pytest.mark.parametrize("opt", [0, 2])
def test_norm_bound(opt):
    c = build(NORM, opt)
    for _ in range(10):
        g = RNG.integers(-16384, 16385, 8) / 4096
        m = float(np.sqrt((g**2).sum())) + 0.01
        w = satisfied(c, {"g": g.tolist(), "m": m})
        assert c.decoded_outputs(w)["n2"] == pytest.approx((g**2).sum())
    with pytest.raises(AssertionFailed, match=r"abs\(g\[i\]\) = 4.000244141 > 4.0 at i = 3"):
        c.witness({"g": [0, 0, 0, 4.0 + 1 / 4096, 0, 0, 0, 0], "m": 10.0})
    with pytest.raises(AssertionFailed, match=r"= 18 > m \* m = 16"):
        c.witness({"g": [3.0, 3.0, 0, 0, 0, 0, 0, 0], "m": 4.0})
    forged_fails(c, {"g": [0, 0, 0, 16385, 0, 0, 0, 0], "m": 10 << 12})
    forged_fails(c, {"g": [3 << 12, 3 << 12, 0, 0, 0, 0, 0, 0], "m": 4 << 12})
    forged_fails(c, {"g": [0] * 8, "m": -(1 << 40)})


def test_norm_comparison_inside_generator():
    src = """rule E { private g: fixed[4] bits 10 frac 4; public t: fixed bits 8 frac 4;
      assert all(abs(g[i]) * 2 <= t * norm(g) for i in 0..4);
      output o = all(g[i] >= 0.25 * norm(g) for i in 0..4); }"""
    for opt in (0, 2):
        c = build(src, opt)
        w = satisfied(c, {"g": [1, 1, 1, 1.5], "t": 1.5})
        assert c.decoded_outputs(w)["o"] == 1
        w = satisfied(c, {"g": [1, 1, 0.5, 1.5], "t": 1.5})
        assert c.decoded_outputs(w)["o"] == 0
        with pytest.raises(AssertionFailed, match=r"abs\(g\[i\]\) \* 2 = 6 > t \* norm\(g\) = "
                           r"5.196152423 at i = 3"):
            c.witness({"g": [1, 1, 1, 3], "t": 1.5})
        forged_fails(c, {"g": [16, 16, 16, 48], "t": 24})


def decision_wires(c) -> list[int]:
    out = []
    for rec in c.builder.decisions:
        if rec[0] in ("ge0", "is_zero"):
            out += [int(w) for w in np.asarray(rec[1]).reshape(-1)]
    return out


@pytest.mark.parametrize("src,raw", [
    ("rule F { private x: int bits 8; public y: int bits 8; "
     "assert x > y or x == y + 5 or not (x != -3); }", {"x": 1, "y": 2}),
    ("rule F { private x: int[2] bits 8; public y: int bits 8; "
     "assert any(x[i] >= y for i in 0..2) and min(x) != y; }", {"x": [1, 3], "y": 4}),
    ("rule F { private g: fixed[3] bits 8 frac 4; public r: fixed[3] bits 8 frac 4; "
     "public t: fixed bits 6 frac 4; assert dot(g, r) >= t * norm(g) * norm(r); }",
     {"g": [16, 0, 0], "r": [0, 16, 0], "t": 8}),
    ("rule F { private g: fixed[3] bits 8 frac 4; public r: fixed[3] bits 8 frac 4; "
     "public t: fixed bits 6 frac 4; assert dot(g, r) >= t * norm(g) * norm(r); }",
     {"g": [-16, 0, 0], "r": [16, 16, 0], "t": -8}),
])
def test_every_forged_decision_assignment_fails(src, raw):
    """The statement is false; whatever values the decision bits are forced to (everything
    downstream recomputed from them), some constraint is violated."""
    import itertools

    for opt in (0, 2):
        c = build(src, opt)
        wires = decision_wires(c)
        assert 1 <= len(wires) <= 8
        for bits in itertools.product((0, 1), repeat=len(wires)):
            w = c.full_witness(raw, forge=True, force=dict(zip(wires, bits, strict=True)))
            assert violated(c.r1cs, w[c.kept]).size > 0, bits


def test_forcing_harness_control():
    """Control for the test above: forcing the honest decision values changes nothing."""
    c = build("rule F { private x: int bits 8; public y: int bits 8; "
              "assert x > y or x == y + 5 or not (x != -3); }", 2)
    raw = {"x": 7, "y": 2}
    honest = c.full_witness(raw)
    wires = decision_wires(c)
    force = {w: limbs_to_ints(honest[w : w + 1])[0] for w in wires}
    w = c.full_witness(raw, forge=True, force=force)
    assert (w == honest).all() and violated(c.r1cs, w[c.kept]).size == 0
    flipped = {k: 1 - v for k, v in force.items()}
    assert violated(c.r1cs, c.full_witness(raw, forge=True, force=flipped)[c.kept]).size > 0
