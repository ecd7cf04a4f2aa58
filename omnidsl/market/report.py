"""``market demo --report DIR``: the run's pictures and an HTML page, written all or nothing.

DIR holds ``accuracy.png`` (test accuracy after each round), ``outcomes.png`` (accepted and
refused data owners per round), ``gas.png`` (gas of the batch and of the commitments per round),
``payments.png`` (rewards to data owners, fees and bonds to servers, reclaimed by the model owner,
per round), ``rounds.json`` (the numbers drawn) and ``index.html`` (the pictures and one section
per round: its task, who was accepted, who was refused and why).
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omnidsl.report import html, plots
from omnidsl.report.files import new_dir

if TYPE_CHECKING:
    from omnidsl.market.demo import RoundReport

#: The report's files.
FILES = ("index.html", "rounds.json", "accuracy.png", "outcomes.png", "gas.png", "payments.png")
WEI_PER_ETH = 10**18


def round_rows(reports: list[RoundReport], owners: int, servers: int) -> list[dict[str, Any]]:
    """Per round: what the report draws.  Server payouts are what the escrow lost to neither the
    data owners nor the reclaim (the fees of the servers that delivered, wei)."""
    from omnidsl.market.demo import FEE, REWARD

    escrow = owners * (REWARD + servers * FEE)
    rows = []
    for r in reports:
        rewards = REWARD * len(r.accepted)
        rows.append({"round": r.round, "task": r.task_id, "accepted": r.accepted,
                     "refused": {str(k): v for k, v in sorted(r.rejected.items())},
                     "batch_gas": r.batch_gas, "commit_gas": r.commit_gas,
                     "batch_size": r.batch_size, "binding_ok": r.binding_ok,
                     "accuracy": r.accuracy, "escrow_wei": escrow, "rewards_wei": rewards,
                     "server_fees_wei": escrow - rewards - r.reclaimed,
                     "reclaimed_wei": r.reclaimed,
                     "times_s": {k: round(v, 4) for k, v in r.times.items()}})
    return rows


def _charts(d: Path, rows: list[dict[str, Any]]) -> None:
    x = [r["round"] for r in rows]
    labels = [str(v) for v in x]
    plots.line_chart(d / "accuracy.png", x, {"test accuracy": [r["accuracy"] for r in rows]},
                     "Model accuracy after each round", "round", "accuracy", integer_x=True)
    plots.bar_chart(d / "outcomes.png", labels,
                    {"accepted": [len(r["accepted"]) for r in rows],
                     "refused": [len(r["refused"]) for r in rows]},
                    "Data owners per round", "round", "data owners",
                    colors=["#38a169", "#e53e3e"])
    plots.bar_chart(d / "gas.png", labels,
                    {"batch (submitBatch)": [r["batch_gas"] for r in rows],
                     "commitments + reveals": [r["commit_gas"] for r in rows]},
                    "Gas per round", "round", "gas", stacked=False)
    eth = WEI_PER_ETH
    plots.bar_chart(d / "payments.png", labels,
                    {"rewards to data owners": [r["rewards_wei"] / eth for r in rows],
                     "fees to servers": [r["server_fees_wei"] / eth for r in rows],
                     "reclaimed by the model owner": [r["reclaimed_wei"] / eth for r in rows]},
                    "Escrow per round: where it went", "round", "ETH")


def _page(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    eth = WEI_PER_ETH
    setup = ", ".join(f"{escape(str(k))} {escape(str(v))}" for k, v in meta.items())
    summary = html.table(
        ["round", "task", "accepted", "refused", "batch gas", "commit gas", "rewards ETH",
         "fees ETH", "reclaimed ETH", "binding", "accuracy"],
        [[r["round"], r["task"], len(r["accepted"]), len(r["refused"]), f"{r['batch_gas']:,}",
          f"{r['commit_gas']:,}", f"{r['rewards_wei'] / eth:g}",
          f"{r['server_fees_wei'] / eth:g}", f"{r['reclaimed_wei'] / eth:g}",
          {None: "n/a", True: "ok", False: "FAIL"}[r["binding_ok"]], f"{r['accuracy']:.4f}"]
         for r in rows], numeric=range(2, 9))
    parts = [f'<p class="muted">{setup}</p>', "<h2>Summary</h2>", summary,
             '<img src="accuracy.png" alt="accuracy per round">'
             '<img src="outcomes.png" alt="accepted and refused per round">',
             '<img src="gas.png" alt="gas per round">'
             '<img src="payments.png" alt="payments per round">']
    for r in rows:
        refused = html.table(["data owner", "why refused"],
                             [[f"DO{k}", why] for k, why in r["refused"].items()]) \
            if r["refused"] else "<p>none refused</p>"
        accepted = ", ".join(f"DO{i}" for i in r["accepted"]) or "none"
        parts.append(f'<section id="round-{r["round"]}"><h2>Round {r["round"]} (task '
                     f'{r["task"]})</h2><p>accepted: {escape(accepted)}; accuracy after the '
                     f'update {r["accuracy"]:.4f}; batch gas {r["batch_gas"]:,}</p>{refused}'
                     "</section>")
    return html.page("omnidsl market demo report", parts)


def write_demo_report(reports: list[RoundReport], out: Path, meta: dict[str, Any]) -> Path:
    """Write the report folder ``out`` (a new folder; all or nothing); returns its index.html.
    ``meta`` describes the run (shown on the page); its ``owners`` and ``servers`` are needed."""
    rows = round_rows(reports, int(meta["owners"]), int(meta["servers"]))
    with new_dir(out) as d:
        _charts(d, rows)
        (d / "rounds.json").write_text(json.dumps({"meta": meta, "rounds": rows}, indent=1)
                                       + "\n", encoding="utf-8")
        (d / "index.html").write_text(_page(rows, meta), encoding="utf-8")
    return Path(out) / "index.html"
