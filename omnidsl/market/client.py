"""Typed Python client of ``contracts/Market.sol`` over an injected :class:`Web3`.

Every transaction method returns a :class:`TxResult` (hash, gas used, decoded events) or a typed
result built from the events; a reverted transaction raises :class:`ChainError` carrying the
contract's revert reason (the one transaction helper, :mod:`omnidsl.chain.tx`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from web3 import Web3
from web3.logs import DISCARD

from omnidsl.chain import artifacts
from omnidsl.chain.tx import call, gas_limit_of, transact
from omnidsl.errors import ChainError

#: Marks "no aggregate binding" for rho/fingerprint indices (Market.NONE).
NONE_INDEX = 2**32 - 1
#: Gas offered to submitBatch (capped by the block gas limit).
BATCH_GAS_CAP = 30_000_000
#: Gas offered to revealSeed: enough for the last reveal, which fixes rho (measured < 100k).
REVEAL_GAS = 200_000
#: Default time (s) between the submission deadline and the delivery deadline.
DELIVERY_WINDOW = 3600


class Reject(enum.IntEnum):
    """Why a proof earned nothing (mirrors ``Market.Reject``)."""

    BAD_OWNER = 0
    ALREADY_PAID = 1
    PINNED_MISMATCH = 2
    WRONG_CHALLENGE = 3
    INVALID_PROOF = 4
    ESCROW_EXHAUSTED = 5


@dataclass(frozen=True)
class Event:
    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class TxResult:
    tx_hash: str
    gas_used: int
    block: int
    events: list[Event]

    def named(self, name: str) -> list[Event]:
        """The decoded events called ``name``, in log order."""
        return [e for e in self.events if e.name == name]


@dataclass(frozen=True)
class TaskSpec:
    """What the model owner fixes when opening a task (see ``Market.TaskParams``)."""

    verifier: str
    n_public: int
    owner_index: int
    deadline: int
    reward_per_gradient: int
    server_fee: int
    servers: list[str]
    owner_key: bytes  # the MO's X25519 public key (servers seal their aggregate shares to it)
    rule_hash: bytes = b"\0" * 32
    rho_index: int | None = None
    fp_index: int | None = None
    pinned: dict[int, int] = field(default_factory=dict)
    deliver_by: int | None = None  # default: deadline + DELIVERY_WINDOW
    server_bond: int = 0  # wei each server deposits with its commitment

    def as_tuple(self) -> tuple[Any, ...]:
        rho = NONE_INDEX if self.rho_index is None else self.rho_index
        fp = NONE_INDEX if self.fp_index is None else self.fp_index
        idx = sorted(self.pinned)
        deliver_by = self.deadline + DELIVERY_WINDOW if self.deliver_by is None else self.deliver_by
        return (Web3.to_checksum_address(self.verifier), self.n_public, self.owner_index, rho, fp,
                self.deadline, deliver_by, self.reward_per_gradient, self.server_fee,
                self.server_bond, bytes(self.rule_hash).rjust(32, b"\0"),
                bytes(self.owner_key).rjust(32, b"\0"),
                [Web3.to_checksum_address(s) for s in self.servers], idx,
                [self.pinned[i] for i in idx])


@dataclass(frozen=True)
class TaskInfo:
    """Decoded ``Market.getTask``."""

    owner: str
    verifier: str
    deadline: int
    deliver_by: int
    n_public: int
    owner_index: int
    rho_index: int | None
    fp_index: int | None
    n_committed: int
    n_revealed: int
    n_delivered: int
    challenge_fixed: bool
    closed: bool
    settled: bool
    reward_per_gradient: int
    server_fee: int
    server_bond: int
    remaining: int
    rho: int
    fp_sum: int
    accepted: int
    rule_hash: bytes
    owner_key: bytes


@dataclass(frozen=True)
class BatchResult:
    """Outcome of one ``submitBatch``: who was credited, who was refused and why."""

    tx: TxResult
    k: int
    batch_valid: bool
    accepted: list[str]
    fingerprints: dict[str, int]
    rejected: list[tuple[int, str, Reject]]

    @property
    def gas_used(self) -> int:
        return self.tx.gas_used


class MarketClient:
    """One deployed Market contract."""

    def __init__(self, w3: Web3, address: str, abi: list[dict[str, Any]] | None = None,
                 gas_cap: int | None = None) -> None:
        self.w3 = w3
        self.gas_cap = gas_cap  # most gas any one transaction is offered (None: block limit)
        self.abi = abi if abi is not None else artifacts.market().abi
        self.contract = w3.eth.contract(address=Web3.to_checksum_address(address), abi=self.abi)
        self.address = self.contract.address

    @classmethod
    def deploy(cls, w3: Web3, sender: str | None = None,
               gas_cap: int | None = None) -> MarketClient:
        """Deploy a fresh Market (the shipped artifact: no compiler needed)."""
        from omnidsl.chain.tx import deploy

        cc = artifacts.market()
        contract = deploy(w3, cc.abi, cc.bytecode, sender=sender, gas_cap=gas_cap, label="Market")
        return cls(w3, contract.address, cc.abi, gas_cap=gas_cap)

    # ------------------------------------------------------------------ plumbing
    def _send(self, fn: Any, sender: str, value: int = 0, gas: int | None = None) -> TxResult:
        name = f"Market.{getattr(fn, 'fn_name', 'transaction')}"
        receipt = transact(self.w3, fn, sender=sender, value=value, gas=gas,
                           gas_cap=self.gas_cap, label=name)
        return TxResult(tx_hash=receipt["transactionHash"].hex(), gas_used=int(receipt["gasUsed"]),
                        block=int(receipt["blockNumber"]), events=self.decode_events(receipt))

    def decode_events(self, receipt: Any) -> list[Event]:
        """All Market events in ``receipt``, in log order."""
        found: list[tuple[int, Event]] = []
        for item in self.abi:
            if item.get("type") != "event":
                continue
            ev = getattr(self.contract.events, item["name"])()
            for log in ev.process_receipt(receipt, errors=DISCARD):
                found.append((int(log["logIndex"]), Event(item["name"], dict(log["args"]))))
        return [e for _, e in sorted(found, key=lambda t: t[0])]

    def _call(self, fn: Any) -> Any:
        return call(fn, label=f"Market.{getattr(fn, 'fn_name', 'call')}")

    # ------------------------------------------------------------------ transactions
    def create_task(self, spec: TaskSpec, escrow: int, sender: str) -> tuple[int, TxResult]:
        """Open a task with ``escrow`` wei; returns (task id, tx)."""
        res = self._send(self.contract.functions.createTask(spec.as_tuple()), sender, value=escrow)
        created = res.named("TaskCreated")
        if not created:
            raise ChainError("createTask emitted no TaskCreated event")
        return int(created[0].args["taskId"]), res

    def add_escrow(self, task_id: int, amount: int, sender: str) -> TxResult:
        return self._send(self.contract.functions.addEscrow(task_id), sender, value=amount)

    def commit_shares(self, task_id: int, commitment: bytes, seed_hash: bytes, sender: str,
                      bond: int = 0) -> TxResult:
        """A server commits to its shares and to the hash of its secret seed, depositing ``bond``
        wei (the task's ``serverBond``)."""
        return self._send(self.contract.functions.commitShares(task_id, bytes(commitment),
                                                               bytes(seed_hash)), sender, value=bond)

    def reveal_seed(self, task_id: int, seed: bytes, sender: str) -> TxResult:
        """A server reveals its seed (after every server committed); the last reveal fixes rho.
        Offered :data:`REVEAL_GAS` (unused gas is refunded): servers reveal concurrently, so a
        reveal estimated as not the last may be mined as the last, which costs more."""
        cap = min(REVEAL_GAS, self.gas_cap) if self.gas_cap else REVEAL_GAS
        return self._send(self.contract.functions.revealSeed(task_id, bytes(seed)), sender,
                          gas=gas_limit_of(self.w3, cap))

    def close_submissions(self, task_id: int, sender: str) -> TxResult:
        """The task owner ends the submission phase (servers may then deliver)."""
        return self._send(self.contract.functions.closeSubmissions(task_id), sender)

    def deliver_aggregate(self, task_id: int, sealed: bytes, sender: str) -> TxResult:
        """A server posts its aggregate share sealed to the MO's key; it is paid its fees and
        its bond back."""
        return self._send(self.contract.functions.deliverAggregate(task_id, bytes(sealed)), sender)

    def submit_batch(self, task_id: int, proofs: list[int], inputs: list[int], signatures: bytes,
                     sender: str, gas: int | None = None) -> BatchResult:
        """Submit k proofs (8 words each), their k*N public inputs and one 65-byte attestation
        signature per server of the task (in the task's server order)."""
        if gas is None:
            # No eth_estimateGas here: on py-evm it would replay the pairings many times, and the
            # batch's cost depends on whether the per-proof fallback runs.  Unused gas is refunded.
            cap = min(BATCH_GAS_CAP, self.gas_cap) if self.gas_cap else BATCH_GAS_CAP
            gas = gas_limit_of(self.w3, cap)
        fn = self.contract.functions.submitBatch(task_id, list(proofs), list(inputs),
                                                 bytes(signatures))
        res = self._send(fn, sender, gas=gas)
        summary = res.named("BatchSubmitted")
        if not summary:
            raise ChainError("submitBatch emitted no BatchSubmitted event")
        accepted = [str(e.args["dataOwner"]) for e in res.named("ProofAccepted")]
        fps = {str(e.args["dataOwner"]): int(e.args["fingerprint"])
               for e in res.named("ProofAccepted")}
        rejected = [(int(e.args["index"]), str(e.args["dataOwner"]), Reject(int(e.args["reason"])))
                    for e in res.named("ProofRejected")]
        return BatchResult(tx=res, k=int(summary[0].args["proofs"]),
                           batch_valid=bool(summary[0].args["batchValid"]), accepted=accepted,
                           fingerprints=fps, rejected=rejected)

    def set_batch_verifier(self, task_id: int, k: int, verifier: str, sender: str) -> TxResult:
        """The task owner names the verifier of the batch statement for ``k`` slots (before any
        server commits)."""
        return self._send(self.contract.functions.setBatchVerifier(
            task_id, k, Web3.to_checksum_address(verifier)), sender)

    def submit_batch_proof(self, task_id: int, proof: list[int], owners: list[int],
                           fps: list[int], signatures: bytes, sender: str,
                           gas: int | None = None) -> BatchResult:
        """Submit ONE proof (8 words) of the batch statement for len(owners) slots (owner 0:
        padding) with every server's attestation of ``batch_proof_digest``."""
        if gas is None:
            cap = min(BATCH_GAS_CAP, self.gas_cap) if self.gas_cap else BATCH_GAS_CAP
            gas = gas_limit_of(self.w3, cap)
        fn = self.contract.functions.submitBatchProof(task_id, [int(x) for x in proof],
                                                      [int(x) for x in owners],
                                                      [int(x) for x in fps], bytes(signatures))
        res = self._send(fn, sender, gas=gas)
        summary = res.named("BatchSubmitted")
        if not summary:
            raise ChainError("submitBatchProof emitted no BatchSubmitted event")
        accepted = [str(e.args["dataOwner"]) for e in res.named("ProofAccepted")]
        fpmap = {str(e.args["dataOwner"]): int(e.args["fingerprint"])
                 for e in res.named("ProofAccepted")}
        rejected = [(int(e.args["index"]), str(e.args["dataOwner"]), Reject(int(e.args["reason"])))
                    for e in res.named("ProofRejected")]
        return BatchResult(tx=res, k=int(summary[0].args["proofs"]), batch_valid=True,
                           accepted=accepted, fingerprints=fpmap, rejected=rejected)

    def claim_reward(self, task_id: int, sender: str) -> tuple[int, TxResult]:
        """A DO credited by a batch proof is paid its reward; (amount, tx)."""
        res = self._send(self.contract.functions.claimReward(task_id), sender)
        return int(res.named("RewardClaimed")[0].args["amount"]), res

    def withdraw(self, sender: str) -> tuple[int, TxResult]:
        """Pull the caller's balance; returns (amount, tx)."""
        res = self._send(self.contract.functions.withdraw(), sender)
        return int(res.named("Withdrawn")[0].args["amount"]), res

    def reclaim(self, task_id: int, sender: str) -> tuple[int, TxResult]:
        """After the deadline the task owner takes back the unspent escrow; returns (amount, tx)."""
        res = self._send(self.contract.functions.reclaim(task_id), sender)
        return int(res.named("Reclaimed")[0].args["amount"]), res

    def report_aggregate(self, task_id: int, matched: bool, sender: str) -> TxResult:
        return self._send(self.contract.functions.reportAggregate(task_id, matched), sender)

    def publish_reference(self, task_id: int, pin_index: int, data: bytes, sender: str
                          ) -> TxResult:
        """The task owner publishes the data behind pinned input ``pin_index`` (e.g. a committed
        reference's packed entries) as calldata (``Market.publishReference``)."""
        return self._send(self.contract.functions.publishReference(task_id, pin_index,
                                                                   bytes(data)), sender)

    def published(self, task_id: int, pin_index: int) -> list[bytes]:
        """Every publication of pinned input ``pin_index`` of ``task_id``, oldest first (the
        ``data`` argument of each ``publishReference`` transaction that emitted one)."""
        logs = self.contract.events.ReferencePublished().get_logs(
            from_block=0, argument_filters={"taskId": task_id, "pinIndex": pin_index})
        out = []
        for log in logs:
            tx = self.w3.eth.get_transaction(log["transactionHash"])
            try:
                fn, args = self.contract.decode_function_input(tx["input"])
            except ValueError:  # published through another contract: not a direct call
                continue
            if fn.fn_name == "publishReference" and int(args["taskId"]) == task_id:
                out.append(bytes(args["data"]))
        return out

    def request_audit(self, task_id: int, server: str, sender: str) -> TxResult:
        """The task owner names a server it audits (after submissions close; at most N - 1
        servers per task); only a server named on-chain opens its commitment."""
        addr = Web3.to_checksum_address(server)
        return self._send(self.contract.functions.requestAudit(task_id, addr), sender)

    # ------------------------------------------------------------------ views
    def task(self, task_id: int) -> TaskInfo:
        t = self._call(self.contract.functions.getTask(task_id))
        if int(str(t[0]), 16) == 0:
            raise ChainError(f"no task {task_id} on the market at {self.address}")
        (owner, verifier, deadline, deliver_by, n_public, owner_index, rho_index, fp_index,
         n_committed, n_revealed, n_delivered, fixed, closed, settled, _selector, reward, fee,
         bond, remaining, rho, fp_sum, accepted, rule_hash, owner_key, _acc, _seeds) = t
        return TaskInfo(
            owner=str(owner), verifier=str(verifier), deadline=int(deadline),
            deliver_by=int(deliver_by), n_public=int(n_public), owner_index=int(owner_index),
            rho_index=None if rho_index == NONE_INDEX else int(rho_index),
            fp_index=None if fp_index == NONE_INDEX else int(fp_index),
            n_committed=int(n_committed), n_revealed=int(n_revealed),
            n_delivered=int(n_delivered), challenge_fixed=bool(fixed), closed=bool(closed),
            settled=bool(settled), reward_per_gradient=int(reward), server_fee=int(fee),
            server_bond=int(bond), remaining=int(remaining), rho=int(rho), fp_sum=int(fp_sum),
            accepted=int(accepted), rule_hash=bytes(rule_hash), owner_key=bytes(owner_key))

    def attestation_digest(self, task_id: int, proofs: list[int], inputs: list[int]) -> bytes:
        """What every server signs to attest a batch (``Market.attestationDigest``), computed
        locally from the chain id and this contract's address."""
        from omnidsl.market.attestation import batch_digest

        return batch_digest(int(self.w3.eth.chain_id), self.address, task_id, proofs, inputs)

    def batch_proof_digest(self, task_id: int, proof: list[int], owners: list[int],
                           fps: list[int]) -> bytes:
        """What every server signs to attest one batch proof (``Market.batchProofDigest``)."""
        from omnidsl.market.attestation import batch_proof_digest

        return batch_proof_digest(int(self.w3.eth.chain_id), self.address, task_id, proof,
                                  owners, fps)

    def batch_verifier(self, task_id: int, k: int) -> str | None:
        """The task's verifier for batches of ``k`` slots, or None."""
        addr = str(self._call(self.contract.functions.batchVerifierOf(task_id, k)))
        return None if int(addr, 16) == 0 else addr

    def paid_state(self, task_id: int, data_owner: str) -> int:
        """0 not credited, 1 credited to the balance, 2 credited by a batch proof (unclaimed),
        3 claimed."""
        addr = Web3.to_checksum_address(data_owner)
        return int(self._call(self.contract.functions.paidState(task_id, addr)))

    def pinned(self, task_id: int) -> dict[int, int]:
        """The task's pinned public inputs (``pinnedOf``): index → value."""
        idx, vals = self._call(self.contract.functions.pinnedOf(task_id))
        return {int(i): int(v) for i, v in zip(idx, vals, strict=True)}

    def reclaimable(self, task_id: int) -> int:
        """What ``reclaim`` pays the task owner once the delivery deadline has passed."""
        return int(self._call(self.contract.functions.reclaimable(task_id)))

    def servers(self, task_id: int) -> list[str]:
        return [str(a) for a in self._call(self.contract.functions.serversOf(task_id))]

    def balance_of(self, account: str) -> int:
        return int(self._call(self.contract.functions.balanceOf(Web3.to_checksum_address(account))))

    def is_paid(self, task_id: int, data_owner: str) -> bool:
        addr = Web3.to_checksum_address(data_owner)
        return bool(self._call(self.contract.functions.isPaid(task_id, addr)))

    def is_server(self, task_id: int, account: str) -> bool:
        addr = Web3.to_checksum_address(account)
        return bool(self._call(self.contract.functions.isServer(task_id, addr)))

    def commitment_of(self, task_id: int, server: str) -> bytes:
        addr = Web3.to_checksum_address(server)
        return bytes(self._call(self.contract.functions.commitmentOf(task_id, addr)))

    def is_audited(self, task_id: int, server: str) -> bool:
        addr = Web3.to_checksum_address(server)
        return bool(self._call(self.contract.functions.isAudited(task_id, addr)))

    def total_held(self) -> int:
        return int(self._call(self.contract.functions.totalHeld()))

    def ether_balance(self) -> int:
        """Wei actually held by the contract."""
        return int(self.w3.eth.get_balance(self.address))

