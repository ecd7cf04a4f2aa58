"""Unauthenticated denial of service (issue 10, item 4): bounded pre-authentication state, and a
stalled session never blocks another data owner's session.

The admission structures are tested directly; the attack runs against real `omnidsl serve`
processes: 50 junk connections of five kinds plus a half-open session (valid material sent to
server 0 only), during which an honest session must succeed, with server 0's peak resident
memory (VmHWM) growing by less than ``PREAUTH_BOUND`` (docs/mpc.md, "Servers").
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time

import pytest

from omnidsl.backend import get_backend
from omnidsl.errors import NetworkError
from omnidsl.groth16.verifier import verify
from omnidsl.mpc import codec, frames
from omnidsl.mpc.admission import Busy, PreAuth, Rendezvous, ReplayStore, SessionSlots
from omnidsl.mpc.config import Limits, file_digest
from omnidsl.mpc.schemes.additive.material import new_session_id
from tests.groth16.cases import CASES
from tests.mpc.cluster import Cluster, make_keys, wait_until
from tests.mpc.helpers import exchange, material, proc_status, prove_shared

MIB = 1 << 20
#: docs/mpc.md: 64 pre-authentication connections × ≤ 384 KiB of stream buffer, plus slack for
#: the allocator and Python objects
PREAUTH_BOUND = 48 * MIB


# ---- the admission structures ---------------------------------------------------------------


def test_preauth_cap_evicts_the_oldest():
    async def go():
        never = asyncio.get_running_loop().create_future()
        tasks = [asyncio.ensure_future(asyncio.shield(never)) for _ in range(5)]
        pre = PreAuth(3)
        tokens = [pre.admit(t) for t in tasks]
        await asyncio.sleep(0)
        assert len(pre) == 3 and pre.evicted == 2
        assert [t.cancelled() for t in tasks] == [True, True, False, False, False]
        pre.release(tokens[3])
        assert len(pre) == 2
        for t in tasks:
            t.cancel()

    asyncio.run(go())


def test_session_slots_evict_the_oldest_assembling_session_and_are_busy_when_all_run():
    async def go():
        slots = SessionSlots(2)
        a = asyncio.ensure_future(asyncio.sleep(60))
        b = asyncio.ensure_future(asyncio.sleep(60))
        slots.open(b"a", a)
        slots.open(b"b", b)
        slots.assembled(b"b")
        slots.open(b"c", None)  # full: "a" (still assembling) gives way
        await asyncio.sleep(0)
        assert a.cancelled() and slots.was_evicted(b"a") and not slots.active(b"a")
        slots.assembled(b"c")
        with pytest.raises(Busy, match="2 proofs in progress"):
            slots.open(b"d", None)  # every slot runs a proof
        slots.close(b"b")
        slots.open(b"d", None)
        slots.close(b"a")
        assert not slots.was_evicted(b"a") and len(slots) == 2
        b.cancel()

    asyncio.run(go())


def test_replay_store_is_bounded_and_expires():
    now = [0.0]
    store = ReplayStore(capacity=3, ttl=10.0, clock=lambda: now[0])
    for k in range(4):
        store.add(bytes([k]))
    assert len(store) == 3 and bytes([0]) not in store and bytes([3]) in store
    now[0] = 9.9
    assert bytes([1]) in store
    now[0] = 10.0
    assert bytes([1]) not in store and len(store) == 0


def test_rendezvous_parks_claims_and_times_out():
    async def go():
        rv = Rendezvous()
        parked = asyncio.ensure_future(rv.park((b"s", 1), "conn", 5))
        await asyncio.sleep(0)
        with pytest.raises(ValueError, match="duplicate"):
            await rv.park((b"s", 1), "other", 5)
        assert await rv.claim((b"s", 1), 1) == "conn" and await parked is True
        assert not await rv.park((b"t", 2), "late", 0.05)  # nobody claims: dropped
        with pytest.raises(TimeoutError):
            await rv.claim((b"u", 1), 0.05)
        assert len(rv) == 0
        # claimed, then evicted before the parked side ran again: it still counts as claimed
        parked = asyncio.ensure_future(rv.park((b"v", 1), "conn2", 5))
        await asyncio.sleep(0)
        assert await rv.claim((b"v", 1), 1) == "conn2"
        parked.cancel()
        assert await parked is True

    asyncio.run(go())


# ---- the attack on real servers ----------------------------------------------------------------


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    be = get_backend()
    root = tmp_path_factory.mktemp("dos")
    params, inputs = CASES["range"]
    pk, z, _ = make_keys("range", params, inputs, root / "keys", be)
    return root / "keys", pk, z, be


def _connect(cfg, sid: int = 0) -> socket.socket:
    e = cfg.server(sid)
    return socket.create_connection((e.host, e.port), timeout=5)


def _push(s: socket.socket, data: bytes) -> None:
    with contextlib.suppress(OSError):  # the server closed it: what it should do
        s.sendall(data)


@pytest.mark.slow
def test_junk_and_a_half_open_session_do_not_block_an_honest_session(tmp_path, keys):
    d, pk, z, be = keys
    pk_path = d / "proving_key.bin"
    with Cluster(tmp_path, 2, {"range": d}, timeout=20).start_all() as cl:
        pid = cl.procs[0].pid
        res = prove_shared(cl.cfg, pk_path, z, be, pk=pk)  # warm-up
        assert verify(pk.vk, res.public, res.proof, be)
        hwm0, rss0 = proc_status(pid, "VmHWM"), proc_status(pid, "VmRSS")
        socks: list[socket.socket] = []
        pushers: list[threading.Thread] = []
        junk = 16 * MIB
        for _ in range(15):  # silent
            socks.append(_connect(cl.cfg))
        for _ in range(10):  # a 256 MiB "hello", then 16 MiB of it
            s = _connect(cl.cfg)
            socks.append(s)
            pushers.append(threading.Thread(target=_push, args=(
                s, (1 << 28).to_bytes(4, "big") + bytes(junk))))
        for _ in range(5):  # not even framed
            s = _connect(cl.cfg)
            socks.append(s)
            pushers.append(threading.Thread(target=_push, args=(s, b"GET / HTTP/1.1\r\n" * (
                junk // 16))))
        for k in range(10):  # a data owner's hello, then nothing / a server's hello, parked
            s = _connect(cl.cfg)
            socks.append(s)
            role, sender = (frames.ROLE_OWNER, frames.OWNER_ID) if k % 2 else (
                frames.ROLE_SERVER, 1)
            s.sendall(frames.frame(frames.Hello(role, sender, 0, new_session_id(),
                                                frames.generate_keypair()[1]).encode()))
        for _ in range(10):  # a data owner's hello, then a 256 MiB frame
            s = _connect(cl.cfg)
            socks.append(s)
            hello = frames.Hello(frames.ROLE_OWNER, frames.OWNER_ID, 0, new_session_id(),
                                 frames.generate_keypair()[1]).encode()
            pushers.append(threading.Thread(target=_push, args=(
                s, frames.frame(hello) + (1 << 28).to_bytes(4, "big") + bytes(junk))))
        assert len(socks) == 50
        for t in pushers:
            t.start()
        # the half-open session: valid material to server 0 only (server 1 never hears of it)
        digest = file_digest(pk_path)
        sid_ = new_session_id()
        half: list = []
        stalled = threading.Thread(target=lambda: half.append(
            exchange(cl, 0, material(pk, z, be, 0, sid_, digest), digest, sid_)))
        t_half = time.monotonic()
        stalled.start()
        time.sleep(0.5)
        t0 = time.monotonic()
        res = prove_shared(cl.cfg, pk_path, z, be, pk=pk)
        honest_s = time.monotonic() - t0
        assert verify(pk.vk, res.public, res.proof, be)
        # the honest session did not wait for the stalled one (its peers have 10 s)
        assert stalled.is_alive() and honest_s < 8, honest_s
        stalled.join(40)
        assert half and isinstance(half[0], dict) and half[0]["ok"] is False
        assert "server 1 did not connect within 10 s at step 'handshake'" in half[0]["error"]
        assert time.monotonic() - t_half >= 9.5
        for t in pushers:
            t.join(30)
        grew = proc_status(pid, "VmHWM") - hwm0
        print(f"server 0: VmRSS {rss0 / MIB:.1f} MiB before, peak grew by {grew / MIB:.1f} MiB "
              f"({junk * 25 / MIB:.0f} MiB of junk sent)")
        assert grew < PREAUTH_BOUND, f"peak memory grew by {grew / MIB:.1f} MiB"
        assert any("oversized frame (268435456 bytes > limit 256)" in line
                   for line in cl.logs[0])
        assert any("oversized frame (268435456 bytes > limit 1024)" in line
                   for line in cl.logs[0])
        for s in socks:
            s.close()
        assert cl.alive() == [0, 1]
        res = prove_shared(cl.cfg, pk_path, z, be, pk=pk)
        assert verify(pk.vk, res.public, res.proof, be)


@pytest.mark.slow
def test_connection_flood_is_capped_and_silent_connections_time_out(tmp_path, keys):
    d, pk, z, be = keys
    limits = Limits(handshake_timeout=2.0)
    with Cluster(tmp_path, 2, {"range": d}, timeout=20, limits=limits).start_all() as cl:
        pid = cl.procs[0].pid
        fds0 = len(os.listdir(f"/proc/{pid}/fd"))
        socks = [_connect(cl.cfg) for _ in range(200)]
        time.sleep(0.5)
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        assert fds <= fds0 + limits.max_unauthenticated + 2, (fds0, fds)
        assert wait_until(lambda: any("unauthenticated connection(s) evicted" in line
                                      for line in cl.logs[0]), 5)
        # an honest data owner still gets in (a new connection evicts the oldest silent one)
        res = prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk)
        assert verify(pk.vk, res.public, res.proof, be)
        # and every silent connection is closed by the handshake deadline (or evicted)
        t0 = time.monotonic()
        for s in socks:
            s.settimeout(max(0.1, t0 + 6 - time.monotonic()))
            with contextlib.suppress(ConnectionResetError):
                assert s.recv(1) == b""
            s.close()
        assert time.monotonic() - t0 < 6
        assert cl.alive() == [0, 1]


@pytest.mark.slow
def test_data_owners_at_once_all_get_their_proof(tmp_path, keys):
    """Up to max_sessions sessions run side by side (one at a time used to answer "busy")."""
    d, pk, z, be = keys
    with Cluster(tmp_path, 3, {"range": d}, timeout=10).start_all() as cl:
        out: list = []

        def run() -> None:
            try:
                r = prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk)
                out.append(verify(pk.vk, r.public, r.proof, be))
            except NetworkError as exc:
                out.append(exc)

        owners = [threading.Thread(target=run) for _ in range(cl.cfg.limits.max_sessions)]
        for t in owners:
            t.start()
        for t in owners:
            t.join(60)
        assert out == [True] * cl.cfg.limits.max_sessions


def test_unauthenticated_refusals_reach_the_client(tmp_path, keys):
    """A hello naming another server id, or a reused session id, gets a plaintext refusal that
    the data owner shows as such."""
    d, pk, z, be = keys
    with Cluster(tmp_path, 2, {"range": d}, timeout=3).start_all() as cl:
        e = cl.cfg.server(0)
        digest = file_digest(d / "proving_key.bin")
        sid_ = new_session_id()

        async def to_server(claimed_id: int) -> bytes:
            from omnidsl.mpc import handshake

            return await handshake.owner_exchange(
                e.host, e.port, claimed_id, e.public_key, sid_,
                codec.encode({"kind": "open", "key_digest": digest}), b"", 1 << 20, 5, 10)

        with pytest.raises(NetworkError, match=r"server 1 refused the session: this is server 0, "
                                               r"not server 1 .*\(unauthenticated notice"):
            asyncio.run(to_server(1))
        reply = exchange(cl, 0, material(pk, z, be, 0, sid_, digest), digest, sid_)
        assert isinstance(reply, dict) and reply["ok"] is False  # ran (its peer never came)
        reply = exchange(cl, 0, material(pk, z, be, 0, sid_, digest), digest, sid_)
        assert isinstance(reply, NetworkError)
        assert f"session {sid_.hex()[:8]} was already used on server 0" in str(reply)
        assert "unauthenticated notice" in str(reply)
