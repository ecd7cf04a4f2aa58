"""Throughput: one cluster of N servers proving for many data owners in a round.

    python benchmarks/throughput_bench.py [--dos 32] [--concurrency 1,2,4] [--d 1000]
                                          [--parties 3] [--threads 1]

The norm rule (circuits/norm_bound.omni) at D entries; ``--dos`` data owners, each with its own
gradient, prove through the same N ``omnidsl serve`` processes (127.0.0.1, ``--threads`` worker
threads each, ``max_sessions`` = the largest concurrency).  For each concurrency C the data
owners are run C at a time (threads of this process, each calling ``omnidsl.proving.prove``:
deal, drive the servers, verify) until all are served.  Reported per C: the round's wall time,
proofs per minute, the median proof's wall time, CPU per proof of all servers together (from
/proc, the servers' user + system time over the round, divided by the proofs) and of the data
owners (this process), and both against C = 1 (one session at a time: the single-session cost).
With C sessions at once a server's per-session ``cpu_s`` report counts every session's CPU of
that process, so it is not used here.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _threads_from_argv(default: int = 1) -> int:
    argv = sys.argv[1:]
    for i, a in enumerate(argv):
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
        if a == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
    return default


THREADS = _threads_from_argv()
if THREADS > 0:  # the data owners' process too (read once, when the native pool starts)
    os.environ["RAYON_NUM_THREADS"] = str(THREADS)

from omnidsl.backend import get_backend  # noqa: E402
from omnidsl.compiler import compile_file  # noqa: E402
from omnidsl.field import limbs_to_bytes  # noqa: E402
from omnidsl.groth16.formats import write_vk  # noqa: E402
from omnidsl.groth16.keys import write_proving_key  # noqa: E402
from omnidsl.groth16.setup import dev_setup  # noqa: E402
from omnidsl.groth16.verifier import verify  # noqa: E402
from omnidsl.mpc.cluster import ServerCluster  # noqa: E402
from omnidsl.mpc.config import Limits  # noqa: E402
from omnidsl.proving import prove  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def gradients(n: int, d: int) -> list[list[float]]:
    """n different gradients of d entries (|g[i]| < 1)."""
    return [[(((i + 13 * k) * 37) % 200 - 100) / 100.0 for i in range(d)] for k in range(n)]


def round_of(cl: ServerCluster, pk, key: Path, witnesses: list[bytes], c: int, be) -> dict:
    """Prove every witness, ``c`` sessions at a time; the round's figures."""
    def one(z: bytes) -> float:
        t = time.perf_counter()
        res = prove(pk, z, parties=cl.cfg, pk_path=key, backend=be)
        if not verify(pk.vk, res.public, res.proof, be):
            raise RuntimeError("a proof of the round does not verify")
        return time.perf_counter() - t

    s0 = sum(proc_cpu(p) for p in cl.pids())
    o0 = time.process_time()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(c) as pool:
        walls = list(pool.map(one, witnesses))
    wall = time.perf_counter() - t0
    n = len(witnesses)
    return {"c": c, "wall": wall, "per_min": 60 * n / wall, "median": statistics.median(walls),
            "server_cpu": (sum(proc_cpu(p) for p in cl.pids()) - s0) / n,
            "owner_cpu": (time.process_time() - o0) / n}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dos", type=int, default=32, help="data owners in the round")
    ap.add_argument("--concurrency", default="1,2,4", help="sessions at once (comma-separated)")
    ap.add_argument("--d", type=int, default=1000, help="gradient entries")
    ap.add_argument("--parties", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1,
                    help="worker threads per server and for the data owners; 0 = all cores")
    args = ap.parse_args()
    levels = [int(x) for x in args.concurrency.split(",")]
    be = get_backend()
    circuit = compile_file(ROOT / "circuits" / "norm_bound.omni", {"D": args.d})
    pk = dev_setup(circuit.r1cs, be)
    witnesses = [limbs_to_bytes(circuit.witness({"g": g, "max_norm": float(args.d)}))
                 for g in gradients(args.dos, args.d)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        keys = Path(tmp) / "keys"
        keys.mkdir()
        write_proving_key(pk, keys / "proving_key.bin")
        write_vk(pk.vk, keys / "verification_key.json")
        limits = Limits(max_sessions=max(levels))
        with ServerCluster(Path(tmp) / "cluster", args.parties, {"nb": keys}, timeout=300,
                           threads=args.threads or os.cpu_count(), limits=limits) as cl:
            prove(pk, witnesses[0], parties=cl.cfg, pk_path=keys / "proving_key.bin",
                  backend=be)  # warm-up
            for c in levels:
                rows.append(round_of(cl, pk, keys / "proving_key.bin", witnesses, c, be))
                print(f"C={c}: {rows[-1]['wall']:.1f} s", file=sys.stderr, flush=True)
    base = rows[0]
    print(f"\nnorm_bound D={args.d}: {circuit.r1cs.n_constraints} constraints, domain "
          f"{pk.domain_size}; {args.dos} data owners, {args.parties} servers, "
          f"{args.threads or 'all'} thread(s) per process, load {os.getloadavg()[0]:.2f}")
    print(f"{'C':>3} {'round s':>8} {'proofs/min':>11} {'median proof s':>15} "
          f"{'servers CPU/proof s':>20} {'owner CPU/proof s':>18} {'speed-up':>9} "
          f"{'CPU/proof ratio':>16}")
    for r in rows:
        ratio = (r["server_cpu"] + r["owner_cpu"]) / (base["server_cpu"] + base["owner_cpu"])
        print(f"{r['c']:>3} {r['wall']:>8.1f} {r['per_min']:>11.1f} {r['median']:>15.2f} "
              f"{r['server_cpu']:>20.2f} {r['owner_cpu']:>18.2f} "
              f"{r['per_min'] / base['per_min']:>8.2f}x {ratio:>15.2f}x")
    print(f"speed-up = proofs/min against C = {base['c']} (one session at a time); CPU/proof "
          "ratio = (servers + owner) CPU per proof against it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
