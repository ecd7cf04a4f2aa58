"""``market demo --batch-proof``: a round's proofs submitted as ONE proof of the batch
statement (docs/market.md, "One proof per batch").

The demo's DOs and servers run as usual (shares, commitments, ρ, per-DO proofs — which show
each DO's statement holds — and every server's vetting); then the batch of the vetted DOs
(k = the round's number of DOs, refused ones become public padding slots) is proved in a Shamir
batch session in which every DO deals only its own slot (``batch_shamir.prove_local``: N server
threads of this process; plain for 2 servers, which Shamir cannot serve); every server records
and vets that proof, and one submits it with ``submitBatchProof``.  Stand-in: each DO's slot
input is rebuilt from the gradient reconstructed from the servers' committed shares, as the
demo's local prover does; the session checks every slot against the servers' committed shares
(``batch_binding``) before proving.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from web3 import Web3

from omnidsl.market.batch_attest import record_batch, submit_batch_proof
from omnidsl.market.batch_rule import (
    BatchRule,
    deploy_batch_verifier,
    public_padding,
    setup_batch,
)
from omnidsl.market.batch_shamir import prove_local
from omnidsl.market.client import BatchResult, MarketClient

#: paidState of a DO credited by a batch proof and not yet paid (Market.UNCLAIMED)
UNCLAIMED = 2


@dataclass
class BatchPath:
    """The batch key for k slots and its deployed verifier."""

    batch: BatchRule
    verifier: str


def prepare(w3: Web3, rule: Any, k: int, sender: str) -> BatchPath:
    """Dev setup of ``rule``'s batch statement for ``k`` slots; deploy its verifier."""
    batch = setup_batch(rule, k)
    return BatchPath(batch, deploy_batch_verifier(w3, batch, sender))


def open_task(path: BatchPath, mo: Any, task_id: int) -> None:
    """Name the batch verifier in the task (before any server commits)."""
    mo.market.set_batch_verifier(task_id, path.batch.k, path.verifier, mo.account)


def submit(path: BatchPath, servers: Sequence[Any], task_id: int,
           items: Sequence[tuple[dict[str, Any], Sequence[Any]]], rho: int,
           pinned: Any) -> BatchResult:
    """Prove and submit the batch of the DOs of the vetted ``items`` (their per-DO proofs)."""
    rule = path.batch.rule
    owners = [f"0x{int(public[rule.layout.owner_index]):040x}" for _, public in items]
    inputs = [rule.witness_input(servers[0].joint_gradient(task_id, o, servers[1:]), o, rho,
                                 pinned) for o in owners]
    pad = public_padding(rule, inputs[0])
    if len(servers) >= 3:  # each server checks every slot against its committed shares
        committed = [[s.shares[task_id][Web3.to_checksum_address(o)] for s in servers]
                     for o in owners]
        proof = prove_local(path.batch, inputs, pad, n_parties=len(servers),
                            threshold=(len(servers) - 1) // 2, committed=committed)
    else:
        proof = path.batch.prove(inputs, padding=pad)
    for s in servers:  # each server's prover took part: its receipt
        record_batch(s, task_id, proof)
    return submit_batch_proof(servers, task_id, proof, path.batch)


def claim(market: MarketClient, task_id: int, account: str) -> int:
    """Pay a DO the reward a batch proof credited to it (0 if none)."""
    if market.paid_state(task_id, Web3.to_checksum_address(account)) != UNCLAIMED:
        return 0
    return market.claim_reward(task_id, account)[0]
