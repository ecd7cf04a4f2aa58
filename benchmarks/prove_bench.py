"""Groth16 proving: omnidsl vs ``snarkjs groth16 prove`` on the same .r1cs and witness.

    python benchmarks/prove_bench.py [--sizes 12 15 17] [--repeats 3] [--ptau FILE]

For each size the norm_bound rule is compiled with a D giving about 2^k constraints; snarkjs gets
a zkey from ``groth16 setup`` with the prepared test ptau (../shared/ptau/pot17_test.ptau), we use
a dev setup (setup time is not what is measured).  Reported per size: medians of wall-clock time
for ``snarkjs groth16 prove`` and ``omnidsl prove`` (both as fresh processes: start-up, key load,
witness read, proof write), our in-process prove time (keys already loaded), the ratio
snarkjs / omnidsl, and the peak RSS of the ``omnidsl prove`` process.  The snarkjs and
omnidsl repetitions alternate (snarkjs, omnidsl, omnidsl, snarkjs, …; benchmarks/abpairs.py) so
that load drift hits both alike; the per-pair ratios and their median are printed too.  Then
MSM and FFT micro-benchmarks of the native backend against the py-ecc reference.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import charts  # noqa: E402
from abpairs import Pairs, alternate  # noqa: E402

from omnidsl.backend import get_backend  # noqa: E402
from omnidsl.compiler import compile_file  # noqa: E402
from omnidsl.field import limbs_to_bytes  # noqa: E402
from omnidsl.groth16.commands import PK_NAME  # noqa: E402
from omnidsl.groth16.formats import write_vk  # noqa: E402
from omnidsl.groth16.keys import write_proving_key  # noqa: E402
from omnidsl.groth16.prover import prove_plain  # noqa: E402
from omnidsl.groth16.setup import dev_setup  # noqa: E402
from omnidsl.npm import npm_bin  # noqa: E402
from omnidsl.r1cs.r1csfile import write_r1cs  # noqa: E402
from omnidsl.r1cs.wtnsfile import write_wtns  # noqa: E402

#: norm_bound's D for about 2^k constraints (18·D + 96 since the fused |g| <= 4 bound; the
#: domain, constraints + public inputs + 1, must stay ≤ 2^k ≤ 2^17).
D_FOR_POWER = {10: 50, 12: 220, 14: 900, 15: 1810, 16: 3630, 17: 7270}


def run(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Run a process; (wall seconds, peak RSS in MB).  Raises on failure."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    _out, err = proc.communicate()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{err.decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def bench_size(power: int, repeats: int, ptau: Path, work: Path) -> dict[str, float]:
    d = work / f"p{power}"
    d.mkdir()
    snarkjs = str(npm_bin("snarkjs"))
    circuit = compile_file(ROOT / "circuits" / "norm_bound.omni", {"D": D_FOR_POWER[power]})
    r1cs = circuit.r1cs
    rng = np.random.default_rng(power)
    g = rng.uniform(-1.0, 1.0, D_FOR_POWER[power]).round(3).tolist()
    w = circuit.witness({"g": g, "max_norm": 1000.0})
    write_r1cs(d / "c.r1cs", r1cs)
    write_wtns(d / "c.wtns", w)
    backend = get_backend()
    pk = dev_setup(r1cs, backend)
    (d / "keys").mkdir()
    write_proving_key(pk, d / "keys" / PK_NAME)
    write_vk(pk.vk, d / "keys" / "verification_key.json")
    print(f"2^{power}: {r1cs.n_constraints} constraints, domain {pk.domain_size}; "
          "snarkjs groth16 setup ...", flush=True)
    t_setup, _ = run([snarkjs, "groth16", "setup", "c.r1cs", str(ptau), "c.zkey"], d)

    sj, ours = alternate(
        lambda: run([snarkjs, "groth16", "prove", "c.zkey", "c.wtns", "sj_proof.json",
                     "sj_public.json"], d)[0],
        lambda: run([sys.executable, "-m", "omnidsl.cli", "prove", "--keys", "keys",
                     "--witness", "c.wtns", "-o", "proof.json", "--public", "public.json"], d),
        repeats)
    pairs = Pairs(sj, [t for t, _ in ours])
    # our proof must be accepted by snarkjs
    run([snarkjs, "groth16", "verify", "keys/verification_key.json", "public.json",
         "proof.json"], d)
    z = limbs_to_bytes(w)
    pk.bases(backend)
    inproc = []
    for _ in range(repeats):
        t = time.perf_counter()
        prove_plain(pk, z, backend)
        inproc.append(time.perf_counter() - t)
    res = {
        "power": power,
        "constraints": r1cs.n_constraints,
        "snarkjs_setup_s": t_setup,
        "snarkjs_prove_s": statistics.median(sj),
        "omnidsl_prove_cli_s": statistics.median(t for t, _ in ours),
        "omnidsl_prove_inprocess_s": statistics.median(inproc),
        "omnidsl_peak_rss_mb": max(m for _, m in ours),
    }
    res["ratio_cli"] = res["snarkjs_prove_s"] / res["omnidsl_prove_cli_s"]
    res["pair_ratios"] = pairs.ratios
    res["median_pair_ratio"] = pairs.median_ratio
    return res


def micro() -> list[tuple[str, float, float]]:
    """(name, native seconds, reference seconds) for MSM and FFT at reference-friendly sizes."""
    nat, ref = get_backend("native"), get_backend("reference")
    out = []
    n = 256
    scalars = nat.fr_random(n)
    pts = nat.g1_batch_mul(nat.g1_generator(), nat.fr_random(n))
    vec = nat.fr_random(4096)
    for name, fn in (("G1 MSM 2^8", lambda be: be.g1_msm(pts, scalars)),
                     ("FFT 2^12", lambda be: be.fft(vec)),
                     ("coset FFT 2^12", lambda be: be.coset_fft(vec))):
        times, results = [], []
        for be in (nat, ref):
            t = time.perf_counter()
            results.append(fn(be))
            times.append(time.perf_counter() - t)
        if results[0] != results[1]:
            raise RuntimeError(f"{name}: native and reference disagree")
        out.append((name, times[0], times[1]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[12, 15, 17],
                    choices=sorted(D_FOR_POWER))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ptau", type=Path, default=ROOT.parent / "shared" / "ptau" /
                    "pot17_test.ptau")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--no-micro", action="store_true")
    args = ap.parse_args()
    if not args.ptau.exists():
        print(f"error: {args.ptau} not found (see ../shared/ptau/README.md)", file=sys.stderr)
        return 1
    results = []
    with tempfile.TemporaryDirectory(prefix="prove_bench_") as tmp:
        for p in args.sizes:
            results.append(bench_size(p, args.repeats, args.ptau, Path(tmp)))
    print(f"\nGroth16 prove, norm_bound, medians of {args.repeats} (peer: snarkjs 0.7.6)")
    print(f"{'size':>5} {'constraints':>11} {'snarkjs s':>10} {'omnidsl s':>10} "
          f"{'(in-proc) s':>11} {'ratio':>6} {'pair med':>8} {'peak RSS MB':>11}  per-pair ratios")
    for r in results:
        per = " ".join(f"{x:.2f}" for x in r["pair_ratios"])
        print(f"2^{r['power']:<3} {r['constraints']:>11} {r['snarkjs_prove_s']:>10.3f} "
              f"{r['omnidsl_prove_cli_s']:>10.3f} {r['omnidsl_prove_inprocess_s']:>11.3f} "
              f"{r['ratio_cli']:>5.1f}x {r['median_pair_ratio']:>7.1f}x "
              f"{r['omnidsl_peak_rss_mb']:>11.0f}  {per}")
    print("ratio = median snarkjs / median omnidsl (whole processes); pair med = median of the "
          "per-pair ratios snarkjs/omnidsl (repetitions alternate)")
    m = [] if args.no_micro else micro()
    if m:
        print("\nmicro-benchmarks (native vs py-ecc reference)")
        for name, tn, tr in m:
            print(f"  {name:<16} native {tn * 1e3:9.2f} ms   reference {tr * 1e3:10.1f} ms   "
                  f"{tr / tn:8.0f}x")
    if args.json:
        args.json.write_text(json.dumps({"prove": results, "micro": m}, indent=1))
    charts.prove_time_chart(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
