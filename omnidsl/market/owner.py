"""The model owner's side of a task (``omnidsl market mo deploy|open|close|check|reclaim``).

The MO keeps a *state folder* (``--state DIR``, mode 700): ``owner_key`` (its X25519 private key,
mode 600: the servers seal their aggregate shares to its public half, which every task carries),
``verifiers.json`` (rule hash → the verifier it deployed for it, reused by later tasks) and
``task-<id>.json`` (what :func:`check_task` needs to decode the aggregate: D and the fixed-point
scale).  Each function is one role step over :class:`~omnidsl.market.roles.ModelOwner`.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from web3 import Web3

from omnidsl.errors import ChainError, InputError
from omnidsl.market.client import MarketClient
from omnidsl.market.roles import ModelOwner
from omnidsl.market.rulefile import LoadedRule

log = logging.getLogger(__name__)

KEY_NAME = "owner_key"
VERIFIERS = "verifiers.json"
#: the shortest delivery window the servers accept (roles.Server.min_delivery_window)
MIN_DELIVERY_WINDOW = 300


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def owner_key(state: Path) -> tuple[bytes, bytes]:
    """The MO's (private, public) X25519 key in ``state`` (made on first use)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from omnidsl.market.attestation import new_owner_key

    path = state / KEY_NAME
    if not path.exists():
        state.mkdir(parents=True, exist_ok=True, mode=0o700)
        priv, _ = new_owner_key()
        _write_private(path, priv.hex())
    try:
        priv = bytes.fromhex(path.read_text().strip())
        sk = X25519PrivateKey.from_private_bytes(priv)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not the model owner's key ({exc})") from None
    pub = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return priv, pub


def model_owner(market: MarketClient, sender: str, state: Path,
                rule: LoadedRule | None = None) -> ModelOwner:
    """The MO role object of ``sender`` with its state folder's key (and a rule, to open)."""
    from omnidsl.market.roles import RuleLayout

    layout = rule.rule.layout if rule else RuleLayout(0, 0, None, None)
    return ModelOwner(market, sender, layout, rule.rule_hash if rule else b"\0" * 32,
                      box_key=owner_key(state))


def deploy_market(w3: Web3, sender: str, gas_cap: int | None = None) -> str:
    return str(MarketClient.deploy(w3, sender=sender, gas_cap=gas_cap).address)


def _verifier(mo: ModelOwner, rule: LoadedRule, state: Path) -> str:
    """The rule's verifier: the one deployed earlier (same chain, code still there) or a new one."""
    path = state / VERIFIERS
    known = json.loads(path.read_text()) if path.exists() else {}
    key = f"{int(mo.market.w3.eth.chain_id)}:{rule.rule_hash.hex()}"
    addr = known.get(key)
    if addr and len(mo.market.w3.eth.get_code(Web3.to_checksum_address(addr))) > 0:
        mo.verifier = addr
        return str(addr)
    addr = mo.deploy_verifier(rule.rule.vk)
    known[key] = addr
    _write_private(path, json.dumps(known, indent=1))
    log.info("verifier of rule %s… deployed at %s", rule.rule_hash.hex()[:16], addr)
    return addr


@dataclass(frozen=True)
class TaskTerms:
    """What the MO fixes when opening a task (amounts in wei, times in seconds from now)."""

    servers: list[str]
    #: every pinned input of the rule by name: a real number per scalar, D reals per vector or
    #: committed reference (as in a witness input JSON; strings are raw encoded integers)
    values: dict[str, Any]
    reward: int = 10**15
    fee: int = 10**14
    bond: int = 10**15
    escrow: int | None = None  # default: owners × (reward + servers × fee)
    owners: int = 8  # how many gradients the default escrow pays for
    deadline_s: int = 3600
    delivery_window_s: int = 3600
    #: the round's published model (flat parameters), pinned for the DOs (market/model_pin.py)
    model: Any = None


def open_task(market: MarketClient, sender: str, state: Path, rule: LoadedRule,
              terms: TaskTerms) -> int:
    """Deploy (or reuse) the rule's verifier and open a task pinning ``terms.values`` (every
    committed reference is published with it, :func:`omnidsl.market.tasks.open_task`);
    returns its id."""
    from omnidsl.market import tasks

    if len(terms.servers) < 2:
        raise InputError("a task needs at least 2 servers")
    if terms.delivery_window_s < MIN_DELIVERY_WINDOW:
        raise InputError(f"a delivery window of {terms.delivery_window_s} s: the servers refuse "
                         f"less than {MIN_DELIVERY_WINDOW} s")
    servers = [Web3.to_checksum_address(s) for s in terms.servers]
    mo = model_owner(market, sender, state, rule)
    _verifier(mo, rule, state)
    tasks.encode_terms(rule.rule, terms.values)  # every pin given and in range, before gas
    escrow = terms.escrow if terms.escrow is not None else \
        terms.owners * (terms.reward + len(servers) * terms.fee)
    now = int(market.w3.eth.get_block("latest")["timestamp"])
    deadline = now + terms.deadline_s
    task_id = tasks.open_task(mo, rule.rule, servers, terms.values, terms.reward, terms.fee,
                              escrow, deadline, deliver_by=deadline + terms.delivery_window_s,
                              bond=terms.bond, model=terms.model)
    _write_private(state / f"task-{task_id}.json",
                   json.dumps({"market": market.address, "task": task_id, "dim": rule.rule.dim,
                               "frac": rule.frac, "rule_hash": rule.rule_hash.hex()}))
    log.info("task %d opened: escrow %d wei, %d servers", task_id, escrow, len(servers))
    return task_id


def _owned(market: MarketClient, sender: str, task_id: int) -> Any:
    info = market.task(task_id)
    if Web3.to_checksum_address(info.owner) != Web3.to_checksum_address(sender):
        raise ChainError(f"task {task_id} belongs to {info.owner}, not to the signer {sender}",
                         hint="sign with the model owner's key (--key-file/--key-env)")
    return info


def close_task(market: MarketClient, sender: str, task_id: int) -> None:
    _owned(market, sender, task_id)
    market.close_submissions(task_id, sender)


@dataclass(frozen=True)
class AggregateCheck:
    task_id: int
    accepted: list[str]
    matched: bool
    gradient: np.ndarray  # the decoded sum of the accepted gradients


def settle(mo: ModelOwner, task_id: int, dim: int, frac: int = 12,
           report: bool = True) -> AggregateCheck:
    """The MO's aggregate step (also ``market demo``'s): the accepted data owners (from the
    chain), every server's delivered share opened and summed, checked against the on-chain
    fingerprint sum (recorded on-chain with ``report``) and decoded to ``dim`` reals (the mask
    coordinate dropped); ChainError naming a server that has not delivered."""
    market = mo.market
    accepted = [str(e["args"]["dataOwner"]) for e in market.contract.events.ProofAccepted()
                .get_logs(from_block=0, argument_filters={"taskId": task_id})]
    if not accepted:
        return AggregateCheck(task_id, [], True, np.zeros(dim))
    total = mo.reconstruct(mo.collect(task_id))
    matched = mo.check_aggregate(task_id, total, report=report) \
        if market.task(task_id).rho_index is not None else True
    grad = np.asarray(total[:dim], dtype=np.float64) / (1 << frac)
    return AggregateCheck(task_id, accepted, matched, grad)


def check_task(market: MarketClient, sender: str, state: Path, task_id: int,
               report: bool = True) -> AggregateCheck:
    """:func:`settle` for a task this MO opened with its state folder (its key, D, scale)."""
    _owned(market, sender, task_id)
    path = state / f"task-{task_id}.json"
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError):
        raise InputError(f"{path}: no record of task {task_id} in this state folder",
                         hint="use the --state folder the task was opened with") from None
    return settle(model_owner(market, sender, state), task_id, int(meta["dim"]),
                  int(meta["frac"]), report)


def reclaim_task(market: MarketClient, sender: str, task_id: int) -> int:
    """Take back what nobody earned (after the delivery deadline: before it the contract
    reverts); the amount in wei (0 if there is nothing)."""
    from omnidsl.market.roles import RuleLayout

    _owned(market, sender, task_id)
    return ModelOwner(market, sender, RuleLayout(0, 0, None, None)).reclaim(task_id)
