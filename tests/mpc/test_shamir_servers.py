"""The Shamir scheme with real `omnidsl serve` processes over TCP (servers.toml ``[scheme]``).

N = 5, t = 1 and N = 3, t = 1 prove and verify with the plain verifier; two of five servers
crashing mid-proof still give a verified proof (the data owner names them as failed); three
crashing give one error naming them; a session dealt for another threshold is refused.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from omnidsl.errors import OmniDSLError
from omnidsl.groth16.prover import public_signals
from omnidsl.groth16.verifier import verify
from omnidsl.mpc.schemes.shamir import dealer
from tests.mpc.cluster import Cluster
from tests.mpc.helpers import prove_shared

pytestmark = pytest.mark.slow


def shamir_cluster(tmp_path, nb, n, t, wait_s=10):
    return Cluster(tmp_path, n, {"nb": nb.keys}, timeout=20, scheme="shamir",
                   scheme_params={"threshold": t, "wait_s": wait_s})


@pytest.mark.parametrize("n,t", [(5, 1), (3, 1), (5, 2)])
def test_shamir_servers_prove_and_verify(tmp_path, nb, be, n, t):
    d, pk, z = nb.keys, nb.pk, nb.z
    with shamir_cluster(tmp_path, nb, n, t).start_all() as cl:
        for mode in ("split", "servers"):
            res = prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk, witness_msm=mode)
            assert verify(pk.vk, public_signals(pk, z), res.proof, be)
            assert len(res.reports) == n and res.failed == {}
            # server↔server traffic: the consistency value and four point shares per peer, plus
            # the link's key confirmation — independent of the circuit size
            per_peer = 64 + 3 * 64 + 128 + len(b"omnidsl-mpc handshake")
            assert all(r.bytes_sent == (n - 1) * per_peer for r in res.reports)


def test_two_of_five_servers_crash_mid_proof_and_the_proof_verifies(tmp_path, nb, be):
    d, pk, z = nb.keys, nb.pk, nb.z
    with shamir_cluster(tmp_path, nb, 5, 1) as cl:
        cl.start_all({3: ["--test-crash-at", "open_g2#0"], 4: ["--test-crash-at", "open_g1#1"]})
        res = prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk)
        assert verify(pk.vk, public_signals(pk, z), res.proof, be)
        assert set(res.failed) == {3, 4}
        assert sorted(r.server for r in res.reports) == [0, 1, 2]
        assert cl.wait_exit(3) == 17 and cl.wait_exit(4) == 17
        cl.start_all()  # the survivors kept serving; the restarted two join the next proof
        res = prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk)
        assert verify(pk.vk, public_signals(pk, z), res.proof, be) and res.failed == {}


def test_three_of_five_servers_crash_and_the_error_names_them(tmp_path, nb, be):
    d, pk, z = nb.keys, nb.pk, nb.z
    with shamir_cluster(tmp_path, nb, 5, 1) as cl:
        cl.start_all({i: ["--test-crash-at", "open_g1#0"] for i in (2, 3, 4)})
        with pytest.raises(OmniDSLError) as info:
            prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk)
        msg = info.value.message
        assert "collaborative proof failed" in msg
        for i in (2, 3, 4):
            assert f"server {i}" in msg
        assert "needs 3 parties, only 2 answered (0, 1)" in msg
        assert "no answer from parties 2, 3 and 4" in msg


def test_a_session_dealt_for_another_threshold_is_refused(tmp_path, nb, be, monkeypatch):
    d, pk, z = nb.keys, nb.pk, nb.z
    real = dealer.deal

    def lower_t(backend, witness, n_public, n_parties, threshold, **kw):
        return real(backend, witness, n_public, n_parties, threshold - 1, **kw)

    with shamir_cluster(tmp_path, nb, 5, 2).start_all() as cl:
        monkeypatch.setattr(dealer, "deal", lower_t)
        with pytest.raises(OmniDSLError, match=r"dealt with threshold t = 1; servers\.toml says "
                                               r"t = 2"):
            prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk)
        monkeypatch.setattr(dealer, "deal", real)
        res = prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk)
        assert verify(pk.vk, public_signals(pk, z), res.proof, be)


def test_servers_init_writes_the_scheme_and_refuses_impossible_thresholds(tmp_path, capsys):
    from omnidsl.cli import main
    from omnidsl.mpc.config import load_config

    assert main(["servers-init", "5", "-o", str(tmp_path / "a"), "--scheme", "shamir",
                 "--threshold", "2"]) == 0
    cfg = load_config(tmp_path / "a" / "servers.toml")
    assert (cfg.scheme, cfg.scheme_params) == ("shamir", {"threshold": 2})
    assert "(shamir sharing, t = 2)" in capsys.readouterr().out
    assert main(["servers-init", "5", "-o", str(tmp_path / "b"), "--scheme", "shamir",
                 "--threshold", "3"]) != 0
    err = capsys.readouterr().err
    assert "2t + 1 ≤ N" in err and "with 5 servers t can be at most 2" in err
    assert main(["servers-init", "3", "-o", str(tmp_path / "c"), "--threshold", "1"]) != 0
    assert "--threshold applies to the shamir scheme" in capsys.readouterr().err
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_server_frozen_mid_proof_is_dropped_and_the_owner_does_not_wait_for_it(
        tmp_path, be):
    """SIGSTOP server 4 once it has spent a third of one proof's CPU in the session: its peers drop it after
    wait_s, and the data owner returns the quorum's proof 2 s after it arrives (not after the
    session timeout)."""
    from tests.mpc.cluster import make_keys

    d = 1000
    g = [((i * 37) % 200 - 100) / 100.0 for i in range(d)]
    pk, z, _ = make_keys("norm_bound", {"D": d}, {"g": g, "max_norm": 40.0}, tmp_path / "k", be)
    with Cluster(tmp_path / "c", 5, {"nb": tmp_path / "k"}, timeout=60, scheme="shamir",
                 scheme_params={"threshold": 1, "wait_s": 3}).start_all() as cl:
        # a first proof loads the key everywhere; the second measures what one proof costs
        # server 4, so the freeze below lands in the middle of the proof however fast it is
        prove_shared(cl.cfg, tmp_path / "k" / "proving_key.bin", z, be, pk=pk)
        pid = cl.procs[4].pid
        cpu0 = _cpu_s(pid)
        prove_shared(cl.cfg, tmp_path / "k" / "proving_key.bin", z, be, pk=pk)
        per_proof = _cpu_s(pid) - cpu0
        assert per_proof > 0.05, per_proof  # the clock can see a third of it
        cpu0 = _cpu_s(pid)
        out: dict = {}

        def owner() -> None:
            t0 = time.monotonic()
            try:
                out["res"] = prove_shared(cl.cfg, tmp_path / "k" / "proving_key.bin", z, be,
                                          pk=pk)
            except Exception as exc:  # reported below
                out["err"] = exc
            out["s"] = time.monotonic() - t0

        th = threading.Thread(target=owner)
        th.start()
        end = time.monotonic() + 60
        while _cpu_s(pid) - cpu0 < per_proof / 3 and time.monotonic() < end:
            time.sleep(0.002)
        assert _cpu_s(pid) - cpu0 >= per_proof / 3
        os.kill(pid, signal.SIGSTOP)
        try:
            th.join(120)
            assert not th.is_alive()
        finally:
            os.kill(pid, signal.SIGCONT)
        assert "err" not in out, out.get("err")
        res = out["res"]
        assert verify(pk.vk, public_signals(pk, z), res.proof, be)
        assert set(res.failed) == {4}
        assert out["s"] < 60  # the session timeout would be 600 s
