"""The additive material on the wire: its message fields and every size a server accepts.

A data owner is anyone who can reach the server, so its messages are hostile input.  The server
reads them in this order, each against a bound fixed before the read (``messages.py`` has the
first two):

1. the hello (``frames.MAX_HELLO_FRAME`` = 256 bytes);
2. the sealed ``open`` frame (``messages.OPEN_FRAME_LIMIT``): the proving key's SHA-256 only;
3. the sealed material frame, at most :func:`material_frame_limit` of *that* key, whose JSON
   header is at most ``messages.MATERIAL_HEADER_LIMIT`` bytes;
4. :func:`check_material`: every count and length equal to what the key implies (n_wires,
   n_public, n_triples = domain, n_parties, party id, the last party's explicit shares, fixed
   wires, mask slack, dealt points) — before a seed is expanded.

Frames between servers are bounded by :func:`peer_frame_limit` (the largest protocol message of
the session's key), and the per-message checks of the driver compare each one to its exact size.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from omnidsl.errors import FormatError
from omnidsl.field import FR_BYTES
from omnidsl.mpc import codec
from omnidsl.mpc.messages import MATERIAL_HEADER_LIMIT, SEAL_OVERHEAD
from omnidsl.mpc.schemes.additive import shares
from omnidsl.mpc.schemes.additive.material import (
    MAX_MASK_SLACK,
    SCHEME_NAME,
    WITNESS_MSM_BYTES,
    PartyMaterial,
)

_FIXED_BLOBS = 16 + 32 + WITNESS_MSM_BYTES  # session id, seed, dealt points


def material_frame_limit(pk: Any) -> int:
    """Upper bound of an honest material frame for ``pk`` (the last party, every private wire
    fixed): public values, explicit witness and triple shares, fixed wires and their shares."""
    n_wires, n_pub = pk.n_wires, pk.n_public + 1
    body = (4 + MATERIAL_HEADER_LIMIT + _FIXED_BLOBS + FR_BYTES * (n_pub + n_wires + pk.domain_size)
            + (4 + FR_BYTES) * (n_wires - n_pub))
    return body + SEAL_OVERHEAD


def peer_frame_limit(pk: Any, n_parties: int) -> int:
    """Upper bound of a frame between servers: the opening of d‖e (2·domain elements; a slice
    of it for N ≥ 3) is the largest message; points and the handshake are smaller."""
    return 2 * pk.domain_size * FR_BYTES + SEAL_OVERHEAD + 1024


def check_material(m: PartyMaterial, pk: Any, n_parties: int, sid: int) -> None:
    """FormatError unless every size in ``m`` is what ``pk`` and this cluster imply."""
    def bad(what: str) -> FormatError:
        return FormatError(f"bad session material for server {sid}: {what}")

    if m.n_parties != n_parties or m.party_id != sid:
        raise bad(f"it is for party {m.party_id} of {m.n_parties}, this is server {sid} of "
                  f"{n_parties}")
    if m.n_wires != pk.n_wires or len(m.public) != FR_BYTES * (pk.n_public + 1):
        raise bad(f"{m.n_wires} wires and {len(m.public)} bytes of public values do not fit the "
                  f"proving key ({pk.n_wires} wires, {pk.n_public + 1} public)")
    if m.n_triples != pk.domain_size:
        raise bad(f"{m.n_triples} triples dealt, the domain needs exactly {pk.domain_size}")
    if m.mask_slack:
        if not shares.mask_slack(m.n_wires) <= m.mask_slack <= MAX_MASK_SLACK:
            raise bad(f"mask slack {m.mask_slack} is neither 0 nor in "
                      f"{shares.mask_slack(m.n_wires)}..{MAX_MASK_SLACK}")
        if pk.r1cs.wire_bits is None:
            raise bad("the session uses bounded masks but this server's proving key has no "
                      "wire widths")
    last = m.party_id == n_parties - 1
    explicit = {"witness": (m.witness, FR_BYTES * m.n_wires),
                "triple_z": (m.triple_z, FR_BYTES * m.n_triples)}
    for name, (blob, size) in explicit.items():
        if last and (blob is None or len(blob) != size):
            raise bad(f"the last party's {name} share must be {size} bytes")
        if not last and blob is not None:
            raise bad(f"only the last party receives an explicit {name} share")
    if (m.rs is None) == last:
        raise bad("only (and always) the last party receives an explicit r·s share")
    if (m.fixed_wires is None) != (m.fixed_share is None):
        raise bad("fixed wires and their share come together")
    if m.fixed_wires is not None and m.fixed_share is not None:
        k = len(m.fixed_wires) // 4
        if len(m.fixed_wires) % 4 or not 0 < k <= m.n_wires - len(m.public) // FR_BYTES \
                or len(m.fixed_share) != FR_BYTES * k:
            raise bad(f"{len(m.fixed_wires)} bytes of fixed wires with a {len(m.fixed_share)}-"
                      f"byte share")
    if m.witness_msm is not None and len(m.witness_msm) != WITNESS_MSM_BYTES:
        raise bad(f"dealt MSM shares need {WITNESS_MSM_BYTES} bytes")
    if m.bind_label is not None and not 0 < len(m.bind_label) <= 128:
        raise bad("bind label longer than 128 characters")


def material_fields(m: PartyMaterial) -> dict[str, codec.Value]:
    """The material's message fields (``messages.encode_session`` adds kind, scheme, key)."""
    return {
        "session_id": m.session_id, "party_id": m.party_id, "n_parties": m.n_parties,
        "seed": m.seed, "n_wires": m.n_wires, "public": m.public, "n_triples": m.n_triples,
        "witness": m.witness, "triple_z": m.triple_z, "rs": m.rs, "fixed_wires": m.fixed_wires,
        "fixed_share": m.fixed_share, "bind_label": m.bind_label, "witness_msm": m.witness_msm,
        "mask_slack": m.mask_slack,
    }


def parse_material(msg: Mapping[str, codec.Value],
                   check: Callable[[PartyMaterial], None] | None = None) -> PartyMaterial:
    """Parse the material fields; ``check`` (the server's size checks against its proving key)
    runs before the consistency checks of ``PartyMaterial.validate``."""
    m_: dict[str, codec.Value] = dict(msg)

    def opt(key: str, typ: type) -> Any:
        v = m_.get(key)
        return None if v is None else codec.need(m_, key, typ)

    m = PartyMaterial(
        session_id=codec.need(m_, "session_id", bytes), party_id=codec.need(m_, "party_id", int),
        n_parties=codec.need(m_, "n_parties", int), seed=codec.need(m_, "seed", bytes),
        n_wires=codec.need(m_, "n_wires", int), public=codec.need(m_, "public", bytes),
        n_triples=codec.need(m_, "n_triples", int), witness=opt("witness", bytes),
        triple_z=opt("triple_z", bytes), rs=opt("rs", int),
        fixed_wires=opt("fixed_wires", bytes), fixed_share=opt("fixed_share", bytes),
        bind_label=opt("bind_label", str), witness_msm=opt("witness_msm", bytes),
        mask_slack=opt("mask_slack", int) or 0,
    )
    if check is not None:
        check(m)
    try:
        m.validate()
    except ValueError as exc:
        raise FormatError(f"bad session material: {exc}") from None
    return m


def material_to_msg(m: PartyMaterial, key_digest: str) -> dict[str, codec.Value]:
    """The whole ``session`` message body for ``m`` (what ``messages.encode_session`` encodes)."""
    return {"kind": "session", "scheme": m.scheme, "key_digest": key_digest,
            **material_fields(m)}


def material_from_msg(msg: Mapping[str, codec.Value],
                      check: Callable[[PartyMaterial], None] | None = None
                      ) -> tuple[PartyMaterial, str]:
    """(material, key digest) of a decoded ``session`` message (see :func:`parse_material`)."""
    if msg.get("scheme", SCHEME_NAME) != SCHEME_NAME:
        raise FormatError(f"the session uses the {msg.get('scheme')!r} scheme, not additive")
    return parse_material(msg, check), str(codec.need(dict(msg), "key_digest", str))
