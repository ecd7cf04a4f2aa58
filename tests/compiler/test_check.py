"""check.violated agrees with a plain Python-integer R1CS check on random perturbations."""

from __future__ import annotations

import numpy as np
import pytest

from omnidsl.compiler import compile_rule
from omnidsl.compiler.check import violated
from omnidsl.field import R, ints_to_limbs, limbs_to_ints

SRC = """rule K { private g: fixed[4] bits 16 frac 8; public r: fixed[4] bits 16 frac 8;
  public t: fixed bits 10 frac 8; assert dot(g, r) >= t * norm(g) * norm(r);
  output e = g == r; output m = max(g); output q = g / 3; }"""


def slow_violated(r1cs, witness) -> list[int]:
    z = limbs_to_ints(witness)
    out = []
    for k in range(r1cs.n_constraints):
        vals = []
        for m in (r1cs.A, r1cs.B, r1cs.C):
            lo, hi = int(m.row_ptr[k]), int(m.row_ptr[k + 1])
            vals.append(sum(r1cs.coeffs[int(c)] * z[int(w)]
                            for w, c in zip(m.wire[lo:hi], m.coeff_id[lo:hi], strict=True)) % R)
        if (vals[0] * vals[1] - vals[2]) % R:
            out.append(k)
    return out


@pytest.mark.parametrize("opt", [0, 2])
def test_violated_matches_reference(opt):
    c = compile_rule(SRC, "k.omni", None, opt)
    w = c.witness({"g": [1.0, 2.0, -0.5, 0.25], "r": [1.0, 1.5, 0.0, 0.5], "t": 0.5})
    assert violated(c.r1cs, w).size == 0 and slow_violated(c.r1cs, w) == []
    rng = np.random.default_rng(3)
    specials = [0, 1, R - 1, 2**31, R - 2**31, 2**62, R - 2**62, 2**200, (R - 1) // 2]
    for _ in range(40):
        f = w.copy()
        for wire in rng.choice(np.arange(1, c.r1cs.n_wires), size=int(rng.integers(1, 4))):
            v = int(rng.choice(specials)) if rng.random() < 0.5 else \
                (limbs_to_ints(w[wire : wire + 1])[0] + int(rng.integers(-3, 4))) % R
            f[wire] = ints_to_limbs([v])[0]
        assert violated(c.r1cs, f).tolist() == slow_violated(c.r1cs, f)


def test_shape_mismatch():
    c = compile_rule("rule K { private x: int bits 4; }")
    with pytest.raises(ValueError, match="wires"):
        violated(c.r1cs, np.zeros((c.r1cs.n_wires + 1, 4), np.uint64))
