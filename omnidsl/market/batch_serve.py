"""One proof per batch from separate processes (docs/market.md, "One proof per batch"): a data
owner deals its slot to the servers' ``omnidsl serve`` processes (:func:`deal_batch_slot`), the
coordinating server has them prove the batch (:func:`prove_batch_tcp`), and every server signs
what its own process recorded (``batch_attest``).  The session itself is
``omnidsl.mpc.batch_session`` (server) and ``omnidsl.mpc.batch_client`` (clients)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from omnidsl.errors import ProofError
from omnidsl.field import int_to_bytes, limbs_to_ints
from omnidsl.market.batch_attest import batch_label
from omnidsl.market.batch_rule import BatchProof, BatchRule, proof_words, public_padding
from omnidsl.market.dsl_rule import DslRule
from omnidsl.market.roles import DataOwner, bind_label
from omnidsl.mpc.batch_client import BatchFailed, BatchSpec, deal_slot_to_servers, run_batch
from omnidsl.mpc.binding import binding_digest

log = logging.getLogger(__name__)

#: how many times the coordinator runs a batch again without the slots the servers named
MAX_RETRIES = 4
#: the owner of padding slots (no address: the contract credits nobody)
NO_OWNER = "0x" + "00" * 20


def pin_digests(rule: DslRule, pieces: Sequence[Sequence[int]]) -> list[bytes]:
    """Per server, the digest of the pin of the aggregation share ``pieces[i]`` it was sent (what
    authenticates the DO's slot at that server)."""
    wires = rule.binding_for(Path(".")).wires
    return [binding_digest(wires, b"".join(int_to_bytes(int(v)) for v in p)) for p in pieces]


def slot_public(rule: DslRule, do: DataOwner, task_id: int, rho: int, terms: Any) -> list[int]:
    """The DO's slot's public signals (fingerprint, owner, ρ, pins) in the rule's order."""
    wit = rule.circuit.witness(rule.witness_input(do.vectors[task_id], do.account, rho, terms))
    return [int(x) for x in limbs_to_ints(wit[1:1 + rule.iface.n_public])]


def deal_batch_slot(rule: DslRule, cfg: Any, pk_path: Path, do: DataOwner, task_id: int,
                    rho: int, terms: Any) -> list[int]:
    """Deal the vector ``do`` shared in ``task_id`` as its slot of the task's batch to every
    server of ``cfg``; returns the slot's public signals."""
    inp = rule.witness_input(do.vectors[task_id], do.account, rho, terms)
    wit = rule.circuit.witness(inp)  # the rule's own located error if the vector breaks it
    deal_slot_to_servers(cfg, rule.pk, pk_path, wit, bind_label(task_id, do.account),
                         pin_digests(rule, do.dealt[task_id]), rule.backend)
    return [int(x) for x in limbs_to_ints(wit[1:1 + rule.iface.n_public])]


def padding_witness(rule: DslRule, rho: int, terms: Any) -> tuple[Any, list[int]]:
    zero = rule.witness_input([0] * (rule.dim + 1), NO_OWNER, rho, terms)
    wit = rule.circuit.witness(public_padding(rule, zero))
    return wit, [int(x) for x in limbs_to_ints(wit[1:1 + rule.iface.n_public])]


def prove_batch_tcp(batch: BatchRule, cfg: Any, batch_pk_path: Path, rule_pk_path: Path,
                    task_id: int, rho: int, terms: Any, slots: Mapping[str, Sequence[int]]
                    ) -> tuple[BatchProof | None, dict[str, str]]:
    """Have the servers of ``cfg`` prove one batch of the DOs in ``slots`` (address → the slot's
    public signals the DO announced; at most k, padded to k).  A DO some server names (it did
    not deal its slot there, its slot is not what it committed to, or its announced public
    values are not its slot's) is left out and the batch run again.  Returns (the verified
    proof or None if no slot is left, refused DO → why)."""
    from omnidsl.groth16.verifier import verify

    rule, lay = batch.rule, batch.system.layout
    if len(slots) > batch.k:
        raise ProofError(f"{len(slots)} slots for a batch of {batch.k}")
    pad_wit, pad_pub = padding_witness(rule, rho, terms)
    refused: dict[str, str] = {}
    owners = sorted(slots, key=str.lower)
    for _ in range(MAX_RETRIES + 1):
        if not owners:
            return None, refused
        n = len(owners)
        labels = [bind_label(task_id, o) for o in owners] + [""] * (batch.k - n)
        own = [int(o, 16) for o in owners] + [0] * (batch.k - n)
        fps = [int(slots[o][lay.fp_index]) for o in owners] + [pad_pub[lay.fp_index]] * (
            batch.k - n)
        public = lay.public(fps, own, {i: pad_pub[i] for i in lay.shared})
        spec = BatchSpec(labels, public, Path(rule_pk_path), lay.fp_index, lay.owner_index,
                         pad_wit if n < batch.k else None, batch_label(task_id, own))
        t0 = time.perf_counter()
        try:
            proof, _ = run_batch(cfg, batch_pk_path, spec)
        except BatchFailed as exc:
            named = [o for o, lab in zip(owners, labels, strict=False) if lab in exc.culprits]
            if not named:
                raise
            for o in named:
                refused[o] = exc.message
                log.warning("task %d: %s left out of the batch: %s", task_id, o, exc.message)
            owners = [o for o in owners if o not in named]
            continue
        if not verify(batch.pk.vk, public, proof, rule.backend):
            raise ProofError(f"task {task_id}: the servers' batch proof does not verify")
        return BatchProof(proof_words(proof), own, fps, public,
                          time.perf_counter() - t0), refused
    raise ProofError(f"task {task_id}: the batch failed {MAX_RETRIES + 1} times")


__all__ = ["deal_batch_slot", "pin_digests", "prove_batch_tcp", "slot_public"]
