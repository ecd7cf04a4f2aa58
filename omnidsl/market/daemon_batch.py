"""The batch-proof path of ``omnidsl market server run`` (docs/market.md, "One proof per batch").

When the daemon was given the rule's batch key for k slots (``--batch-keys DIR --batch-size K``)
and a task names a batch verifier for that k (``Market.setBatchVerifier``), the task's
coordinating server, once ρ is fixed and every committed DO announced its slot (or the prove
window passed), has the servers' ``omnidsl serve`` processes prove the committed DOs in batches
of k (:func:`~omnidsl.market.batch_serve.prove_batch_tcp`: a DO a server names is left out and
the batch run again), collects every server's signature (each signs only the proof its own
process recorded, ``batch_attest.attest_batch``) and submits with ``submitBatchProof``.  The DOs
then claim with ``claimReward`` (``omnidsl market do claim``).

A DO announces its slot's public signals on each server's inbox (``/slot``, signed like its
share: :func:`slot_digest`); the announcement is only what the coordinator names in the batch —
every server's process checks it against the slot the DO dealt.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3

from omnidsl.errors import NetworkError
from omnidsl.field import R
from omnidsl.market import inbox
from omnidsl.market.batch_attest import attest_batch
from omnidsl.market.batch_rule import BatchProof, BatchRule
from omnidsl.mpc.batch_client import BatchFailed

log = logging.getLogger(__name__)

SLOT_DOMAIN = b"omnidsl-market-batch-slot/v1"


def slot_digest(chain_id: int, market: str, task_id: int, server: str, owner: str,
                public: Sequence[int]) -> bytes:
    """What a DO signs when it announces its slot's public signals to ``server``."""
    body = SLOT_DOMAIN + b"".join(int(v).to_bytes(32, "big") for v in public)
    return inbox.share_digest(chain_id, market, task_id, server, owner, body)


@dataclass
class BatchKeys:
    """The batch key a daemon proves and signs with, and its servers.toml (to reach the
    ``omnidsl serve`` processes)."""

    batch: BatchRule
    pk_path: Path
    serve_config: Any  # omnidsl.mpc.config.ServersConfig


def load_batch_keys(rule: Any, keys: Path, k: int, serve_config: Any) -> BatchKeys:
    """The batch of ``k`` slots of ``rule`` (a LoadedRule) with the proving key in ``keys``."""
    from omnidsl.groth16.keys import read_proving_key
    from omnidsl.mpc.batch_system import compose
    from omnidsl.mpc.config import proving_key_file

    r = rule.rule
    pk_path = proving_key_file(keys)
    system = compose(r.circuit.r1cs, r.iface.fp_index, r.iface.owner_index, k)
    return BatchKeys(BatchRule(r, system, read_proving_key(pk_path)), pk_path, serve_config)


def _public(body: dict[str, Any]) -> list[int]:
    vals = [int(str(x)) for x in body["public"]]
    if any(not 0 <= v < R for v in vals):
        raise NetworkError("a public value is not a field element")
    return vals


def on_slot(daemon: Any, body: dict[str, Any]) -> dict[str, Any]:
    """A DO announces the public signals of the slot it dealt (signed by the DO)."""
    task_id, owner = int(body["task"]), Web3.to_checksum_address(str(body["owner"]))
    public = _public(body)
    digest = slot_digest(int(daemon.market.w3.eth.chain_id), daemon.market.address, task_id,
                         daemon.address, owner, public)
    if inbox.recover(digest, bytes.fromhex(str(body["signature"]))) != owner:
        raise NetworkError(f"task {task_id}: the slot announcement is not signed by {owner}")
    with daemon.lock:
        if owner not in daemon.server.shares.get(task_id, {}):
            raise NetworkError(f"server {daemon.address} holds no share of {owner} in task "
                               f"{task_id}")
        daemon.slots.setdefault(task_id, {})[owner] = public
    log.info("task %d: %s announced its batch slot", task_id, owner)
    return {"ok": True}


def _proof_of(body: dict[str, Any]) -> BatchProof:
    return BatchProof([int(str(x)) for x in body["words"]], [int(str(x)) for x in body["owners"]],
                      [int(str(x)) for x in body["fps"]], _public(body), 0.0)


def _body(task_id: int, proof: BatchProof) -> dict[str, Any]:
    return {"task": task_id, "words": [str(x) for x in proof.words],
            "owners": [str(x) for x in proof.owners], "fps": [str(x) for x in proof.fps],
            "public": [str(x) for x in proof.public]}


def on_attest_batch(daemon: Any, body: dict[str, Any]) -> dict[str, Any]:
    """This server's signature of a batch proof (refused unless its own process recorded it,
    for DOs whose committed share it holds and still has pinned)."""
    if daemon.batch is None:
        raise NetworkError(f"server {daemon.address} has no batch key")
    task_id = int(body["task"])
    with daemon.lock:
        sig = attest_batch(daemon.server, task_id, _proof_of(body), daemon.batch.batch)
    log.info("task %d: attested a batch proof", task_id)
    return {"signature": sig.hex()}


def uses_batch(daemon: Any, task_id: int) -> bool:
    """The task names a batch verifier for this daemon's batch size."""
    return daemon.batch is not None and \
        daemon.market.batch_verifier(task_id, daemon.batch.batch.k) is not None


def maybe_submit_batch(daemon: Any, task_id: int, st: Any, owners: list[str]) -> None:
    """(The coordinator) prove and submit the task's batches once every committed DO announced
    its slot, or the prove window passed."""
    from omnidsl.market.batch_serve import prove_batch_tcp
    from omnidsl.market.tasks import task_terms

    announced = daemon.slots.get(task_id, {})
    ready = [o for o in owners if o in announced]
    late = time.monotonic() - st.fixed_at >= daemon.timing.prove_s
    if len(ready) < len(owners) and not late:
        return
    if not ready:
        st.submitted = True
        daemon._save(task_id)
        log.info("task %d: no data owner dealt a batch slot; nothing to submit", task_id)
        return
    keys: BatchKeys = daemon.batch
    info = daemon.market.task(task_id)
    terms = task_terms(daemon.market, task_id, daemon.rule.rule)
    peers = daemon._peer_urls(task_id)
    k = keys.batch.k
    for start in range(0, len(ready), k):
        chunk = {o: announced[o] for o in ready[start:start + k]}
        try:
            proof, refused = prove_batch_tcp(keys.batch, keys.serve_config, keys.pk_path,
                                             daemon.rule.pk_path, task_id, info.rho, terms,
                                             chunk)
        except BatchFailed as exc:  # nobody named (a dead server): retried at the next poll
            raise NetworkError(exc.message, hint=exc.hint) from None
        for o, why in refused.items():
            log.warning("task %d: %s left out of the batch: %s", task_id, o, why)
        if proof is None:
            continue
        sigs = []
        for s in daemon.market.servers(task_id):
            a = str(Web3.to_checksum_address(s))
            if a == daemon.address:
                sigs.append(attest_batch(daemon.server, task_id, proof, keys.batch))
            else:
                got = inbox.request(peers[a], "/attest_batch", _body(task_id, proof))
                sigs.append(bytes.fromhex(str(got["signature"])))
        res = daemon.market.submit_batch_proof(task_id, proof.words, proof.owners, proof.fps,
                                               b"".join(sigs), daemon.server.account)
        for o in chunk:  # (a retry after a later chunk fails does not submit these again)
            announced.pop(o, None)
        log.info("task %d: batch proof of %d slots submitted (gas %d): accepted %s", task_id,
                 k, res.gas_used, res.accepted or "none")
    st.submitted = True
    daemon._save(task_id)


__all__ = ["BatchKeys", "load_batch_keys", "maybe_submit_batch", "on_attest_batch", "on_slot",
           "slot_digest", "uses_batch"]
