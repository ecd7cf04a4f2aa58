"""The messages between the data owner and the servers, and the step names, in one place.

Both sides import this module (``coordinator.py`` never imports ``server.py``).  Every message is a
:mod:`~omnidsl.mpc.codec` dict sealed under the step it belongs to (frames.py binds the step into
the AEAD), so a frame of one step can never be taken for another.

==================  =========================  ===============================================
step                sender → receiver          payload
==================  =========================  ===============================================
``hello``           either (plaintext)         frames.Hello (ephemeral X25519 key, ids)
``handshake``       either                     :data:`CONFIRM` (key confirmation)
``open``            data owner → server        {"kind": "open", "key_digest": hex SHA-256}
``session``         data owner → server        {"kind": "session", "scheme", "key_digest",
                                               ...the scheme's material fields}; or a batch
                                               session's {"kind": "slot", ...} or
                                               {"kind": "batch", ...} (batch_session.py)
``result``          server → data owner        {"kind": "result", "ok": true, "a", "b", "c",
                                               "cpu_s", "wall_s", "bytes_sent",
                                               "bytes_received", "wire_bytes_sent",
                                               "stage_cpu", "transcript"} or {"kind": "result",
                                               "ok": false, "error", "transcript"?}
``mul_vec#k``, ...  server → server            the scheme driver's messages (step kinds:
                                               ``schemes.STEP_KINDS``; ``.open`` suffix for
                                               the second round of a sliced opening)
==================  =========================  ===============================================

A ``session`` message without a ``scheme`` field is an additive one (``schemes.DEFAULT_SCHEME``).
"""

from __future__ import annotations

from typing import Any

from omnidsl.errors import FormatError
from omnidsl.mpc import codec
from omnidsl.mpc.schemes import DEFAULT_SCHEME, Scheme, SessionMaterial

STEP_HELLO = "hello"
STEP_HANDSHAKE = "handshake"
STEP_OPEN = "open"
STEP_SESSION = "session"
STEP_RESULT = "result"
#: the ``session`` step's message kinds: an ordinary session, a batch slot, a batch (batch_session.py)
SESSION_KINDS = ("session", "slot", "batch")
#: payload of the key-confirmation frames
CONFIRM = b"omnidsl-mpc handshake"

#: the sealed frame naming the proving key: {"kind": "open", "key_digest": 64 hex digits}
OPEN_FRAME_LIMIT = 1024
#: JSON header of a material message (about 20 fields; a bind label ≤ 128 characters)
MATERIAL_HEADER_LIMIT = 4096
#: sealing overhead: version, counter, step (≤ 255 bytes), tag
SEAL_OVERHEAD = 1 + 8 + 1 + 255 + 16


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


def encode_session(scheme: Scheme, m: SessionMaterial, key_digest: str) -> bytes:
    """The ``session`` message carrying one server's material."""
    return codec.encode({"kind": "session", "scheme": scheme.name, "key_digest": key_digest,
                         **scheme.encode_material(m)})


def decode_session(payload: bytes) -> tuple[str, str, dict[str, codec.Value]]:
    """(scheme name, key digest, message) of a ``session`` message; the header is bounded."""
    msg = codec.decode(payload, max_header=MATERIAL_HEADER_LIMIT)
    if msg.get("kind", "session") not in SESSION_KINDS:
        raise FormatError("malformed session message")
    scheme = msg.get("scheme", DEFAULT_SCHEME)
    if not isinstance(scheme, str):
        raise FormatError("message field 'scheme' is not a string")
    return scheme, str(codec.need(msg, "key_digest", str)), msg


def error_result(message: str, transcript: bytes | None = None) -> dict[str, codec.Value]:
    """A failed ``result`` (``transcript``: the server's step digests, for attribution)."""
    return {"kind": "result", "ok": False, "error": message, "transcript": transcript}


__all__ = [
    "CONFIRM",
    "MATERIAL_HEADER_LIMIT",
    "OPEN_FRAME_LIMIT",
    "SEAL_OVERHEAD",
    "SESSION_KINDS",
    "STEP_HANDSHAKE",
    "STEP_HELLO",
    "STEP_OPEN",
    "STEP_RESULT",
    "STEP_SESSION",
    "check_open",
    "decode_session",
    "encode_open",
    "encode_session",
    "error_result",
]
