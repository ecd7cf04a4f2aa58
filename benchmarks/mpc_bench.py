"""Collaborative (N secret-shared servers over TCP) against plain Groth16 proving of a rule.

    python benchmarks/mpc_bench.py [--sizes 1000,7450] [--parties 2,3,5] [--reps 3]
                                   [--configs split/bounded,servers/uniform] [--threads 1]
                                   [--schemes additive,shamir:1,shamir:2]
                                   [--rule norm_bound|cosine_committed]

The rule is circuits/norm_bound.omni by default; ``--rule cosine_committed`` proves the
FLTrust rule against a committed reference (circuits/cosine_committed.omni) instead.

For each gradient size D, server count N and configuration (witness-MSM mode / masks, see
docs/mpc.md): median wall time of the data owner's whole `prove(..., parties=servers)` (deal + servers +
verification), the median CPU time per server (process CPU of the server during its session, from
the server's report; the max over servers), payload bytes sent per server, and the ratios
CPU/server ÷ plain CPU and bytes ÷ (domain size · 32).  Servers are real processes on 127.0.0.1
(`omnidsl serve`); with fewer cores than servers, wall time includes waiting for a core and CPU
time includes some contention.  "split/bounded" is the default; "servers/uniform" runs
every witness MSM on uniform 254-bit shares (docs/mpc.md, mode servers).  The "owner CPU" column is the
data owner's CPU for the MSMs it deals (mode split).  A per-stage CPU breakdown of the slowest
server of each row follows the table.

Whole system: "system CPU" is everything one collaborative proof costs — the data owner's process
CPU during ``prove(...)`` (dealing, the MSMs it deals, coordination, the final verification)
plus the CPU of every server — and "sys ratio" divides it by the plain prover's CPU with the same
thread count.  The plain and collaborative repetitions of a row alternate (plain, collaborative,
collaborative, plain, …; benchmarks/abpairs.py); the ratios are medians of the per-pair ratios.

Schemes (``--schemes``): ``additive`` runs every ``--configs`` entry; ``shamir:T`` runs the
Shamir scheme with threshold T (only for N ≥ 2T + 1) in mode split with bounded shares
(uniform where the key has no widths).  "sent/server" is what a server sends to the other servers; "material" is what the data owner sends to the (largest-receiving)
server.

Threads: by default every process — the plain prover here and each server — uses ONE worker
thread (``--threads``; 0 = the library default, all cores).  N servers on one 2-core machine with
all cores each would oversubscribe the cores N times, and the worker pool's idle spinning would
then be billed as CPU time; one thread per process makes CPU time the work done, for the plain
baseline and the servers alike.  Both also get the allocator tuning of ``omnidsl serve``
(``procs.tune_allocator``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

def _threads_from_argv(default: int = 1) -> int:
    """--threads, read before the native worker pool starts (it reads RAYON_NUM_THREADS once)."""
    argv = sys.argv[1:]
    for i, a in enumerate(argv):
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
        if a == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
    return default


THREADS = _threads_from_argv()
if THREADS > 0:
    os.environ["RAYON_NUM_THREADS"] = str(THREADS)

import charts  # noqa: E402
from abpairs import alternate  # noqa: E402

from omnidsl.backend import get_backend  # noqa: E402
from omnidsl.groth16.prover import prove_plain  # noqa: E402
from omnidsl.mpc.schemes import SHARE_MODES, WITNESS_MSM_MODES  # noqa: E402
from omnidsl.procs import tune_allocator  # noqa: E402
from omnidsl.proving import prove  # noqa: E402
from tests.mpc.cluster import Cluster, make_keys  # noqa: E402


def gradient(d: int) -> list[float]:
    return [((i * 37) % 200 - 100) / 100.0 for i in range(d)]


def rule_inputs(rule: str, d: int) -> dict:
    """Satisfying inputs of the benchmarked rule at D."""
    g = gradient(d)
    norm = sum(x * x for x in g) ** 0.5
    if rule == "norm_bound":
        return {"g": g, "max_norm": float(int(norm) + 2)}
    if rule == "cosine_committed":  # the reference: g with every 7th entry zeroed
        ref = [0.0 if i % 7 == 0 else x for i, x in enumerate(g)]
        return {"g": g, "ref": ref, "tau": 0.5, "max_norm": float(int(norm) + 2),
                "min_norm": 0.5}
    raise SystemExit(f"--rule: {rule!r} is neither norm_bound nor cosine_committed")


def parse_configs(text: str) -> list[tuple[str, str]]:
    out = []
    for item in text.split(","):
        mode, _, shares = item.partition("/")
        if mode not in WITNESS_MSM_MODES or shares not in SHARE_MODES:
            raise SystemExit(f"--configs: {item!r} is not MODE/SHARES with MODE in "
                             f"{WITNESS_MSM_MODES} and SHARES in {SHARE_MODES}")
        out.append((mode, shares))
    return out


def parse_schemes(text: str) -> list[tuple[str, int]]:
    """``additive,shamir:1`` → [("additive", 0), ("shamir", 1)]."""
    out = []
    for item in text.split(","):
        name, _, t = item.partition(":")
        if name == "additive" and not t:
            out.append((name, 0))
        elif name == "shamir" and t.isdigit() and int(t) >= 1:
            out.append((name, int(t)))
        else:
            raise SystemExit(f"--schemes: {item!r} is neither additive nor shamir:T (T ≥ 1)")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,7450")
    ap.add_argument("--rule", default="norm_bound", help="norm_bound or cosine_committed")
    ap.add_argument("--parties", default="2,3,5")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1,
                    help="worker threads per process (plain and each server); 0 = all cores")
    ap.add_argument("--schemes", default="additive",
                    help="comma-separated: additive, shamir:T (threshold T)")
    ap.add_argument("--configs", default="split/bounded,servers/uniform",
                    help="comma-separated MODE/SHARES pairs (modes: split, servers; shares: "
                         "bounded, uniform)")
    args = ap.parse_args()
    configs = parse_configs(args.configs)
    schemes = parse_schemes(args.schemes)
    tune_allocator()  # as `omnidsl serve` does: the plain baseline gets the same allocator
    be = get_backend()
    sizes = [int(s) for s in args.sizes.split(",")]
    parties = [int(s) for s in args.parties.split(",")]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for d in sizes:
            t = time.perf_counter()
            keydir = Path(tmp) / f"k{d}"
            pk, z, circuit = make_keys(args.rule, {"D": d}, rule_inputs(args.rule, d), keydir,
                                       be)
            print(f"D={d}: {circuit.r1cs.n_constraints} constraints, domain {pk.domain_size}, "
                  f"setup {time.perf_counter() - t:.1f} s", file=sys.stderr)
            prove_plain(pk, z, be)  # warm-up (loads the bases)

            def plain_once(pk=pk, z=z) -> tuple[float, float]:
                w0, c0 = time.perf_counter(), time.process_time()
                prove_plain(pk, z, be)
                return time.perf_counter() - w0, time.process_time() - c0

            plain = [plain_once() for _ in range(args.reps)]
            plain_cpu = statistics.median(c for _, c in plain)
            rows.append({"d": d, "n": 1, "config": "plain", "domain": pk.domain_size,
                         "wall": statistics.median(w for w, _ in plain), "cpu": plain_cpu,
                         "sent": 0, "ratio": 1.0, "per": 0.0, "deal": 0.0, "owner": 0.0,
                         "material": 0, "stages": {}, "system": plain_cpu, "sys_ratio": 1.0,
                         "do_cpu": plain_cpu})
            for n in parties:
                for scheme, t in schemes:
                    if scheme == "shamir" and 2 * t + 1 > n:
                        continue
                    params = {"threshold": t} if scheme == "shamir" else None
                    runs = configs if scheme == "additive" else [("split", "bounded")]
                    with Cluster(Path(tmp) / f"c{d}_{n}_{scheme}{t}", n, {"nb": keydir},
                                 timeout=120, threads=args.threads or os.cpu_count(),
                                 scheme=scheme, scheme_params=params) as cl:
                        cl.start_all()
                        for mode, shares in runs:
                            row = run_config(cl, keydir, pk, z, be, mode, shares, args.reps,
                                             plain_once)
                            label = f"{mode}/{shares}" if scheme == "additive" \
                                else f"shamir t={t}"
                            row.update(d=d, n=n, config=label, domain=pk.domain_size)
                            rows.append(row)
    print(f"threads per process (plain prover, data owner, each server): "
          f"{args.threads or os.cpu_count()}")
    print(f"{'D':>6} {'N':>3} {'config':>15} {'domain':>7} {'wall s':>8} {'CPU/server s':>13} "
          f"{'sent/server':>12} {'CPU ratio':>10} {'sent/(n·32)':>12} {'material':>10} "
          f"{'deal s':>7} {'owner CPU s':>12} {'DO CPU s':>9} {'system CPU s':>13} "
          f"{'sys ratio':>10}")
    for r in rows:
        label = "-" if r["n"] == 1 else str(r["n"])
        print(f"{r['d']:>6} {label:>3} {r['config']:>15} {r['domain']:>7} {r['wall']:>8.3f} "
              f"{r['cpu']:>13.3f} {r['sent'] / 1e6:>10.3f}MB {r['ratio']:>9.2f}x "
              f"{r['per']:>12.2f} {r['material'] / 1e6:>8.2f}MB {r['deal']:>7.3f} "
              f"{r['owner']:>12.3f} {r['do_cpu']:>9.3f} {r['system']:>13.3f} "
              f"{r['sys_ratio']:>9.2f}x")
    print("system CPU = the data owner's process CPU during prove() (DO CPU: dealing, dealt "
          "MSMs, coordination, verification) + every server's CPU; sys ratio = system CPU / "
          "plain CPU (median of alternating pairs).")
    print("CPU ratio = max CPU of one server / plain prover CPU (target ≤ 1.3); sent/(n·32) = "
          "payload bytes a server sends per domain element (O(domain): 2 for N = 2, "
          "4(N−1)/N with sliced openings for N ≥ 3); owner CPU = the data owner's CPU for the "
          "MSMs it deals (mode split).")
    print("\nCPU per stage of the slowest server (s):")
    for r in rows:
        if r["stages"]:
            parts = ", ".join(f"{k} {v:.3f}" for k, v in r["stages"].items())
            print(f"D={r['d']} N={r['n']} {r['config']}: {parts}")
    charts.collaborative_cost_chart(rows)
    return 0


def run_config(cl, keydir: Path, pk, z: bytes, be, mode: str, shares: str, reps: int,
               plain_once) -> dict:
    """Warm-up + ``reps`` proofs in one configuration, alternating with ``reps`` plain proofs
    (``plain_once() -> (wall, cpu)``); the row's measured columns."""
    def once():
        c0 = time.process_time()
        res = prove(pk, z, parties=cl.cfg, pk_path=keydir / "proving_key.bin", backend=be,
                    witness_msm=mode, shares=shares)
        return res, time.process_time() - c0

    once()
    runs, plains = alternate(once, plain_once, reps)
    walls, cpu_max, sent, deals, owner, stages, material = [], [], [], [], [], [], []
    do_cpu, system = [], []
    for res, dcpu in runs:
        do_cpu.append(dcpu)
        system.append(dcpu + sum(r.cpu_s for r in res.reports))
        walls.append(res.wall_s)
        deals.append(res.deal_s)
        owner.append(res.dealer_msm_cpu_s)
        worst = max(res.reports, key=lambda r: r.cpu_s)
        cpu_max.append(worst.cpu_s)
        stages.append(worst.stage_cpu)
        sent.append(max(r.wire_bytes_sent for r in res.reports))
        material.append(max(r.material_bytes for r in res.reports))
    median_rep = sorted(range(reps), key=lambda k: cpu_max[k])[reps // 2]
    pcpu = [c for _, c in plains]
    return {"wall": statistics.median(walls), "cpu": statistics.median(cpu_max),
            "ratio": statistics.median(c / p for c, p in zip(cpu_max, pcpu, strict=True)),
            "do_cpu": statistics.median(do_cpu), "system": statistics.median(system),
            "sys_ratio": statistics.median(s / p for s, p in zip(system, pcpu, strict=True)),
            "sent": max(sent), "per": max(sent) / (pk.domain_size * 32),
            "deal": statistics.median(deals), "owner": statistics.median(owner),
            "material": max(material),
            "stages": stages[median_rep]}


if __name__ == "__main__":
    sys.exit(main())
