"""The data owner's side of a task (``omnidsl market do contribute|withdraw``).

:func:`share_gradient`: check the task (open, opened for these keys, its pins; a committed
reference: the published entries must commit to the pin; the model the gradient was computed on:
the one the task pins, :mod:`omnidsl.market.model_pin`), encode the gradient in fixed point,
refuse it here if it breaks the rule (it would never be paid), fetch and check every
server's signed card, and send each server its sealed, signed aggregation share.
:func:`prove_contribution`: once the servers have committed and ρ is fixed, compute the witness
and let the servers' ``omnidsl serve`` processes prove it with exactly the shared vector on the
gradient wires (they keep receipts; the task's first server submits the batch).

Gradient files (:func:`read_gradient`): ``.npy`` (a 1-D float array of D entries) or ``.json``
(a list of D numbers, or ``{"gradient": [...]}``); entries are real values, encoded as
round(v · 2^12).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from web3 import Web3

from omnidsl.errors import ChainError, InputError, NetworkError
from omnidsl.market import inbox, model_pin, tasks
from omnidsl.market.client import MarketClient
from omnidsl.market.daemon import verify_card
from omnidsl.market.dsl_rule import DslRule
from omnidsl.market.roles import DataOwner, bind_label
from omnidsl.market.rulefile import LoadedRule, check_task_rule
from omnidsl.market.vector_files import read_vector

log = logging.getLogger(__name__)


def read_gradient(path: Path, dim: int) -> np.ndarray:
    """A gradient file (see the module docstring) as D floats; InputError naming the file."""
    return read_vector(path, "gradient", "gradient", dim)


class RemoteServer:
    """A market server as the data owner sees it: its checked card and inbox URL."""

    def __init__(self, url: str, card: dict[str, Any], address: str, account: Any) -> None:
        self.url, self.account, self.do_account = url, address, account
        self.serve_id = int(card["serve_id"])
        self.box_key = bytes.fromhex(str(card["box_key"]))
        self.market = str(card["market"])
        self.chain_id = int(card["chain_id"])

    def receive(self, task_id: int, data_owner: str, share: list[int]) -> None:
        """Seal ``share`` to this server and send it, signed by the data owner."""
        ctx = inbox.seal_context(self.chain_id, self.market, task_id, self.account, data_owner)
        sealed = inbox.seal(share, self.box_key, ctx)
        digest = inbox.share_digest(self.chain_id, self.market, task_id, self.account,
                                    data_owner, sealed)
        inbox.request(self.url, "/share", {"task": task_id, "owner": data_owner,
                                           "sealed": sealed.hex(),
                                           "signature": inbox.sign(self.do_account,
                                                                   digest).hex()})


    def announce_slot(self, task_id: int, data_owner: str, public: list[int]) -> None:
        """Tell this server the public signals of the batch slot the DO dealt (signed)."""
        from omnidsl.market.daemon_batch import slot_digest

        digest = slot_digest(self.chain_id, self.market, task_id, self.account, data_owner,
                             public)
        inbox.request(self.url, "/slot", {"task": task_id, "owner": data_owner,
                                          "public": [str(x) for x in public],
                                          "signature": inbox.sign(self.do_account,
                                                                  digest).hex()})


def task_servers(market: MarketClient, task_id: int, urls: list[str], account: Any,
                 n_serve: int) -> list[RemoteServer]:
    """The task's servers from their inbox URLs, in the order of their ``omnidsl serve`` ids
    (the order the witness is dealt in); NetworkError if one is missing or its card is bad."""
    chain_id = int(market.w3.eth.chain_id)
    found: dict[str, RemoteServer] = {}
    for url in urls:
        card = inbox.request(url, "/info")
        addr = verify_card(card, chain_id, market.address, url)
        found[addr] = RemoteServer(url, card, addr, account)
    listed = [Web3.to_checksum_address(a) for a in market.servers(task_id)]
    missing = [a for a in listed if a not in found]
    if missing:
        raise NetworkError(f"task {task_id}: no inbox URL for server(s) {', '.join(missing)}",
                           hint="give every server's URL with --server URL")
    servers = sorted((found[a] for a in listed), key=lambda s: s.serve_id)
    if [s.serve_id for s in servers] != list(range(n_serve)) or len(servers) != n_serve:
        raise NetworkError(f"task {task_id}: its servers run serve ids "
                           f"{[s.serve_id for s in servers]}, servers.toml lists {n_serve} "
                           "servers", hint="the task's servers must be the servers.toml ones")
    return servers


@dataclass
class Contribution:
    """What a data owner keeps between sharing and proving."""

    task_id: int
    do: DataOwner
    q: list[int]
    terms: dict[str, Any]  # the task's pinned values (omnidsl.market.tasks.task_terms)


def share_gradient(market: MarketClient, task_id: int, account: Any, gradient: np.ndarray,
                   rule: LoadedRule, servers: list[RemoteServer],
                   model: np.ndarray | None = None) -> Contribution:
    """Check, encode and share ``gradient`` (see the module docstring); ``model``: the
    parameters it was computed on, checked against the task's pinned model (model_pin.py)."""
    check_task_rule(market, task_id, rule)
    model_pin.check_held(market, task_id, model)
    info = market.task(task_id)
    now = int(market.w3.eth.get_block("latest")["timestamp"])
    if info.closed or now > info.deadline:
        raise ChainError(f"task {task_id} is closed for submissions")
    if info.challenge_fixed:
        raise ChainError(f"task {task_id}: the servers have already committed; shares are no "
                         "longer accepted")
    # the terms every pinned input has (a committed reference: the published entries, checked
    # against the pinned commitment; a mismatch is refused here, before anything is sent)
    terms = tasks.task_terms(market, task_id, rule.rule)
    do = DataOwner(Web3.to_checksum_address(account.address))
    q = do.encode(gradient)
    if not rule.rule.satisfies(q, terms):
        raise InputError(f"the gradient breaks task {task_id}'s rule {rule.rule.iface.rule} "
                         f"(under its terms {', '.join(p.name for p in rule.rule.iface.pins)}): "
                         "it would not be paid; nothing was sent")
    do.share(task_id, q, servers)  # type: ignore[arg-type]  # RemoteServer.receive
    log.info("task %d: shares sent to %d servers", task_id, len(servers))
    return Contribution(task_id, do, q, terms)


def wait_for_challenge(market: MarketClient, task_id: int, timeout_s: float,
                       poll_s: float = 0.5) -> int:
    """ρ once every server has committed and revealed; ChainError after ``timeout_s``."""
    end = time.monotonic() + timeout_s
    while True:
        info = market.task(task_id)
        if info.challenge_fixed:
            return info.rho
        if info.closed or time.monotonic() > end:
            raise ChainError(f"task {task_id}: the challenge was not fixed within {timeout_s:g} s "
                             f"({info.n_committed} commitments, {info.n_revealed} reveals)",
                             hint="the servers commit once they hold the expected shares")
        time.sleep(poll_s)


def prove_shared_vector(rule: DslRule, cfg: Any, pk_path: Path, do: DataOwner, task_id: int,
                        rho: int, terms: Any) -> tuple[tuple[dict[str, Any], list[str]], Any]:
    """The DO's proving step (also ``market demo``'s): the witness of the vector ``do`` shared
    in ``task_id`` under the challenge and the task's terms, dealt to the servers of ``cfg`` with
    exactly its aggregation shares on the gradient wires (their pins refuse anything else).
    Returns ((proof.json, public.json), ProofResult)."""
    inp = rule.witness_input(do.vectors[task_id], do.account, rho, terms)
    return rule.prove_shared(cfg, pk_path, inp, do.dealt[task_id], bind_label(task_id, do.account))


def prove_contribution(c: Contribution, rho: int, rule: LoadedRule,
                       servers_config: Path) -> tuple[dict[str, Any], list[str]]:
    """Let the servers prove the shared vector; returns (proof.json, public.json)."""
    from omnidsl.mpc.config import load_config

    item, res = prove_shared_vector(rule.rule, load_config(servers_config), rule.pk_path, c.do,
                                    c.task_id, rho, c.terms)
    log.info("task %d: the servers proved it in %.1f s", c.task_id, res.wall_s)
    return item


def deal_contribution(c: Contribution, rho: int, rule: LoadedRule, servers_config: Path,
                      servers: list[RemoteServer]) -> list[int]:
    """The batch path: deal the shared vector as this DO's slot of the task's batch to every
    server's ``omnidsl serve`` and announce the slot's public signals on their inboxes."""
    from omnidsl.market.batch_serve import deal_batch_slot
    from omnidsl.mpc.config import load_config

    public = deal_batch_slot(rule.rule, load_config(servers_config), rule.pk_path, c.do,
                             c.task_id, rho, c.terms)
    for s in servers:
        s.announce_slot(c.task_id, c.do.account, public)
    log.info("task %d: batch slot dealt to %d servers", c.task_id, len(servers))
    return public


def contribute(market: MarketClient, task_id: int, account: Any, gradient: np.ndarray,
               rule: LoadedRule, urls: list[str], servers_config: Path,
               wait_s: float = 300.0, model: np.ndarray | None = None, batch: bool = False
               ) -> tuple[dict[str, Any] | None, list[str]]:
    """The whole contribution: share, wait for ρ, prove (``batch``: deal the slot of the task's
    one proof per batch instead). Returns (proof.json or None for a slot, public.json)."""
    from omnidsl.mpc.config import load_config

    n = load_config(servers_config).n
    servers = task_servers(market, task_id, urls, account, n)
    c = share_gradient(market, task_id, account, gradient, rule, servers, model)
    rho = wait_for_challenge(market, task_id, wait_s)
    if batch:
        return None, [str(x) for x in deal_contribution(c, rho, rule, servers_config, servers)]
    return prove_contribution(c, rho, rule, servers_config)
