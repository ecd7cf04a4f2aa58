"""``omnidsl.open_task``: open a market task in one call (the Python API, docs/api.md).

A thin call over the market roles API (``roles.py``): deploy the Market contract (the shipped
artifact) and the rule's verifier, make the model owner's and the servers' accounts (fresh keys,
funded by the chain's signer), and open one task with escrow for ``gradients`` accepted
gradients.  The rule is the market's DSL rule (``dsl_rule.py``: L2 bound pinned by the task,
the data owner's address and the aggregation fingerprint as public inputs) at ``dim`` entries.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
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
    and its terms."""

    w3: Web3 = field(repr=False)
    rule: DslRule = field(repr=False)
    owner: ModelOwner = field(repr=False)
    servers: list[Server] = field(repr=False)
    task_id: int
    escrow: int
    deadline: int
    pinned_max_norm: float

    def __repr__(self) -> str:
        return (f"MarketTask(task {self.task_id}, market {self.owner.market.address[:10]}…, "
                f"{len(self.servers)} servers, D={self.rule.dim}, escrow {self.escrow} wei, "
                f"max_norm {self.pinned_max_norm:g})")

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


def open_task(chain: Web3 | None = None, *, dim: int = 8, servers: int = 3,
              gradients: int = 8, max_norm: float = 1.0, reward: int = REWARD, fee: int = FEE,
              deadline_s: int = 3600, server_accounts: Sequence[Any] | None = None
              ) -> MarketTask:
    """Deploy a market and the rule's verifier on ``chain`` (a ``Web3`` with a funded signer
    as ``default_account``; default: a fresh embedded chain) and open one task: ``servers``
    proving servers (fresh accounts, or ``server_accounts``: signing ``eth_account`` accounts),
    escrow for ``gradients`` accepted gradients at ``reward`` + ``fee`` per server each, the
    L2 bound ``max_norm`` pinned, submissions open for ``deadline_s`` seconds."""
    from omnidsl.market import circom_rule as cr
    from omnidsl.market import dsl_rule
    from omnidsl.market.client import MarketClient
    from omnidsl.market.roles import ModelOwner, Server

    if dim < 1 or servers < 2 or gradients < 1 or max_norm <= 0 or deadline_s < 60:
        raise InputError("open_task needs dim >= 1, servers >= 2, gradients >= 1, "
                         "max_norm > 0 and deadline_s >= 60")
    if chain is None:
        from omnidsl.chain import embedded_chain

        chain = embedded_chain()
    w3 = chain
    funder = w3.eth.default_account
    if not funder:
        raise ChainError("opening a task needs a funded signer on this chain",
                         hint="set w3.eth.default_account (docs/chain.md)")
    with progress.task("open task", 4) as task:
        with task.stage("market rule"):
            rule = dsl_rule.setup(dim)
        with task.stage("deploy market"):
            market = MarketClient.deploy(w3, sender=str(funder))
            accts = _accounts(w3, 1 if server_accounts else 1 + servers, str(funder))
        srv_accts = list(server_accounts) if server_accounts else accts[1:]
        mo = ModelOwner(market, accts[0].address, rule.layout, rule.rule_hash)
        with task.stage("deploy verifier"):
            mo.deploy_verifier(rule.vk)
        srv = [Server(market, a.address, signer=a) for a in srv_accts]
        now = int(w3.eth.get_block("latest")["timestamp"])
        escrow = gradients * (reward + len(srv) * fee)
        pinned = rule.pinned_value(round(max_norm * (1 << cr.FRAC)))
        with task.stage("open"):
            task_id = mo.open_task([s.account for s in srv], reward, fee, escrow,
                                   now + deadline_s, pinned_value=pinned,
                                   deliver_by=now + 2 * deadline_s,
                                   bond=BOND if rule.binding else 0)
    return MarketTask(w3, rule, mo, srv, task_id, escrow, now + deadline_s, max_norm)


__all__ = ["MarketTask", "open_task"]
