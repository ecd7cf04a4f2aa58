"""Real `omnidsl serve` processes on 127.0.0.1: every rule with N = 2, 3, 5; CLI; faults."""

from __future__ import annotations

import json
import os
import signal
import socket
import time

import pytest

from omnidsl.backend import get_backend
from omnidsl.cli import main
from omnidsl.errors import NetworkError, ProofError
from omnidsl.groth16.formats import read_proof, read_public
from omnidsl.groth16.prover import public_signals
from omnidsl.groth16.verifier import verify
from omnidsl.mpc import frames
from omnidsl.mpc.config import Limits
from tests.groth16.cases import CASES
from tests.mpc.cluster import Cluster, make_keys, opening_bytes_sent, wait_until
from tests.mpc.helpers import prove_shared

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def keys(tmp_path_factory, be):
    """rule → (key dir, pk, witness) for every rule in circuits/."""
    root = tmp_path_factory.mktemp("keys")
    out = {}
    for rule, (params, inputs) in CASES.items():
        pk, z, _ = make_keys(rule, params, inputs, root / rule, be)
        out[rule] = (root / rule, pk, z)
    return out


def circuits_of(keys):
    return {rule: d for rule, (d, _, _) in keys.items()}


@pytest.mark.parametrize("n", [2, 3, 5])
def test_every_rule_proves_and_verifies(tmp_path, keys, be, n):
    with Cluster(tmp_path, n, circuits_of(keys)).start_all() as cl:
        for rule, (d, pk, z) in keys.items():
            res = prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk)
            assert res.public == public_signals(pk, z)
            assert verify(pk.vk, res.public, res.proof, be), rule
            assert len(res.reports) == n
            # traffic is O(domain): the opening of d‖e (2 domain-size vectors) + 4 points and a
            # handshake per peer
            per_peer = 3 * 64 + 128 + len(b"omnidsl-mpc handshake")
            assert all(r.bytes_sent == (n - 1) * per_peer
                       + opening_bytes_sent(r.server, n, 2 * pk.domain_size)
                       for r in res.reports)
            # only the last server receives explicit shares; the others get seeds (and the
            # public values, which every server gets)
            assert all(r.material_bytes < 1024 + 32 * (pk.n_public + 1)
                       for r in res.reports[:-1])
            assert res.reports[-1].material_bytes > 32 * pk.n_wires
        assert cl.alive() == list(range(n))


def test_cli_prove_shared_writes_verified_files(tmp_path, keys, capsys):
    d, pk, z = keys["norm_bound"]
    from omnidsl.field import bytes_to_limbs
    from omnidsl.r1cs.wtnsfile import write_wtns

    wtns = tmp_path / "w.wtns"
    write_wtns(wtns, bytes_to_limbs(z))
    with Cluster(tmp_path / "cl", 3, circuits_of(keys)).start_all() as cl:
        proof, public = tmp_path / "proof.json", tmp_path / "public.json"
        argv = ["prove-shared", "--servers", str(cl.config_path), "--keys", str(d),
                "--witness", str(wtns), "-o", str(proof), "--public", str(public)]
        assert main(argv) == 0
        assert "verified" in capsys.readouterr().err
        assert verify(pk.vk, read_public(public), read_proof(proof), get_backend())
        assert json.loads(proof.read_text())["protocol"] == "groth16"
        assert main(["verify", str(d / "verification_key.json"), str(public), str(proof)]) == 0
        # `omnidsl prove --servers` is the same flow
        proof.unlink()
        argv[0] = "prove"
        assert main(argv) == 0 and proof.exists()


def test_killed_server_gives_clear_error_then_retry_succeeds(tmp_path, keys, be):
    d, pk, z = keys["norm_bound"]
    cl = Cluster(tmp_path, 3, circuits_of(keys), timeout=5)
    with cl:
        cl.start_all({1: ["--test-crash-at", "mul_vec#0"]})
        t0 = time.time()
        with pytest.raises(NetworkError) as err:
            prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk)
        assert time.time() - t0 < 5 + 25  # within the timeout (+ slack for a loaded CI box)
        msg = str(err.value)
        assert "server 1" in msg and "closed the connection" in msg and "mul_vec#0" in msg
        assert cl.wait_exit(1) != 0  # it really died mid-proof
        assert wait_until(lambda: cl.alive() == [0, 2])  # the others keep serving
        cl.start(1)  # back up (same port, same key)
        res = prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk)
        assert verify(pk.vk, res.public, res.proof, be)


def test_frozen_server_times_out_naming_it_and_the_step(tmp_path, keys, be):
    d, pk, z = keys["range"]
    with Cluster(tmp_path, 3, circuits_of(keys), timeout=2).start_all() as cl:
        os.kill(cl.procs[2].pid, signal.SIGSTOP)
        try:
            t0 = time.time()
            with pytest.raises(NetworkError) as err:
                prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk)
            assert time.time() - t0 < 2 * 2 + 25
            msg = str(err.value)
            assert "server 2 did not connect within 2 s at step 'handshake'" in msg
            assert "server 2: no answer" in msg
        finally:
            os.kill(cl.procs[2].pid, signal.SIGCONT)


def test_lying_server_proof_is_rejected_and_nothing_written(tmp_path, keys, be, capsys):
    d, pk, z = keys["norm_bound"]
    from omnidsl.field import bytes_to_limbs
    from omnidsl.r1cs.wtnsfile import write_wtns

    wtns = tmp_path / "w.wtns"
    write_wtns(wtns, bytes_to_limbs(z))
    with Cluster(tmp_path / "cl", 3, circuits_of(keys)).start_all(
            {2: ["--test-corrupt-shares"]}) as cl:
        with pytest.raises(ProofError, match="server 2 sent wrong shares at step 'mul_vec#0'"):
            prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk)
        proof, public = tmp_path / "proof.json", tmp_path / "public.json"
        rc = main(["prove-shared", "--servers", str(cl.config_path), "--keys", str(d),
                   "--witness", str(wtns), "-o", str(proof), "--public", str(public)])
        assert rc == 1
        err = capsys.readouterr().err
        assert "server 2 sent wrong shares" in err and "nothing was written" in err
        assert not proof.exists() and not public.exists()


def _raw(cfg, sid, data: bytes) -> bytes:
    e = cfg.server(sid)
    with socket.create_connection((e.host, e.port), timeout=5) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        try:
            while chunk := s.recv(4096):
                out += chunk
        except OSError:
            pass
        return out


def test_bad_frames_are_rejected_and_server_keeps_serving(tmp_path, keys, be):
    d, pk, z = keys["range"]
    with Cluster(tmp_path, 2, circuits_of(keys), max_frame=1 << 20).start_all() as cl:
        sid = b"x" * 16
        hello = frames.Hello(frames.ROLE_OWNER, frames.OWNER_ID, 0, sid,
                             frames.generate_keypair()[1])
        cases = [
            b"GET / HTTP/1.1\r\n\r\n",                                   # not framed
            frames.frame(b"ZZZZ" + bytes(52)),                           # malformed hello
            frames.frame(b"OMNI\x09" + bytes(51)),                       # bad version
            (1 << 31).to_bytes(4, "big") + b"x" * 100,                    # oversized
        ]
        for data in cases:
            assert _raw(cl.cfg, 0, data) == b""  # closed without an answer
        # a data owner's frame that does not authenticate: the server answered the hello with its
        # own (and its key confirmation), then refuses in plaintext, saying it is unauthenticated
        answer = _raw(cl.cfg, 0, frames.frame(hello.encode()) + frames.frame(b"\x02" + bytes(60)))
        assert answer[4:8] == b"OMNI" and b"could not authenticate" in answer
        want = ["malformed hello", "version", "oversized frame", "failed authentication"]
        assert wait_until(lambda: all(any(w in line for line in cl.logs[0]) for w in want)), \
            "".join(cl.logs[0])
        # an owner with a wrong idea of server 0's key cannot get a proof either
        wrong = type(cl.cfg)(cl.cfg.path, [cl.cfg.servers[0].__class__(
            0, cl.cfg.servers[0].host, cl.cfg.servers[0].port, frames.generate_keypair()[1],
            None), cl.cfg.servers[1]], 2, cl.cfg.max_frame, cl.cfg.circuits)
        with pytest.raises(NetworkError, match="server 0"):
            prove_shared(wrong, d / "proving_key.bin", z, be, pk=pk)
        assert cl.alive() == [0, 1]
        res = prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk)
        assert verify(pk.vk, res.public, res.proof, be)


def test_unknown_key_and_stalled_session_eviction_are_reported(tmp_path, keys, be):
    d, pk, z = keys["range"]
    only = {"range": d}
    with Cluster(tmp_path, 2, only, timeout=3, limits=Limits(max_sessions=1)).start_all() as cl:
        nd, npk, nz = keys["norm_bound"]  # not configured on the servers
        with pytest.raises(NetworkError, match="server 0 reports: server 0 has no proving key"):
            prove_shared(cl.cfg, nd / "proving_key.bin", nz, be, pk=npk)
        # server 1 frozen: server 0's session waits for it; with one session slot, a second data
        # owner's session takes the slot of the first, which never assembled (no "busy")
        os.kill(cl.procs[1].pid, signal.SIGSTOP)
        import threading

        first: list[BaseException] = []

        def run_first():
            try:
                prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk)
            except NetworkError as exc:
                first.append(exc)

        t = threading.Thread(target=run_first)
        t.start()
        try:
            time.sleep(1.0)
            with pytest.raises(NetworkError, match="server 1 did not connect within 3 s"):
                prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk)
        finally:
            t.join(30)
            os.kill(cl.procs[1].pid, signal.SIGCONT)
        assert first and "server 0 dropped session" in str(first[0])
        assert "when a newer session needed the slot (1 sessions at once)" in str(first[0])
        assert wait_until(lambda: _ok(cl, d, pk, z, be), timeout=30)  # recovers


def _ok(cl, d, pk, z, be) -> bool:
    try:
        res = prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk)
    except NetworkError:
        time.sleep(0.5)
        return False
    return verify(pk.vk, res.public, res.proof, be)
