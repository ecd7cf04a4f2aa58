"""TCP transport (asyncio): framed connections and the synchronous :class:`TcpNetwork` facade.

Every connection has a background reader task (started when the session's network is built, before
anything is sent) that keeps pulling frames into a bounded queue
(``QUEUE_FRAMES``; a peer can legitimately be at most two frames ahead), so parties that all send
large messages before receiving never deadlock on full socket buffers, and a peer streaming frames
stalls on TCP backpressure instead of filling this process's memory.  The prover
runs in a worker thread and calls ``send``/``recv``/``flush``; those hop onto the event loop.
Decryption and the step check happen in ``recv`` (see frames.py); every error names the peer and
the protocol step, and every wait has a timeout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import struct

from omnidsl.errors import NetworkError
from omnidsl.mpc import frames
from omnidsl.mpc.network import RecordHook, TrafficStats

#: StreamReader buffer limit: large frames (domain-size vectors, MBs) arrive without the reader
#: pausing and resuming the socket every 128 KiB (asyncio's default limit is 64 KiB)
STREAM_LIMIT = 1 << 24
#: buffer limit of a server's connections until they are authenticated (asyncio buffers at most
#: about 2 × this + one 256 KiB socket read per connection)
PREAUTH_STREAM_LIMIT = 1 << 16
#: frames read ahead per connection before the reader task waits for the consumer
QUEUE_FRAMES = 4


def set_stream_limit(reader: asyncio.StreamReader, limit: int) -> None:
    """Change a StreamReader's buffer limit (asyncio reads it on every ``feed_data``; there is no
    public setter, the attribute has been ``_limit`` since Python 3.4)."""
    reader._limit = limit  # type: ignore[attr-defined]


class FrameConn:
    """One asyncio stream carrying length-prefixed frames."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 max_frame: int, peer: str):
        self.reader = reader
        self.writer = writer
        self.max_frame = max_frame
        self.peer = peer
        self.queue: asyncio.Queue[bytes | NetworkError] = asyncio.Queue(QUEUE_FRAMES)
        self._task: asyncio.Task[None] | None = None
        self.bytes_out = 0

    async def read_body(self) -> bytes:
        """Read one frame directly (before the reader task runs; used for hellos)."""
        try:
            head = await self.reader.readexactly(4)
            (n,) = struct.unpack(">I", head)
            frames.check_length(n, self.max_frame, self.peer)
            body = await self.reader.readexactly(n)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise NetworkError(f"{self.peer} closed the connection ({type(exc).__name__})") from None
        return body

    def start_reader(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        while True:
            try:
                body = await self.read_body()
            except NetworkError as exc:
                await self.queue.put(exc)
                return
            await self.queue.put(body)

    async def get(self, timeout: float, step: str) -> bytes:
        """The next frame body, or NetworkError (timeout / closed / oversized)."""
        self.start_reader()
        try:
            item = await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            raise NetworkError(
                f"no frame from {self.peer} within {timeout:g} s at step {step!r}",
                hint=f"is {self.peer} alive and reachable?",
            ) from None
        if isinstance(item, NetworkError):
            self.queue.put_nowait(item)  # sticky: later reads fail the same way
            raise NetworkError(f"{item.message} at step {step!r}", hint=item.hint)
        return item

    def write(self, body: bytes) -> None:
        if self.writer.is_closing():
            return
        data = frames.frame(body)
        self.bytes_out += len(data)
        self.writer.write(data)

    async def drain(self) -> None:
        try:
            await self.writer.drain()
        except ConnectionError as exc:
            raise NetworkError(f"{self.peer} closed the connection ({type(exc).__name__})") from None

    def abort(self, reason: NetworkError) -> None:
        """Fail every pending and later read with ``reason`` and close the connection."""
        if self._task is not None:
            self._task.cancel()
        while self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(reason)
        self.close()

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if not self.writer.is_closing():
            self.writer.close()


async def connect(host: str, port: int, max_frame: int, peer: str, timeout: float) -> FrameConn:
    """Open a framed connection to ``peer`` (NetworkError naming it on failure)."""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, limit=STREAM_LIMIT), timeout)
    except (OSError, TimeoutError) as exc:
        raise NetworkError(
            f"cannot connect to {peer} at {host}:{port}: {exc or type(exc).__name__}",
            hint=f"is {peer} running (`omnidsl serve`)?",
        ) from None
    return FrameConn(reader, writer, max_frame, peer)


class TcpNetwork:
    """:class:`~omnidsl.mpc.network.Network` over authenticated TCP connections to every peer.

    Used from a worker thread while ``loop`` runs the connections.
    """

    def __init__(
        self,
        party_id: int,
        n_parties: int,
        loop: asyncio.AbstractEventLoop,
        peers: dict[int, tuple[FrameConn, frames.Channel]],
        timeout: float,
        record: RecordHook | None = None,
    ):
        self.party_id = party_id
        self.n_parties = n_parties
        self.step = "start"
        self.loop = loop
        self.peers = peers
        self.timeout = timeout
        self.record = record
        self.stats = TrafficStats()
        # Pull every peer's frames from now on, whether or not this party has asked for one:
        # parties that all send a frame larger than the socket buffers and flush before they
        # receive would otherwise wait on each other's drain forever.
        for conn, _ in peers.values():
            loop.call_soon_threadsafe(conn.start_reader)

    def _peer(self, j: int) -> tuple[FrameConn, frames.Channel]:
        try:
            return self.peers[j]
        except KeyError:
            raise ValueError(f"server {self.party_id} has no connection to party {j}") from None

    def send(self, to: int, data: bytes) -> None:
        conn, chan = self._peer(to)
        body = chan.seal(self.step, data)
        self.stats.bytes_sent += len(data)
        self.loop.call_soon_threadsafe(conn.write, body)

    def flush(self) -> None:
        async def drain_all() -> None:
            for conn, _ in self.peers.values():
                await conn.drain()

        self._run(drain_all(), "flush")

    def recv(self, frm: int) -> bytes:
        return self.recv_within(frm, self.timeout)

    def recv_within(self, frm: int, timeout: float) -> bytes:
        """:meth:`recv` with its own timeout (seconds; quorum exchanges)."""
        conn, chan = self._peer(frm)
        body = self._run(conn.get(timeout, self.step), f"recv from party {frm}")
        _, payload = chan.open(body, self.step)
        self.stats.bytes_received += len(payload)
        if self.record is not None:
            self.record(self.party_id, frm, self.step, payload)
        return payload

    def _run(self, coro, what: str):
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return fut.result(self.timeout + 5)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            raise NetworkError(
                f"server {self.party_id}: {what} timed out at step {self.step!r}"
            ) from None
