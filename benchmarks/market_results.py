"""docs/results.md from market runs: every attack through the committed-cosine rule, proofs by
the servers and the chain (``market demo``'s code path), and the plots beside it.

    python benchmarks/market_results.py run --prover mpc --attack sign_flip --rounds 12
    python benchmarks/market_results.py run --prover mpc --honest-only --rounds 12
    python benchmarks/market_results.py run --prover mpc --attack adaptive_cosine --root 400
    python benchmarks/market_results.py report --runs docs/runs --out docs

``run`` writes one JSON per run (``<model>-<attack>-<prover>[-root<N>].json``: the terms, every
round's accepted/refused data owners with the reasons, gas, accuracy and the servers' proving
figures); ``report`` (benchmarks/results_report.py) turns every JSON of ``--runs`` into
docs/results.md, docs/results_accuracy.png, docs/results_verdicts.png and docs/results_gas.png.
A run of 12 rounds with the servers proving takes 5 to 15 minutes on 2 shared cores: run them
once, one at a time, with ``nice``.  ``tune`` is the quick step that chose τ and the bound: the
Python mirror of the rule (omnidsl.ml.rules, tested against the circuit) over a grid, no chain.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: the terms used for every run (docs/results.md, "Choosing τ and the bounds")
TAU = 0.2
NORM_FACTOR = 1.0  # max_norm = NORM_FACTOR·‖ref‖; honest DOs send 0.99·‖ref‖ (FLTrust scaling)
MIN_NORM = 0.01  # > 0: the all-zero update is refused
ROOT_SIZE = 100  # the MO's root set (samples) unless --root says otherwise
ATTACKS = ("sign_flip", "scaling", "gaussian_noise", "label_flip", "adaptive", "adaptive_cosine")


@dataclass
class Run:
    model: str
    attack: str  # "honest" for the honest-only baseline
    prover: str
    chain: str
    owners: int
    malicious: list[bool]
    tau: float
    norm_factor: float
    min_norm: float
    n_params: int
    initial_accuracy: float
    rounds: list[dict[str, Any]]
    wall_s: float
    root_size: int = ROOT_SIZE  # the MO's clean root set (FLTrust), samples


def run_name(model: str, attack: str, prover: str, root: int = 100) -> str:
    """``<model>-<attack>-<prover>[-root<N>].json`` (the root set only when not the default)."""
    return f"{model}-{attack}-{prover}" + (f"-root{root}" if root != ROOT_SIZE else "") + ".json"


def _write_json(path: Path, data: Any) -> None:
    """All or nothing: a temporary file in the target folder, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def run_one(attack: str, rounds: int, model: str, prover: str, chain: str, owners: int = 8,
            malicious: int = 3, seed: int = 1, root: int = ROOT_SIZE) -> Run:
    """One market run (the demo's code path) with the committed-cosine rule."""
    from omnidsl.chain import anvil, embedded_chain
    from omnidsl.market.demo import run_demo
    from omnidsl.market.tasks import shipped_rule
    from omnidsl.ml.federated import DigitsSource

    honest = attack == "honest"
    src = DigitsSource(owners, 0 if honest else malicious, "mixed" if honest else attack,
                       model_name=model, tau=TAU, norm_factor=NORM_FACTOR, seed=seed,
                       root_size=root)
    initial = src.accuracy()
    t0 = time.perf_counter()

    def go(w3: Any) -> list[Any]:
        return run_demo(w3, rounds=rounds, owners=owners, malicious=sum(src.malicious),
                        servers=3, source=src, prover=prover, norm_factor=NORM_FACTOR,
                        rule_file=shipped_rule("cosine"), rule_values={"tau": TAU, "min_norm": MIN_NORM},
                        log=lambda m: print(m, flush=True))

    if chain == "anvil":
        with anvil() as w3:
            reports = go(w3)
    else:
        reports = go(embedded_chain())
    rows = [{"round": r.round, "accepted": r.accepted,
             "rejected": {str(k): v for k, v in r.rejected.items()},
             "batch_gas": r.batch_gas, "commit_gas": r.commit_gas, "accuracy": r.accuracy,
             "binding_ok": r.binding_ok, "mpc": r.mpc} for r in reports]
    return Run(model, attack, prover, chain, owners, list(src.malicious), TAU, NORM_FACTOR,
               MIN_NORM, src.n_params, initial, rows, time.perf_counter() - t0, root)


def load_runs(folder: Path) -> list[Run]:
    """Every run of ``folder``: by model, the honest-only run first, then the attacks in
    :data:`ATTACKS` order."""
    runs = [Run(**json.loads(p.read_text())) for p in folder.glob("*.json")]
    order = ("honest", *ATTACKS)
    return sorted(runs, key=lambda r: (r.model != "logreg", r.model, r.root_size,
                                       order.index(r.attack) if r.attack in order
                                       else len(order), r.prover))


# ------------------------------------------------------------------ the report
def counts(run: Run, rnd: dict[str, Any]) -> tuple[int, int, int, int]:
    """(honest accepted, honest refused, malicious accepted, malicious refused) in a round."""
    acc = set(rnd["accepted"])
    ha = sum(1 for i, m in enumerate(run.malicious) if not m and i in acc)
    ma = sum(1 for i, m in enumerate(run.malicious) if m and i in acc)
    n_m = sum(run.malicious)
    return ha, len(run.malicious) - n_m - ha, ma, n_m - ma


def summary_rows(runs: list[Run]) -> list[dict[str, Any]]:
    """One table row per run; accuracy compared with the honest-only run of the same model."""
    base = {(r.model, r.root_size): r for r in runs if r.attack == "honest"}
    out = []
    for r in runs:
        c = [counts(r, x) for x in r.rounds]
        n = len(c)
        b = base.get((r.model, r.root_size))
        final = r.rounds[-1]["accuracy"]
        b_final = None
        if b is not None and len(b.rounds) >= n:
            b_final = b.rounds[n - 1]["accuracy"]
        out.append({
            "model": r.model, "params": r.n_params, "attack": r.attack, "prover": r.prover,
            "root": r.root_size,
            "rounds": n, "malicious": sum(r.malicious),
            "mal_refused": sum(x[3] for x in c) / n, "hon_refused": sum(x[1] for x in c) / n,
            "mal_refused_every_round": all(x[2] == 0 for x in c),
            "final": final, "honest_only": b_final,
            "delta_pts": None if b_final is None else 100 * (final - b_final),
            "gas_per_round": sum(x["batch_gas"] + x["commit_gas"] for x in r.rounds) / n,
            "binding_ok": all(x["binding_ok"] is not False for x in r.rounds),
        })
    return out


def tune(rounds: int = 20, taus: tuple[float, ...] = (0.1, 0.2, 0.3),
         factors: tuple[float, ...] = (1.0, 3.0)) -> tuple[str, str]:
    """The tuning grid on the Python mirror: per (τ, bound) the honest DOs refused per round
    (all honest), the final accuracy under label flip and adaptive_cosine, and how many of
    their attackers were accepted per round."""
    import numpy as np

    from omnidsl.ml.federated import DigitsSource
    from omnidsl.ml.rules import NormCosineRule

    def sim(attack: str, mal: int, tau: float, f: float, root: int = 100
            ) -> tuple[float, float, float]:
        src = DigitsSource(8, mal, attack, tau=tau, norm_factor=f, root_size=root)
        hon_ref = mal_acc = 0
        for _ in range(rounds):
            ref = src.reference()
            gs = src.gradients()
            rn = float(np.linalg.norm(ref))
            rule = NormCosineRule(max_norm=f * rn, tau=tau, min_norm=MIN_NORM)
            ok = [rule.accepts(g, ref) for g in gs]
            hon_ref += sum(1 for v, m in zip(ok, src.malicious, strict=True) if not v and not m)
            mal_acc += sum(1 for v, m in zip(ok, src.malicious, strict=True) if v and m)
            acc = [i for i, v in enumerate(ok) if v]
            src.apply(sum(np.rint(gs[i] * 4096) / 4096 for i in acc), len(acc))
        return hon_ref / rounds, src.accuracy(), mal_acc / rounds

    lines = ["| τ | bound (× ‖ref‖) | honest refused / round (all honest) | honest-only acc. | "
             "label flip: acc. (attackers accepted / round) | adaptive_cosine: acc. (accepted "
             "/ round) |", "|---:|---:|---:|---:|---:|---:|"]
    for tau in taus:
        for f in factors:
            h_ref, h_acc, _ = sim("mixed", 0, tau, f)
            _, lf_acc, lf_in = sim("label_flip", 3, tau, f)
            _, ad_acc, ad_in = sim("adaptive_cosine", 3, tau, f)
            lines.append(f"| {tau} | {f} | {h_ref:.2f} | {h_acc:.3f} | {lf_acc:.3f} ({lf_in:.2f}) "
                         f"| {ad_acc:.3f} ({ad_in:.2f}) |")
    roots = ["| root set | τ | honest refused / round (all honest) | honest-only acc. | "
             "adaptive_cosine acc. |", "|---:|---:|---:|---:|---:|"]
    for root in (100, 200, 400):
        for tau in (0.2, 0.5):
            h_ref, h_acc, _ = sim("mixed", 0, tau, 1.0, root)
            _, ad_acc, _ = sim("adaptive_cosine", 3, tau, 1.0, root)
            roots.append(f"| {root} | {tau} | {h_ref:.2f} | {h_acc:.3f} | {ad_acc:.3f} |")
    return "\n".join(lines), "\n".join(roots)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--attack", choices=ATTACKS, default="sign_flip")
    r.add_argument("--honest-only", action="store_true")
    r.add_argument("--rounds", type=int, default=20)
    r.add_argument("--model", choices=("logreg", "mlp"), default="logreg")
    r.add_argument("--prover", choices=("mpc", "local"), default="local")
    r.add_argument("--chain", choices=("anvil", "embedded"), default="anvil")
    r.add_argument("--root", type=int, default=ROOT_SIZE,
                   help="the MO's clean root set, samples (default %(default)s)")
    r.add_argument("--out", type=Path, default=ROOT / "docs" / "runs")
    t = sub.add_parser("tune")
    t.add_argument("--rounds", type=int, default=20)
    p = sub.add_parser("report")
    p.add_argument("--runs", type=Path, default=ROOT / "docs" / "runs")
    p.add_argument("--out", type=Path, default=ROOT / "docs")
    args = ap.parse_args(argv)
    if args.cmd == "run":
        attack = "honest" if args.honest_only else args.attack
        if not 0 < args.root < 1000:
            ap.error(f"--root {args.root}: the root set takes 1 to 999 of the 1,347 training "
                     "samples (the rest is the DOs' shards)")
        res = run_one(attack, args.rounds, args.model, args.prover, args.chain, root=args.root)
        _write_json(args.out / run_name(args.model, attack, args.prover, args.root), asdict(res))
        print(json.dumps(summary_rows([res]), indent=1))
        return 0
    if args.cmd == "tune":
        print("\n\n".join(tune(args.rounds)))
        return 0
    from results_report import plots, write_results

    runs = load_runs(args.runs)
    if not runs:
        ap.error(f"no run in {args.runs} (make them with `run`)")
    plots(runs, args.out)
    write_results(runs, args.out, tune(15))
    print((args.out / "results.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
