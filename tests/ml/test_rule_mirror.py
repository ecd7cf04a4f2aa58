"""The Python mirror of circuits/cosine.omni agrees with the compiled circuit's witness generator
(acceptance = a satisfying witness exists), including on attacked gradients and sign edge cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from omnidsl.compiler import compile_file
from omnidsl.errors import AssertionFailed, InputError
from omnidsl.ml.attacks import gaussian_noise, scaling, sign_flip
from omnidsl.ml.rules import NormCosineRule

D = 12
COSINE = Path(__file__).resolve().parents[2] / "circuits" / "cosine.omni"


@pytest.fixture(scope="module")
def circuit():
    return compile_file(COSINE, params={"D": D})


def circuit_accepts(circuit, g, ref, tau, max_norm, min_norm=2.0**-12) -> bool:
    try:
        circuit.witness({"g": list(map(float, g)), "ref": list(map(float, ref)),
                         "tau": float(tau), "max_norm": float(max_norm),
                         "min_norm": float(min_norm)})
    except (AssertionFailed, InputError):
        return False
    return True


def cases(rng: np.random.Generator):
    for _ in range(40):
        ref = rng.normal(0, 0.5, D)
        g = ref + rng.normal(0, rng.choice([0.1, 0.5, 2.0]), D)
        for candidate in (g, sign_flip(g, rng), scaling(6.0)(g, rng),
                          gaussian_noise(1.0)(g, rng), np.zeros(D)):
            tau = float(rng.choice([-0.5, 0.0, 0.25, 0.75]))
            min_norm = float(rng.choice([2.0**-12, 0.25, 1.0]))
            yield candidate, ref, tau, float(rng.choice([1.0, 2.0, 4.0])), min_norm


def test_mirror_matches_compiled_rule(circuit):
    rng = np.random.default_rng(7)
    seen = set()
    for g, ref, tau, max_norm, min_norm in cases(rng):
        ref_q = np.rint(ref * 4096) / 4096  # representable reference (the circuit rejects others)
        ref_q = np.clip(ref_q, -8, 8 - 1 / 4096)
        expected = circuit_accepts(circuit, g, ref_q, tau, max_norm, min_norm)
        got = NormCosineRule(max_norm=max_norm, tau=tau, min_norm=min_norm).accepts(g, ref_q)
        assert got == expected, (g, ref_q, tau, max_norm, min_norm)
        seen.add(expected)
    assert seen == {True, False}  # both outcomes exercised


def test_mirror_refuses_the_zero_update_for_every_threshold():
    ref = np.linspace(-1, 1, D)
    for tau in (-1.0, -0.5, 0.0, 0.5, 1.0):
        assert not NormCosineRule(max_norm=4.0, tau=tau).accepts(np.zeros(D), ref)
        assert not NormCosineRule(max_norm=4.0, tau=tau, min_norm=0.0).accepts(np.zeros(D), ref)
