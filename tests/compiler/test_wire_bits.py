"""R1CS.wire_bits: every wire's width bound holds for every witness of valid inputs (extreme
values included), at every optimisation level; the bounds are tight enough to matter (norm_bound)
and survive the optimiser, the dev setup and the proving-key file."""

from __future__ import annotations

import collections
import random
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnidsl.compiler import compile_file, compile_rule
from omnidsl.compiler.builder import Builder, width
from omnidsl.compiler.circuit import Circuit
from omnidsl.errors import AssertionFailed, OmniDSLError
from omnidsl.field import R, limbs_to_ints, signed
from omnidsl.r1cs.system import WIRE_BITS_FULL

CIRCUITS = Path(__file__).resolve().parents[2] / "circuits"
LEVELS = (0, 1, 2)
I16 = (-(1 << 15), (1 << 15) - 1)
I32 = (-(1 << 31), (1 << 31) - 1)
I161 = (-(1 << 160), (1 << 160) - 1)
FIELD = (0, R - 1)

# Per rule: small parameters, the raw (encoded) range random entries of each input are drawn
# from (inside the declared range; narrower where the rule would reject most values), and
# hand-made valid inputs at the extremes (raw encoded integers, as strings).
RULES: dict[str, tuple[dict[str, int], dict[str, tuple[int, int]], list[dict]]] = {
    "norm_bound": ({"D": 6}, {"g": (-16384, 16384), "max_norm": I32}, [
        {"g": [16384] * 6, "max_norm": -(1 << 31)},
        {"g": [-16384] * 6, "max_norm": (1 << 31) - 1},
        {"g": [0] * 6, "max_norm": 0},
        {"g": [16384, -16384] * 3, "max_norm": 40133},
    ]),
    "range": ({"D": 4}, {"x": (-16384, 16384), "lo": (-32768, -16384), "hi": (16384, 32767)}, [
        {"x": [-32768, 32767, 0, -1], "lo": -32768, "hi": 32767},
        {"x": [-32768] * 4, "lo": -32768, "hi": -32768},
        {"x": [32767] * 4, "lo": 32767, "hi": 32767},
        {"x": [0] * 4, "lo": 0, "hi": 0},
    ]),
    "cosine": ({"D": 4}, {"g": I16, "ref": I16, "tau": I16, "max_norm": I32,
                          "min_norm": (1, 1 << 12)}, [
        {"g": [-32768] * 4, "ref": [-32768] * 4, "tau": 4096, "max_norm": -(1 << 31),
         "min_norm": 65536},
        {"g": [32767] * 4, "ref": [-32768] * 4, "tau": -32768, "max_norm": (1 << 31) - 1,
         "min_norm": 1},
        {"g": [1, 0, 0, 0], "ref": [0] * 4, "tau": 0, "max_norm": 1, "min_norm": 1},
        {"g": [1] * 4, "ref": [32767] * 4, "tau": 4096, "max_norm": 2, "min_norm": 2},
    ]),
    # the same rule with the reference committed (its commitment is computed in the circuit)
    "cosine_committed": ({"D": 4}, {"g": I16, "ref": I16, "tau": I16, "max_norm": I32,
                          "min_norm": (1, 1 << 12)}, [
        {"g": [-32768] * 4, "ref": [-32768] * 4, "tau": 4096, "max_norm": -(1 << 31),
         "min_norm": 65536},
        {"g": [32767] * 4, "ref": [-32768] * 4, "tau": -32768, "max_norm": (1 << 31) - 1,
         "min_norm": 1},
        {"g": [1, 0, 0, 0], "ref": [0] * 4, "tau": 0, "max_norm": 1, "min_norm": 1},
        {"g": [1] * 4, "ref": [32767] * 4, "tau": 4096, "max_norm": 2, "min_norm": 2},
    ]),
    "mean_output": ({"D": 4}, {"g": (-16384, 16384), "clip": I16}, [
        {"g": [-16384] * 4, "clip": 32767},
        {"g": [16384] * 4, "clip": 16384},
        {"g": [-32767, 0, 0, 0], "clip": 32767},
        {"g": [0] * 4, "clip": 0},
    ]),
    "outliers": ({"D": 6, "K": 3}, {"x": (-16384, 16383), "spread": (32767, 32767),
                                   "cap": (16384, 32767)}, [
        {"x": [-32768] * 6, "spread": 0, "cap": 1},
        {"x": [32766, 32766, 32766, 0, 0, 0], "spread": 32767, "cap": 32767},
        {"x": [-32768, -1, -1, -1, -1, -1], "spread": 32767, "cap": 1},
        {"x": [1, 0, 0, 0, 0, 0], "spread": 1, "cap": 2},
    ]),
    # the market's rules: the rules above plus the owner, the challenge, a mask and a fingerprint
    "market_norm": ({"D": 6}, {"g": (-16384, 16384), "max_norm": I32, "owner": I161,
                               "rho": FIELD, "mask": FIELD}, [
        {"g": [16384] * 6, "max_norm": -(1 << 31), "owner": -(1 << 160), "rho": R - 1,
         "mask": R - 1},
        {"g": [-16384] * 6, "max_norm": (1 << 31) - 1, "owner": (1 << 160) - 1, "rho": 0,
         "mask": 0},
        {"g": [0] * 6, "max_norm": 0, "owner": 0, "rho": 1, "mask": 5},
    ]),
    "market_cosine": ({"D": 4}, {"g": I16, "ref": I16, "tau": I16, "max_norm": I32,
                                 "min_norm": (1, 1 << 12), "owner": I161, "rho": FIELD,
                                 "mask": FIELD}, [
        {"g": [-32768] * 4, "ref": [-32768] * 4, "tau": 4096, "max_norm": -(1 << 31),
         "min_norm": 65536, "owner": (1 << 160) - 1, "rho": R - 1, "mask": R - 1},
        {"g": [1] * 4, "ref": [32767] * 4, "tau": 4096, "max_norm": 2, "min_norm": 2,
         "owner": -(1 << 160), "rho": 2, "mask": 0},
    ]),
}

# Gadgets the example rules do not use: division, rescale, min/max, !=, ==, selects, outputs
# with conversions, big (> 62-bit) values, field inputs and fingerprints.
MIX = """rule Mix(D = 4) {
    private x: fixed[D] bits 12 frac 4;
    public  k: int bits 8;
    assert k != 0, "k must not be zero";
    assert all(x[i] != 1.5 for i in 0..D);
    output q = sum(x[i] for i in 0..D) / 3;
    output r: fixed frac 1 = rescale(max(x[i] for i in 0..D), 1);
    output m = min(x[0], k) * 2 - x[1] / 5;
    output z = x[0] == x[1];
    output a = abs(x[2] - k) * x[3];
    output c = x[0] if x[1] > k else -x[2];
}"""
BIG = """rule Big {
    private a: int bits 80;
    public  b: fixed[3] bits 80 frac 60;
    output p = a * a;
    output q = a > b[1];
    output s = sum(b) / 3;
    assert a * b[0] <= 1.0;
    output e = a == b[2];
}"""
FP = """rule Fp(D = 5) {
    private g: fixed[D] bits 16 frac 12;
    public  rho: field;
    output fp = fingerprint(g, rho);
    output t = sum(g[i] for i in 0..D);
}"""
EXTRA: dict[str, tuple[str, dict[str, tuple[int, int]], list[dict]]] = {
    "mix": (MIX, {"x": (-2048, 2047), "k": (-128, 127)}, [
        {"x": [-2048, 2047, -2048, 2047], "k": -128},
        {"x": [2047, -2048, 2047, -2048], "k": 127},
        {"x": [0, 0, 0, 0], "k": 1},
        {"x": [-2048] * 4, "k": -1},
    ]),
    "big": (BIG, {"a": (-(1 << 79), (1 << 79) - 1), "b": (-(1 << 79), (1 << 79) - 1)}, [
        {"a": -(1 << 79), "b": [0, -(1 << 79), (1 << 79) - 1]},
        {"a": (1 << 79) - 1, "b": [-(1 << 79), (1 << 79) - 1, (1 << 79) - 1]},
        {"a": 0, "b": [(1 << 79) - 1, 0, 0]},
    ]),
    "fp": (FP, {"g": I16, "rho": (0, R - 1)}, [
        {"g": [-32768] * 5, "rho": R - 1},
        {"g": [32767] * 5, "rho": 0},
        {"g": [0] * 5, "rho": 1},
    ]),
}


def values(wit: np.ndarray) -> list[int]:
    """Witness limbs as signed integers in (−r/2, r/2)."""
    return [signed(v) for v in limbs_to_ints(wit)]


def check_witness(c: Circuit, wit: np.ndarray) -> None:
    bits = c.r1cs.wire_bits
    assert bits is not None and bits.dtype == np.uint8 and bits.shape == (c.r1cs.n_wires,)
    assert int(bits.max()) <= WIRE_BITS_FULL and bits[0] == 1
    bad = [(j, v, int(b)) for j, (v, b) in enumerate(zip(values(wit), bits.tolist(), strict=True))
           if b < WIRE_BITS_FULL and abs(v) >= 1 << b]
    assert not bad, f"{c.name}: wires over their width (wire, value, bits): {bad[:5]}"


def raw_inputs(c: Circuit, ranges: dict[str, tuple[int, int]], rng: random.Random) -> dict:
    """Random raw (encoded) inputs, biased to the ends of each range and to 0, ±1."""
    def one(lo: int, hi: int) -> str:
        if rng.random() < 0.5:
            v = rng.choice([lo, hi, 0, 1, -1, lo + 1, hi - 1])
        else:
            v = rng.randint(lo, hi)
        return str(min(max(v, lo), hi))

    out: dict = {}
    for lay in c.inputs:
        lo, hi = ranges[lay.name]
        out[lay.name] = (one(lo, hi) if lay.length is None
                         else [one(lo, hi) for _ in range(lay.length)])
    return out


def as_strings(inp: dict) -> dict:
    return {k: [str(x) for x in v] if isinstance(v, list) else str(v) for k, v in inp.items()}


def run_cases(circuits: list[Circuit], ranges: dict, fixed: list[dict], n_random: int,
              seed: int) -> int:
    """Witnesses of the fixed and random valid inputs checked against every level's widths;
    returns the number of random inputs that were valid."""
    rng = random.Random(seed)
    valid = 0
    for j in range(len(fixed) + n_random):
        inp = as_strings(fixed[j]) if j < len(fixed) else raw_inputs(circuits[0], ranges, rng)
        try:
            wits = [c.witness(inp) for c in circuits]
        except AssertionFailed:
            assert j >= len(fixed), f"hand-made input {j} is not valid"
            continue
        valid += j >= len(fixed)
        for c, w in zip(circuits, wits, strict=True):
            check_witness(c, w)
    return valid


def test_every_rule_is_covered():
    assert sorted(p.stem for p in CIRCUITS.glob("*.omni")) == sorted(RULES)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_example_rules_widths_hold(rule):
    params, ranges, fixed = RULES[rule]
    circuits = [compile_file(CIRCUITS / f"{rule}.omni", params, lvl) for lvl in LEVELS]
    full = circuits[0].r1cs.wire_bits
    for c in circuits[1:]:
        assert np.array_equal(c.r1cs.wire_bits, full[c.kept])
    valid = run_cases(circuits, ranges, fixed, 40, zlib.crc32(rule.encode()))
    assert valid >= 3, f"only {valid} random valid inputs for {rule}"


@pytest.mark.parametrize("name", sorted(EXTRA))
def test_extra_gadgets_widths_hold(name):
    src, ranges, fixed = EXTRA[name]
    circuits = [compile_rule(src, f"{name}.omni", None, lvl) for lvl in LEVELS]
    valid = run_cases(circuits, ranges, fixed, 30, 7)
    assert valid >= 3


def test_exact_widths_of_known_wires():
    c = compile_rule(MIX, "mix.omni", None, 0)
    bits = c.r1cs.wire_bits
    lay = {i.name: i for i in c.inputs}
    assert (bits[lay["x"].wire : lay["x"].wire + 4] == 12).all()  # bits 12: |x| <= 2^11
    assert bits[lay["k"].wire] == 8
    assert bits[0] == 1
    # every range-check and decision bit is 1 bit wide; the != inverses are unbounded
    for rec in c.builder.decisions:
        if rec[0] == "is_zero":
            assert (c.builder.wire_bits()[rec[1]] == 1).all()
        if rec[0] == "div":
            _, _y, rem, p = rec
            assert (c.builder.wire_bits()[rem] == width(0, p - 1)).all()
    assert (bits == WIRE_BITS_FULL).sum() >= 5  # 1 for k != 0, 4 for x[i] != 1.5
    fp = compile_rule(FP, "fp.omni", None, 0)
    fb = fp.r1cs.wire_bits
    out = {o.name: o.wire for o in fp.outputs}
    assert fb[out["fp"]] == WIRE_BITS_FULL and fb[out["t"]] == width(-5 * 2**15, 5 * 2**15)
    rho = next(i.wire for i in fp.inputs if i.name == "rho")
    assert fb[rho] == WIRE_BITS_FULL
    big = compile_rule(BIG, "big.omni", None, 0)
    p = next(o.wire for o in big.outputs if o.name == "p")
    assert big.r1cs.wire_bits[p] == 159  # (2^79)^2 = 2^158 < 2^159


def test_builder_defaults_and_caps():
    b = Builder()
    b.alloc(2)
    large = b.alloc(2, big=True)
    b.alloc(1, bits=5)
    b.alloc(1, bits=200)  # a small wire: capped at 62
    b.set_bits(large[:1], 17)
    wb = b.wire_bits()
    assert wb.tolist() == [1, 62, 62, 17, 254, 5, 62]
    assert width(0, 0) == 0 and width(-8, 7) == 4 and width(-9, 0) == 4 and width(0, R) == 254


def test_norm_bound_widths_are_small():
    c = compile_file(CIRCUITS / "norm_bound.omni", {"D": 1000}, 2)
    bits = c.r1cs.wire_bits
    hist = collections.Counter(bits.tolist())
    # 1-bit range-check/decision bits, inputs of 15 bits (|g| <= 4.0 = 2^14 at frac 12, the
    # fused bound of omnidsl/compiler/fuse.py), 29-bit squares, the 32-bit bound and its 63-bit
    # square: nothing needs a full field element
    assert set(hist) <= {1, 15, 29, 32, 63}
    assert hist[15] == 1000 and hist[29] >= 999
    assert (bits <= 24).mean() >= 0.94  # 17 of the 18 wires per entry
    assert (bits < WIRE_BITS_FULL).all()
    g = [4.0, -4.0] + [0.01 * (-1) ** i for i in range(998)]
    check_witness(c, c.witness({"g": g, "max_norm": 100.0}))


# ------------------------------------------------------------ random expressions

HEADER = ("rule Z { private x: fixed bits 10 frac 3; public y: int bits 6; "
          "private v: fixed[3] bits 8 frac 2; private a: int bits 70;")
RANGES = {"x": (-512, 511), "y": (-32, 31), "v": (-128, 127), "a": (-(1 << 69), (1 << 69) - 1)}
leaf = st.sampled_from(["x", "y", "v[0]", "v[1]", "v[2]", "a", "0", "1", "0.5", "3", "-2"])


def _node(a):
    return st.one_of(
        st.tuples(a, st.sampled_from(["+", "-", "*"]), a).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(a, st.sampled_from(["3", "4", "0.5", "-2", "7"])).map(
            lambda t: f"({t[0]} / {t[1]})"),
        a.map(lambda s: f"abs({s})"),
        st.tuples(st.sampled_from(["min", "max"]), a, a).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.tuples(a, st.sampled_from(["<", ">=", "==", "!="]), a, a, a).map(
            lambda t: f"({t[3]} if {t[0]} {t[1]} {t[2]} else {t[4]})"),
        st.tuples(a, st.integers(0, 3)).map(lambda t: f"rescale({t[0]}, {t[1]})"),
        st.just("sum(v[i] * x for i in 0..3)"),
        st.just("min(v[i] for i in 0..3)"),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.recursive(leaf, _node, max_leaves=5), st.integers(0, 2**16), st.sampled_from(LEVELS))
def test_random_expressions_widths_hold(expr, seed, level):
    src = f"{HEADER} output o = {expr}; output f: fixed frac 1 = {expr}; }}"
    try:
        c = compile_rule(src, "z.omni", None, level)
    except OmniDSLError:
        return  # rejected by the checker (e.g. a bound beyond the field): nothing to check
    rng = random.Random(seed)
    for _ in range(4):
        inp = raw_inputs(c, RANGES, rng)
        try:
            w = c.witness(inp)
        except AssertionFailed:
            continue
        check_witness(c, w)


# ------------------------------------------------------------ through setup and the key file


def test_widths_survive_setup_and_key_file(tmp_path):
    from omnidsl.backend import get_backend
    from omnidsl.groth16.keys import read_proving_key, write_proving_key
    from omnidsl.groth16.setup import contribute, dev_setup

    backend = get_backend("native")
    c = compile_file(CIRCUITS / "range.omni", {"D": 3}, 2)
    bits = c.r1cs.wire_bits.copy()
    pk = contribute(dev_setup(c.r1cs, backend), backend, name="t")
    assert np.array_equal(pk.r1cs.wire_bits, bits)
    write_proving_key(pk, tmp_path / "pk.bin")
    back = read_proving_key(tmp_path / "pk.bin")
    assert np.array_equal(back.r1cs.wire_bits, bits)
    assert back.r1cs.wire_bits.shape == (back.n_wires,)


def test_cli_setup_keeps_widths_from_rules_only(tmp_path):
    from omnidsl.cli import main
    from omnidsl.groth16.keys import read_proving_key

    rule = str(CIRCUITS / "range.omni")
    assert main(["setup", rule, "--param", "D=3", "-o", str(tmp_path / "k1")]) == 0
    want = compile_file(rule, {"D": 3}, 2).r1cs.wire_bits
    got = read_proving_key(tmp_path / "k1" / "proving_key.bin").r1cs.wire_bits
    assert np.array_equal(got, want)
    # circom-format .r1cs files carry no widths: keys made from them have none
    assert main(["compile", rule, "--param", "D=3", "-o", str(tmp_path / "c")]) == 0
    assert main(["setup", str(tmp_path / "c" / "range.r1cs"), "-o", str(tmp_path / "k2")]) == 0
    pk2 = read_proving_key(tmp_path / "k2" / "proving_key.bin")
    assert pk2.r1cs.wire_bits is None and (pk2.r1cs.widths() == WIRE_BITS_FULL).all()
