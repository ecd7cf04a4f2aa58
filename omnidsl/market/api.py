"""``omnidsl.open_task``: open a market task in one call (the Python API, docs/api.md).

A thin call over the market roles API (``roles.py``): deploy the Market contract (the shipped
artifact) and the rule's verifier, make the model owner's and the servers' accounts (fresh keys,
funded by the chain's signer), and open one task with escrow for ``gradients`` accepted
gradients and the rule's pinned inputs set (``tasks.open_task``; committed vectors published).
The rule is any market rule (docs/dsl.md, market rules): the shipped ``norm`` (an L2 bound
``max_norm``) or ``cosine``, or a rule file, at ``dim`` gradient entries.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omnidsl import progress
from omnidsl.errors import ChainError, InputError

if TYPE_CHECKING:
    from web3 import Web3

    from omnidsl.market.dsl_rule import DslRule
    from omnidsl.market.roles import ModelOwner, Server

#: defaults as in ``omnidsl market demo`` (wei)
REWARD = 10**15  # per accepted gradient
FEE = 10**14  # per accepted gradient, to every server that delivers its aggregate share
BOND = 10**15  # each server's deposit with its commitment
FUNDING = 10**18  # given to each fresh account


@dataclass
class MarketTask:
    """An open task: the chain, the rule, the model owner and servers (roles.py), the task id
    and its terms (``pins``: the pinned inputs' values as given)."""

    w3: Web3 = field(repr=False)
    rule: DslRule = field(repr=False)
    owner: ModelOwner = field(repr=False)
    servers: list[Server] = field(repr=False)
    task_id: int
    escrow: int
    deadline: int
    pins: dict[str, Any] = field(repr=False)

    def __repr__(self) -> str:
        scalars = ", ".join(f"{k}={v:g}" for k, v in self.pins.items()
                            if isinstance(v, int | float))
        return (f"MarketTask(task {self.task_id} of {self.rule.iface.rule}, market "
                f"{self.owner.market.address[:10]}…, {len(self.servers)} servers, "
                f"D={self.rule.dim}, escrow {self.escrow} wei{', ' + scalars if scalars else ''})")

    def info(self) -> Any:
        """The task as the contract stores it (``MarketClient.task``)."""
        return self.owner.market.task(self.task_id)


def _accounts(w3: Web3, n: int, funder: str) -> list[Any]:
    """``n`` fresh accounts (OS CSPRNG keys), funded by ``funder``, signing via middleware."""
    from eth_account import Account
    from web3.middleware import SignAndSendRawMiddlewareBuilder
    from web3.types import Wei

    accts = [Account.from_key(secrets.token_bytes(32)) for _ in range(n)]
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(accts), layer=0)
    for a in accts:
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_transaction({"from": funder, "to": a.address, "value": Wei(FUNDING)}))
    return accts


def open_task(chain: Web3 | None = None, *, rule: str | Path = "norm", dim: int = 8,
              params: Mapping[str, int] | None = None, pins: Mapping[str, Any] | None = None,
              max_norm: float = 1.0, servers: int = 3, gradients: int = 8,
              reward: int = REWARD, fee: int = FEE, deadline_s: int = 3600,
              server_accounts: Sequence[Any] | None = None) -> MarketTask:
    """Deploy a market and ``rule``'s verifier on ``chain`` (a ``Web3`` with a funded signer
    as ``default_account``; default: a fresh embedded chain) and open one task.

    ``rule``: ``"norm"`` (default), ``"cosine"`` or a market rule file, compiled with
    ``D = dim`` and ``params``; ``pins``: the values of its pinned inputs by name (real
    numbers; a committed vector as a list), default ``{"max_norm": max_norm}``.  ``servers``
    proving servers (fresh accounts, or ``server_accounts``: signing ``eth_account``
    accounts); escrow for ``gradients`` accepted gradients at ``reward`` + ``fee`` per server
    each; submissions open for ``deadline_s`` seconds.  The rule and the pins are checked
    before anything touches the chain (InputError naming the input)."""
    from omnidsl.market import dsl_rule, tasks
    from omnidsl.market.client import MarketClient
    from omnidsl.market.roles import ModelOwner, Server

    if dim < 1 or servers < 2 or gradients < 1 or max_norm <= 0 or deadline_s < 60:
        raise InputError("open_task needs dim >= 1, servers >= 2, gradients >= 1, "
                         "max_norm > 0 and deadline_s >= 60")
    with progress.task("open task", 4) as task:
        with task.stage("market rule"):
            path = tasks.shipped_rule(rule) if isinstance(rule, str) else Path(rule)
            if not path.is_file():
                raise InputError(f"{rule}: no such market rule",
                                 hint="norm, cosine, or the path of a market rule file")
            dsl = dsl_rule.setup_file(path, {"D": dim, **(params or {})})
            values = dict(pins) if pins is not None else {"max_norm": max_norm}
            tasks.encode_terms(dsl, values)  # every pin named and in range, before the chain
        if chain is None:
            from omnidsl.chain import embedded_chain

            chain = embedded_chain()
        w3 = chain
        funder = w3.eth.default_account
        if not funder:
            raise ChainError("opening a task needs a funded signer on this chain",
                             hint="set w3.eth.default_account (docs/chain.md)")
        with task.stage("deploy market"):
            market = MarketClient.deploy(w3, sender=str(funder))
            accts = _accounts(w3, 1 if server_accounts else 1 + servers, str(funder))
        srv_accts = list(server_accounts) if server_accounts else accts[1:]
        mo = ModelOwner(market, accts[0].address, dsl.layout, dsl.rule_hash)
        with task.stage("deploy verifier"):
            mo.deploy_verifier(dsl.vk)
        srv = [Server(market, a.address, signer=a) for a in srv_accts]
        now = int(w3.eth.get_block("latest")["timestamp"])
        escrow = gradients * (reward + len(srv) * fee)
        with task.stage("open"):
            task_id = tasks.open_task(mo, dsl, [s.account for s in srv], values, reward, fee,
                                      escrow, now + deadline_s, deliver_by=now + 2 * deadline_s,
                                      bond=BOND if dsl.binding else 0)
    return MarketTask(w3, dsl, mo, srv, task_id, escrow, now + deadline_s, values)


__all__ = ["MarketTask", "open_task"]
