"""What a connection may cost ``omnidsl serve`` before (and while) it is a proving session.

* :class:`PreAuth` — connections that are not yet part of a session: accepted but no hello yet,
  a data owner before its first sealed frame, a server connection parked until its session
  claims it.  At most ``max_unauthenticated``; one more evicts (cancels) the oldest.  Each reads
  at most ``frames.MAX_HELLO_FRAME`` bytes per frame into a 64 KiB-limited stream buffer and has
  ``handshake_timeout`` seconds to say hello.
* :class:`SessionSlots` — at most ``max_sessions`` sessions.  A session is *assembling* until all
  its peers have confirmed their keys (deadline ``assemble_timeout``), then *running*.  When all
  slots are taken, a new session evicts the oldest assembling one (a stalled, half-open session
  never blocks another data owner); only when every slot runs a proof is the new one refused.
* :class:`ReplayStore` — session ids this server has run, kept ``REPLAY_TTL_S`` seconds (at most
  ``REPLAY_CAPACITY``, oldest forgotten first); a data owner hello reusing one is refused.
* :class:`Rendezvous` — where a peer server's connection for session S waits for S's session.
* :class:`Gate` — the front door of ``omnidsl serve`` built from these: hellos, the data owner's
  handshake and session opening, parked peer connections, and the key-confirmed links of a
  session to every other server.

docs/mpc.md ("Servers", "Threat model") states the numbers and the memory bound.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from omnidsl.errors import NetworkError
from omnidsl.mpc import codec, frames, handshake
from omnidsl.mpc.config import Limits, ServersConfig
from omnidsl.mpc.handshake import read_frame
from omnidsl.mpc.messages import (
    OPEN_FRAME_LIMIT,
    STEP_HANDSHAKE,
    STEP_HELLO,
    STEP_OPEN,
    STEP_RESULT,
)
from omnidsl.mpc.tcp import PREAUTH_STREAM_LIMIT, STREAM_LIMIT, FrameConn, connect, set_stream_limit

#: A logger or one that tags its lines (the server's ``[server N]`` adapter).
Log = logging.Logger | logging.LoggerAdapter[logging.Logger]

_log = logging.getLogger(__name__)

#: session ids remembered for this long (seconds) ...
REPLAY_TTL_S = 3600.0
#: ... and at most this many (16 bytes + bookkeeping each: < 1 MiB)
REPLAY_CAPACITY = 8192


class Busy(Exception):
    """Every session slot runs a proof."""


class PreAuth:
    """The registry of pre-authentication connections (their handler tasks)."""

    def __init__(self, cap: int, log: Log | None = None):
        self.cap = cap
        self.log = log or _log
        self._tasks: OrderedDict[int, asyncio.Task[Any]] = OrderedDict()
        self._ids = itertools.count()
        self.evicted = 0

    def admit(self, task: asyncio.Task[Any]) -> int:
        """Register ``task``; cancels the oldest registered task(s) to stay within the cap."""
        while len(self._tasks) >= self.cap:
            _, old = self._tasks.popitem(last=False)
            old.cancel()
            self.evicted += 1
            if self.evicted in (1, 10, 100) or self.evicted % 1000 == 0:
                self.log.warning("%d unauthenticated connection(s) evicted so far (more than %d at "
                                 "once)", self.evicted, self.cap)
        token = next(self._ids)
        self._tasks[token] = task
        return token

    def release(self, token: int) -> None:
        self._tasks.pop(token, None)

    def __len__(self) -> int:
        return len(self._tasks)


@dataclass
class _Slot:
    task: asyncio.Task[Any] | None
    assembled: bool = False
    evicted: bool = False


class SessionSlots:
    """At most ``cap`` sessions; the oldest assembling one gives way to a new one."""

    def __init__(self, cap: int):
        self.cap = cap
        self._slots: OrderedDict[bytes, _Slot] = OrderedDict()
        self._evicted: dict[bytes, _Slot] = {}  # until the evicted session has cleaned up

    def open(self, session_id: bytes, task: asyncio.Task[Any] | None) -> None:
        """Take a slot for ``session_id`` (evicting the oldest assembling session if needed);
        Busy if every slot runs a proof."""
        if session_id in self._slots:
            raise ValueError("session already open")
        if len(self._slots) >= self.cap:
            victim = next((sid for sid, s in self._slots.items() if not s.assembled), None)
            if victim is None:
                raise Busy(f"{self.cap} proofs in progress")
            slot = self._slots.pop(victim)
            slot.evicted = True
            if slot.task is not None:
                slot.task.cancel()
            self._evicted[victim] = slot
        self._slots[session_id] = _Slot(task)

    def was_evicted(self, session_id: bytes) -> bool:
        return session_id in self._evicted

    def assembled(self, session_id: bytes) -> None:
        """All peers confirmed: the session is running and can no longer be evicted."""
        if session_id in self._slots:
            self._slots[session_id].assembled = True

    def close(self, session_id: bytes) -> None:
        self._slots.pop(session_id, None)
        self._evicted.pop(session_id, None)

    def active(self, session_id: bytes) -> bool:
        return session_id in self._slots

    def __len__(self) -> int:
        return len(self._slots)


class ReplayStore:
    """Session ids seen recently: bounded (oldest dropped first) and expiring."""

    def __init__(self, capacity: int = REPLAY_CAPACITY, ttl: float = REPLAY_TTL_S,
                 clock: Callable[[], float] = time.monotonic):
        self.capacity = capacity
        self.ttl = ttl
        self.clock = clock
        self._seen: OrderedDict[bytes, float] = OrderedDict()

    def _expire(self) -> None:
        now = self.clock()
        while self._seen and (len(self._seen) > self.capacity
                              or next(iter(self._seen.values())) + self.ttl <= now):
            self._seen.popitem(last=False)

    def add(self, session_id: bytes) -> None:
        self._seen[session_id] = self.clock()
        self._seen.move_to_end(session_id)
        self._expire()

    def __contains__(self, session_id: object) -> bool:
        self._expire()
        return session_id in self._seen

    def __len__(self) -> int:
        return len(self._seen)


class _Meeting:
    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.arrived: asyncio.Future[Any] = loop.create_future()
        self.claimed: asyncio.Future[None] = loop.create_future()


class Rendezvous:
    """Peer connections meet their session: ``park`` (the connection's side) and ``claim`` (the
    session's side) on the key (session id, peer id); a key holds one connection."""

    def __init__(self) -> None:
        self._m: dict[tuple[bytes, int], _Meeting] = {}

    def _get(self, key: tuple[bytes, int]) -> _Meeting:
        if key not in self._m:
            self._m[key] = _Meeting()
        return self._m[key]

    async def park(self, key: tuple[bytes, int], item: Any, timeout: float) -> bool:
        """Offer ``item``; True once a session claimed it, False after ``timeout``.  ValueError
        if the key already holds a connection."""
        m = self._get(key)
        if m.arrived.done():
            raise ValueError("duplicate connection")
        m.arrived.set_result(item)
        try:
            await asyncio.wait_for(asyncio.shield(m.claimed), timeout)
            return True
        except TimeoutError:
            return False
        except asyncio.CancelledError:
            if m.claimed.done():  # claimed just before the cancellation: the session owns it
                return True
            raise
        finally:
            if not m.claimed.done() and self._m.get(key) is m:
                del self._m[key]

    async def claim(self, key: tuple[bytes, int], timeout: float) -> Any:
        """The item parked under ``key`` (waiting up to ``timeout``; TimeoutError)."""
        m = self._get(key)
        try:
            item = await asyncio.wait_for(asyncio.shield(m.arrived), timeout)
        finally:
            if self._m.get(key) is m:
                del self._m[key]
        m.claimed.set_result(None)
        return item

    def drop(self, session_id: bytes) -> None:
        """Forget the meetings of a finished session (their parked connections time out)."""
        for key in [k for k in self._m if k[0] == session_id]:
            del self._m[key]

    def __len__(self) -> int:
        return len(self._m)


#: the data owner's part of a session, once it holds a slot: (conn, channel, ``open`` payload,
#: session id) → None
OwnerSession = Callable[[FrameConn, frames.Channel, bytes, bytes], Awaitable[None]]
Peers = dict[int, tuple[FrameConn, frames.Channel]]


class Gate:
    """The server's front door (see the module docstring)."""

    def __init__(self, cfg: ServersConfig, sid: int, private_key: bytes, on_owner: OwnerSession,
                 log: Log = _log):
        self.cfg = cfg
        self.sid = sid
        self.private_key = private_key
        self.on_owner = on_owner
        self.log = log
        self.limits: Limits = cfg.limits
        self.preauth = PreAuth(self.limits.max_unauthenticated, log)
        self.slots = SessionSlots(self.limits.max_sessions)
        self.replay = ReplayStore()
        self.rendezvous = Rendezvous()

    @property
    def assemble_s(self) -> float:
        """Seconds a session has from its opening until every peer link is confirmed."""
        return min(self.limits.assemble_timeout, self.cfg.timeout)

    async def on_conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """``asyncio.start_server`` callback: every accepted connection starts here."""
        task = asyncio.current_task()
        assert task is not None
        token = self.preauth.admit(task)
        conn = FrameConn(reader, writer, frames.MAX_HELLO_FRAME, "unknown peer")
        kept = False
        try:
            deadline = asyncio.get_running_loop().time() + self.limits.handshake_timeout
            body = await read_frame(conn, deadline, STEP_HELLO)
            hello = frames.Hello.decode(body)
            if hello.receiver != self.sid:
                handshake.refuse(conn, f"this is server {self.sid}, not server {hello.receiver} "
                                       "(does servers.toml list the right address for it?)")
                raise NetworkError(f"hello addressed to server {hello.receiver}, this is "
                                   f"{self.sid}")
            if hello.role == frames.ROLE_OWNER:
                conn.peer = "data owner"
                await self._owner(conn, hello, body, token, deadline)
                return
            if not self.sid < hello.sender < self.cfg.n:
                raise NetworkError(f"unexpected connection claiming to be server {hello.sender}")
            conn.peer = f"server {hello.sender}"
            kept = await self._park(conn, hello, body, token)
        except asyncio.CancelledError:
            self.log.warning("dropped an unauthenticated connection (%s): more than %d at once, "
                             "or shutting down", conn.peer, self.limits.max_unauthenticated)
        except (NetworkError, TimeoutError) as exc:
            self.log.warning("rejected a connection: %s", exc)
        except Exception as exc:
            self.log.error("internal error on a connection: %s: %s", type(exc).__name__, exc,
                           exc_info=self.log.isEnabledFor(logging.DEBUG))
        finally:
            self.preauth.release(token)
            if not kept:
                conn.close()

    async def _owner(self, conn: FrameConn, hello: frames.Hello, body: bytes, token: int,
                     deadline: float) -> None:
        sid, tag = hello.session_id, hello.session_id.hex()[:8]
        if self.slots.active(sid) or sid in self.replay:
            handshake.refuse(conn, f"session {tag} was already used on server {self.sid}")
            raise NetworkError(f"refused session {tag}: its id was already used (a replay?)")
        chan = handshake.accept_owner(conn, hello, body, self.private_key, self.sid)
        conn.max_frame = OPEN_FRAME_LIMIT
        opening = await read_frame(conn, deadline, STEP_OPEN)
        try:
            _, payload = chan.open(opening, STEP_OPEN)
        except NetworkError as exc:
            handshake.refuse(conn, f"server {self.sid} could not authenticate the data owner's "
                                   "frames (a replayed or tampered session?)")
            raise NetworkError(f"session {tag}: {exc.message}") from None
        if sid in self.replay:  # (a concurrent hello with the same id got here first)
            handshake.refuse(conn, f"session {tag} was already used on server {self.sid}")
            raise NetworkError(f"refused session {tag}: its id was already used (a replay?)")
        self.replay.add(sid)
        try:
            self.slots.open(sid, asyncio.current_task())
        except Busy as exc:
            conn.write(chan.seal(STEP_RESULT, codec.encode({
                "kind": "result", "ok": False, "error": f"server {self.sid} is busy: {exc}"})))
            await conn.drain()
            raise NetworkError(f"refused session {tag}: busy ({exc})") from None
        self.preauth.release(token)
        try:
            await self.on_owner(conn, chan, payload, sid)
        finally:
            self.slots.close(sid)
            self.rendezvous.drop(sid)

    async def _park(self, conn: FrameConn, hello: frames.Hello, body: bytes,
                    token: int) -> bool:
        sid, peer = hello.session_id, hello.sender
        if sid in self.replay and not self.slots.active(sid):
            handshake.refuse(conn, f"session {sid.hex()[:8]} is over on server {self.sid}")
            raise NetworkError(f"server {peer}'s connection is for session {sid.hex()[:8]}, "
                               "which is over (a replay?)")
        try:
            claimed = await self.rendezvous.park((sid, peer), (conn, hello, body, token),
                                                 self.assemble_s)
        except ValueError:
            raise NetworkError(f"duplicate connection from server {peer} for session "
                               f"{sid.hex()[:8]}") from None
        if not claimed:
            self.log.warning("server %d's connection for session %s found no session here within "
                             "%g s", peer, sid.hex()[:8], self.assemble_s)
        return claimed

    async def assemble(self, session_id: bytes, frame_limit: int, deadline: float,
                       peers: Peers) -> None:
        """Key-confirmed links to every other server by ``deadline`` (loop time), in parallel:
        connect to the servers below, claim the parked connections of those above.  Each link
        then reads frames of up to ``frame_limit`` bytes."""
        loop = asyncio.get_running_loop()
        opened: list[FrameConn] = []

        async def link(j: int) -> None:
            e = self.cfg.server(j)
            if j < self.sid:
                c = await connect(e.host, e.port, frames.MAX_HELLO_FRAME, f"server {j}",
                                  max(deadline - loop.time(), 0.01))
                opened.append(c)
                chan = await handshake.link_initiate(c, self.sid, self.private_key, j,
                                                     e.public_key, session_id, deadline)
            else:
                try:
                    c, hello, body, token = await self.rendezvous.claim(
                        (session_id, j), max(deadline - loop.time(), 0.0))
                except TimeoutError:
                    raise NetworkError(f"server {j} did not connect within {self.assemble_s:g} s "
                                       f"at step {STEP_HANDSHAKE!r}") from None
                self.preauth.release(token)  # part of a session now: no longer evictable
                opened.append(c)
                chan = await handshake.link_respond(c, hello, body, self.sid, self.private_key,
                                                    e.public_key, deadline)
            c.max_frame = frame_limit
            set_stream_limit(c.reader, max(PREAUTH_STREAM_LIMIT, min(STREAM_LIMIT, frame_limit)))
            peers[j] = (c, chan)

        tasks = [asyncio.ensure_future(link(j)) for j in range(self.cfg.n) if j != self.sid]
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                if not t.done():
                    t.cancel()
                elif not t.cancelled():
                    t.exception()  # retrieved: only the first failure is reported
            linked = {id(c) for c, _ in peers.values()}
            for c in opened:
                if id(c) not in linked:
                    c.close()
