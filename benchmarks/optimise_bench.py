"""The linear optimiser: time against D (log-log slope), -O1 against -O2, and every shipped rule
compiled + witnessed at D = 65,536.

    python benchmarks/optimise_bench.py [--sizes 1000,2000,4000,8000,16000,32000,65536]
                                        [--repeats 3] [--baseline REV] [--baseline-max 4000]
                                        [--no-rules] [--rules-d 65536] [--quick]

Sweep: the rule below compares every entry against a public input (the shape that made the old
-O2 quadratic).  For each D and repetition one fresh process per level runs, -O1 and -O2
alternating (O1, O2, O2, O1, ...), so load drift hits both alike.  Each process lowers the rule to
-O0 (untimed) and times ``optimise_full`` alone (CPU and wall) and records its work counter
(terms gathered, scanned or written).  Printed: medians per D, the per-pair ratio O2/O1, and the
least-squares slope of log(time) against log(D) over the sizes >= 4000 (1 = linear, 2 =
quadratic).  ``--baseline REV`` also times the optimiser of git revision REV (e.g. 1327e6d~1,
the quadratic one) on the sizes up to ``--baseline-max``.

Then (unless ``--no-rules``) every rule in circuits/ plus the rule of docs/dsl.md and the
market's rule, compiled (-O2) and witnessed at D = 65,536 in a fresh process each: wall and CPU
seconds and peak RSS (targets: <= 10 s, <= 2 GB).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SWEEP_RULE = """rule Thresh(D = 1000) {
    private g: fixed[D] bits 16 frac 12;
    public  thresh: fixed bits 16 frac 12;
    let n = sum(1 if abs(g[i]) > thresh else 0 for i in 0..D);
    assert n <= D / 2, "too many large entries";
}
"""


# ------------------------------------------------------------------ workers (fresh processes)
def sweep_worker(d: int, level: int, baseline: str | None) -> dict:
    from omnidsl.compiler.circuit import compile_rule

    if baseline:
        import importlib.util

        spec = importlib.util.spec_from_file_location("baseline_optimise", baseline)
        mod = importlib.util.module_from_spec(spec)
        sys.modules["baseline_optimise"] = mod
        spec.loader.exec_module(mod)
        run = mod.optimise_full
    else:
        from omnidsl.compiler.optimise import optimise_full as run
    r1cs = compile_rule(SWEEP_RULE, "thresh.omni", {"D": d}, 0).r1cs
    m0 = r1cs.n_constraints
    t0, c0 = time.perf_counter(), time.process_time()
    res = run(r1cs, level)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"wall": wall, "cpu": cpu, "o0": m0, "constraints": res.r1cs.n_constraints,
            "rounds": len(res.rounds), "work": getattr(res, "work", 0)}


def rule_sources() -> dict[str, tuple[str, str]]:
    """name -> (source, file) of every shipped or documented rule."""
    from omnidsl.market.dsl_rule import SOURCE as MARKET

    out = {p.stem: (p.read_text(encoding="utf-8"), str(p))
           for p in sorted((ROOT / "circuits").glob("*.omni"))}
    doc = (ROOT / "docs" / "dsl.md").read_text(encoding="utf-8")
    for k, block in enumerate(re.findall(r"```\n(.*?)```", doc, re.S)):
        if re.search(r"^rule \w+\(D = \d+\)", block, re.M) and "assert" in block:
            out[f"docs/dsl.md#{k}"] = (block, "dsl.md")
    out["market_norm"] = (MARKET, "market_norm.omni")
    return out


def find_scalars(source: str, file: str) -> dict:
    """Inputs that satisfy the rule at D = 16: vectors of small positive values, scalars tried
    at a few values (as tests/interop does); the scalar choices carry over to any D."""
    import itertools

    from omnidsl.compiler.circuit import compile_rule
    from omnidsl.errors import AssertionFailed

    c = compile_rule(source, file, {"D": 16}, 0)
    fixed, scalars = {}, []
    for lay in c.inputs:
        if lay.length is not None:
            continue
        if lay.info.base == "field":
            fixed[lay.name] = str(1234567 + len(fixed))
        elif lay.visibility == "private":
            fixed[lay.name] = 0.1
        else:
            step = 1.0 / (1 << lay.frac)
            scalars.append((lay.name, (lay.info.hi * step / 2, lay.info.hi * step, step, 0.0)))
    for choice in itertools.product(range(4), repeat=len(scalars)):
        pick = dict(fixed, **{n: vals[k] for (n, vals), k in zip(scalars, choice, strict=True)})
        try:
            c.witness({**pick, **vectors(c, 16)})
        except AssertionFailed:
            continue
        return pick
    raise SystemExit(f"{file}: no satisfying inputs found")


def vectors(c, d: int) -> dict:
    import numpy as np

    rng = np.random.default_rng(d)
    return {lay.name: rng.uniform(0.001, 0.01, lay.length).round(4)
            for lay in c.inputs if lay.length is not None}


def rule_worker(name: str, d: int) -> dict:
    from omnidsl.compiler.circuit import compile_rule

    source, file = rule_sources()[name]
    scalars = find_scalars(source, file)
    t0, c0 = time.perf_counter(), time.process_time()
    c = compile_rule(source, file, {"D": d}, 2)
    t1 = time.perf_counter()
    c.witness({**scalars, **vectors(c, d)})
    t2, c2 = time.perf_counter(), time.process_time()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"compile": t1 - t0, "witness": t2 - t1, "wall": t2 - t0, "cpu": c2 - c0,
            "rss_mb": rss, "constraints": c.r1cs.n_constraints, "o0": c.n_constraints_o0}


def spawn(*argv: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--worker", *argv], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise SystemExit(f"worker {argv} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ reporting
def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log(y) against log(x)."""
    lx, ly = [math.log(x) for x in xs], [math.log(max(y, 1e-9)) for y in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sum(
        (a - mx) ** 2 for a in lx)


def sweep(sizes: list[int], repeats: int, baseline: str | None, baseline_max: int) -> None:
    runs: dict[tuple[int, int, str], list[dict]] = {}
    pair_ratio: dict[int, list[float]] = {}
    for d in sizes:
        for rep in range(repeats):
            order = (1, 2) if rep % 2 == 0 else (2, 1)
            got = {lvl: spawn("sweep", str(d), str(lvl)) for lvl in order}
            for lvl in order:
                runs.setdefault((d, lvl, "new"), []).append(got[lvl])
            pair_ratio.setdefault(d, []).append(got[2]["cpu"] / max(got[1]["cpu"], 1e-9))
            if baseline and d <= baseline_max:
                runs.setdefault((d, 2, "old"), []).append(spawn("sweep", str(d), "2", baseline))
        print(f"  measured D={d}", file=sys.stderr, flush=True)

    def med(d: int, lvl: int, impl: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[(d, lvl, impl)])

    print(f"\noptimiser sweep: {SWEEP_RULE.splitlines()[3].strip()}  (thresh public)")
    print(f"medians of {repeats} fresh processes per point; -O1/-O2 alternate within each pair")
    head = (f"{'D':>6} {'-O0 rows':>9} {'-O1 rows':>9} {'-O2 rows':>9} {'O1 cpu s':>9} "
            f"{'O2 cpu s':>9} {'O2 wall s':>9} {'O2/O1':>6} {'rounds':>6} {'O2 work':>11}"
            + (f" {'old O2 s':>9} {'old/new':>7}" if baseline else ""))
    print(head)
    print("-" * len(head))
    for d in sizes:
        one, two = runs[(d, 1, "new")][0], runs[(d, 2, "new")][0]
        line = (f"{d:>6} {two['o0']:>9} {one['constraints']:>9} {two['constraints']:>9} "
                f"{med(d, 1, 'new', 'cpu'):>9.3f} {med(d, 2, 'new', 'cpu'):>9.3f} "
                f"{med(d, 2, 'new', 'wall'):>9.3f} {statistics.median(pair_ratio[d]):>6.2f} "
                f"{two['rounds']:>6} {two['work']:>11}")
        if baseline:
            if (d, 2, "old") in runs:
                old = med(d, 2, "old", "cpu")
                line += f" {old:>9.3f} {old / med(d, 2, 'new', 'cpu'):>7.1f}"
                if runs[(d, 2, "old")][0]["constraints"] != two["constraints"]:
                    line += f"  (old: {runs[(d, 2, 'old')][0]['constraints']} rows)"
            else:
                line += f" {'-':>9} {'-':>7}"
        print(line)
    big = [d for d in sizes if d >= 4000] or sizes
    if len(big) >= 2:
        for lvl in (1, 2):
            s = slope(big, [med(d, lvl, "new", "cpu") for d in big])
            print(f"log-log slope of -O{lvl} CPU time over D = {big[0]}..{big[-1]}: {s:.2f}")
        s = slope(big, [float(runs[(d, 2, "new")][0]["work"]) for d in big])
        print(f"log-log slope of the -O2 work counter: {s:.2f}")
    old = sorted(d for (d, _, impl) in runs if impl == "old")
    if baseline and len(old) >= 2:
        s = slope(old, [med(d, 2, "old", "cpu") for d in old])
        print(f"log-log slope of the baseline's -O2 CPU time over D = {old[0]}..{old[-1]}: "
              f"{s:.2f}")


def rules(d: int) -> None:
    print(f"\nevery shipped/documented rule at D = {d}: compile (-O2) + witness, one fresh "
          "process each")
    head = (f"{'rule':<16} {'-O0 rows':>9} {'-O2 rows':>9} {'compile s':>9} {'witness s':>9} "
            f"{'wall s':>7} {'cpu s':>6} {'peak MB':>8}  within 10 s / 2 GB")
    print(head)
    print("-" * len(head))
    for name in rule_sources():
        r = spawn("rule", name, str(d))
        ok = "yes" if r["wall"] <= 10 and r["rss_mb"] <= 2048 else "NO"
        print(f"{name:<16} {r['o0']:>9} {r['constraints']:>9} {r['compile']:>9.2f} "
              f"{r['witness']:>9.2f} {r['wall']:>7.2f} {r['cpu']:>6.2f} {r['rss_mb']:>8.0f}  {ok}")
    print("wall/cpu: compile + witness in the measuring process; peak MB: its max RSS")


def baseline_file(rev: str, tmp: Path) -> str:
    text = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:omnidsl/compiler/optimise.py"],
                          capture_output=True, text=True, check=True).stdout
    path = tmp / "baseline_optimise.py"
    path.write_text(text, encoding="utf-8")
    return str(path)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        kind, *rest = sys.argv[2:]
        if kind == "sweep":
            out = sweep_worker(int(rest[0]), int(rest[1]), rest[2] if len(rest) > 2 else None)
        else:
            out = rule_worker(rest[0], int(rest[1]))
        print(json.dumps(out))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,2000,4000,8000,16000,32000,65536")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--baseline", metavar="REV", help="also time the optimiser of git REV")
    ap.add_argument("--baseline-max", type=int, default=4000)
    ap.add_argument("--no-rules", action="store_true", help="skip every rule at --rules-d")
    ap.add_argument("--rules-d", type=int, default=65536)
    ap.add_argument("--quick", action="store_true", help="sizes up to 16000, 2 repeats")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    repeats = args.repeats
    if args.quick:
        sizes, repeats = [d for d in sizes if d <= 16000], min(repeats, 2)
    with tempfile.TemporaryDirectory(prefix="optbench_") as tmp:
        base = baseline_file(args.baseline, Path(tmp)) if args.baseline else None
        sweep(sizes, repeats, base, args.baseline_max)
    if not args.no_rules:
        rules(args.rules_d)


if __name__ == "__main__":
    main()
