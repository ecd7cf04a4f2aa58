"""What attribution (docs/mpc.md, Attribution) costs, on norm_bound.

    python benchmarks/attribution_bench.py [--sizes 1000,7450] [--parties 3] [--reps 3]

Success path, per server: the SHA-256 of every payload it sends and receives (``DigestNetwork``),
timed on exactly the bytes a server hashes in a session, against the plain prover's CPU (a lower
bound on a server's CPU, so the ratio is an upper bound); the digest report it adds to its reply.
Data owner: the constraint check of the witness (``check_satisfied``) before dealing.
Failure path (only then): the data owner's in-process re-run, timed by ``attribute`` on the
replies of an in-process session (LocalHub threads, one worker thread per party as the servers
use) — when server 1 corrupts its mul_vec share (the re-run stops at the deciding step), and when
nobody deviated but the proof fails (the owner's verification key is another setup's: a full
re-run of all N parties and a verification) — plus re-reading the proving key file.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from omnidsl.backend import get_backend
from omnidsl.groth16.keys import read_proving_key
from omnidsl.groth16.points import g1_to_bytes, g2_to_bytes
from omnidsl.groth16.prover import check_satisfied, dealt_msms, prove, prove_plain, public_signals
from omnidsl.groth16.setup import dev_setup
from omnidsl.mpc.attribution import DigestNetwork, attribute
from omnidsl.mpc.network import LocalHub
from omnidsl.mpc.schemes.additive import AdditiveDriver
from omnidsl.mpc.schemes.additive.dealer import deal, share_dealt_msms
from omnidsl.mpc.schemes.additive.material import expand_material, new_session_id
from tests.mpc.cluster import make_keys
from tests.mpc.faults import CorruptingDriver


def gradient(d: int) -> list[float]:
    return [((i * 37) % 200 - 100) / 100.0 for i in range(d)]


def session(be, pk, mats, corrupt=()):
    """N parties as threads, replying like ``omnidsl serve``; returns (replies, traffic)."""
    n = len(mats)
    hub = LocalHub(n, timeout=600)
    replies, traffic = [None] * n, [0] * n

    def party(i):
        net = DigestNetwork(hub.network(i))
        d = AdditiveDriver(i, n, net, expand_material(mats[i], pk.r1cs.wire_bits), be)
        if i in corrupt:
            d = CorruptingDriver(d)
        p = prove(pk, d, be)
        replies[i] = {"ok": True, "a": g1_to_bytes(p.a), "b": g2_to_bytes(p.b),
                      "c": g1_to_bytes(p.c), "transcript": net.encode()}
        traffic[i] = net.inner.stats.bytes_sent + net.inner.stats.bytes_received

    ts = [threading.Thread(target=party, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return replies, traffic


def timed(fn, reps: int) -> float:
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,7450")
    ap.add_argument("--parties", default="3")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    be = get_backend()
    print("| D | N | domain | plain CPU | hashed/server | SHA-256/server | ratio | report | "
          "owner check | re-run (server 1 corrupt) | re-run (nobody deviated) | key read |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for d in (int(s) for s in args.sizes.split(",")):
            g = gradient(d)
            max_norm = float(int(sum(x * x for x in g) ** 0.5) + 2)
            keydir = Path(tmp) / f"k{d}"
            pk, z, _ = make_keys("norm_bound", {"D": d}, {"g": g, "max_norm": max_norm},
                                 keydir, be)
            prove_plain(pk, z, be)  # warm-up
            cpus = []
            for _ in range(args.reps):
                c0 = time.process_time()
                prove_plain(pk, z, be)
                cpus.append(time.process_time() - c0)
            plain = statistics.median(cpus)
            check = timed(lambda: check_satisfied(pk, z, be), args.reps)  # noqa: B023
            key_read = timed(lambda: read_proving_key(keydir / "proving_key.bin"), 1)  # noqa
            public = public_signals(pk, z)
            for n in (int(s) for s in args.parties.split(",")):
                mats = deal(be, z, pk.n_public + 1, pk.domain_size, n, new_session_id(),
                            wire_bits=pk.r1cs.wire_bits)
                pts = share_dealt_msms(be, dealt_msms(pk, z, be), n)
                mats = [dataclasses.replace(m, witness_msm=p) for m, p in zip(mats, pts,
                                                                               strict=True)]
                honest, traffic = session(be, pk, mats)
                hashed = max(traffic)
                blob = bytes(hashed)
                sha = timed(lambda: hashlib.sha256(blob).digest(), args.reps)  # noqa: B023
                report = max(len(r["transcript"]) for r in honest)
                bad, _ = session(be, pk, mats, corrupt={1})
                v = attribute(pk, mats, bad, be, public)
                assert v.named == [1], v.message()
                rerun_bad = timed(lambda: attribute(pk, mats, bad, be, public),  # noqa: B023
                                  args.reps)
                other = dataclasses.replace(pk, vk=dev_setup(pk.r1cs, be).vk).vk
                v = attribute(pk, mats, honest, be, public, vk=other)
                assert v.named == [] and v.honest_proof_verifies is False
                rerun_full = timed(lambda: attribute(pk, mats, honest, be, public,  # noqa
                                                     vk=other), args.reps)  # noqa: B023
                print(f"| {d:,} | {n} | {pk.domain_size:,} | {plain:.2f} s | "
                      f"{hashed / 1e6:.1f} MB | {sha * 1e3:.1f} ms | "
                      f"{100 * sha / plain:.2f}% | {report} B | {check * 1e3:.0f} ms | "
                      f"{rerun_bad:.2f} s | {rerun_full:.2f} s | {key_read:.2f} s |",
                      flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
