"""What the dashboard shows: one market's state, folded from its on-chain events, plus the model
owner's off-chain round reports (accuracy, refusals that never reached the chain).

:class:`MarketView` reads the market's logs (``eth_getLogs`` from the last block it read),
decodes them with the shipped ABI and folds them into tasks, servers, data owners and payments;
:meth:`MarketView.snapshot` is the JSON the page polls (docs/market.md, "Dashboard, round log
and report").  Everything on-chain is shown as the chain says it; what the round reports say
(accuracy, off-chain reasons) is a claim of the model owner and is labelled so — it is accepted
only for the watched market, with checked types and bounded sizes, and shown only for tasks that
exist on-chain.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from eth_typing import ChecksumAddress
from eth_utils import event_abi_to_log_topic
from web3 import Web3

from omnidsl.chain import artifacts
from omnidsl.market.client import Reject

logger = logging.getLogger(__name__)

#: Most off-chain refusal reasons kept per task, and their length (a round report is untrusted).
MAX_REASONS = 256
MAX_REASON_CHARS = 200
#: Most payments kept (newest last).
MAX_PAYMENTS = 200
#: Most blocks read by one ``eth_getLogs`` call.
LOG_RANGE = 5_000


def reason_text(reason: int) -> str:
    """``Reject`` value -> the contract's name (``InvalidProof``)."""
    try:
        name = Reject(reason).name
    except ValueError:
        return f"reason {reason}"
    return "".join(w.capitalize() for w in name.split("_"))


@dataclass
class TaskState:
    """One task as its events describe it."""

    id: int
    owner: str
    escrow: int
    reward: int
    fee: int
    deadline: int
    servers: list[str]
    block: int
    status: str = "open"
    committed: int = 0
    revealed: int = 0
    delivered: int = 0
    accepted: list[str] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)  # {account, reason, where}
    batch_gas: int = 0
    commit_gas: int = 0
    batches: int = 0
    fees_paid: int = 0
    reclaimed: int = 0
    forfeited: int = 0
    binding: bool | None = None
    remaining: int | None = None
    round: int | None = None  # off-chain: the MO's round number
    accuracy: float | None = None  # off-chain: the MO's test accuracy after this round

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "round": self.round, "owner": self.owner, "status": self.status,
                "escrow": str(self.escrow), "remaining": _wei(self.remaining),
                "reward": str(self.reward), "fee": str(self.fee), "deadline": self.deadline,
                "servers": self.servers, "committed": self.committed, "revealed": self.revealed,
                "delivered": self.delivered, "accepted": self.accepted, "refused": self.refused,
                "batches": self.batches, "batch_gas": self.batch_gas,
                "commit_gas": self.commit_gas,
                "rewards_paid": str(self.reward * len(self.accepted)),
                "fees_paid": str(self.fees_paid), "reclaimed": str(self.reclaimed),
                "forfeited": str(self.forfeited), "binding": self.binding,
                "accuracy": self.accuracy, "block": self.block}


def _wei(v: int | None) -> str | None:
    return None if v is None else str(v)


@dataclass
class Party:
    """A server or a data owner, across tasks."""

    account: str
    tasks: set[int] = field(default_factory=set)
    accepted: int = 0
    refused: int = 0
    earned: int = 0
    withdrawn: int = 0
    forfeited: int = 0
    delivered: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"account": self.account, "tasks": sorted(self.tasks), "accepted": self.accepted,
                "refused": self.refused, "earned": str(self.earned),
                "withdrawn": str(self.withdrawn), "forfeited": str(self.forfeited),
                "delivered": self.delivered}


class MarketView:
    """One market's state from its events; thread-safe (one refresher, many readers)."""

    def __init__(self, w3: Web3, market: str | None = None, source: str = "") -> None:
        self.w3 = w3
        self.source = source
        self.abi = artifacts.market().abi
        self._topics = {event_abi_to_log_topic(e): e["name"]  # type: ignore[arg-type]
                        for e in self.abi if e.get("type") == "event"}
        self._lock = threading.Lock()
        self._version = 0
        self._error: str | None = None
        self.market: ChecksumAddress | None = None
        self.contract: Any = None
        self.chain_id: int | None = None
        self._reset()
        if market is not None:
            self.attach(market)

    def _reset(self) -> None:
        self.next_block = 0
        self.tasks: dict[int, TaskState] = {}
        self.servers: dict[str, Party] = {}
        self.owners: dict[str, Party] = {}
        self.payments: list[dict[str, Any]] = []
        self.total_held: int | None = None
        self._offchain: dict[int, dict[str, Any]] = {}
        self._gas: dict[str, int] = {}

    def attach(self, market: str) -> None:
        """Watch the market at ``market`` (from its first block)."""
        with self._lock:
            self._reset()
            self.market = Web3.to_checksum_address(market)
            self.contract = self.w3.eth.contract(address=self.market, abi=self.abi)
            self._version += 1

    # ------------------------------------------------------------------ off-chain reports
    def add_round(self, entry: dict[str, Any]) -> bool:
        """Take one round report of the model owner (docs/market.md, "Round log"): ``{"market",
        "task", "round", "accuracy", "accepted", "refused": {account: reason}}``.  Returns False
        (and logs why) for an entry of another market or with wrong types."""
        try:
            clean = _check_round(entry, self.market)
        except ValueError as exc:
            logger.warning("round report ignored: %s", exc)
            return False
        with self._lock:
            self._offchain[clean["task"]] = clean
            self._apply_offchain()
            self._version += 1
        return True

    def _apply_offchain(self) -> None:
        for tid, e in self._offchain.items():
            t = self.tasks.get(tid)
            if t is None:  # not (yet) on-chain: kept until its TaskCreated is read
                continue
            t.round, t.accuracy = e["round"], e["accuracy"]
            t.refused = [r for r in t.refused if r["where"] == "on-chain"]
            seen = {r["account"] for r in t.refused}
            for acct, why in e["refused"].items():
                if acct not in seen and acct not in t.accepted:
                    t.refused.append({"account": acct, "reason": why, "where": "off-chain"})

    # ------------------------------------------------------------------ chain
    def refresh(self) -> bool:
        """Read the new blocks' events; True if anything changed.  A chain error is kept (shown
        on the page) and logged, never raised: the page stays up while the node is away."""
        market = self.market
        if market is None:
            return False
        try:
            latest = int(self.w3.eth.block_number)
            logs: list[Any] = []
            start = self.next_block
            while start <= latest:
                end = min(latest, start + LOG_RANGE - 1)
                logs += self.w3.eth.get_logs({"address": market, "fromBlock": start,
                                              "toBlock": end})
                start = end + 1
            decoded = [(lg, self._decode(lg)) for lg in logs]
            held = int(self.contract.functions.totalHeld().call())
            chain_id = self.chain_id if self.chain_id is not None else int(self.w3.eth.chain_id)
        except Exception as exc:  # the node is down or not a market: show it, keep serving
            return self._failed(f"{type(exc).__name__}: {exc}")
        with self._lock:
            self.chain_id = chain_id
            for lg, ev in decoded:
                if ev is not None:
                    self._fold(ev[0], ev[1], lg)
            self.next_block = latest + 1
            self._apply_offchain()
            changed = bool(logs) or held != self.total_held or self._error is not None
            self.total_held, self._error = held, None
            touched = {int(ev[1]["taskId"]) for _, ev in decoded
                       if ev is not None and "taskId" in ev[1]}
            ids = [t.id for t in self.tasks.values() if t.status != "settled" or t.id in touched]
        self._refresh_remaining(ids)
        if changed:
            with self._lock:
                self._version += 1
        return changed

    def _failed(self, message: str) -> bool:
        with self._lock:
            changed = self._error != message
            self._error = message
            if changed:
                self._version += 1
        if changed:
            logger.warning("dashboard: cannot read %s: %s", self.market, message)
        return changed

    def _refresh_remaining(self, ids: list[int]) -> None:
        for tid in ids:
            try:
                remaining = int(self.contract.functions.getTask(tid).call()[18])
            except Exception:
                continue
            with self._lock:
                if tid in self.tasks:
                    self.tasks[tid].remaining = remaining

    def _decode(self, log: Any) -> tuple[str, dict[str, Any]] | None:
        topics = log.get("topics") or []
        name = self._topics.get(bytes(topics[0])) if topics else None
        if name is None:
            return None
        data = getattr(self.contract.events, name)().process_log(log)
        return name, dict(data["args"])

    def _gas_of(self, tx_hash: Any) -> int:
        key = bytes(tx_hash).hex()
        if key not in self._gas:
            self._gas[key] = int(self.w3.eth.get_transaction_receipt(tx_hash)["gasUsed"])
        return self._gas[key]

    def _party(self, book: dict[str, Party], account: str) -> Party:
        account = Web3.to_checksum_address(account)
        return book.setdefault(account, Party(account))

    def _pay(self, log: Any, kind: str, account: str, amount: int, task: int | None) -> None:
        self.payments.append({"block": int(log["blockNumber"]), "kind": kind,
                              "account": Web3.to_checksum_address(account),
                              "amount": str(amount), "task": task})
        del self.payments[:-MAX_PAYMENTS]

    def _fold(self, name: str, a: dict[str, Any], log: Any) -> None:
        tid = int(a["taskId"]) if "taskId" in a else None
        t = self.tasks.get(tid) if tid is not None else None
        if name == "TaskCreated" and tid is not None:
            self.tasks[tid] = TaskState(
                tid, str(a["owner"]), int(a["escrow"]), int(a["rewardPerGradient"]),
                int(a["serverFee"]), int(a["deadline"]), [str(s) for s in a["servers"]],
                int(log["blockNumber"]))
            for s in a["servers"]:
                self._party(self.servers, s).tasks.add(tid)
        elif t is None and tid is not None:
            return  # an event of a task whose creation is outside the range read
        elif name == "EscrowAdded" and t:
            t.escrow += int(a["amount"])
        elif name in ("SharesCommitted", "SeedRevealed") and t:
            if name == "SharesCommitted":
                t.committed += 1
            else:
                t.revealed += 1
            t.commit_gas += self._gas_of(log["transactionHash"])
        elif name == "ChallengeFixed" and t:
            t.status = "challenge fixed"
        elif name == "BatchSubmitted" and t:
            t.batches += 1
            t.batch_gas += self._gas_of(log["transactionHash"])
        elif name == "ProofAccepted" and t:
            do = self._party(self.owners, a["dataOwner"])
            t.accepted.append(do.account)
            t.refused = [r for r in t.refused if r["account"] != do.account]
            do.tasks.add(t.id)
            do.accepted += 1
            do.earned += t.reward
            self._pay(log, "reward credited", do.account, t.reward, t.id)
        elif name == "ProofRejected" and t:
            do = self._party(self.owners, a["dataOwner"])
            do.tasks.add(t.id)
            t.refused.append({"account": do.account, "reason": reason_text(int(a["reason"])),
                              "where": "on-chain"})
        elif name == "SubmissionsClosed" and t:
            t.status = "closed"
        elif name == "AggregateDelivered" and t:
            s = self._party(self.servers, a["server"])
            t.delivered += 1
            t.fees_paid += int(a["paid"])
            s.delivered += 1
            s.earned += int(a["paid"])
            self._pay(log, "fee + bond", s.account, int(a["paid"]), t.id)
        elif name == "AggregateWithheld" and t:
            t.forfeited += int(a["forfeited"])
            self._party(self.servers, a["server"]).forfeited += int(a["forfeited"])
        elif name == "AggregateChecked" and t:
            t.binding = bool(a["matched"])
        elif name == "Reclaimed" and t:
            t.reclaimed += int(a["amount"])
            t.status = "settled"
            self._pay(log, "reclaimed", str(a["owner"]), int(a["amount"]), t.id)
        elif name == "Withdrawn":
            acct = Web3.to_checksum_address(a["account"])
            for book in (self.servers, self.owners):
                if acct in book:
                    book[acct].withdrawn += int(a["amount"])
            self._pay(log, "withdrawn", acct, int(a["amount"]), None)

    # ------------------------------------------------------------------ page
    def snapshot(self) -> dict[str, Any]:
        """The page's JSON (docs/market.md, "Dashboard, round log and report", ``/api/state``);
        amounts in wei are decimal strings."""
        with self._lock:
            tasks = [self.tasks[k].as_json() for k in sorted(self.tasks)]
            return {
                "version": self._version, "time": time.time(), "source": self.source,
                "chain_id": self.chain_id, "market": self.market, "block": self.next_block - 1,
                "error": self._error,
                "total_held": _wei(self.total_held),
                "totals": {"tasks": len(tasks),
                           "accepted": sum(len(t["accepted"]) for t in tasks),
                           "refused": sum(len(t["refused"]) for t in tasks),
                           "rewards": str(sum(int(t["rewards_paid"]) for t in tasks)),
                           "fees": str(sum(int(t["fees_paid"]) for t in tasks)),
                           "reclaimed": str(sum(int(t["reclaimed"]) for t in tasks))},
                "tasks": tasks,
                "servers": [p.as_json() for p in self.servers.values()],
                "owners": self._owners_json(),
                "payments": list(self.payments),
            }

    def _owners_json(self) -> list[dict[str, Any]]:
        """Data owners seen on-chain or refused off-chain, refusals of both kinds counted."""
        owners = {k: Party(k, set(p.tasks), p.accepted, 0, p.earned, p.withdrawn)
                  for k, p in self.owners.items()}
        for t in self.tasks.values():
            for r in t.refused:
                p = owners.setdefault(r["account"], Party(r["account"]))
                p.tasks.add(t.id)
                p.refused += 1
        return [p.as_json() for p in owners.values()]

    @property
    def version(self) -> int:
        with self._lock:
            return self._version


def _check_round(entry: Any, market: str | None) -> dict[str, Any]:
    """A validated copy of one round report (raises ValueError)."""
    if not isinstance(entry, dict):
        raise ValueError("not a JSON object")
    if market is None or not isinstance(entry.get("market"), str) or \
            entry["market"].lower() != market.lower():
        raise ValueError(f"market {entry.get('market')!r} is not the watched {market}")
    task, rnd, acc = entry.get("task"), entry.get("round"), entry.get("accuracy")
    if not isinstance(task, int) or isinstance(task, bool) or task < 1:
        raise ValueError(f"task {task!r}: not a task id")
    if rnd is not None and (not isinstance(rnd, int) or isinstance(rnd, bool)):
        raise ValueError(f"round {rnd!r}: not an integer")
    if acc is not None and (not isinstance(acc, int | float) or isinstance(acc, bool)
                            or not math.isfinite(acc)):
        raise ValueError(f"accuracy {acc!r}: not a finite number")
    refused = entry.get("refused") or {}
    if not isinstance(refused, dict) or len(refused) > MAX_REASONS:
        raise ValueError("refused: not an object of at most "
                         f"{MAX_REASONS} account: reason pairs")
    clean: dict[str, str] = {}
    for acct, why in refused.items():
        if not Web3.is_address(acct) or not isinstance(why, str):
            raise ValueError(f"refused: {acct!r}: not an address with a reason")
        clean[Web3.to_checksum_address(acct)] = why[:MAX_REASON_CHARS]
    return {"task": task, "round": rnd, "accuracy": None if acc is None else float(acc),
            "refused": clean}
