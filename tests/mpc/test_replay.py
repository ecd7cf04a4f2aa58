"""Replay by a keyless network attacker (issue 10, item 5), on recorded TCP bytes.

Three real `omnidsl serve` processes listen on private ports (``serve --listen``); servers.toml
points everyone — the data owner and the servers themselves — at forwarding proxies on
127.0.0.1 that record every byte in both directions.  After two honest sessions:

* every sealed frame of every connection is keyed by (transcript of both hellos, direction) and
  its nonce is its counter: no (direction key, nonce) pair repeats, every ephemeral key is fresh;
* replaying the first session's client bytes verbatim to every server is refused (the session id
  was used), and after a restart of all servers (empty replay stores) it is still refused, by
  authentication: each server answers with a fresh ephemeral key, so the recorded frames no
  longer open.  No server recomputes a proof.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections import Counter
from pathlib import Path

import pytest

from omnidsl.backend import get_backend
from omnidsl.groth16.verifier import verify
from omnidsl.mpc import frames
from omnidsl.procs import free_ports
from tests.groth16.cases import CASES
from tests.mpc.cluster import Cluster, make_keys
from tests.mpc.helpers import prove_shared

pytestmark = pytest.mark.slow

N = 3


class Proxy:
    """Forwards 127.0.0.1:port → 127.0.0.1:target and records each connection's bytes."""

    def __init__(self, port: int, server: int, records: list[dict]):
        self.sock = socket.create_server(("127.0.0.1", port))
        self.server = server
        self.target = 0
        self.records = records
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                down, _ = self.sock.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(("127.0.0.1", self.target), timeout=10)
            except OSError:
                down.close()
                continue
            rec = {"server": self.server, "c2s": bytearray(), "s2c": bytearray()}
            self.records.append(rec)
            pumps = [threading.Thread(target=self._pump, args=(down, up, rec["c2s"])),
                     threading.Thread(target=self._pump, args=(up, down, rec["s2c"]))]
            for t in pumps:
                t.start()
            threading.Thread(target=self._close, args=(pumps, down, up), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, buf: bytearray) -> None:
        try:
            while data := src.recv(1 << 16):
                buf += data
                dst.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    @staticmethod
    def _close(pumps: list[threading.Thread], *socks: socket.socket) -> None:
        for t in pumps:
            t.join()
        for s in socks:
            s.close()

    def close(self) -> None:
        self.sock.close()


def split_frames(stream: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos + 4 <= len(stream):
        (n,) = struct.unpack_from(">I", stream, pos)
        if pos + 4 + n > len(stream):
            break
        out.append(bytes(stream[pos + 4:pos + 4 + n]))
        pos += 4 + n
    return out


def sealed_nonces(rec: dict, c2s: bytes | None = None, s2c: bytes | None = None):
    """(transcript hash, direction, counter) of every sealed frame of a recorded connection, and
    the ephemeral keys of its hellos."""
    up, down = split_frames(c2s if c2s is not None else rec["c2s"]), split_frames(
        s2c if s2c is not None else rec["s2c"])
    if not up or not down or frames.refusal_reason(down[0]) is not None:
        return [], [frames.Hello.decode(up[0]).ephemeral] if up else []
    hc, hs = frames.Hello.decode(up[0]), frames.Hello.decode(down[0])
    t = frames.transcript_hash(up[0], down[0])
    out = []
    for direction, bodies in (("c2s", up[1:]), ("s2c", down[1:])):
        for body in bodies:
            if frames.refusal_reason(body) is not None:
                continue
            version, counter = struct.unpack_from(">BQ", body)
            assert version == frames.VERSION
            out.append((t, direction, counter))
    return out, [hc.ephemeral, hs.ephemeral]


def replay(port: int, data: bytes, timeout: float = 15.0) -> bytes:
    """Send recorded client bytes verbatim; everything the server answers until it closes."""
    out = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            while chunk := s.recv(1 << 16):
                out += chunk
        except OSError:
            pass
    return bytes(out)


def done_count(cl: Cluster) -> int:
    return sum(1 for i in range(N) for line in cl.logs.get(i, []) if line.endswith(" done"))


def test_recorded_session_replayed_verbatim_is_refused_and_nonces_never_repeat(tmp_path):
    be = get_backend()
    params, inputs = CASES["norm_bound"]
    pk, z, _ = make_keys("norm_bound", params, inputs, tmp_path / "keys", be)
    pk_path = tmp_path / "keys" / "proving_key.bin"
    records: list[dict] = []
    cl = Cluster(tmp_path / "cl", N, {"nb": tmp_path / "keys"}, timeout=3)
    proxies = [Proxy(cl.cfg.server(i).port, i, records) for i in range(N)]
    real = free_ports(N)  # after the proxies hold the listed ports
    for p, port in zip(proxies, real, strict=True):
        p.target = port
    listen = {i: ["--listen", f"127.0.0.1:{real[i]}"] for i in range(N)}
    try:
        cl.start_all(listen)
        sessions = []
        for _ in range(2):
            res = prove_shared(cl.cfg, pk_path, z, be, pk=pk)
            assert verify(pk.vk, res.public, res.proof, be)
            sessions.append(list(records))
            records.clear()
        first, second = sessions
        # N data-owner connections + N(N−1)/2 server links per session, all through the proxies
        assert len(first) == len(second) == N + N * (N - 1) // 2
        sid1 = frames.Hello.decode(split_frames(first[0]["c2s"])[0]).session_id

        # (direction key, nonce) pairs: unique across both sessions; nonces count 0, 1, 2, …
        nonces, ephemerals = [], []
        for rec in first + second:
            n, e = sealed_nonces(rec)
            nonces += n
            ephemerals += e
        assert len(nonces) > 4 * len(first + second)
        assert not [k for k, c in Counter(nonces).items() if c > 1]
        counters: dict[tuple[bytes, str], list[int]] = {}
        for t, d, c in nonces:
            counters.setdefault((t, d), []).append(c)
        assert len(counters) == 2 * len(first + second)  # one key per connection and direction
        assert all(c == list(range(len(c))) for c in counters.values())
        assert len(set(ephemerals)) == len(ephemerals) == 2 * len(first + second)
        assert bytes(32) not in ephemerals

        # replay 1: the same servers remember the session id
        done0 = done_count(cl)
        answers = _replay_all(first, real)
        for rec, answer in zip(first, answers, strict=True):
            reason = frames.refusal_reason(split_frames(answer)[0]) if answer else None
            owner = frames.Hello.decode(split_frames(rec["c2s"])[0]).role == frames.ROLE_OWNER
            want = "was already used" if owner else "is over"
            assert reason is not None and want in reason and sid1.hex()[:8] in reason, answer
        assert done_count(cl) == done0 == 2 * N  # nobody proved anything again

        # replay 2: restarted servers (empty replay stores) answer with fresh keys, so the
        # recorded frames fail authentication
        cl.stop()
        cl.start_all(listen)
        answers = _replay_all(first, real)
        for rec, answer in zip(first, answers, strict=True):
            n, e = sealed_nonces(rec, s2c=answer)
            nonces += [x for x in n if x[1] == "s2c"]
            owner = frames.Hello.decode(split_frames(rec["c2s"])[0]).role == frames.ROLE_OWNER
            if owner:  # fresh hello + confirmation, then the plaintext refusal
                parts = split_frames(answer)
                assert len(parts) == 3 and e[1] not in ephemerals  # a fresh server key
                ephemerals.append(e[1])
                assert "could not authenticate the data owner's frames" in \
                    frames.refusal_reason(parts[2])
            else:  # parked, never claimed (no session), dropped
                assert answer == b""
        assert not [k for k, c in Counter(nonces).items() if c > 1]
        assert done_count(cl) == 0  # (logs since the restart)
        logs = "\n".join(line for i in range(N) for line in cl.logs[i])
        assert "failed authentication at step 'open'" in logs
        assert "found no session here" in logs
        assert cl.alive() == list(range(N))
        res = prove_shared(cl.cfg, pk_path, z, be, pk=pk)  # and they still serve
        assert verify(pk.vk, res.public, res.proof, be)
    finally:
        cl.stop()
        for p in proxies:
            p.close()
    assert Path(cl.config_path).exists()


def _replay_all(recorded: list[dict], real: list[int]) -> list[bytes]:
    """Replay every recorded connection of a session at once, straight to the servers."""
    out: list[bytes] = [b""] * len(recorded)

    def one(k: int) -> None:
        out[k] = replay(real[recorded[k]["server"]], bytes(recorded[k]["c2s"]))

    threads = [threading.Thread(target=one, args=(k,)) for k in range(len(recorded))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return out
