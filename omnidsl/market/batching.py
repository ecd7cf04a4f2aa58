"""One batch of proofs, attested by every server of the task and submitted by one of them.

The same steps for the servers of ``market demo`` (role objects in one process) and for
``omnidsl market server run`` processes (a peer is then its inbox, :class:`RemotePeer`):
:func:`vet_by_all` keeps the proofs every server would attest (each signs only proofs its own
prover produced, :meth:`~omnidsl.market.roles.Server.vet`), :func:`submit_attested` collects one
attestation per server in the task's order and submits the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from web3 import Web3

from omnidsl.errors import ChainError
from omnidsl.market import inbox
from omnidsl.market.client import BatchResult
from omnidsl.market.roles import Server

Item = tuple[dict[str, Any], Sequence[Any]]  # (proof.json, public.json)


class Attester(Protocol):
    """A server as the batch's submitter sees it (a :class:`Server` or a :class:`RemotePeer`)."""

    account: str

    def vet(self, task_id: int, items: Sequence[Item]) -> list[str | None]: ...

    def attest(self, task_id: int, items: Sequence[Item]) -> bytes: ...


@dataclass
class RemotePeer:
    """Another market server, reached through its inbox (``/vet``, ``/attest``)."""

    account: str
    url: str

    @staticmethod
    def _body(task_id: int, items: Sequence[Item]) -> dict[str, Any]:
        return {"task": task_id, "items": [{"proof": p, "public": [str(x) for x in pub]}
                                           for p, pub in items]}

    def vet(self, task_id: int, items: Sequence[Item]) -> list[str | None]:
        got = inbox.request(self.url, "/vet", self._body(task_id, items)).get("refused")
        if not isinstance(got, list) or len(got) != len(items):
            raise ChainError(f"server {self.account} ({self.url}) answered /vet with no verdict "
                             "per proof")
        return [None if w is None else str(w) for w in got]

    def attest(self, task_id: int, items: Sequence[Item]) -> bytes:
        got = inbox.request(self.url, "/attest", self._body(task_id, items))
        try:
            return bytes.fromhex(str(got["signature"]))
        except (KeyError, ValueError):
            raise ChainError(f"server {self.account} ({self.url}) answered /attest with no "
                             "signature") from None


def items_of(body: dict[str, Any]) -> list[Item]:
    """The (proof, public) items of a ``/vet`` or ``/attest`` request."""
    return [(dict(it["proof"]), [str(x) for x in it["public"]]) for it in body["items"]]


def vet_by_all(servers: Sequence[Attester], task_id: int, items: Sequence[Item]
               ) -> tuple[list[int], dict[int, str]]:
    """(indices of the items every server would attest, index → the first refusal)."""
    refused: dict[int, str] = {}
    for s in servers:
        for j, why in enumerate(s.vet(task_id, items)):
            if why is not None and j not in refused:
                refused[j] = why
    return [j for j in range(len(items)) if j not in refused], refused


def submit_attested(coordinator: Server, peers: Sequence[Attester], task_id: int,
                    items: Sequence[Item]) -> BatchResult:
    """Every server's attestation of ``items`` (in the task's server order), then
    ``submitBatch`` from ``coordinator``; ChainError naming a server without one."""
    by_addr: dict[str, Attester] = {Web3.to_checksum_address(s.account): s
                                    for s in (coordinator, *peers)}
    order = [Web3.to_checksum_address(a) for a in coordinator.market.servers(task_id)]
    missing = [a for a in order if a not in by_addr]
    if missing:
        raise ChainError(f"task {task_id}: no attestation from server(s) {', '.join(missing)}")
    signatures = b"".join(by_addr[a].attest(task_id, items) for a in order)
    return coordinator.submit(task_id, items, signatures=signatures)
