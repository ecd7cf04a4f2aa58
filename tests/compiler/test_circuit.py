"""The Circuit API: layout, public signals, report, optimisation levels, big values."""

from __future__ import annotations

import numpy as np
import pytest

from omnidsl.compiler import compile_file, compile_rule
from omnidsl.compiler.check import violated
from omnidsl.errors import AssertionFailed
from omnidsl.field import R, ints_to_limbs, signed

MEAN = """rule Mean(D = 5) {
    public  clip: fixed bits 16 frac 12;
    private g: fixed[D] bits 16 frac 12;
    assert all(abs(g[i]) <= clip for i in 0..D);
    output total = sum(g[i] for i in 0..D);
    output mean: fixed frac 8 = total / D;
    output flags = g > 0;
}"""


def test_layout_and_public_signals():
    c = compile_rule(MEAN, "m.omni")
    assert [(i.name, i.visibility, i.length, i.wire) for i in c.inputs] == [
        ("clip", "public", None, 8), ("g", "private", 5, 9)]
    assert [(o.name, o.length, o.scale, o.wire) for o in c.outputs] == [
        ("total", None, 12, 1), ("mean", None, 8, 2), ("flags", 5, 0, 3)]
    r = c.r1cs
    assert (r.n_pub_out, r.n_pub_in, r.n_prv_in) == (7, 1, 5)
    g = [0.5, -0.25, 1.0, 0.0, -2.0]
    w = c.witness({"clip": 2.0, "g": g})
    pub = c.public_signals(w)
    assert len(pub) == 8 and pub[-1] == 2 * 4096
    assert signed(pub[0]) == -0.75 * 4096
    assert signed(pub[1]) == (-3072 // 5) >> 4  # floor at frac 12, then floor to frac 8
    assert pub[2:7] == [1, 0, 1, 0, 0]
    assert c.decoded_outputs(w)["flags"] == [1, 0, 1, 0, 0]
    assert r.labels[9] == "main.g[0]" and r.labels[1] == "main.total"


def test_report_per_line():
    c = compile_rule(MEAN, "m.omni", {"D": 7}, 2)
    rep = c.report()
    assert rep.startswith(f"rule Mean: {c.r1cs.n_constraints} constraints (-O2; ")
    lines = [ln for ln in rep.splitlines() if ln.startswith("  ") and ln.strip()[0].isdigit()]
    total = sum(int(ln.split()[1]) for ln in lines)
    assert total == c.r1cs.n_constraints
    assert any("assert all(abs(g[i]) <= clip" in ln for ln in lines)


@pytest.mark.parametrize("opt", [0, 1, 2])
def test_levels_agree_on_public_signals(opt):
    ref = compile_rule(MEAN, "m.omni", None, 0)
    c = compile_rule(MEAN, "m.omni", None, opt)
    inp = {"clip": 1.5, "g": [0.5, -0.25, 1.0, 0.0, -1.5]}
    assert c.public_signals(c.witness(inp)) == ref.public_signals(ref.witness(inp))
    assert c.r1cs.n_constraints <= ref.r1cs.n_constraints
    assert (c.kept[: 1 + 8 + 5] == np.arange(14)).all()


def test_clip_failure_message():
    c = compile_rule(MEAN, "m.omni")
    with pytest.raises(AssertionFailed) as exc:
        c.witness({"clip": 0.5, "g": [0.5, -0.25, 1.0, 0.0, -2.0]})
    assert str(exc.value).startswith(
        "m.omni:4:16: assertion failed: abs(g[i]) = 1 > clip = 0.5 at i = 2")


def test_big_values_use_exact_integers():
    src = """rule B { private a: int bits 80; public b: fixed[3] bits 80 frac 60;
      output p = a * a; output q = a > b[1]; output s = sum(b) / 3; assert a * b[0] <= 1.0;
      output e = a == b[2]; }"""
    c = compile_rule(src, "b.omni")
    a = 2**78
    w = c.witness({"a": str(a), "b": ["0", str(-(2**78)), str(2**78)]})
    assert violated(c.r1cs, w).size == 0
    out = c.decoded_outputs(w)
    assert out["p"] == a * a and out["q"] == 1 and out["e"] == 0
    with pytest.raises(AssertionFailed, match=r"a \* b\[0\] = 3.02231\d*e\+23 > 1.0"):
        c.witness({"a": str(a), "b": [str(2**60), "0", "5"]})
    # forged: the product wire set to a wrapped value
    bad = w.copy()
    bad[1] = ints_to_limbs([(a * a + R) % R - 1])[0]
    assert violated(c.r1cs, bad).size > 0


def test_compile_file_and_circuits(project_root):
    c = compile_file(project_root / "circuits" / "norm_bound.omni", {"D": 16})
    assert c.name == "NormBound" and c.r1cs.n_prv_in == 16
    g = np.linspace(-1, 1, 16).tolist()
    w = c.witness({"g": g, "max_norm": 4.0})
    assert violated(c.r1cs, w).size == 0


def test_numpy_inputs_accepted():
    c = compile_rule(MEAN, "m.omni")
    g = np.array([0.5, -0.25, 1.0, 0.0, -1.5])
    w1 = c.witness({"clip": np.float64(2.0), "g": g})
    w2 = c.witness({"clip": 2, "g": g.tolist()})
    assert (w1 == w2).all()
    w3 = c.witness({"clip": np.int64(2), "g": (g * 4096).astype(np.int64).astype(str)})
    assert (w1 == w3).all()
