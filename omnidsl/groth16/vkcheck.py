"""Checks on a verifying key before any verifier trusts it.

A verifying key can be well formed and still worthless: with γ₂ = δ₂ the proof A = α, B = β,
C = −L (L = IC₀ + Σ xᵢ·ICᵢ) verifies for every public input, without any witness.  Every verifier
omnidsl runs (``verify``, the Solidity verifier rendered by ``export-verifier``/``verify-onchain``)
goes through :func:`vk_problem`, and ``omnidsl setup verify`` checks ``verification_key.json``
field by field against the proving key whose transcript it verified (:func:`check_vk_json`).

Refused (field names as in snarkjs's ``verification_key.json``):

* a coordinate that is not an integer in [0, q), a point off the curve, a G2 point outside the
  r-torsion subgroup, α or any IC point at infinity (β, γ, δ at infinity likewise);
* δ₂ = ±γ₂ (the forgery above, with C = ∓L), γ₂ = ±β₂ (A = α ± L, B = β, C = 0), δ₂ = ±β₂;
* δ₂ or β₂ = ±G₂ (δ = 1 is a phase-2 key nobody contributed to; γ = 1 is normal, as in snarkjs);
* IC points equal up to sign (two public inputs bound only through their sum or difference).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omnidsl.backend.base import G1, G2, Backend
from omnidsl.errors import FormatError
from omnidsl.field import Q
from omnidsl.groth16.formats import _load, vk_to_json
from omnidsl.groth16.keys import VerifyingKey

_B2 = (27 * pow(82, -1, Q) % Q, (Q - 3) * pow(82, -1, Q) % Q)  # the twist's b = 3/(9 + u)

VK_FIELDS = ("protocol", "curve", "nPublic", "vk_alpha_1", "vk_beta_2", "vk_gamma_2",
             "vk_delta_2", "IC")


def is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def fq_ok(x: Any) -> bool:
    return is_int(x) and 0 <= x < Q


def _fq2_mul(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return ((a[0] * b[0] - a[1] * b[1]) % Q, (a[0] * b[1] + a[1] * b[0]) % Q)


def _on_twist(p: G2) -> bool:
    assert p is not None
    x, y = p
    x3 = _fq2_mul(_fq2_mul(x, x), x)
    return _fq2_mul(y, y) == ((x3[0] + _B2[0]) % Q, (x3[1] + _B2[1]) % Q)


def g1_problem(p: Any, backend: Backend) -> str | None:
    """Why ``p`` is not a finite point of G1, or None."""
    if p is None:
        return "is the point at infinity"
    if not (isinstance(p, tuple) and len(p) == 2):
        return "is not an (x, y) point"
    if not (fq_ok(p[0]) and fq_ok(p[1])):
        return "has a coordinate that is not an integer in [0, q)"
    return None if backend.g1_is_valid(p) else "is not on the curve (BN254 G1)"


def g2_problem(p: Any, backend: Backend) -> str | None:
    """Why ``p`` is not a finite point of G2 (the r-torsion of the twist), or None."""
    if p is None:
        return "is the point at infinity"
    if not (isinstance(p, tuple) and len(p) == 2 and all(
            isinstance(c, tuple) and len(c) == 2 for c in p)):
        return "is not an ((x_c0, x_c1), (y_c0, y_c1)) point"
    if not all(fq_ok(v) for c in p for v in c):
        return "has a coordinate that is not an integer in [0, q)"
    if not _on_twist(p):
        return "is not on the curve (the BN254 twist over F_q²)"
    return None if backend.g2_is_valid(p) else "is not in the r-torsion subgroup (BN254 G2)"


def _neg1(p: G1) -> G1:
    assert p is not None
    return (p[0], (Q - p[1]) % Q)


def _neg2(p: G2) -> G2:
    assert p is not None
    return (p[0], ((Q - p[1][0]) % Q, (Q - p[1][1]) % Q))


def _same_up_to_sign(p: G2, q: G2) -> bool:
    return p == q or p == _neg2(q)


def vk_problem(vk: Any, backend: Backend) -> tuple[str, str] | None:
    """(field, reason) for the first thing that makes ``vk`` unusable or forgeable, or None."""
    if not isinstance(vk, VerifyingKey):
        return "(key)", "is not a verifying key"
    if not isinstance(vk.ic, list | tuple) or not vk.ic:
        return "IC", "is empty"
    for name, p in (("vk_alpha_1", vk.alpha_g1), *((f"IC[{i}]", q) for i, q in enumerate(vk.ic))):
        why = g1_problem(p, backend)
        if why:
            return name, why
    g2s = {"vk_beta_2": vk.beta_g2, "vk_gamma_2": vk.gamma_g2, "vk_delta_2": vk.delta_g2}
    for name, p2 in g2s.items():
        why = g2_problem(p2, backend)
        if why:
            return name, why
    beta, gamma, delta = vk.beta_g2, vk.gamma_g2, vk.delta_g2
    gen2 = backend.g2_generator()
    if _same_up_to_sign(delta, gamma):
        return "vk_delta_2", ("equals ±vk_gamma_2: anyone can forge proofs without a witness "
                              "(A = α, B = β, C = ∓L)")
    if _same_up_to_sign(delta, gen2):
        return "vk_delta_2", ("is ±the G2 generator (δ = ±1, as in a phase-2 key nobody "
                              "contributed to: its toxic δ is public)")
    if _same_up_to_sign(gamma, beta):
        return "vk_gamma_2", ("equals ±vk_beta_2: anyone can forge proofs without a witness "
                              "(A = α ± L, B = β, C = 0)")
    if _same_up_to_sign(delta, beta):
        return "vk_delta_2", "equals ±vk_beta_2 (a degenerate setup)"
    if _same_up_to_sign(beta, gen2):
        return "vk_beta_2", "is ±the G2 generator (β = ±1: a degenerate setup)"
    seen: dict[G1, int] = {}
    for i, p in enumerate(vk.ic):
        for q in (p, _neg1(p)):
            if q in seen:
                return f"IC[{i}]", (f"equals ±IC[{seen[q]}]: those public inputs would be bound "
                                    "only through their sum or difference")
        seen[p] = i
    return None


def check_vk(vk: Any, backend: Backend, what: str = "verification key") -> None:
    """Raise :class:`FormatError` ``"<what>: <field> <reason>"`` unless ``vk`` is sound."""
    problem = vk_problem(vk, backend)
    if problem is not None:
        field, why = problem
        raise FormatError(f"{what}: {field} {why}",
                          hint="do not use this key; take verification_key.json from a key "
                               "directory that passes `omnidsl setup verify`")


def _json_equal(got: Any, want: Any) -> bool:
    """Same JSON value, types included (``1`` is not ``"1"`` and ``true`` is not ``1``)."""
    if isinstance(want, list):
        return (isinstance(got, list) and len(got) == len(want)
                and all(_json_equal(g, w) for g, w in zip(got, want, strict=True)))
    return type(got) is type(want) and got == want


def check_vk_json(data: Any, vk: VerifyingKey, what: str, key_name: str = "proving_key.bin"
                  ) -> None:
    """``data`` (parsed ``verification_key.json``) is exactly what omnidsl writes for ``vk``:
    every field (protocol, curve, nPublic, α, β, γ, δ, each IC point), and nothing else."""
    want = vk_to_json(vk)
    hint = (f"the file was edited or belongs to other keys: do not use it, nor trust proofs "
            f"it accepted; take the one written with this {key_name}, or set the keys up again")
    if not isinstance(data, dict):
        raise FormatError(f"{what}: expected a JSON object, got {type(data).__name__}", hint=hint)
    for name in VK_FIELDS:
        if name not in data:
            raise FormatError(f"{what}: {name}: missing", hint=hint)
        if name == "IC" and isinstance(data[name], list) and len(data[name]) == len(want[name]):
            for i, (g, w) in enumerate(zip(data[name], want[name], strict=True)):
                if not _json_equal(g, w):
                    raise FormatError(f"{what}: IC[{i}] does not match {key_name}", hint=hint)
        elif not _json_equal(data[name], want[name]):
            raise FormatError(f"{what}: {name} does not match {key_name} (expected "
                              f"{_short(want[name])}, found {_short(data[name])})", hint=hint)
    extra = sorted(set(data) - set(VK_FIELDS))
    if extra:
        raise FormatError(f"{what}: unexpected field {extra[0]!r} (omnidsl does not write it, "
                          "and some verifiers read it)", hint=hint)


def check_vk_file(path: Path, vk: VerifyingKey, key_name: str = "proving_key.bin") -> None:
    """:func:`check_vk_json` on the file at ``path`` (which must exist)."""
    if not path.exists():
        raise FormatError(f"{path}: missing (verifiers read the key from this file)",
                          hint="set the keys up again, or copy the file that belongs to them")
    check_vk_json(_load(path), vk, str(path), key_name)


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."
