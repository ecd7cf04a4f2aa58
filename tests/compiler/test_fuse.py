"""Fused input bounds (omnidsl/compiler/fuse.py): the hand optimum, and the rule's meaning kept.

Soundness is checked on the R1CS itself, not only on the witness generator: exhaustively on
small widths (every assignment of the bit wires for every nearby value), with forged witnesses
(bits wrapped, wires pinned to wide values), and -O0 against -O2 on random inputs.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import numpy as np
import pytest

from omnidsl.compiler import compile_rule
from omnidsl.compiler.check import violated
from omnidsl.compiler.circuit import compile_file
from omnidsl.compiler.fuse import interval_cost, plan
from omnidsl.compiler.optimise import optimise_full
from omnidsl.compiler.pipeline import Pipeline
from omnidsl.errors import AssertionFailed
from omnidsl.field import R, ints_to_limbs, limbs_to_ints

CIRCUITS = Path(__file__).resolve().parents[2] / "circuits"


def build(src: str, opt: int = 0, **params: int):
    return compile_rule(src, "t.omni", params or None, opt)


def fusion_of(src: str, params: dict[str, int] | None = None, path: Path | None = None):
    p = Pipeline.from_file(path, params) if path is not None else Pipeline(src, "t.omni", params)
    return plan(p.checked)


def per_entry(rule: str) -> float:
    n = [compile_file(CIRCUITS / f"{rule}.omni", {"D": d}, 2).r1cs.n_constraints
         for d in (16, 32)]
    return (n[1] - n[0]) / 16


def test_norm_bound_and_range_at_the_hand_optimum():
    # 16 bits of g + 16384, 1 product (hi - lo = 2^15), 1 square: benchmarks/circom/norm_bound
    assert per_entry("norm_bound") == 18
    # x - lo and hi - x decomposed (16 bits each); x's own range check is implied
    assert per_entry("range") == 32


def test_interval_cost():
    assert interval_cost(-16384, 16384) == 17  # 2^15 wide: k + 1
    assert interval_cost(-8, 7) == 4           # 2^4 - 1 wide: k
    assert interval_cost(1, (1 << 31) - 1) == 62  # otherwise 2k


# ---------------------------------------------------------------- exhaustive soundness

SMALL = [
    ("rule F { private x: int bits 6; assert abs(x) <= 8; }", lambda x: abs(x) <= 8),
    ("rule F { private x: int bits 6; assert x >= -3 and x <= 9; }", lambda x: -3 <= x <= 9),
    ("rule F { private x: int bits 6; assert x > -9 and x < 7; }", lambda x: -9 < x < 7),
    ("rule F { private x: int bits 6; assert x < 100; }", lambda x: -32 <= x < 32),
    ("rule F { private x: int bits 6; assert x >= 5; }", lambda x: 5 <= x < 32),
]


@pytest.mark.parametrize("src,ok", SMALL)
def test_fused_interval_exhaustive(src, ok):
    """Every value near the range, every assignment of the other (bit) wires: the R1CS holds
    exactly for the values the rule accepts."""
    c = build(src, 0)
    r = c.r1cs
    assert r.n_wires - 2 <= 12 and (r.wire_bits[2:] == 1).all()  # only bits besides x
    mats = [_dense(m, r.coeffs, r.n_wires) for m in (r.A, r.B, r.C)]
    bits = np.array(list(itertools.product((0, 1), repeat=r.n_wires - 2)), np.int64)
    for x in range(-40, 41):
        w = np.concatenate([np.ones((len(bits), 1), np.int64), np.full((len(bits), 1), x),
                            bits], axis=1)
        a, b, cc = (w @ m.T for m in mats)  # all tiny: integer equality is field equality
        sat = bool(((a * b - cc) == 0).all(axis=1).any())
        assert sat == ok(x), x


def _dense(m, coeffs, n: int) -> np.ndarray:
    """The matrix with signed small coefficients (c or c − r)."""
    out = np.zeros((m.n_rows, n), np.int64)
    for k in range(m.n_rows):
        for t in range(int(m.row_ptr[k]), int(m.row_ptr[k + 1])):
            c = int(coeffs[m.coeff_id[t]])
            c = c - R if c > R // 2 else c
            assert abs(c) < 1 << 20
            out[k, m.wire[t]] += c
    return out


def test_fused_bound_refuses_forged_entries():
    c = compile_file(CIRCUITS / "norm_bound.omni", {"D": 4}, 2)
    good = {"g": [0, 16384, -16384, 5], "max_norm": 1 << 20}
    assert violated(c.r1cs, c.full_witness(good, forge=True)[c.kept]).size == 0
    for bad in (16385, -16385, 32767, -32768, 1 << 20, -(1 << 40)):
        w = c.full_witness({"g": [0, bad, 0, 0], "max_norm": 1 << 20}, forge=True)
        assert violated(c.r1cs, w[c.kept]).size > 0, bad


def test_implied_range_refuses_wide_values():
    """range.omni drops x's own range check: lo <= x <= hi still pins x to 16 bits."""
    c = compile_file(CIRCUITS / "range.omni", {"D": 3}, 2)
    assert "x" in fusion_of("", {"D": 3}, CIRCUITS / "range.omni").implied
    lo, hi = -4096, 8192
    ok = c.full_witness({"x": [lo, hi, 0], "lo": lo, "hi": hi}, forge=True)
    assert violated(c.r1cs, ok[c.kept]).size == 0
    for bad in (hi + 1, lo - 1, 1 << 16, 1 << 40, -(1 << 40), -(1 << 61)):
        w = c.full_witness({"x": [0, bad, 0], "lo": lo, "hi": hi}, forge=True)
        assert violated(c.r1cs, w[c.kept]).size > 0, bad
    with pytest.raises(AssertionFailed, match=r"x\[i\] = 2.000244141 > hi = 2 at i = 1"):
        c.witness({"x": [0, 2 + 2 ** -12, 0], "lo": -1.0, "hi": 2.0})


def test_fused_failure_messages_name_the_assertion():
    c = compile_file(CIRCUITS / "norm_bound.omni", {"D": 4}, 2)
    with pytest.raises(AssertionFailed, match=r"abs\(g\[i\]\) = 4.000244141 > 4.0 at i = 2 "
                       r"\(a gradient entry exceeds 4.0 in magnitude\)"):
        c.witness({"g": [0, 4.0, 4 + 2 ** -12, 0], "max_norm": 100.0})
    with pytest.raises(AssertionFailed, match=r"abs\(g\[i\]\) = 4.5 > 4.0 at i = 0"):
        c.witness({"g": [-4.5, 0, 0, 0], "max_norm": 100.0})
    c = compile_file(CIRCUITS / "cosine.omni", {"D": 2}, 2)
    assert "min_norm" in fusion_of("", {"D": 2}, CIRCUITS / "cosine.omni").bounds
    with pytest.raises(AssertionFailed, match=r"min_norm = 0 <= 0 \(the minimum norm must be"):
        c.witness({"g": [1, 1], "ref": [1, 1], "tau": 0.25, "max_norm": 10.0,
                   "min_norm": 0.0})


def test_fusion_only_where_it_is_sound_and_cheaper():
    def fused(src):
        p = fusion_of(src)
        return set(p.bounds), set(p.implied)

    vec = "rule F { private g: fixed[4] bits 16 frac 12; public t: fixed bits 16 frac 12; "
    # abs(g) reused elsewhere: its sign bit is worth more than the fusion
    assert fused(vec + "assert all(abs(g[i]) <= 4.0 for i in 0..4); output a = abs(g); }") \
        == (set(), set())
    # under or / any / part of the range: not unconditional for every entry
    assert fused(vec + "assert all(g[i] <= 1.0 or g[i] >= 2.0 for i in 0..4); }") == (set(), set())
    assert fused(vec + "assert any(abs(g[i]) <= 1.0 for i in 0..4); }") == (set(), set())
    assert fused(vec + "assert all(abs(g[i]) <= 1.0 for i in 0..3); }") == (set(), set())
    assert fused(vec + "assert all(abs(g[i]) <= 1.0 for i in 0..4); }") == ({"g"}, set())
    # bounds by each other only: neither range check may go
    assert fused("rule F { public a: int bits 8; public b: int bits 8; "
                 "assert a <= b and a >= b; }") == (set(), set())
    # a bound wider than g's declared range does not make g's range implied
    assert fused("rule F { private g: int[2] bits 8; public t: int bits 9; "
                 "assert all(g[i] <= t and g[i] >= t for i in 0..2); }") == (set(), set())


# ---------------------------------------------------------------- -O0 against -O2

RULES = [
    """rule A(D = 5) { private g: fixed[D] bits 12 frac 4; public t: fixed bits 12 frac 4;
       assert all(abs(g[i]) <= 7.5 for i in 0..D); assert t > -3;
       output s = sum(g[i] * g[i] for i in 0..D); output n = sum(1 if g[i] > t else 0 for i in 0..D);
    }""",
    """rule B(D = 4) { private x: fixed[D] bits 12 frac 4; public lo: fixed bits 12 frac 4;
       public hi: fixed bits 12 frac 4; assert lo <= hi;
       assert all(x[i] >= lo and x[i] <= hi for i in 0..D); output m = max(x); }""",
    """rule C(D = 4) { private x: int[D] bits 10; assert all(x[i] < 200 and x[i] >= -56 for i in 0..D);
       output s = sum(x[i] for i in 0..D); }""",
]


def _meaning(rule: str, inp: dict) -> bool:
    if rule.startswith("rule A"):
        return all(abs(v) <= 7.5 for v in inp["g"]) and inp["t"] > -3
    if rule.startswith("rule B"):
        return inp["lo"] <= inp["hi"] and all(inp["lo"] <= v <= inp["hi"] for v in inp["x"])
    return all(-56 <= v < 200 for v in inp["x"])


def _inputs(rule: str, rng: np.random.Generator) -> dict:
    if rule.startswith("rule A"):
        return {"g": [float(v) for v in rng.integers(-2047, 2048, 5) / 16 * rng.choice(
            [0.06, 1.0])], "t": float(rng.integers(-2047, 2048)) / 16 * rng.choice([0.1, 1])}
    if rule.startswith("rule B"):
        lo, hi = sorted(rng.integers(-2047, 2048, 2) / 16)
        x = rng.uniform(lo - 1, hi + 1, 4).round(2) if rng.random() < 0.5 else \
            rng.uniform(lo, hi, 4)
        return {"x": [float(round(v * 16) / 16) for v in x], "lo": float(lo), "hi": float(hi)}
    return {"x": [int(v) for v in rng.integers(-80, 240, 4) * rng.choice([0.5, 1.0])]}


@pytest.mark.parametrize("src", RULES)
def test_fused_rules_keep_their_meaning_at_every_level(src):
    c0, c2 = build(src, 0), build(src, 2)
    f = fusion_of(src)
    assert f.bounds or f.implied
    res = optimise_full(c0.r1cs, 2)
    rng = np.random.default_rng(11)
    pyr = random.Random(5)
    seen = set()
    for _ in range(40):
        inp = _inputs(src, rng)
        ok = _meaning(src, inp)
        seen.add(ok)
        if not ok:
            with pytest.raises(AssertionFailed):
                c0.witness(inp)
            with pytest.raises(AssertionFailed):
                c2.witness(inp)
            continue
        full = c0.full_witness(inp)
        w2 = c2.witness(inp)
        assert np.array_equal(w2, full[c2.kept])
        assert c2.public_signals(w2) == c0.public_signals(c0.witness(inp))
        zk0 = limbs_to_ints(full[res.kept])
        for _ in range(4):  # corrupted kept wires: -O2 holds iff -O0 holds on the extension
            zk = list(zk0)
            j = pyr.randrange(1, len(zk))
            zk[j] = pyr.choice([(zk[j] + 1) % R, (zk[j] - 1) % R, zk[j] ^ 1, pyr.randrange(R)])
            ok_opt = violated(res.r1cs, ints_to_limbs(zk)).size == 0
            ok_orig = violated(c0.r1cs, ints_to_limbs(res.extend(zk, c0.r1cs.n_wires))).size == 0
            assert ok_opt == ok_orig
    assert seen == {True, False}
