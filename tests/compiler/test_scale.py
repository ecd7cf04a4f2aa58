"""Large circuits stay array-based: norm_bound at D = 65,536 compiles and witnesses (untimed)."""

from __future__ import annotations

import numpy as np
import pytest

from omnidsl.compiler import compile_file
from omnidsl.errors import AssertionFailed


@pytest.mark.slow
def test_norm_bound_65536(project_root):
    d = 65_536
    c = compile_file(project_root / "circuits" / "norm_bound.omni", {"D": d}, 0)
    assert c.r1cs.n_constraints == 19 * d + 33 + 1 + 64  # fused |g| <= 4 (fuse.py)
    g = np.random.default_rng(5).uniform(-0.01, 0.01, d)
    w = c.witness({"g": g, "max_norm": 3.0})  # checks every constraint
    assert w.shape == (c.r1cs.n_wires, 4)
    g[40_000] = 4.5
    with pytest.raises(AssertionFailed, match="at i = 40000"):
        c.witness({"g": g, "max_norm": 3.0})
