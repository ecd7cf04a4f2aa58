"""The transport seen by protocol code: the :class:`Network` protocol and an in-process LocalNetwork.

Protocol code (drivers) only ever calls ``send``/``recv``/``flush`` and sets ``step``; it never
touches sockets.  ``step`` names the protocol step being run ("mul_vec#0", "open_g1#2", ...):
transports bind every frame to it and name it in errors.  TCP lives in ``tcp.py``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from omnidsl.errors import NetworkError

#: hook(receiver_id, sender_id, step, payload) called for every message a party receives.
RecordHook = Callable[[int, int, str, bytes], None]
#: the step tag :meth:`LocalHub.abort` puts into every queue
_ABORT = "\x00abort"


@runtime_checkable
class Network(Protocol):
    """Point-to-point reliable channels between ``n_parties`` parties (ids 0..n−1)."""

    party_id: int
    n_parties: int
    step: str

    def send(self, to: int, data: bytes) -> None:
        """Queue ``data`` for party ``to`` (may be buffered until :meth:`flush`)."""
        ...

    def recv(self, frm: int) -> bytes:
        """The next message from party ``frm``; raises NetworkError on timeout or a bad frame."""
        ...

    def flush(self) -> None:
        """Push out everything buffered by :meth:`send`."""
        ...


@dataclass
class TrafficStats:
    """Bytes and messages one party sent/received (payload bytes, before framing)."""

    bytes_sent: int = 0
    bytes_received: int = 0
    messages_sent: int = 0
    messages_received: int = 0
    rounds: list[str] = field(default_factory=list)


def broadcast_exchange(net: Network, payload: bytes) -> list[bytes]:
    """One round: send ``payload`` to every other party, receive theirs; index = party id."""
    for j in range(net.n_parties):
        if j != net.party_id:
            net.send(j, payload)
    net.flush()
    out: list[bytes] = []
    for j in range(net.n_parties):
        out.append(payload if j == net.party_id else net.recv(j))
    return out


class LocalHub:
    """Shared queues for N in-process parties (threads); ``hub.network(i)`` is party i's view."""

    def __init__(self, n_parties: int, timeout: float = 30.0, record: RecordHook | None = None):
        if n_parties < 1:
            raise ValueError("need at least one party")
        self.n_parties = n_parties
        self.timeout = timeout
        self.record = record
        self._queues = {
            (i, j): queue.Queue() for i in range(n_parties) for j in range(n_parties) if i != j
        }
        self._lock = threading.Lock()
        self.aborted: str | None = None

    def network(self, party_id: int) -> LocalNetwork:
        return LocalNetwork(self, party_id)

    def abort(self, reason: str) -> None:
        """Wake every party blocked in ``recv``; this and every later ``recv`` raises
        NetworkError(``reason``) (used to stop an in-process run early)."""
        self.aborted = reason
        for q in self._queues.values():
            q.put((_ABORT, b""))


class LocalNetwork:
    """Party ``party_id``'s end of a :class:`LocalHub` (same semantics as the TCP network)."""

    def __init__(self, hub: LocalHub, party_id: int):
        if not 0 <= party_id < hub.n_parties:
            raise ValueError(f"party id {party_id} not in 0..{hub.n_parties - 1}")
        self.hub = hub
        self.party_id = party_id
        self.n_parties = hub.n_parties
        self.step = "start"
        self.stats = TrafficStats()

    def _check_peer(self, other: int) -> None:
        if other == self.party_id or not 0 <= other < self.n_parties:
            raise ValueError(f"party {self.party_id} cannot talk to party {other}")

    def send(self, to: int, data: bytes) -> None:
        self._check_peer(to)
        self.stats.bytes_sent += len(data)
        self.stats.messages_sent += 1
        self.hub._queues[(self.party_id, to)].put((self.step, bytes(data)))

    def recv(self, frm: int) -> bytes:
        self._check_peer(frm)
        if self.hub.aborted is not None:
            raise NetworkError(f"party {self.party_id}: {self.hub.aborted}")
        try:
            step, data = self.hub._queues[(frm, self.party_id)].get(timeout=self.hub.timeout)
        except queue.Empty:
            raise NetworkError(
                f"party {self.party_id}: no message from party {frm} within "
                f"{self.hub.timeout:g} s at step {self.step!r}"
            ) from None
        if self.hub.aborted is not None:
            raise NetworkError(f"party {self.party_id}: {self.hub.aborted}")
        if step != self.step:
            raise NetworkError(
                f"party {self.party_id}: party {frm} sent a message for step {step!r} "
                f"while this party is at step {self.step!r}"
            )
        self.stats.bytes_received += len(data)
        self.stats.messages_received += 1
        if self.hub.record is not None:
            with self.hub._lock:
                self.hub.record(self.party_id, frm, step, data)
        return data

    def flush(self) -> None:
        """Nothing is buffered in process."""
