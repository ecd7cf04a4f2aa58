"""Compile + witness benchmark of circuits/norm_bound.omni against circom2 (constraint counts).

    python benchmarks/compile_bench.py [--sizes 1000,7450,65536] [--circom-timeout 300]
    python benchmarks/compile_bench.py --rules [--rule-sizes 64,256]

``--rules``: every shipped rule (circuits/*.omni) against its hand-written circom peer
(benchmarks/circom/, benchmarks/circom_peers.py) compiled by circom2 --O2: constraints at each
size, the ratio ours/circom, and the per-entry constraints (difference between the two sizes)
with their ratio.

For every D: wall time of compile (-O2) and of witness generation (median of 3 fresh
subprocesses for D < 65536, one run otherwise), peak RSS of that subprocess (getrusage), the
constraint count, and the constraint count of the equivalent circom circuit
(benchmarks/circom/norm_bound.circom) compiled by circom2 at --O2, with the ratio ours/circom.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULE = ROOT / "circuits" / "norm_bound.omni"
CIRCOM_SRC = ROOT / "benchmarks" / "circom" / "norm_bound.circom"


def worker(d: int) -> None:
    """One measured run in this (fresh) process; prints a JSON line."""
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from omnidsl.compiler.circuit import compile_file

    t0 = time.perf_counter()
    c = compile_file(RULE, {"D": d}, 2)
    t1 = time.perf_counter()
    g = np.random.default_rng(d).uniform(-0.05, 0.05, d).round(4).tolist()
    wit = c.witness({"g": g, "max_norm": 1000.0})
    t2 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"compile": t1 - t0, "witness": t2 - t1, "rss_mb": rss / 1024,
                      "constraints": c.r1cs.n_constraints, "o0": c.n_constraints_o0,
                      "wires": c.r1cs.n_wires, "n_witness": int(wit.shape[0])}))


def measure(d: int, runs: int) -> dict:
    results = []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, __file__, "--worker", str(d)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"worker D={d} failed:\n{proc.stderr[-2000:]}")
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    out = dict(results[0])
    for key in ("compile", "witness", "rss_mb"):
        out[key] = statistics.median(r[key] for r in results)
    out["runs"] = runs
    return out


def circom_constraints(d: int, timeout: float) -> tuple[int | None, float, str]:
    """(constraints, seconds, note) of the circom version at D, compiled by circom2 --O2."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from circom_peers import PEERS, peer_constraints

    return peer_constraints(next(p for p in PEERS if p.rule == "norm_bound"), d, timeout)


def rules_table(sizes: list[int], timeout: float) -> None:
    """Per-rule constraints, omnidsl -O2 against the hand-written circom peer (circom2 --O2)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    sys.path.insert(0, str(ROOT))
    from circom_peers import PEERS, peer_constraints

    from omnidsl.compiler.circuit import compile_file

    d1, d2 = sizes[0], sizes[-1]
    print("\nshipped rules: omnidsl -O2 vs hand-written circom (benchmarks/circom/, circom2 --O2)")
    head = (f"{'rule':<17} {'D':>5} {'omnidsl':>8} {'circom':>8} {'ratio':>6}   "
            f"{'per entry':>9} {'circom':>7} {'ratio':>6}")
    print(head)
    print("-" * len(head))
    worst = 0.0
    for peer in PEERS:
        ours = {d: compile_file(ROOT / "circuits" / f"{peer.rule}.omni", {"D": d}, 2
                                ).r1cs.n_constraints for d in sizes}
        theirs = {d: peer_constraints(peer, d, timeout) for d in sizes}
        for j, d in enumerate(sizes):
            c, _, note = theirs[d]
            ratio = f"{ours[d] / c:.3f}" if c else "n/a"
            tail = ""
            if j == len(sizes) - 1 and len(sizes) > 1:
                c1, c2 = theirs[d1][0], theirs[d2][0]
                po = (ours[d2] - ours[d1]) / (d2 - d1)
                if c1 and c2:
                    pc = (c2 - c1) / (d2 - d1)
                    tail = f"   {po:>9.2f} {pc:>7.2f} {po / pc:>6.3f}"
                    worst = max(worst, ours[d] / c if c else 0.0, po / pc)
            print(f"{peer.rule if j == 0 else '':<17} {d:>5} {ours[d]:>8} "
                  f"{c if c else '-':>8} {ratio:>6}{tail}{'  ' + note if note else ''}")
    print(f"worst ratio ours/circom: {worst:.3f} (target <= 1.05)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", action="store_true",
                    help="every shipped rule against its hand-written circom peer")
    ap.add_argument("--rule-sizes", default="64,256")
    ap.add_argument("--sizes", default="1000,7450,65536")
    ap.add_argument("--circom-timeout", type=float, default=300.0)
    ap.add_argument("--no-circom", action="store_true")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker is not None:
        worker(args.worker)
        return
    if args.rules:
        rules_table([int(x) for x in args.rule_sizes.split(",")], args.circom_timeout)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for d in sizes:
        ours = measure(d, 1 if d >= 65536 else 3)
        circ, ct, note = (None, 0.0, "skipped") if args.no_circom else circom_constraints(
            d, args.circom_timeout)
        rows.append((d, ours, circ, ct, note))
        print(f"  measured D={d}", file=sys.stderr, flush=True)

    print("\nnorm_bound.omni: compile (-O2) + witness; circom2 --O2 of "
          "benchmarks/circom/norm_bound.circom")
    head = (f"{'D':>7} {'runs':>4} {'compile s':>9} {'witness s':>9} {'total s':>8} "
            f"{'peak MB':>8} {'constraints':>11} {'(-O0)':>9} {'circom':>9} "
            f"{'circom s':>8} {'ours/circom':>11}")
    print(head)
    print("-" * len(head))
    notes = []
    for d, o, circ, ct, note in rows:
        ratio = f"{o['constraints'] / circ:.3f}" if circ else "n/a"
        print(f"{d:>7} {o['runs']:>4} {o['compile']:>9.2f} {o['witness']:>9.2f} "
              f"{o['compile'] + o['witness']:>8.2f} {o['rss_mb']:>8.0f} {o['constraints']:>11} "
              f"{o['o0']:>9} {circ if circ else '-':>9} {ct:>8.1f} {ratio:>11}")
        if note:
            notes.append(f"D={d}: {note}")
    done = [(d, c) for d, _, c, _, _ in rows if c]
    for line in notes:
        print("note:", line)
    if notes and len(done) >= 2:
        (d1, c1), (d2, c2) = done[0], done[-1]
        per = (c2 - c1) / (d2 - d1)
        print(f"note: circom grows by {per:.2f} constraints per entry between D={d1} and D={d2}")
        for d, o, circ, _, _ in rows:
            if not circ:
                est = round(c1 + per * (d - d1))
                print(f"note: D={d}: circom extrapolated (linear, not measured) = {est}; "
                      f"ours/extrapolated = {o['constraints'] / est:.3f}")
    print("times are wall-clock medians (one run at D >= 65536); peak MB is the max RSS of the "
          "measuring subprocess (compile + witness).")


if __name__ == "__main__":
    main()
