"""docs/results.md from market runs: every attack through the committed-cosine rule, proofs and
the chain (``market demo``'s code path), and the plots beside it.

    python benchmarks/market_results.py run --attack sign_flip --rounds 20 --out docs/runs
    python benchmarks/market_results.py run --honest-only --rounds 20 --out docs/runs
    python benchmarks/market_results.py report --runs docs/runs --out docs

``run`` writes one JSON per run (``<model>-<attack>-<prover>.json``: the terms, every round's
accepted/refused data owners with the reasons, gas and accuracy); ``report`` turns every JSON of
``--runs`` into docs/results.md, docs/results_accuracy.png, docs/results_verdicts.png and
docs/results_gas.png.  A run of 15 rounds takes minutes: run them once, with ``nice``.
``tune`` is the quick step that chose τ and the bound: the Python mirror of the rule
(omnidsl.ml.rules, tested against the circuit) over a grid, no chain.
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


def _write_json(path: Path, data: Any) -> None:
    """All or nothing: a temporary file in the target folder, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def run_one(attack: str, rounds: int, model: str, prover: str, chain: str, owners: int = 8,
            malicious: int = 3, seed: int = 1) -> Run:
    """One market run (the demo's code path) with the committed-cosine rule."""
    from omnidsl.chain import anvil, embedded_chain
    from omnidsl.market.demo import run_demo
    from omnidsl.market.tasks import shipped_rule
    from omnidsl.ml.federated import DigitsSource

    honest = attack == "honest"
    src = DigitsSource(owners, 0 if honest else malicious, "mixed" if honest else attack,
                       model_name=model, tau=TAU, norm_factor=NORM_FACTOR, seed=seed)
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
               MIN_NORM, src.n_params, initial, rows, time.perf_counter() - t0)


def load_runs(folder: Path) -> list[Run]:
    """Every run of ``folder``: by model, the honest-only run first, then the attacks in
    :data:`ATTACKS` order."""
    runs = [Run(**json.loads(p.read_text())) for p in folder.glob("*.json")]
    order = ("honest", *ATTACKS)
    return sorted(runs, key=lambda r: (r.model != "logreg", r.model, order.index(r.attack)
                                       if r.attack in order else len(order), r.prover))


# ------------------------------------------------------------------ the report
def _counts(run: Run, rnd: dict[str, Any]) -> tuple[int, int, int, int]:
    """(honest accepted, honest refused, malicious accepted, malicious refused) in a round."""
    acc = set(rnd["accepted"])
    ha = sum(1 for i, m in enumerate(run.malicious) if not m and i in acc)
    ma = sum(1 for i, m in enumerate(run.malicious) if m and i in acc)
    n_m = sum(run.malicious)
    return ha, len(run.malicious) - n_m - ha, ma, n_m - ma


def summary_rows(runs: list[Run]) -> list[dict[str, Any]]:
    """One table row per run; accuracy compared with the honest-only run of the same model."""
    base = {r.model: r for r in runs if r.attack == "honest"}
    out = []
    for r in runs:
        c = [_counts(r, x) for x in r.rounds]
        n = len(c)
        b = base.get(r.model)
        final = r.rounds[-1]["accuracy"]
        b_final = None
        if b is not None and len(b.rounds) >= n:
            b_final = b.rounds[n - 1]["accuracy"]
        out.append({
            "model": r.model, "params": r.n_params, "attack": r.attack, "prover": r.prover,
            "rounds": n, "malicious": sum(r.malicious),
            "mal_refused": sum(x[3] for x in c) / n, "hon_refused": sum(x[1] for x in c) / n,
            "mal_refused_every_round": all(x[2] == 0 for x in c),
            "final": final, "honest_only": b_final,
            "delta_pts": None if b_final is None else 100 * (final - b_final),
            "gas_per_round": sum(x["batch_gas"] + x["commit_gas"] for x in r.rounds) / n,
            "binding_ok": all(x["binding_ok"] is not False for x in r.rounds),
        })
    return out


def plots(runs: list[Run], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    models = sorted({r.model for r in runs})
    fig, axes = plt.subplots(1, len(models), figsize=(7 * len(models), 4.5), squeeze=False)
    for ax, model in zip(axes[0], models, strict=True):
        for r in (x for x in runs if x.model == model):
            acc = [r.initial_accuracy] + [x["accuracy"] for x in r.rounds]
            ax.plot(range(len(acc)), acc, "k--" if r.attack == "honest" else "-",
                    label="honest only" if r.attack == "honest" else r.attack)
        ax.set_title(f"{model} ({runs[0].owners} DOs): test accuracy per round")
        ax.set_xlabel("round")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "results_accuracy.png", dpi=90)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(runs), figsize=(2.6 * len(runs), 4.0), sharey=True,
                             squeeze=False)
    for ax, r in zip(axes[0], runs, strict=True):
        c = [_counts(r, x) for x in r.rounds]
        xs = [x["round"] for x in r.rounds]
        bottom = [0] * len(c)
        for k, (label, color) in enumerate((("honest accepted", "tab:green"),
                                            ("honest refused", "tab:olive"),
                                            ("malicious accepted", "tab:red"),
                                            ("malicious refused", "tab:gray"))):
            vals = [x[k] for x in c]
            ax.bar(xs, vals, bottom=bottom, color=color, label=label, width=0.85)
            bottom = [a + b for a, b in zip(bottom, vals, strict=True)]
        ax.set_title(f"{r.model}: {r.attack}", fontsize=9)
        ax.set_xlabel("round")
    axes[0][0].set_ylabel("data owners")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="lower center", ncol=4)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(out / "results_verdicts.png", dpi=90)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    for r in runs:
        ax.plot([x["round"] for x in r.rounds],
                [(x["batch_gas"] + x["commit_gas"]) / 1e6 for x in r.rounds], "o-", ms=3,
                label=f"{r.model}: {r.attack}")
    ax.set_xlabel("round")
    ax.set_ylabel("gas per round (M): batch + commitments + reveals")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "results_gas.png", dpi=90)
    plt.close(fig)


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.3f}"


def markdown(runs: list[Run]) -> str:
    rows = summary_rows(runs)
    lines = [
        "| model (D) | attack | prover | rounds | malicious refused / round | refused every "
        "round | honest refused / round | final acc. | honest-only acc. | Δ (pts) | gas / round |",
        "|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for x in rows:
        every = "—" if x["attack"] == "honest" else ("yes" if x["mal_refused_every_round"]
                                                    else "no")
        delta = "—" if x["delta_pts"] is None or x["attack"] == "honest" \
            else f"{x['delta_pts']:+.1f}"
        lines.append(
            f"| {x['model']} ({x['params']:,}) | {x['attack']} | {x['prover']} | {x['rounds']} | "
            f"{x['mal_refused']:.2f} of {x['malicious']} | {every} | {x['hon_refused']:.2f} | "
            f"{_pct(x['final'])} | {_pct(x['honest_only'])} | {delta} | "
            f"{x['gas_per_round']:,.0f} |")
    return "\n".join(lines)


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


INTRO = """# Results: the market under attack (circuits, proofs, chain)

Every number below comes from `market demo`'s code path (`omnidsl.market.demo.run_demo`): each
round is a task on the chain (anvil); the model owner (MO) publishes a freshly perturbed model
(docs/privacy.md) and its FLTrust reference gradient on a clean root set of 100 samples, pins the
reference's Poseidon commitment, τ and the bounds in the task and publishes the reference as
calldata; every data owner (DO) checks the published reference against the pin, computes its
gradient on the perturbed model (malicious ones attack), secret-shares it to the 3 servers, and
is credited only for a Groth16 proof of **omnidsl/market/rules/market_cosine.omni** (`--rule cosine`) (cos(g, ref) ≥ τ,
‖g‖ ≤ max_norm, ‖g‖ ≥ min_norm, owner and challenge bound, masked fingerprint) accepted by the
generated verifier inside `Market.submitBatch`; the MO checks the servers' aggregate against the
on-chain fingerprints (binding) and maps it back to its clear model.  A DO whose gradient breaks
the rule has no witness, so no proof: it is refused and earns nothing (its attempt to claim an
honest DO's proof is refused by the servers, docs/market.md).

Data: scikit-learn digits, 8 DOs (IID shards of ≈ 156 samples), 3 of them malicious with the
same attack; softmax regression (650 parameters, lr 1.0) and the 64-100-10 MLP (7,510
parameters, lr 0.5).  Prover `local`: the demo's stand-in that proves, on one machine, the
statement about the shares the servers committed to (the same circuit, keys, verifier and
chain; used for the long runs, for time); `mpc`: the proofs made collaboratively by the 3
`omnidsl serve` processes.  One run is the same as

    omnidsl market demo --chain anvil --rule cosine --pin tau=0.2 --pin min_norm=0.01 \\
        --norm-factor 1 --attack A --prover local --rounds 12

with every round's verdicts, gas and accuracy kept as JSON.

## The terms (FLTrust's logic) and how they were chosen

- **Norm bound = ‖ref‖** (`max_norm` pinned per round, `--norm-factor 1`).  FLTrust rescales
  every update to the reference's norm, so that no participant weighs more than the trusted
  root set; here the honest DO does it itself (the reference is published): it sends
  0.99·‖ref‖·g/‖g‖ (the 1 % margin covers the fixed-point rounding, ≤ √D·2⁻¹³ in norm), and the
  rule refuses anything longer than ‖ref‖.  Scaling and noise attacks fail this bound.
- **min_norm = 0.01** (> 0): the all-zero update is refused.
- **τ = 0.2.**  FLTrust weights updates by ReLU(cos), i.e. drops cos ≤ 0; a binary rule needs
  τ > 0 to refuse noise-like updates, and not so high that honest DOs, whose cosine with a
  100-sample reference falls to 0.1–0.3 as training converges, are refused.  The grid below
  (the Python mirror of the rule, `omnidsl/ml/rules.py`, tested against the circuit; softmax
  regression, 15 rounds; `python benchmarks/market_results.py tune --rounds 15`) shows the
  trade-off: τ = 0.3 refuses about one honest DO every two rounds, τ = 0.2 almost none, and
  label flip (cos < 0) is refused at every τ.

"""


def write_results(runs: list[Run], out: Path, tables: tuple[str, str]) -> None:
    """docs/results.md (all or nothing) from the runs, with the tuning grid."""
    rows = summary_rows(runs)
    att = [x for x in rows if x["attack"] != "honest"]
    strict = [x for x in att if x["attack"] in ("sign_flip", "scaling", "gaussian_noise")]
    soft = [x for x in att if x["attack"] in ("label_flip", "adaptive")]
    hon = sum(x["hon_refused"] * x["rounds"] for x in rows) / max(1, sum(x["rounds"] for x in rows))
    worst = max((x["hon_refused"] for x in rows), default=0.0)

    def who(xs: list[dict[str, Any]]) -> str:
        return ", ".join(f"{x['attack']} ({x['model']}, {x['prover']})" for x in xs)

    ok_strict = [x for x in strict if x["mal_refused_every_round"]]
    ok_soft = [x for x in soft if x["delta_pts"] is not None and x["delta_pts"] >= -2.0]
    ada = [x for x in att if x["attack"] == "adaptive_cosine"]
    lines = [INTRO, tables[0], "", "## Runs", "", markdown(runs), "",
             "Malicious refused / round: how many of the malicious DOs had no accepted proof, "
             "on average; refused every round: none of them was ever credited; Δ: final "
             "accuracy minus the honest-only run's (8 honest DOs, same rounds) in points; gas "
             "per round: the batch (all proofs, attestations) + the servers' commitments and "
             "seed reveals.", "",
             "## Against the targets", "",
             f"- Refused every round (sign flip, scaling, noise): {who(ok_strict) or 'none'}"
             + (f"; **not**: {who([x for x in strict if x not in ok_strict])}"
                if len(ok_strict) < len(strict) else "") + ".",
             f"- Final accuracy within 2 points of honest-only (label flip, adaptive): "
             f"{who(ok_soft) or 'none'}"
             + (f"; **not**: {who([x for x in soft if x not in ok_soft])}"
                if len(ok_soft) < len(soft) else "") + ".",
             f"- Honest DOs refused: {hon:.2f} per round on average over every run (worst run "
             f"{worst:.2f}).",
             "- With the malicious DOs refused, 5 honest DOs train instead of 8: the gap of the "
             "first rounds (visible in the MLP's 4 rounds) closes as training goes on (softmax "
             "regression: none left at round 12).", ""]
    for r in runs:
        mp = [x["mpc"] for x in r.rounds if x["mpc"].get("proofs")]
        if mp:
            n = sum(m["proofs"] for m in mp)

            def mean(key: str, mp: list[dict[str, float]] = mp, n: float = n) -> float:
                return sum(m[key] * m["proofs"] for m in mp) / n

            lines += [f"Collaborative proving ({r.model}, {r.attack}, prover mpc, 3 servers): "
                      f"{int(n)} proofs, {mean('prove_s'):.2f} s wall per proof, "
                      f"{mean('cpu_s'):.2f} s CPU and {mean('mb_sent'):.2f} MB sent per server "
                      "per proof (2 shared cores); the same verdicts and accuracies as the "
                      "`local` run of the same attack, round for round (the same statement).", ""]
    if ada:
        a = ada[0]
        lines += [
            "## A rule-aware attacker is not stopped", "",
            "`adaptive` is the project's adaptive attack: it knows the L2 bound and sends the "
            "reversed update just inside it, which the cosine test refuses.  "
            "`adaptive_cosine` (omnidsl/ml/attacks.py) also reads what the task publishes — "
            "the reference and τ — and sends, of all updates the rule accepts, the one most "
            "opposed to its honest gradient: at cos = τ + 0.05 and 0.95 of the bound, turned "
            "away from g in the plane of (ref, g).  It is accepted every round by design, and "
            f"the final accuracy is {a['final']:.3f} against {_pct(a['honest_only'])} "
            f"(Δ {'—' if a['delta_pts'] is None else format(a['delta_pts'], '+.1f')} points).",
            "The reason is the reference's quality, not the proofs: honest updates have a "
            "cosine of only 0.1–0.5 with a 100-sample reference, so most of their useful "
            "signal is orthogonal to it, and an attacker inside the cone cos ≥ τ can cancel "
            "that part.  Raising τ refuses honest DOs before it constrains the attacker "
            "(grid above); adding the MO's own reference to each step (a trusted weight) "
            "recovers only 3–4 points in the mirror.  What helps is a better reference: with a "
            "larger root set honest cosines rise and the attacker's cone narrows (the mirror, "
            "15 rounds, same command as above; the DOs' shards shrink accordingly):", "",
            tables[1], "",
            "— a root set of 400 of the 1,347 training samples is no longer FLTrust's "
            "\"small\" one.  The other lever is FLTrust's cosine-weighted "
            "aggregation — the MO sees only the sum, so the weighting would have to be proved "
            "per DO in the circuit (the DO shares w·g with w = ReLU(cos) and proves it); it is "
            "not built here, and the runs above keep the 100-sample root set.", ""]
    lines += ["![accuracy per round](results_accuracy.png)", "",
              "![accepted and refused data owners per round](results_verdicts.png)", "",
              "![gas per round](results_gas.png)", "",
              "## Regenerate", "",
              "```",
              "python benchmarks/market_results.py tune --rounds 15",
              "python benchmarks/market_results.py run --honest-only --rounds 15 --out docs/runs",
              "python benchmarks/market_results.py run --attack A --rounds 12 --out docs/runs"
              "   # each attack",
              "python benchmarks/market_results.py run --attack sign_flip --prover mpc --rounds 3 "
              "--out docs/runs",
              "python benchmarks/market_results.py run --attack sign_flip --model mlp --rounds 4 "
              "--out docs/runs",
              "python benchmarks/market_results.py run --honest-only --model mlp --rounds 4 "
              "--out docs/runs",
              "python benchmarks/market_results.py report --runs docs/runs --out docs",
              "```", "",
              "The runs' JSON (every round's verdicts with the reasons, gas, accuracy) is in "
              "docs/runs/.  The Python-only experiment (`python -m omnidsl.ml.experiment`) "
              "remains as a fast check of the rule's semantics; it is not where these numbers "
              "come from.", ""]
    out.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines))
    os.chmod(tmp, 0o644)
    os.replace(tmp, out / "results.md")


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
    r.add_argument("--out", type=Path, default=ROOT / "docs" / "runs")
    t = sub.add_parser("tune")
    t.add_argument("--rounds", type=int, default=20)
    p = sub.add_parser("report")
    p.add_argument("--runs", type=Path, default=ROOT / "docs" / "runs")
    p.add_argument("--out", type=Path, default=ROOT / "docs")
    args = ap.parse_args(argv)
    if args.cmd == "run":
        attack = "honest" if args.honest_only else args.attack
        res = run_one(attack, args.rounds, args.model, args.prover, args.chain)
        _write_json(args.out / f"{args.model}-{attack}-{args.prover}.json", asdict(res))
        print(markdown([res]))
        return 0
    if args.cmd == "tune":
        print("\n\n".join(tune(args.rounds)))
        return 0
    runs = load_runs(args.runs)
    plots(runs, args.out)
    write_results(runs, args.out, tune(15))
    print((args.out / "results.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
