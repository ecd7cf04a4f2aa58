"""Every size a server accepts, derived from the proving key before anything is allocated.

A data owner is anyone who can reach the server, so its messages are hostile input.  The server
reads them in this order, each against a bound fixed before the read:

1. the hello (``frames.MAX_HELLO_FRAME`` = 256 bytes);
2. the sealed ``open`` frame (``OPEN_FRAME_LIMIT``): the proving key's SHA-256 only;
3. the sealed material frame, at most :func:`material_frame_limit` of *that* key, whose JSON
   header is at most ``MATERIAL_HEADER_LIMIT`` bytes;
4. :func:`check_material`: every count and length equal to what the key implies (n_wires,
   n_public, n_triples = domain, n_parties, party id, the last party's explicit shares, fixed
   wires, mask slack, dealt points) — before a seed is expanded.

Frames between servers are bounded by :func:`peer_frame_limit` (the largest protocol message of
the session's key), and the per-message checks of the driver compare each one to its exact size.
"""

from __future__ import annotations

from typing import Any

from omnidsl.errors import FormatError
from omnidsl.field import FR_BYTES
from omnidsl.mpc import codec, shares
from omnidsl.mpc.dealer import MAX_MASK_SLACK, WITNESS_MSM_BYTES, PartyMaterial

#: the sealed frame naming the proving key: {"kind": "open", "key_digest": 64 hex digits}
OPEN_FRAME_LIMIT = 1024
#: JSON header of a material message (about 20 fields; a bind label ≤ 128 characters)
MATERIAL_HEADER_LIMIT = 4096
#: sealing overhead: version, counter, step (≤ 255 bytes), tag
SEAL_OVERHEAD = 1 + 8 + 1 + 255 + 16
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


def encode_open(key_digest: str) -> bytes:
    """The ``open`` message naming the proving key (the data owner's first sealed frame)."""
    return codec.encode({"kind": "open", "key_digest": key_digest})


def check_open(msg: dict[str, Any]) -> str:
    """The proving key's SHA-256 (hex) named by an ``open`` message."""
    digest = msg.get("key_digest")
    if msg.get("kind") != "open" or not isinstance(digest, str) or len(digest) != 64 \
            or any(c not in "0123456789abcdef" for c in digest):
        raise FormatError("malformed session opening (expected the proving key's SHA-256)")
    return digest


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
