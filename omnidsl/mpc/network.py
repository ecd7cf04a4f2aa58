"""The transport seen by protocol code: the :class:`Network` protocol and an in-process LocalNetwork.

Protocol code (drivers) only ever calls ``send``/``recv``/``flush`` and sets ``step``; it never
touches sockets.  ``step`` names the protocol step being run ("mul_vec#0", "open_g1#2", ...):
transports bind every frame to it and name it in errors.  TCP lives in ``tcp.py``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from omnidsl.errors import NetworkError

#: hook(receiver_id, sender_id, step, payload) called for every message a party receives.
RecordHook = Callable[[int, int, str, bytes], None]
#: the step tag :meth:`LocalHub.abort` puts into every queue
_ABORT = "\x00abort"
#: the step tag :meth:`LocalHub.close` puts into the queues from a crashed party
_CLOSED = "\x00closed"

log = logging.getLogger(__name__)


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
    """Bytes one party sent/received (payload bytes, before framing) and its rounds."""

    bytes_sent: int = 0
    bytes_received: int = 0
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


@dataclass
class Liveness:
    """The peers one party still exchanges with (``live``, itself included) and, for every peer
    it stopped waiting for, why (``dead``: party id → reason).  A dropped peer stays dropped."""

    live: set[int]
    dead: dict[int, str] = field(default_factory=dict)

    @classmethod
    def everyone(cls, n_parties: int) -> Liveness:
        return cls(set(range(n_parties)))

    def drop(self, party: int, reason: str) -> None:
        self.live.discard(party)
        self.dead.setdefault(party, reason)


def quorum_exchange(net: Network, payload: bytes, need: int, alive: Liveness,
                    wait_s: float) -> dict[int, bytes]:
    """One broadcast round that tolerates failed parties (the Shamir scheme's exchanges).

    Sends ``payload`` to every live peer, then waits until every live peer has answered or
    ``wait_s`` seconds have passed since the round began; a peer that does not answer in time,
    closed its connection or sent a bad frame is dropped from ``alive`` (with the reason).
    Returns party id → payload (this party's own included) if at least ``need`` parties answered,
    else raises NetworkError naming the parties that did not.  Needs ``net.recv_within``."""
    me = net.party_id
    peers = sorted(alive.live - {me})
    for j in peers:
        net.send(j, payload)
    try:
        net.flush()
    except NetworkError as exc:  # a dead peer's socket; found again (and named) by its recv
        log.debug("party %d: flush at %s: %s", me, net.step, exc.message)
    deadline = time.monotonic() + wait_s
    got = {me: payload}
    for j in peers:
        try:
            got[j] = net.recv_within(j, max(deadline - time.monotonic(), 0.01))  # type: ignore[attr-defined]
        except NetworkError as exc:
            alive.drop(j, exc.message)
            log.info("party %d: dropping party %d at %s: %s", me, j, net.step, exc.message)
    if len(got) < need:
        missing = sorted(set(range(net.n_parties)) - set(got))
        reasons = "; ".join(f"party {j}: {alive.dead.get(j, 'dropped earlier')}"
                            for j in missing)
        raise NetworkError(
            f"party {me}: step {net.step!r} needs {need} parties, only {len(got)} answered "
            f"({', '.join(map(str, sorted(got)))}); no answer from {_names(missing)} "
            f"({reasons})",
            hint=f"{need} live servers are needed for this step")
    return got


def _names(ids: list[int]) -> str:
    """"party 3" / "parties 2, 3 and 4"."""
    if len(ids) == 1:
        return f"party {ids[0]}"
    return "parties " + ", ".join(map(str, ids[:-1])) + f" and {ids[-1]}"


class LocalHub:
    """Shared queues for N in-process parties (threads); ``hub.network(i)`` is party i's view."""

    def __init__(self, n_parties: int, timeout: float = 30.0, record: RecordHook | None = None):
        if n_parties < 1:
            raise ValueError("need at least one party")
        self.n_parties = n_parties
        self.timeout = timeout
        self.record = record
        #: (sender, receiver) → (step, payload) messages in order
        self._queues: dict[tuple[int, int], queue.Queue[tuple[str, bytes]]] = {
            (i, j): queue.Queue() for i in range(n_parties) for j in range(n_parties) if i != j
        }
        self._lock = threading.Lock()
        self.aborted: str | None = None

    def close(self, party_id: int) -> None:
        """Simulate party ``party_id`` crashing: its peers' later reads from it fail at once
        (as a closed TCP connection does), after what it had already sent."""
        for j in range(self.n_parties):
            if j != party_id:
                self._queues[(party_id, j)].put((_CLOSED, b""))

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
        self.hub._queues[(self.party_id, to)].put((self.step, bytes(data)))

    def recv(self, frm: int) -> bytes:
        return self.recv_within(frm, self.hub.timeout)

    def recv_within(self, frm: int, timeout: float) -> bytes:
        """:meth:`recv` with its own timeout (seconds)."""
        self._check_peer(frm)
        if self.hub.aborted is not None:
            raise NetworkError(f"party {self.party_id}: {self.hub.aborted}")
        q = self.hub._queues[(frm, self.party_id)]
        try:
            step, data = q.get(timeout=timeout)
        except queue.Empty:
            raise NetworkError(
                f"party {self.party_id}: no message from party {frm} within "
                f"{timeout:g} s at step {self.step!r}"
            ) from None
        if self.hub.aborted is not None:
            raise NetworkError(f"party {self.party_id}: {self.hub.aborted}")
        if step == _CLOSED:
            q.put((step, data))  # sticky, as a closed connection
            raise NetworkError(f"party {frm} closed the connection at step {self.step!r}")
        if step != self.step:
            raise NetworkError(
                f"party {self.party_id}: party {frm} sent a message for step {step!r} "
                f"while this party is at step {self.step!r}"
            )
        self.stats.bytes_received += len(data)
        if self.hub.record is not None:
            with self.hub._lock:
                self.hub.record(self.party_id, frm, step, data)
        return data

    def flush(self) -> None:
        """Nothing is buffered in process."""
