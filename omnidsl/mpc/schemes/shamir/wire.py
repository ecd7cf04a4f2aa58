"""The Shamir material on the wire: its message fields and every size a server accepts.

The server reads the material frame up to :func:`material_frame_limit` of the proving key the
session named, then :func:`check_material` compares every count and length with what the key,
servers.toml (N) and the scheme's configured t imply — before the material's digest is computed
or a seed expanded.  Frames between servers carry one 64-byte consistency message or one point
share (64 or 128 bytes): :func:`peer_frame_limit`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from omnidsl.errors import FormatError
from omnidsl.field import FR_BYTES
from omnidsl.groth16.points import G2_BYTES
from omnidsl.mpc import codec
from omnidsl.mpc.messages import MATERIAL_HEADER_LIMIT, SEAL_OVERHEAD
from omnidsl.mpc.schemes.shamir import bounded
from omnidsl.mpc.schemes.shamir.dealer import (
    SALT_BYTES,
    SCALARS_BYTES,
    WITNESS_MSM_BYTES,
    ShamirMaterial,
)

MAX_PARTIES = 255


def material_frame_limit(pk: Any) -> int:
    """Upper bound of an honest material frame for ``pk`` (an explicit party of 255)."""
    body = (4 + MATERIAL_HEADER_LIMIT + 16 + SALT_BYTES + 32 + FR_BYTES * pk.n_wires
            + SCALARS_BYTES + WITNESS_MSM_BYTES + 32 * MAX_PARTIES)
    return body + SEAL_OVERHEAD


def peer_frame_limit(pk: Any, n_parties: int) -> int:
    """Upper bound of a frame between servers: a G2 point share is the largest message."""
    return G2_BYTES + SEAL_OVERHEAD + 1024


def check_material(m: ShamirMaterial, pk: Any, n_parties: int, threshold: int,
                   sid: int) -> None:
    """FormatError unless every size in ``m`` is what ``pk``, N and t imply."""
    def bad(what: str) -> FormatError:
        return FormatError(f"bad session material for server {sid}: {what}")

    if m.n_parties != n_parties or m.party_id != sid:
        raise bad(f"it is for party {m.party_id} of {m.n_parties}, this is server {sid} of "
                  f"{n_parties}")
    if m.threshold != threshold:
        raise bad(f"it was dealt with threshold t = {m.threshold}; servers.toml says t = "
                  f"{threshold}")
    if m.n_wires != pk.n_wires or len(m.public) != FR_BYTES * (pk.n_public + 1):
        raise bad(f"{m.n_wires} wires and {len(m.public)} bytes of public values do not fit the "
                  f"proving key ({pk.n_wires} wires, {pk.n_public + 1} public)")
    if m.scale != 1 and m.scale != bounded.integer_scale(n_parties, threshold)[0]:
        raise bad(f"scale {m.scale} is neither 1 nor the Δ of bounded shares for N = "
                  f"{n_parties}, t = {threshold}")
    seeded = m.party_id < threshold and m.scale == 1
    if seeded != (m.seed is not None) or seeded == (m.witness is not None) \
            or seeded == (m.scalars is not None):
        raise bad("with uniform shares parties below t get a seed and the others explicit "
                  "witness and scalar shares; with bounded shares everyone gets explicit ones")
    if m.witness is not None and len(m.witness) != FR_BYTES * (pk.n_wires - pk.n_public - 1):
        raise bad(f"the explicit witness share must be "
                  f"{FR_BYTES * (pk.n_wires - pk.n_public - 1)} bytes")
    if len(m.digests) != 32 * n_parties:
        raise bad(f"the digest list must be {32 * n_parties} bytes")
    if m.witness_msm is not None and len(m.witness_msm) != WITNESS_MSM_BYTES:
        raise bad(f"dealt MSM shares need {WITNESS_MSM_BYTES} bytes")
    if m.fixed_wires is not None or m.fixed_share is not None:
        raise bad("the Shamir scheme takes no fixed shares")


def material_fields(m: ShamirMaterial) -> dict[str, codec.Value]:
    """The material's message fields (the session message adds kind, scheme, key digest)."""
    return {
        "session_id": m.session_id, "party_id": m.party_id, "n_parties": m.n_parties,
        "threshold": m.threshold, "n_wires": m.n_wires, "public": m.public, "salt": m.salt,
        "digests": m.digests, "seed": m.seed, "witness": m.witness, "scalars": m.scalars,
        "witness_msm": m.witness_msm, "bind_label": m.bind_label, "scale": m.scale,
    }


def parse_material(msg: Mapping[str, codec.Value], pk: Any, n_parties: int, threshold: int,
                   sid: int) -> ShamirMaterial:
    """Parse, size-check (:func:`check_material`) and validate (digest included)."""
    m_: dict[str, codec.Value] = dict(msg)

    def opt(key: str, typ: type) -> Any:
        v = m_.get(key)
        return None if v is None else codec.need(m_, key, typ)

    m = ShamirMaterial(
        session_id=codec.need(m_, "session_id", bytes), party_id=codec.need(m_, "party_id", int),
        n_parties=codec.need(m_, "n_parties", int), threshold=codec.need(m_, "threshold", int),
        n_wires=codec.need(m_, "n_wires", int), public=codec.need(m_, "public", bytes),
        salt=codec.need(m_, "salt", bytes), digests=codec.need(m_, "digests", bytes),
        seed=opt("seed", bytes), witness=opt("witness", bytes), scalars=opt("scalars", bytes),
        witness_msm=opt("witness_msm", bytes), bind_label=opt("bind_label", str),
        scale=opt("scale", int) or 1,
    )
    check_material(m, pk, n_parties, threshold, sid)
    try:
        m.validate()
    except ValueError as exc:
        raise FormatError(f"bad session material for server {sid}: {exc}") from None
    return m
