"""circuits/cosine.omni refuses the all-zero update for every threshold and every pinned minimum
(the cosine test alone accepts it: 0 >= tau * 0 * |ref|), while honest updates pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from omnidsl.compiler import compile_file, compile_rule
from omnidsl.errors import AssertionFailed

COSINE = Path(__file__).resolve().parents[2] / "circuits" / "cosine.omni"
D = 16


@pytest.fixture(scope="module")
def circuit():
    return compile_file(COSINE, {"D": D}, 2)


def q(v) -> list[float]:
    """Representable at frac 12 (the rule's inputs)."""
    return (np.rint(np.asarray(v, float) * 4096) / 4096).tolist()


def inputs(g, ref, tau, max_norm, min_norm) -> dict:
    return {"g": q(g), "ref": q(ref), "tau": tau, "max_norm": max_norm, "min_norm": min_norm}


@pytest.mark.parametrize("tau", [-1.0, -0.5, 0.0, 0.25, 0.99, 1.0])
@pytest.mark.parametrize("min_norm", [2.0**-12, 0.1, 1.0])
def test_zero_update_refused_for_every_threshold(circuit, tau, min_norm):
    ref = np.linspace(-1, 1, D)
    with pytest.raises(AssertionFailed, match="below the minimum") as info:
        circuit.witness(inputs(np.zeros(D), ref, tau, 8.0, min_norm))
    assert str(info.value).startswith(f"{COSINE}:")


@pytest.mark.parametrize("min_norm", [0.0, -1.0, -(2.0**-12)])
def test_a_non_positive_minimum_is_refused(circuit, min_norm):
    """A task that pins min_norm <= 0 has no proof at all (else zero would pass again)."""
    ref = np.linspace(-1, 1, D)
    for g in (np.zeros(D), ref):
        with pytest.raises(AssertionFailed, match="minimum norm must be positive"):
            circuit.witness(inputs(g, ref, 0.25, 8.0, min_norm))


def test_honest_updates_pass_and_short_or_opposite_ones_do_not(circuit):
    rng = np.random.default_rng(11)
    passed = 0
    for _ in range(20):
        ref = rng.normal(0, 0.5, D)
        n_ref = float(np.linalg.norm(ref))
        g = ref + rng.normal(0, 0.05, D)
        args = (0.3, 3 * n_ref, 0.1 * n_ref)
        circuit.witness(inputs(g, ref, *args))  # honest: passes
        passed += 1
        with pytest.raises(AssertionFailed, match="below the minimum"):
            circuit.witness(inputs(g * 0.01, ref, *args))  # right direction, far too short
        with pytest.raises(AssertionFailed, match="cosine"):
            circuit.witness(inputs(-g, ref, *args))  # sign flip
        one = np.zeros(D)
        one[int(np.argmax(np.abs(ref)))] = 2.0**-12 * np.sign(ref[np.argmax(np.abs(ref))])
        with pytest.raises(AssertionFailed, match="below the minimum"):
            circuit.witness(inputs(one, ref, -1.0, 3 * n_ref, 0.1 * n_ref))  # one ulp
    assert passed == 20


def test_the_cosine_test_alone_accepts_zero():
    """Why the minimum exists: without it (the rule before the fix) zero passes for every tau."""
    src = "\n".join(line for line in COSINE.read_text().splitlines() if "min_norm" not in line)
    old = compile_rule(src, "old_cosine.omni", {"D": D}, 2)
    ref = np.linspace(-1, 1, D)
    for tau in (-1.0, 0.0, 0.5, 1.0):
        old.witness({"g": [0.0] * D, "ref": q(ref), "tau": tau, "max_norm": 8.0})
