"""docs/results.md and its plots from the market runs of ``benchmarks/market_results.py``
(``report``): the table, the targets of issue 11 met or not by which run, the servers' proving
figures and the rule-aware attacker with the root sets that were run."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from market_results import ATTACKS, ROOT_SIZE, Run, counts, summary_rows

STRICT = ("sign_flip", "scaling", "gaussian_noise")  # refused every round (issue 11 item 6)
SOFT = ("label_flip", "adaptive")  # final accuracy within 2 points of honest-only


def _label(r: Run) -> str:
    return f"{r.model}: {r.attack}" + (f" (root {r.root_size})" if r.root_size != ROOT_SIZE
                                       else "")


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
            name = "honest only" if r.attack == "honest" else r.attack
            if r.root_size != ROOT_SIZE:
                name += f" (root {r.root_size})"
            ax.plot(range(len(acc)), acc, ("k" if r.root_size == ROOT_SIZE else "b") + "--"
                    if r.attack == "honest" else "-", label=name)
        ax.set_title(f"{model} ({runs[0].owners} DOs, proofs by 3 servers): test accuracy")
        ax.set_xlabel("round")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "results_accuracy.png", dpi=90)
    plt.close(fig)

    cols = min(len(runs), 6)
    nrows = (len(runs) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(2.6 * cols, 3.4 * nrows), sharey=True,
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= len(runs):
            ax.set_visible(False)
            continue
        r = runs[k]
        c = [counts(r, x) for x in r.rounds]
        xs = [x["round"] for x in r.rounds]
        bottom = [0] * len(c)
        for j, (label, color) in enumerate((("honest accepted", "tab:green"),
                                            ("honest refused", "tab:olive"),
                                            ("malicious accepted", "tab:red"),
                                            ("malicious refused", "tab:gray"))):
            vals = [x[j] for x in c]
            ax.bar(xs, vals, bottom=bottom, color=color, label=label, width=0.85)
            bottom = [a + b for a, b in zip(bottom, vals, strict=True)]
        ax.set_title(_label(r), fontsize=8)
        ax.set_xlabel("round", fontsize=8)
    for row in axes:
        row[0].set_ylabel("data owners")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="lower center", ncol=4)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(out / "results_verdicts.png", dpi=90)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    for r in runs:
        ax.plot([x["round"] for x in r.rounds],
                [(x["batch_gas"] + x["commit_gas"]) / 1e6 for x in r.rounds], "o-", ms=3,
                label=_label(r))
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
    lines = [
        "| model (D) | root set | attack | prover | rounds | malicious refused / round | refused "
        "every round | honest refused / round | final acc. | honest-only acc. | Δ (pts) | "
        "gas / round |",
        "|---|---:|---|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for x in summary_rows(runs):
        every = "—" if x["attack"] == "honest" else ("yes" if x["mal_refused_every_round"]
                                                    else "no")
        delta = "—" if x["delta_pts"] is None or x["attack"] == "honest" \
            else f"{x['delta_pts']:+.1f}"
        lines.append(
            f"| {x['model']} ({x['params']:,}) | {x['root']} | {x['attack']} | {x['prover']} | "
            f"{x['rounds']} | {x['mal_refused']:.2f} of {x['malicious']} | {every} | "
            f"{x['hon_refused']:.2f} | {_pct(x['final'])} | {_pct(x['honest_only'])} | {delta} | "
            f"{x['gas_per_round']:,.0f} |")
    return "\n".join(lines)


def proving_table(runs: list[Run]) -> str:
    """The servers' collaborative proving per run (every proof of every round)."""
    lines = ["| run | rounds | proofs | wall / proof (s) | CPU / proof / server (s) | sent / "
             "proof / server (MB) | run wall time (min) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        mp = [x["mpc"] for x in r.rounds if x["mpc"].get("proofs")]
        n = sum(m["proofs"] for m in mp)
        if not n:
            continue

        def mean(key: str, mp: list[dict[str, float]] = mp, n: float = n) -> float:
            return sum(m[key] * m["proofs"] for m in mp) / n

        lines.append(f"| {_label(r)} | {len(r.rounds)} | {int(n)} | {mean('prove_s'):.2f} | "
                     f"{mean('cpu_s'):.2f} | {mean('mb_sent'):.2f} | {r.wall_s / 60:.1f} |")
    return "\n".join(lines)


def _who(xs: list[dict[str, Any]]) -> str:
    return ", ".join(f"{x['attack']} ({x['model']}, {x['rounds']} rounds"
                     + (f", root {x['root']}" if x["root"] != ROOT_SIZE else "") + ")"
                     for x in xs)


def targets(rows: list[dict[str, Any]]) -> list[str]:
    """"Against the targets": which server-proved runs meet which target of issue 11 item 6."""
    att = [x for x in rows if x["attack"] != "honest" and x["root"] == ROOT_SIZE]
    out = []
    strict = [x for x in att if x["attack"] in STRICT]
    ok = [x for x in strict if x["mal_refused_every_round"]]
    bad = [x for x in strict if x not in ok]
    missing = [a for a in STRICT if a not in {x["attack"] for x in strict}]
    out.append("- **Sign flip, scaling and noise refused every round**: met by "
               f"{_who(ok) or 'no run'}" + (f"; **not met** by {_who(bad)}" if bad else "")
               + (f"; not run: {', '.join(missing)}" if missing else "") + ".")
    soft = [x for x in att if x["attack"] in SOFT]
    ok = [x for x in soft if x["delta_pts"] is not None and x["delta_pts"] >= -2.0]
    bad = [x for x in soft if x not in ok]
    missing = [a for a in SOFT if a not in {x["attack"] for x in soft}]
    out.append("- **Label flip and adaptive: final accuracy within 2 points of honest-only** "
               "(the honest-only run of the same model, root set and round): met by "
               f"{_who(ok) or 'no run'}"
               + (f"; **not met** by {_who(bad)}" if bad else "")
               + (f"; not run: {', '.join(missing)}" if missing else "") + ".")
    total = sum(x["rounds"] for x in rows)
    hon = sum(x["hon_refused"] * x["rounds"] for x in rows) / max(1, total)
    worst = max(rows, key=lambda x: x["hon_refused"], default=None)
    out.append("- **At most one honest DO refused per round on average**: "
               + ("met" if hon <= 1.0 else "**not met**")
               + f" — {hon:.2f} per round over all {total} rounds of every run"
               + (f" (worst run: {_who([worst])}, {worst['hon_refused']:.2f})" if worst else "")
               + ". Longer training refuses more: honest cosines fall as the model converges, "
               "and over 40 rounds τ = 0.2 refuses 2.07 honest DOs per round on average for "
               "softmax regression (the Python mirror, docs/privacy.md's accuracy table, "
               "`benchmarks/model_noise.py --rounds 40`); a long training needs a τ that decays "
               "with the rounds (or noise on the published model: 0.29 per round at σ = 0.2).")
    mlp = [x for x in rows if x["model"] == "mlp" and x["attack"] != "honest"]
    out.append("- **A run on the 7,510-parameter MLP**: "
               + ("; ".join(f"{x['attack']} ({x['rounds']} rounds): {x['mal_refused']:.2f} of "
                            f"{x['malicious']} malicious DOs refused per round"
                            + (", every round" if x["mal_refused_every_round"] else "")
                            + f", {x['hon_refused']:.2f} honest, Δ "
                            + ("—" if x["delta_pts"] is None else f"{x['delta_pts']:+.1f}")
                            + " points" for x in mlp) if mlp else "**not run**") + ".")
    cos = [x for x in rows if x["attack"] == "adaptive_cosine"]
    if cos:
        out.append("- Beyond the issue's list, the rule-aware `adaptive_cosine` attacker: "
                   + "; ".join(f"root set {x['root']}: Δ "
                               + ("—" if x["delta_pts"] is None else f"{x['delta_pts']:+.1f}")
                               + f" points, {x['mal_refused']:.2f} of 3 refused per round"
                               for x in cos) + " (below).")
    drop = [x for x in att if x["attack"] in STRICT + SOFT and x["delta_pts"] is not None]
    if drop:
        lo = min(drop, key=lambda x: x["delta_pts"])
        out.append(f"- With the malicious DOs refused, 5 honest DOs train instead of 8: Δ of "
                   f"those runs ranges from {lo['delta_pts']:+.1f} ({_who([lo])}) to "
                   f"{max(x['delta_pts'] for x in drop):+.1f} points: the gap comes from "
                   "training on 5 DOs' data instead of 8 and narrows with the rounds (the "
                   "accuracy plot).")
    return out


INTRO = """# Results: the market under attack (circuits, proofs by the servers, chain)

Every number below comes from `market demo`'s code path (`omnidsl.market.demo.run_demo`) with
**the proofs made by the servers** (`--prover mpc`): each round is a task on the chain (anvil);
the model owner (MO) publishes a freshly perturbed model (docs/privacy.md) and its FLTrust
reference gradient on a clean root set (100 samples unless the table says otherwise), pins the
reference's Poseidon commitment, τ and the bounds in the task and publishes the reference as
calldata; every data owner (DO) checks the published reference against the pin, computes its
gradient on the perturbed model (malicious ones attack) and secret-shares it to the 3 servers;
the servers commit to their shares on-chain and fix the challenge; every DO whose gradient
satisfies **omnidsl/market/rules/market_cosine.omni** (`--rule cosine`: cos(g, ref) ≥ τ,
‖g‖ ≤ max_norm, ‖g‖ ≥ min_norm, owner and challenge bound, masked fingerprint) deals its witness
and the 3 `omnidsl serve` processes (separate processes, talking over TCP on 127.0.0.1,
docs/mpc.md) prove it collaboratively — each refuses unless its share of the gradient is the one
it committed to.  The servers attest the batch and it is credited only for proofs accepted by
the generated verifier inside `Market.submitBatch`; the MO checks the servers' aggregate against
the on-chain fingerprints (binding) and maps it back to its clear model.  A DO whose gradient
breaks the rule has no witness, so no proof: it is refused and earns nothing (its attempt to
claim an honest DO's proof is refused by the servers, docs/market.md).  No run below uses the
one-machine stand-in prover (`--prover local`).

Data: scikit-learn digits, 8 DOs (IID shards of the training set minus the root set: ≈ 156
samples each with the 100-sample root set), 3 of them malicious with the same attack; softmax
regression (650 parameters, lr 1.0) and the 64-100-10 MLP (7,510 parameters, lr 0.5).  A run
with the default root set is the same as

    omnidsl market demo --chain anvil --rule cosine --pin tau=0.2 --pin min_norm=0.01 \\
        --norm-factor 1 --attack A --prover mpc --rounds N

(`--malicious 0` for honest-only, `--model mlp` for the MLP; N as in the table); the runs with
a larger root set are made only by `benchmarks/market_results.py run --root N` (`market demo`
has no root-set option).  Every round's verdicts with the reasons, gas, accuracy and proving
figures are kept as JSON in docs/runs/.

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
  regression, 15 rounds; `python benchmarks/market_results.py tune --rounds 15`; it only chose
  the terms, no figure of the runs comes from it) shows the trade-off: τ = 0.3 refuses about one
  honest DO every two rounds, τ = 0.2 almost none, and label flip (cos < 0) is refused at every τ.

"""

def command(r: Run) -> str:
    """The exact ``market_results.py run`` command of a run."""
    what = "--honest-only" if r.attack == "honest" else f"--attack {r.attack}"
    model = "" if r.model == "logreg" else f" --model {r.model}"
    root = "" if r.root_size == ROOT_SIZE else f" --root {r.root_size}"
    return (f"python benchmarks/market_results.py run --prover {r.prover} {what}{model} "
            f"--rounds {len(r.rounds)}{root} --out docs/runs")


def rounds_note(runs: list[Run]) -> str:
    """Which runs are shorter than the longest run of their model, and why."""
    longest = {m: max(len(r.rounds) for r in runs if r.model == m) for m in {r.model for r in runs}}
    short = [r for r in runs if len(r.rounds) < longest[r.model]]
    if not short:
        return ""
    return ("Runs shorter than the longest of their model (" + ", ".join(
        f"{_label(r)}: {len(r.rounds)}" for r in short) + " rounds) were cut for time: the "
        "servers prove up to 8 gradients a round on 2 cores shared with other jobs (each run's "
        "wall time is in the proving table below); each is compared with its honest-only run "
        "at the same round.")




def same_round(runs: list[Run], attack: str, rnd: int) -> list[tuple[int, float, float]]:
    """(root set, accuracy, honest-only accuracy) of every ``attack`` run at round ``rnd``
    (runs of the default model whose honest-only run of the same root set reaches it)."""
    base = {r.root_size: r for r in runs if r.attack == "honest" and r.model == "logreg"}
    out = []
    for r in sorted(runs, key=lambda r: r.root_size):
        b = base.get(r.root_size)
        if r.attack == attack and r.model == "logreg" and b is not None \
                and len(r.rounds) >= rnd and len(b.rounds) >= rnd:
            out.append((r.root_size, r.rounds[rnd - 1]["accuracy"], b.rounds[rnd - 1]["accuracy"]))
    return out


def _adaptive_cosine(runs: list[Run], rows: list[dict[str, Any]], roots_table: str
                     ) -> list[str]:
    ada = sorted((x for x in rows if x["attack"] == "adaptive_cosine"), key=lambda x: x["root"])
    if not ada:
        return []
    shortest = min(x["rounds"] for x in ada)
    at = same_round(runs, "adaptive_cosine", shortest)
    compare = ""
    if len(at) > 1:
        compare = (f"  At the same round ({shortest}): " + "; ".join(
            f"root set {root}: {acc:.3f} against {base:.3f} (Δ {100 * (acc - base):+.1f} points)"
            for root, acc, base in at) + ".")
    verdict = "(no server-proved run with a larger root set yet).  "
    if len(at) > 1:
        d0, d1 = (100 * (at[0][1] - at[0][2]), 100 * (at[-1][1] - at[-1][2]))
        longest = max(len(r.rounds) for r in runs if r.model == "logreg")
        verdict = (f"and the server-proved runs check it on-chain: at round {shortest} the root "
                   f"set of {at[-1][0]} " + ("closes the gap (within 2 points)" if d1 >= -2.0
                                             else f"narrows the gap from {d0:+.1f} to {d1:+.1f} "
                                             f"points ({d1:+.3f}: not within 2)" if d1 > d0 else
                                             "does not narrow the gap")
                   + (f" (that run stops at round {shortest}, for time)" if shortest < longest
                      else "") + "; the mirror's figures are at round 15.  ")

    def delta(x: dict[str, Any]) -> str:
        return "—" if x["delta_pts"] is None else format(x["delta_pts"], "+.1f")

    summary = "; ".join(f"root set {x['root']} ({x['rounds']} rounds): final accuracy "
                     f"{x['final']:.3f} against {_pct(x['honest_only'])} honest-only with the "
                     f"same root set (Δ {delta(x)} points), {x['mal_refused']:.2f} of "
                     f"{x['malicious']} attackers refused per round, {x['hon_refused']:.2f} "
                     "honest DOs" for x in ada)
    return [
        "## A rule-aware attacker", "",
        "`adaptive` is the project's adaptive attack: it knows the L2 bound and sends the "
        "reversed update just inside it, which the cosine test refuses.  `adaptive_cosine` "
        "(omnidsl/ml/attacks.py) also reads what the task publishes — the reference and τ — and "
        "sends, of all updates the rule accepts, the one most opposed to its honest gradient: at "
        "cos = τ + 0.05 and 0.95 of the bound, turned away from g in the plane of (ref, g).  It "
        f"is accepted by design.  Server-proved runs: {summary}.{compare}", "",
        "The reason is the reference's quality, not the proofs: honest updates have a cosine of "
        "only 0.1–0.5 with a 100-sample reference, so most of their useful signal is orthogonal "
        "to it, and an attacker inside the cone cos ≥ τ can cancel that part.  Raising τ refuses "
        "honest DOs before it constrains the attacker (grid above).  A better reference helps: "
        "with a larger root set honest cosines rise and the attacker's cone narrows.  The "
        "mirror's grid (15 rounds, the DOs' shards shrink accordingly) predicted it:", "",
        roots_table, "",
        verdict +
        "A root set of 400 of the 1,347 training samples is no longer FLTrust's \"small\" "
        "one.  The other lever is FLTrust's cosine-weighted aggregation — the MO sees only the "
        "sum, so the weighting would have to be proved per DO in the circuit (the DO shares "
        "w·g with w = ReLU(cos) and proves it); it is not built here.", ""]


def write_results(runs: list[Run], out: Path, tables: tuple[str, str]) -> None:
    """docs/results.md (all or nothing) from the runs, with the tuning grids."""
    others = [f"{_label(r)} ({r.prover})" for r in runs if r.prover != "mpc"]
    if others:
        raise SystemExit("error: docs/results.md is built from server-proved runs only; "
                         f"{', '.join(others)} used another prover (remove them from --runs)")
    rows = summary_rows(runs)
    known = {r.attack for r in runs}
    lines = [INTRO, tables[0], "", "## Runs (proofs by the 3 servers)", "", markdown(runs), "",
             "Malicious refused / round: how many of the malicious DOs had no accepted proof, "
             "on average; refused every round: none of them was ever credited; Δ: final "
             "accuracy minus the honest-only run's (8 honest DOs, same model, root set and "
             "round) in points; gas per round: the batch (all proofs, attestations) + the "
             "servers' commitments and seed reveals." + (f"  {note}" if (note := rounds_note(runs))
                                                         else ""), "",
             "## Against the targets (issue 11, item 6)", "", *targets(rows), "",
             "## Collaborative proving", "",
             "Every proof of every run was made by the 3 `omnidsl serve` processes; per proof "
             "(the deal of the DO's witness excluded): wall time, CPU per server (mean of the "
             "3) and bytes sent per server (the most of the 3).  The machine has 2 cores, "
             "shared by the 3 servers, the DOs, the MO, anvil and other engineers' jobs (load "
             "average 3 to 10 during these runs), so the wall times are upper bounds.", "",
             proving_table(runs), ""]
    lines += _adaptive_cosine(runs, rows, tables[1])
    lines += ["![accuracy per round](results_accuracy.png)", "",
              "![accepted and refused data owners per round](results_verdicts.png)", "",
              "![gas per round](results_gas.png)", "",
              "## Regenerate", "", "```", "python benchmarks/market_results.py tune --rounds 15",
              *(command(r) for r in runs),
              "python benchmarks/market_results.py report --runs docs/runs --out docs", "```", "",
              "Attacks run: " + ", ".join(a for a in ATTACKS if a in known) + ".  The runs' "
              "JSON (every round's verdicts with the reasons, gas, accuracy, proving figures) "
              "is in docs/runs/.  The Python-only experiment (`python -m omnidsl.ml.experiment`) "
              "remains as a fast check of the rule's semantics; it is not where these numbers "
              "come from.", ""]
    out.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines))
    os.chmod(tmp, 0o644)
    os.replace(tmp, out / "results.md")
