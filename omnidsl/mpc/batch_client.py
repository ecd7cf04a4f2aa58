"""The clients of the batch session (docs/mpc.md, "Batch sessions"): a data owner dealing its
slot (:func:`deal_slot_to_servers`) and whoever runs the batch (:func:`run_batch`, the market's
coordinating server).  Both talk to every ``omnidsl serve`` of servers.toml over the ordinary
data-owner handshake; the messages are built here and parsed by ``batch_session.py``."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from omnidsl.errors import NetworkError, ProofError
from omnidsl.field import limbs_to_bytes
from omnidsl.mpc import codec, messages
from omnidsl.mpc.batch_session import (
    BATCH_KIND,
    SLOT_KIND,
    batch_threshold,
    deal_slot,
    encode_ints,
)
from omnidsl.mpc.config import ServersConfig, cached_file_digest
from omnidsl.mpc.coordinator import SESSION_TIMEOUT_FACTOR
from omnidsl.mpc.handshake import owner_exchange
from omnidsl.mpc.schemes.session import new_session_id
from omnidsl.mpc.schemes.shamir import dealer, wire


class BatchFailed(ProofError):
    """The batch session failed; ``culprits``: the slot labels some server named (a slot it was
    not dealt, or one that failed the binding check), to run the batch without."""

    def __init__(self, message: str, culprits: Sequence[str], hint: str | None = None):
        super().__init__(message, hint=hint)
        self.culprits = sorted(set(culprits))


async def _exchange(cfg: ServersConfig, i: int, session_id: bytes, digest: str,
                    payload: bytes) -> dict[str, codec.Value]:
    e = cfg.server(i)
    try:
        reply = await owner_exchange(e.host, e.port, i, e.public_key, session_id,
                                     messages.encode_open(digest), payload, cfg.max_frame,
                                     cfg.timeout, cfg.timeout * SESSION_TIMEOUT_FACTOR)
    except NetworkError as exc:
        return {"kind": "result", "ok": False, "error": f"server {i}: {exc.message}"}
    return codec.decode(reply)


async def _all(cfg: ServersConfig, session_id: bytes, digest: str,
               payloads: Sequence[bytes]) -> list[dict[str, codec.Value]]:
    return list(await asyncio.gather(*(_exchange(cfg, i, session_id, digest, p)
                                       for i, p in enumerate(payloads))))


def _errors(replies: Sequence[dict[str, codec.Value]]) -> list[str]:
    out = []
    for i, r in enumerate(replies):
        if not r.get("ok"):
            why = r.get("error")
            text = why if isinstance(why, str) else repr(why)
            out.append(text if text.startswith("server ") else f"server {i}: {text}")
    return out


def deal_slot_to_servers(cfg: ServersConfig, rule_pk: Any, rule_pk_path: str | Path,
                         rule_witness: np.ndarray, label: str, pin_digests: Sequence[bytes],
                         backend: Any) -> None:
    """Shamir-deal this data owner's slot (its rule witness, limbs) to every server under
    ``label``; ``pin_digests[i]``: ``binding_digest`` of the aggregation share it sent server i.
    ProofError naming every server that refused."""
    if len(pin_digests) != cfg.n:
        raise ProofError(f"{len(pin_digests)} pin digests for {cfg.n} servers")
    t = batch_threshold(cfg.scheme, cfg.scheme_params, cfg.n)
    sid = new_session_id()
    mats = deal_slot(rule_witness, rule_pk.n_public, cfg.n, t, backend, session_id=sid)
    w = limbs_to_bytes(np.asarray(rule_witness, np.uint64))
    public = w[32:32 * (1 + rule_pk.n_public)]
    digest = cached_file_digest(Path(rule_pk_path))
    payloads = []
    for i, m in enumerate(mats):
        m = replace(m, bind_label=label)  # (not part of the material's digest)
        payloads.append(codec.encode({
            "kind": SLOT_KIND, "scheme": dealer.SCHEME, "key_digest": digest,
            **wire.material_fields(m), "slot_public": public, "pin_digest": pin_digests[i]}))
    errors = _errors(asyncio.run(_all(cfg, sid, digest, payloads)))
    if errors:
        raise ProofError(f"the slot {label} was not dealt: {'; '.join(errors)}")


@dataclass(frozen=True)
class BatchSpec:
    """What a batch session proves: k slots (labels, "" = padding), the batch's public values,
    the rule's key and the public padding witness (limbs or None)."""

    labels: list[str]
    public: list[int]
    rule_pk_path: Path
    fp_index: int
    owner_index: int
    padding: np.ndarray | None
    receipt: str


def run_batch(cfg: ServersConfig, batch_pk_path: str | Path, spec: BatchSpec
              ) -> tuple[Any, list[dict[str, codec.Value]]]:
    """Have every server prove the batch; returns (the proof, every server's reply).  The caller
    verifies it.  :class:`BatchFailed` (with the culprits the servers named) otherwise."""
    from omnidsl.groth16.keys import Proof
    from omnidsl.groth16.points import g1_from_bytes, g2_from_bytes

    sid = new_session_id()
    digest = cached_file_digest(Path(batch_pk_path))
    pad = None if spec.padding is None else limbs_to_bytes(np.asarray(spec.padding, np.uint64))
    payload = codec.encode({
        "kind": BATCH_KIND, "scheme": dealer.SCHEME, "key_digest": digest, "session_id": sid,
        "rule_digest": cached_file_digest(spec.rule_pk_path), "k": len(spec.labels),
        "fp_index": spec.fp_index, "owner_index": spec.owner_index,
        "labels": ",".join(spec.labels), "public": encode_ints(spec.public), "padding": pad,
        "receipt": spec.receipt})
    replies = asyncio.run(_all(cfg, sid, digest, [payload] * cfg.n))
    errors = _errors(replies)
    culprits: list[str] = []
    for r in replies:
        c = r.get("culprits")
        if isinstance(c, str):
            with contextlib.suppress(ValueError, TypeError):
                culprits += [str(x) for x in json.loads(c)]
    if errors:
        raise BatchFailed(f"the batch session failed: {'; '.join(errors)}", culprits,
                          hint="run it again without the data owners named" if culprits
                          else None)
    proofs = {(bytes(codec.need(r, "a", bytes)), bytes(codec.need(r, "b", bytes)),
               bytes(codec.need(r, "c", bytes))) for r in replies}
    if len(proofs) != 1:
        raise BatchFailed("the servers returned different batch proofs", [])
    a, b, c = proofs.pop()
    return Proof(g1_from_bytes(a), g2_from_bytes(b), g1_from_bytes(c)), replies


__all__ = ["BatchFailed", "BatchSpec", "deal_slot_to_servers", "run_batch"]
