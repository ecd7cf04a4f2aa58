"""Real TCP connections on 127.0.0.1: parties that all send a frame larger than the socket
buffers before receiving (the sliced opening of d‖e at D = 100,000 sent 45 MB before it was
opened by chunks) must not wait on each other's drain."""

from __future__ import annotations

import asyncio
import threading

from omnidsl.mpc import tcp
from omnidsl.mpc.network import broadcast_exchange
from omnidsl.mpc.tcp import FrameConn, TcpNetwork
from tests.mpc.helpers import link, run_parties

N = 3
PAYLOAD = 3 * tcp.STREAM_LIMIT  # above what a StreamReader buffers before it pauses (2 × limit)


async def _mesh(loop: asyncio.AbstractEventLoop) -> dict[int, dict[int, tuple[FrameConn, object]]]:
    """A full mesh of framed connections between N parties, with session channels."""
    peers: dict[int, dict[int, tuple[FrameConn, object]]] = {i: {} for i in range(N)}
    for i in range(N):
        for j in range(i + 1, N):
            accepted: asyncio.Future = loop.create_future()

            async def on_conn(r, w, fut=accepted):
                fut.set_result((r, w))

            srv = await asyncio.start_server(on_conn, "127.0.0.1", 0, limit=tcp.STREAM_LIMIT)
            port = srv.sockets[0].getsockname()[1]
            ci = await tcp.connect("127.0.0.1", port, 1 << 30, f"party {j}", 5.0)
            r, w = await accepted
            cj = FrameConn(r, w, 1 << 30, f"party {i}")
            srv.close()
            a, b = link(b"t" * 16, i, j)
            peers[i][j] = (ci, a)
            peers[j][i] = (cj, b)
    return peers


def test_parties_that_all_send_large_frames_before_receiving_do_not_deadlock():
    loop = asyncio.new_event_loop()
    t = threading.Thread(target=loop.run_forever, daemon=True)
    t.start()
    peers = asyncio.run_coroutine_threadsafe(_mesh(loop), loop).result(10)
    try:
        nets = [TcpNetwork(i, N, loop, peers[i], timeout=30.0) for i in range(N)]  # type: ignore[arg-type]

        def party(i: int) -> list[bytes]:
            nets[i].step = "mul_vec#0"
            return broadcast_exchange(nets[i], bytes([i]) * PAYLOAD)

        out, errs = run_parties(N, party)  # fails if a party hangs: the exchange deadlocked
        assert errs == [None] * N, errs
        for i in range(N):
            assert [len(x) for x in out[i]] == [PAYLOAD] * N
            assert [x[:1] for x in out[i]] == [bytes([j]) for j in range(N)]
    finally:
        for conns in peers.values():
            for conn, _ in conns.values():
                loop.call_soon_threadsafe(conn.close)
        loop.call_soon_threadsafe(loop.stop)
        t.join(5)
