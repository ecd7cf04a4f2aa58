"""What every scheme's session shares: the session id and the encoding of dealt witness-MSM
point shares (mode split: a share of π_A's G1 MSM ‖ a share of π_B's G2 MSM)."""

from __future__ import annotations

import secrets

from omnidsl.backend.base import Backend
from omnidsl.groth16.driver import DealtMsmShares
from omnidsl.groth16.points import (
    G1_BYTES,
    G2_BYTES,
    g1_from_bytes,
    g1_to_bytes,
    g2_from_bytes,
    g2_to_bytes,
)

#: bytes of a session id (fresh per session; the replay store and the handshakes key on it)
SESSION_ID_BYTES = 16
#: size of one party's dealt witness-MSM shares: a (G1) ‖ b2 (G2)
WITNESS_MSM_BYTES = G1_BYTES + G2_BYTES


def new_session_id() -> bytes:
    return secrets.token_bytes(SESSION_ID_BYTES)


def encode_dealt_msms(w: DealtMsmShares) -> bytes:
    """a ‖ b2 in the backend's point encoding (WITNESS_MSM_BYTES)."""
    return g1_to_bytes(w.a) + g2_to_bytes(w.b2)


def decode_dealt_msms(buf: bytes, backend: Backend) -> DealtMsmShares:
    """Inverse of :func:`encode_dealt_msms`; ValueError unless both are valid points."""
    if len(buf) != WITNESS_MSM_BYTES:
        raise ValueError(f"dealt MSM shares need {WITNESS_MSM_BYTES} bytes, got {len(buf)}")
    a = g1_from_bytes(buf[:G1_BYTES])
    b2 = g2_from_bytes(buf[G1_BYTES:])
    if not (a is None or backend.g1_is_valid(a)) or not (b2 is None or backend.g2_is_valid(b2)):
        raise ValueError("dealt MSM shares are not valid curve points")
    return DealtMsmShares(a=a, b2=b2)


__all__ = ["SESSION_ID_BYTES", "WITNESS_MSM_BYTES", "decode_dealt_msms", "encode_dealt_msms",
           "new_session_id"]
