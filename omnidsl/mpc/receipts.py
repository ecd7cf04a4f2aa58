"""Proof receipts of bound sessions (``omnidsl serve --bind-dir DIR``).

After a bound session succeeds, the server writes ``DIR/<label>.receipt.json`` =
``{"proof": <snarkjs proof.json>, "public": [<public signals as decimal strings>]}`` — the proof
its own prover opened for the committed share pinned under ``<label>``.  The server's operator
(the market role, :mod:`omnidsl.market.attestation`) signs a batch only for proofs recorded
here, so a proof made anywhere else is never attested by an honest server (docs/market.md).
The file is written atomically (temporary file, then rename).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def receipt_path(bind_dir: str | Path, label: str) -> Path:
    return Path(bind_dir) / f"{label}.receipt.json"


def write_receipt(bind_dir: str | Path, label: str, proof: dict[str, Any],
                  public: Sequence[Any]) -> Path:
    """Record the proof produced under ``label`` (replacing an earlier one)."""
    out = receipt_path(bind_dir, label)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps({"proof": proof, "public": [str(x) for x in public]}))
    tmp.replace(out)
    return out


def read_receipt(bind_dir: str | Path, label: str) -> tuple[dict[str, Any], list[str]] | None:
    """The recorded (proof, public) under ``label``, or None if there is none (or it is
    unreadable)."""
    try:
        data = json.loads(receipt_path(bind_dir, label).read_text())
        return dict(data["proof"]), [str(x) for x in data["public"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
