"""Groth16 verification: validate every untrusted value first, then one 4-pair pairing check.

e(A, B) = e(α, β)·e(L, γ)·e(C, δ), i.e. e(−A, B)·e(α, β)·e(L, γ)·e(C, δ) = 1, with
L = IC₀ + Σ xᵢ·ICᵢ.  Anything malformed (wrong types or counts, coordinates ≥ q, points off the
curve or outside the subgroup, public inputs ≥ r or negative) gives False — never an exception.
So does a degenerate key (γ₂ = ±δ₂, δ₂ = ±G₂, …: see :mod:`omnidsl.groth16.vkcheck`, whose
:func:`~omnidsl.groth16.vkcheck.check_vk` gives the located error the CLI prints).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omnidsl.backend.base import Backend
from omnidsl.field import R
from omnidsl.groth16.keys import Proof, VerifyingKey
from omnidsl.groth16.points import g1_array
from omnidsl.groth16.vkcheck import fq_ok as _fq_ok
from omnidsl.groth16.vkcheck import is_int as _is_int
from omnidsl.groth16.vkcheck import vk_problem


def _g1_ok(p: Any, backend: Backend) -> bool:
    if p is None:
        return True
    if not (isinstance(p, tuple) and len(p) == 2 and _fq_ok(p[0]) and _fq_ok(p[1])):
        return False
    return backend.g1_is_valid(p)


def _g2_ok(p: Any, backend: Backend) -> bool:
    if p is None:
        return True
    if not (isinstance(p, tuple) and len(p) == 2):
        return False
    for c in p:
        if not (isinstance(c, tuple) and len(c) == 2 and _fq_ok(c[0]) and _fq_ok(c[1])):
            return False
    return backend.g2_is_valid(p)


def vk_is_valid(vk: Any, backend: Backend) -> bool:
    """Structure, ranges, curve and subgroup membership of a verifying key, and none of the
    degenerate relations of :func:`~omnidsl.groth16.vkcheck.vk_problem` (γ₂ = ±δ₂, ...)."""
    try:
        return vk_problem(vk, backend) is None
    except (ValueError, TypeError, OverflowError):
        return False


def proof_is_valid(proof: Any, backend: Backend) -> bool:
    return (isinstance(proof, Proof) and _g1_ok(proof.a, backend) and _g2_ok(proof.b, backend)
            and _g1_ok(proof.c, backend))


def inputs_are_valid(vk: VerifyingKey, public: Any) -> bool:
    return (isinstance(public, list | tuple) and len(public) == len(vk.ic) - 1
            and all(_is_int(x) and 0 <= x < R for x in public))


@dataclass(frozen=True)
class PreparedVerifyingKey:
    """A verifying key that passed :func:`vk_is_valid` (make it with :func:`prepare_vk`), so
    verifying many proofs skips re-validating its G2 points."""

    vk: VerifyingKey


def prepare_vk(vk: VerifyingKey, backend: Backend) -> PreparedVerifyingKey | None:
    """Validate a verifying key once; None if it is malformed."""
    return PreparedVerifyingKey(vk) if vk_is_valid(vk, backend) else None


def verify(vk: VerifyingKey | PreparedVerifyingKey, public_signals: list[int], proof: Proof,
           backend: Backend) -> bool:
    """True iff ``proof`` is a valid Groth16 proof for ``public_signals`` under ``vk``."""
    try:
        if isinstance(vk, PreparedVerifyingKey):
            vk = vk.vk
        elif not vk_is_valid(vk, backend):
            return False
        if not (inputs_are_valid(vk, public_signals) and proof_is_valid(proof, backend)):
            return False
        acc = vk.ic[0]
        if public_signals:
            scalars = b"".join(x.to_bytes(32, "little") for x in public_signals)
            acc = backend.g1_add(acc, backend.g1_msm(g1_array(list(vk.ic[1:])), scalars))
        return bool(backend.pairing_check([
            (backend.g1_neg(proof.a), proof.b),
            (vk.alpha_g1, vk.beta_g2),
            (acc, vk.gamma_g2),
            (proof.c, vk.delta_g2),
        ]))
    except (ValueError, TypeError, OverflowError):
        return False
