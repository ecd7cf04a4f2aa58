"""What an honest server checks before it signs one proof of a whole batch
(``Market.submitBatchProof``; docs/market.md, "One proof per batch").

The same rule as for ``submitBatch`` (``Server.vet``): a server signs only a proof its own prover
produced — here the batch proof, recorded under :func:`batch_label` — and, with aggregate
binding, only slots of DOs whose committed share it holds and still has pinned (padding slots,
owner 0, name nobody).  The slots are not bound to those shares inside the batch: a DO could
deal a slot with a gradient the rule allows and a mask chosen after ρ that gives it the
fingerprint of a shared vector the rule forbids.  So a server also signs a slot only for a DO
its own prover proved in this task (the bound per-DO proof: the committed shares satisfy the
rule) with exactly that slot's public signals (fingerprint, owner, ρ, pins) — unless the batch
proof's receipt is in its bind directory: its ``omnidsl serve`` made it in a batch session
(``omnidsl.mpc.batch_session``), which checks every slot against the committed share before
proving, so the batch proof itself shows the committed vector satisfies the rule.  It also checks that the task's batch verifier for k runs exactly the code
omnidsl generates for the batch key (a verifier of another key is the MO's claim only).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from web3 import Web3

from omnidsl.errors import ChainError
from omnidsl.field import R
from omnidsl.market.attestation import Receipts, sign_digest
from omnidsl.market.batch_rule import BatchProof, BatchRule, verifier_name
from omnidsl.market.roles import bind_label


def batch_label(task_id: int, owners: Sequence[int]) -> str:
    """The label a server's batch proof of these slots is recorded under."""
    h = hashlib.sha256(b"".join(int(o).to_bytes(32, "big") for o in owners)).hexdigest()
    return f"task{task_id}-batch{len(owners)}-{h[:16]}"


def record_batch(server: Any, task_id: int, proof: BatchProof) -> None:
    """A server records a batch proof its own prover produced in this process (the stand-in of
    a batch session's receipt; ``prove_local``): its slots still need the per-DO proofs."""
    server.receipts.record_words(batch_label(task_id, proof.owners), proof.words, proof.public)


def check_batch_verifier(market: Any, task_id: int, batch: BatchRule) -> None:
    """ChainError unless the task's verifier for ``batch.k`` slots runs exactly the code
    generated for the batch key."""
    from omnidsl.market.tasks import _verifier_code

    addr = market.batch_verifier(task_id, batch.k)
    if addr is None:
        raise ChainError(f"task {task_id} names no verifier for batches of {batch.k}")
    code = bytes(market.w3.eth.get_code(Web3.to_checksum_address(addr)))
    # the market only calls verifyProof on it: deploy_batch_verifier deploys the default verifier
    want = _verifier_code(json.dumps(batch.vk, sort_keys=True), verifier_name(batch.k), batch=False)
    if code != want:
        raise ChainError(f"task {task_id}: the batch verifier at {addr} is not the verifier of "
                         f"the batch key for k = {batch.k} ({len(code)} bytes of code, expected "
                         f"{len(want)})", hint="deploy it with batch_rule.deploy_batch_verifier")


def slot_public(proof: BatchProof, batch: BatchRule, j: int) -> list[int]:
    """Slot ``j``'s public signals in the rule's order (what its DO's per-DO proof carries)."""
    lay = batch.system.layout
    out = [0] * lay.rule_public
    for pos, i in enumerate(lay.shared):
        out[i] = int(proof.public[2 * lay.k + pos]) % R
    out[lay.fp_index] = int(proof.fps[j]) % R
    out[lay.owner_index] = int(proof.owners[j]) % R
    return out


def vet_batch(server: Any, task_id: int, proof: BatchProof, batch: BatchRule) -> str | None:
    """None if ``server`` would attest ``proof``, else why not."""
    info = server.market.task(task_id)
    if len(proof.owners) != batch.k or len(proof.fps) != batch.k:
        return f"not a batch of {batch.k}"
    label = batch_label(task_id, proof.owners)
    want = (list(proof.words), [int(x) for x in proof.public])
    # a receipt in the bind directory: this server's `omnidsl serve` proved the batch in a
    # batch session, after checking every slot against the share it committed to
    session = server.binding is not None and \
        Receipts(server.binding.bind_dir).lookup(label) == want
    produced = want if session else server.receipts.lookup(label)
    if produced is None or produced != want \
            or proof.public[:2 * batch.k] != [*proof.fps, *proof.owners]:
        return f"server {server.account}'s prover did not produce it"
    for j, owner in enumerate(proof.owners):
        if owner == 0:
            continue
        if owner >> 160:
            return f"slot {j}: no data owner address"
        if info.rho_index is not None:
            why = server._committed(task_id, f"0x{owner:040x}")
            if why is not None:
                return f"slot {j}: {why}"
        if session:  # bound to the committed share inside the session: no per-DO proof needed
            continue
        key = Web3.to_checksum_address(f"0x{owner:040x}")
        own = server._produced(bind_label(task_id, key))
        if own is None:
            return (f"slot {j}: server {server.account}'s prover made no per-DO proof of {key} "
                    f"in task {task_id} (the bound proof that its committed shares satisfy "
                    "the rule)")
        if [int(x) % R for x in own[1]] != slot_public(proof, batch, j):
            return (f"slot {j}: not the public signals of {key}'s per-DO proof (fingerprint, "
                    "ρ or a pin differs)")
    return None


def attest_batch(server: Any, task_id: int, proof: BatchProof, batch: BatchRule) -> bytes:
    """``server``'s signature of the batch proof, or ChainError naming why it refuses."""
    server.check_terms(task_id)
    check_batch_verifier(server.market, task_id, batch)
    why = vet_batch(server, task_id, proof, batch)
    if why is not None:
        raise ChainError(f"server {server.account} refuses to sign the batch proof: {why}")
    market = server.market
    digest = market.batch_proof_digest(task_id, proof.words, proof.owners, proof.fps)
    return sign_digest(market.w3, server.account, digest, server.signer)


def submit_batch_proof(servers: Sequence[Any], task_id: int, proof: BatchProof,
                       batch: BatchRule) -> Any:
    """Every server (``market.roles.Server``, in the task's order) vets and signs the batch
    proof; the first submits it.  Returns the ``BatchResult``."""
    sigs = b"".join(attest_batch(s, task_id, proof, batch) for s in servers)
    return servers[0].market.submit_batch_proof(task_id, proof.words, proof.owners, proof.fps,
                                                sigs, servers[0].account)
