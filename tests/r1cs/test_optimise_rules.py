"""The optimiser on real compiled rules: valid witnesses survive, and for corrupted assignments
of the kept wires the optimised system agrees with the original on the extension."""

from __future__ import annotations

import random

import pytest

from omnidsl.compiler.check import violated
from omnidsl.compiler.circuit import compile_file
from omnidsl.compiler.optimise import optimise_full
from omnidsl.field import R, ints_to_limbs, limbs_to_ints
from tests.interop.tools import RULES, find_inputs, small_params


@pytest.mark.parametrize("level", [1, 2])
@pytest.mark.parametrize("path", RULES, ids=lambda p: p.stem)
def test_optimised_rule_equivalent(path, level):
    c = compile_file(path, small_params(path), 0)
    orig = c.r1cs
    full = c.full_witness(find_inputs(c))
    assert violated(orig, full).size == 0
    res = optimise_full(orig, level)
    opt, kept = res.r1cs, res.kept
    assert opt.n_constraints <= orig.n_constraints
    if level == 2:
        assert opt.n_constraints < orig.n_constraints
    assert violated(opt, full[kept]).size == 0
    rng = random.Random(f"{path.stem}-{level}")
    zk0 = limbs_to_ints(full[kept])
    agree_false = 0
    for _ in range(25):
        zk = list(zk0)
        for _ in range(rng.randint(1, 2)):
            j = rng.randrange(1, len(zk))
            zk[j] = rng.choice([(zk[j] + 1) % R, (zk[j] - 1) % R, zk[j] ^ 1, rng.randrange(R)])
        ok_opt = violated(opt, ints_to_limbs(zk)).size == 0
        ok_orig = violated(orig, ints_to_limbs(res.extend(zk, orig.n_wires))).size == 0
        assert ok_opt == ok_orig
        agree_false += not ok_opt
    assert agree_false > 0


def test_forged_witness_stays_rejected_after_optimisation():
    """An L∞-violating gradient: the attacker's best-effort witness fails before and after."""
    path = next(p for p in RULES if p.stem == "norm_bound")
    c = compile_file(path, {"D": 4}, 0)
    g = [5 * 4096, 100, -100, 7]  # g[0] = 5.0 > 4.0
    forged = c.full_witness({"g": g, "max_norm": 1000 * 4096}, forge=True)
    assert violated(c.r1cs, forged).size > 0
    for level in (1, 2):
        res = optimise_full(c.r1cs, level)
        assert violated(res.r1cs, forged[res.kept]).size > 0
