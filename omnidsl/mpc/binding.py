"""Binding a session to shares a server committed to (the market; docs/mpc.md, Binding).

A server started with ``--bind-dir DIR`` proves only sessions that name a ``bind_label`` and whose
share of the fixed wires is the one its operator pinned under that label (:func:`write_pin`,
:func:`check_pin`); after a bound proof it records a receipt (:func:`write_bound_receipt`)
that the market role signs batches from.  Scheme-independent: it reads the ``bind_label``,
``fixed_wires``, ``fixed_share`` and ``public`` fields every session material has.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omnidsl.errors import ProofError
from omnidsl.mpc.schemes import SessionMaterial


def binding_digest(wires: bytes, share: bytes) -> bytes:
    """SHA-256 binding a share to the wires it sits on (what a server pins and checks)."""
    return hashlib.sha256(b"omnidsl-bind/v1" + struct.pack("<I", len(wires) // 4) + wires
                          + share).digest()


def safe_label(label: str) -> str:
    """``label`` if it is a usable file name stem (1..128 of [A-Za-z0-9._-], no leading dot)."""
    if not (0 < len(label) <= 128 and all(c.isalnum() or c in "-_." for c in label)) \
            or label.startswith("."):
        raise ProofError(f"bad bind label {label!r}")
    return label


def write_pin(bind_dir: str | Path, label: str, wires: bytes, share: bytes,
              public: dict[int, int] | None = None) -> Path:
    """(The server's operator) pin the share this server committed to under ``label``: it will
    only prove sessions with that label whose share of ``wires`` is exactly ``share`` and whose
    public wires ``public`` (index → value) have those values."""
    d = Path(bind_dir)
    d.mkdir(parents=True, exist_ok=True)
    out = d / f"{safe_label(label)}.json"
    tmp = out.with_name(out.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the share
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps({"digest": binding_digest(wires, share).hex(),
                            "public": {str(k): str(v) for k, v in (public or {}).items()},
                            "wires": wires.hex(), "share": share.hex()}))
    tmp.replace(out)
    return out


@dataclass(frozen=True)
class Pin:
    """A pin as read back: its digest, public wire values, and the committed share itself
    (wire indices, one field element per wire) for the batch session's binding check."""

    digest: bytes
    public: dict[int, int]
    wires: list[int]
    share: list[int]


def read_pin(bind_dir: str | Path, label: str) -> Pin | None:
    """The pin under ``label`` (None if there is none, it is unreadable, or its share does not
    hash to its digest)."""
    try:
        data = json.loads((Path(bind_dir) / f"{safe_label(label)}.json").read_text())
        digest, wires, share = (bytes.fromhex(data[k]) for k in ("digest", "wires", "share"))
        public = {int(k): int(v) for k, v in data.get("public", {}).items()}
    except (OSError, ValueError, KeyError, TypeError, ProofError):
        return None
    if binding_digest(wires, share) != digest or len(share) != 8 * len(wires):
        return None
    w = [int(x) for x in np.frombuffer(wires, "<u4")]
    return Pin(digest, public, w, [int.from_bytes(share[32 * i:32 * i + 32], "little")
                                   for i in range(len(w))])


def check_pin(bind_dir: Path, m: SessionMaterial, sid: int) -> None:
    """Refuse unless ``m``'s share of its fixed wires is the one pinned under its label."""
    if m.bind_label is None or m.fixed_wires is None or m.fixed_share is None:
        raise ProofError(f"server {sid} refuses to prove: this server only proves shares it "
                         "committed to, and the session names none (no bind label / fixed wires)",
                         hint="deal with the committed aggregation shares as fixed shares")
    pin = Path(bind_dir) / f"{safe_label(m.bind_label)}.json"
    try:
        data = json.loads(pin.read_text())
    except (OSError, ValueError):
        raise ProofError(f"server {sid} refuses to prove {m.bind_label}: it committed to no share "
                         "under that label") from None
    if binding_digest(m.fixed_wires, m.fixed_share).hex() != data.get("digest"):
        raise ProofError(f"server {sid} refuses to prove {m.bind_label}: its share of the bound "
                         "wires differs from the share it committed to",
                         hint="the data owner must prove the gradient it shared for aggregation")
    for k, v in data.get("public", {}).items():
        w = int(k)
        got = int.from_bytes(m.public[w * 32:(w + 1) * 32], "little") if w < m.n_public else None
        if got != int(v):
            raise ProofError(f"server {sid} refuses to prove {m.bind_label}: public wire {w} is "
                             f"{got}, the commitment was made for {v}")


def write_bound_receipt(bind_dir: Path, m: SessionMaterial, result: dict) -> Path:
    """Record, for the operator, the proof this server's bound session produced: the market
    role signs a batch only for proofs recorded here (docs/market.md, attestation)."""
    from omnidsl.groth16.formats import proof_to_json
    from omnidsl.groth16.keys import Proof
    from omnidsl.groth16.points import g1_from_bytes, g2_from_bytes
    from omnidsl.mpc.receipts import write_receipt

    proof = Proof(g1_from_bytes(result["a"]), g2_from_bytes(result["b"]),
                  g1_from_bytes(result["c"]))
    public = [int.from_bytes(m.public[i * 32:(i + 1) * 32], "little")
              for i in range(1, m.n_public)]
    return write_receipt(bind_dir, safe_label(m.bind_label or ""), proof_to_json(proof), public)


__all__ = ["Pin", "binding_digest", "check_pin", "read_pin", "safe_label", "write_bound_receipt",
           "write_pin"]
