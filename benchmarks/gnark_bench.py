"""Groth16 prove CPU and wall: omnidsl's native prover against gnark v0.15.0 on the same R1CS.

    python benchmarks/gnark_bench.py [--d 7000] [--reps 5] [--threads 0]

The norm rule (circuits/norm_bound.omni) is compiled at D entries (7,000: 126,096 constraints,
domain 2^17) and written as .r1cs and .wtns; benchmarks/gnark/ (a Go program, module
github.com/consensys/gnark v0.15.0) reads both files, builds exactly those rows in gnark's R1CS
(one constraint.R1C per row), runs gnark's Groth16 setup and a verified warm-up proof, then
proves on request.  Our side: a dev setup, keys loaded, a warm-up proof, then ``prove_plain`` in
this process.  Repetitions alternate (ours, gnark, gnark, ours, …; benchmarks/abpairs.py);
printed: medians of wall and process CPU time (all threads) per side, the ratio of the medians
and every per-pair ratio.  Both provers use every core unless ``--threads`` limits ours
(gnark: GOMAXPROCS, set to the same number).  Needs ``go`` 1.25.7+ (gnark v0.15.0's minimum)
on PATH; without it the benchmark prints a skip line and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from abpairs import Pairs, alternate  # noqa: E402

GNARK_DIR = ROOT / "benchmarks" / "gnark"


def build_gnark(out: Path) -> Path:
    """``go build`` the peer (modules from the Go proxy or the module cache)."""
    exe = out / "gnarkprove"
    proc = subprocess.run(["go", "build", "-o", str(exe), "."], cwd=GNARK_DIR,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"go build of benchmarks/gnark failed:\n{proc.stderr[-2000:]}")
    return exe


class Gnark:
    """The gnark prover process: set up once, then one proof per :meth:`prove`."""

    def __init__(self, exe: Path, r1cs: Path, wtns: Path, threads: int):
        env = dict(os.environ)
        if threads:
            env["GOMAXPROCS"] = str(threads)
        self.proc = subprocess.Popen([str(exe), "-r1cs", str(r1cs), "-wtns", str(wtns)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if not line or line[0] != "ready":
            raise SystemExit("gnark prover failed to start (see its error above)")
        self.constraints = int(line[1])

    def prove(self) -> tuple[float, float]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("prove\n")
        self.proc.stdin.flush()
        r = json.loads(self.proc.stdout.readline())
        return r["wall_s"], r["cpu_s"]

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--d", type=int, default=7000, help="norm_bound entries")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="0 = every core (both sides)")
    args = ap.parse_args()
    if shutil.which("go") is None:
        print("gnark_bench: skipped — `go` is not on PATH (install Go 1.25.7+ to compare with "
              "gnark v0.15.0)")
        return 0
    if args.threads:
        os.environ["RAYON_NUM_THREADS"] = str(args.threads)  # before the pool starts
    import numpy as np

    from omnidsl.backend import get_backend
    from omnidsl.compiler import compile_file
    from omnidsl.field import limbs_to_bytes
    from omnidsl.groth16.prover import prove_plain
    from omnidsl.groth16.setup import dev_setup
    from omnidsl.r1cs.r1csfile import write_r1cs
    from omnidsl.r1cs.wtnsfile import write_wtns

    with tempfile.TemporaryDirectory(prefix="gnark_bench_") as tmp:
        work = Path(tmp)
        t = time.perf_counter()
        exe = build_gnark(work)
        print(f"go build: {time.perf_counter() - t:.1f} s", file=sys.stderr)
        circuit = compile_file(ROOT / "circuits" / "norm_bound.omni", {"D": args.d})
        g = np.random.default_rng(args.d).uniform(-1.0, 1.0, args.d).round(3).tolist()
        w = circuit.witness({"g": g, "max_norm": 1000.0})
        write_r1cs(work / "c.r1cs", circuit.r1cs)
        write_wtns(work / "c.wtns", w)
        be = get_backend()
        pk = dev_setup(circuit.r1cs, be)
        z = limbs_to_bytes(w)
        pk.bases(be)
        prove_plain(pk, z, be)  # warm-up
        print(f"norm_bound D={args.d}: {circuit.r1cs.n_constraints} constraints, domain "
              f"{pk.domain_size}; gnark setup ...", file=sys.stderr, flush=True)
        gn = Gnark(exe, work / "c.r1cs", work / "c.wtns", args.threads)
        if gn.constraints != circuit.r1cs.n_constraints:
            raise SystemExit(f"gnark built {gn.constraints} constraints, ours "
                             f"{circuit.r1cs.n_constraints}")

        def ours() -> tuple[float, float]:
            w0, c0 = time.perf_counter(), time.process_time()
            prove_plain(pk, z, be)
            return time.perf_counter() - w0, time.process_time() - c0

        try:
            a, b = alternate(ours, gn.prove, args.reps)
        finally:
            gn.close()
    wall = Pairs([x[0] for x in a], [x[0] for x in b])
    cpu = Pairs([x[1] for x in a], [x[1] for x in b])
    threads = args.threads or os.cpu_count()
    print(f"\nGroth16 prove, norm_bound D={args.d} ({circuit.r1cs.n_constraints} constraints, "
          f"domain {pk.domain_size}), {threads} thread(s) each, in process with keys loaded")
    print("  CPU : " + cpu.line("omnidsl", "gnark"))
    print("  wall: " + wall.line("omnidsl", "gnark"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
