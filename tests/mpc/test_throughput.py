"""One cluster serving many data owners at once (issue 14, item 4; benchmarks/throughput_bench.py).

Eight data owners, each with its own gradient, start their sessions together on the same three
`omnidsl serve` processes (``max_sessions = 8``, more than asyncio's default thread pool has on a
small machine): every session completes with a verifying proof of its own witness.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from omnidsl.field import limbs_to_bytes
from omnidsl.groth16.prover import public_signals
from omnidsl.groth16.verifier import verify
from omnidsl.mpc.config import Limits, cached_file_digest, file_digest
from tests.mpc.cluster import Cluster
from tests.mpc.helpers import prove_shared

pytestmark = pytest.mark.slow

SESSIONS = 8


def test_eight_concurrent_sessions_all_verify(tmp_path, nb, be):
    witnesses = [limbs_to_bytes(nb.circuit.witness(
        {"g": [((i + k) % 9 - 4) / 4 for i in range(8)], "max_norm": 6.0}))
        for k in range(SESSIONS)]
    assert len(set(witnesses)) == SESSIONS
    key = nb.keys / "proving_key.bin"
    spans: list[tuple[float, float]] = []
    start = threading.Barrier(SESSIONS)

    def one(z: bytes):
        start.wait()
        t0 = time.monotonic()
        res = prove_shared(cl.cfg, key, z, be, pk=nb.pk)
        spans.append((t0, time.monotonic()))
        return res

    with Cluster(tmp_path, 3, {"nb": nb.keys}, timeout=60, threads=1,
                 limits=Limits(max_sessions=SESSIONS)).start_all() as cl:
        with ThreadPoolExecutor(SESSIONS) as pool:
            results = list(pool.map(one, witnesses))
        assert cl.alive() == [0, 1, 2]
    for z, res in zip(witnesses, results, strict=True):
        assert res.public == public_signals(nb.pk, z)
        assert verify(nb.pk.vk, res.public, res.proof, be)
        assert res.failed == {}
    assert len({(r.proof.a, r.proof.c) for r in results}) == SESSIONS
    # the sessions did run at the same time: some instant lies inside every session
    assert max(a for a, _ in spans) < min(b for _, b in spans)


def test_cached_digest_is_the_file_digest_and_follows_changes(tmp_path):
    f = tmp_path / "k.bin"
    f.write_bytes(b"a" * 5000)
    assert cached_file_digest(f) == file_digest(f)
    f.write_bytes(b"b" * 5001)  # another size (and mtime): hashed again
    assert cached_file_digest(f) == file_digest(f)


def test_servers_load_their_keys_before_listening(tmp_path, nb, be):
    """A multi-GB key read at its first session would overrun assemble_timeout: servers hash and
    load every configured key before they report ready; an unreadable key is skipped."""
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "proving_key.bin").write_bytes(b"not a key")
    with Cluster(tmp_path / "c", 2, {"nb": nb.keys, "bad": bad}, timeout=30,
                 threads=1).start_all() as cl:
        for i in range(2):
            logs = "\n".join(cl.log_tail(i, 50))
            assert "circuit nb: proving key loaded" in logs
            assert "circuit bad: proving key not loaded" in logs
        res = prove_shared(cl.cfg, nb.keys / "proving_key.bin", nb.z, be, pk=nb.pk)
        assert verify(nb.pk.vk, res.public, res.proof, be)
