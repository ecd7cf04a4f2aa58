"""MSM and FFT micro-benchmarks: native backend (Rust/arkworks) against the py-ecc reference.

    python benchmarks/backend_bench.py [--reps 3] [--quick]

Prints the median wall time of each operation.  The reference backend is far too slow at the
native sizes, so it runs at small sizes and its time is extrapolated per element (MSM: linear in
n; FFT: proportional to n·log2 n); ratios use those extrapolations and are labelled as such.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from omnidsl.backend import get_backend
from omnidsl.field import R


def median_time(reps: int, fn: Callable[..., object], *args: object) -> float:
    """Median wall time of ``reps`` calls fn(*args) (one untimed warm-up call first)."""
    fn(*args)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def witness_like(n: int) -> bytes:
    """Scalars shaped like a Groth16 witness: ~85% bits, the rest small or full-size."""
    raw = os.urandom(n)
    out = bytearray()
    for i, b in enumerate(raw):
        if b < 218:
            v = b & 1
        elif b < 240:
            v = int.from_bytes(os.urandom(4), "little")
        else:
            v = int.from_bytes(os.urandom(32), "little") % R
        out += (v if i else 1).to_bytes(32, "little")
    return bytes(out)


def _fmt(t: float) -> str:
    return f"{t * 1e3:10.2f} ms" if t < 10 else f"{t:10.2f} s "


def run(reps: int, quick: bool) -> list[tuple[str, float | None, float | None]]:
    """Rows (label, native median or None, reference time (measured or extrapolated) or None)."""
    nat, ref = get_backend("native"), get_backend("reference")
    g1, g2 = nat.g1_generator(), nat.g2_generator()
    if quick:
        g1_sizes, g2_sizes, fft_sizes, ref_msm, ref_fft = [8], [6], [8, 10], (3, 2), 6
    else:
        g1_sizes, g2_sizes, fft_sizes, ref_msm, ref_fft = (
            [12, 15, 17],
            [15, 17],
            [15, 17, 18],
            (6, 4),
            10,
        )
    rows: list[tuple[str, float | None, float | None]] = []

    # reference per-element costs (small sizes)
    n1, n2 = 1 << ref_msm[0], 1 << ref_msm[1]
    b1 = ref.load_g1(nat.g1_batch_mul(g1, nat.fr_random(n1)), unchecked=True)
    b2 = ref.load_g2(nat.g2_batch_mul(g2, nat.fr_random(n2)), unchecked=True)
    s1, s2 = nat.fr_random(n1), nat.fr_random(n2)
    ref_g1_per_pt = median_time(max(1, reps // 2), ref.g1_msm, b1, s1) / n1
    ref_g2_per_pt = median_time(max(1, reps // 2), ref.g2_msm, b2, s2) / n2
    nf = 1 << ref_fft
    vf = nat.fr_random(nf)
    ref_fft_per = median_time(max(1, reps // 2), ref.fft, vf) / (nf * ref_fft)
    rows.append((f"reference G1 MSM 2^{ref_msm[0]} (measured)", None, ref_g1_per_pt * n1))
    rows.append((f"reference G2 MSM 2^{ref_msm[1]} (measured)", None, ref_g2_per_pt * n2))
    rows.append((f"reference FFT 2^{ref_fft} (measured)", None, ref_fft_per * nf * ref_fft))

    for k in g1_sizes:
        n = 1 << k
        bases = nat.load_g1(nat.g1_batch_mul(g1, nat.fr_random(n)), unchecked=True)
        sc = nat.fr_random(n)
        rows.append(
            (
                f"G1 MSM 2^{k} random scalars",
                median_time(reps, nat.g1_msm, bases, sc),
                ref_g1_per_pt * n,
            )
        )
        if k == g1_sizes[-1]:
            wl = witness_like(n)
            rows.append(
                (
                    f"G1 MSM 2^{k} witness-like scalars",
                    median_time(reps, nat.g1_msm, bases, wl),
                    None,
                )
            )
    for k in g2_sizes:
        n = 1 << k
        bases2 = nat.load_g2(nat.g2_batch_mul(g2, nat.fr_random(n)), unchecked=True)
        sc = nat.fr_random(n)
        rows.append(
            (
                f"G2 MSM 2^{k} random scalars",
                median_time(reps, nat.g2_msm, bases2, sc),
                ref_g2_per_pt * n,
            )
        )
        if k == g2_sizes[-1]:
            wl = witness_like(n)
            rows.append(
                (
                    f"G2 MSM 2^{k} witness-like scalars",
                    median_time(reps, nat.g2_msm, bases2, wl),
                    None,
                )
            )
    for k in fft_sizes:
        n = 1 << k
        v = nat.fr_random(n)
        est = ref_fft_per * n * k
        rows.append((f"FFT 2^{k}", median_time(reps, nat.fft, v), est))
        rows.append((f"coset FFT 2^{k}", median_time(reps, nat.coset_fft, v), None))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3, help="timed repetitions per operation")
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    args = ap.parse_args(argv)
    print(
        f"omnidsl backend benchmark: native vs reference (py-ecc), {os.cpu_count()} CPUs, "
        f"median of {args.reps}"
    )
    print("reference times at native sizes are EXTRAPOLATED per element from the measured rows")
    print(
        "load average at start: {:.1f} {:.1f} {:.1f} (wall times inflate on a busy machine)".format(
            *os.getloadavg()
        )
    )
    print(f"{'operation':40s} {'native':>13s} {'reference (extrap.)':>20s} {'speed-up':>10s}")
    for label, t_nat, t_ref in run(args.reps, args.quick):
        nat = _fmt(t_nat) if t_nat is not None else ""
        ref = _fmt(t_ref) if t_ref is not None else ""
        ratio = f"{t_ref / t_nat:9.0f}x" if t_nat and t_ref else ""
        print(f"{label:40s} {nat:>13s} {ref:>20s} {ratio:>10s}")
    print("load average at end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
