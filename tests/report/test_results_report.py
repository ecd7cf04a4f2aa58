"""benchmarks/market_results.py + results_report.py (docs/results.md from the market runs): each
run is compared with the honest-only run of the same model, root set and round; the targets of
issue 11 are stated met or not from the rounds' verdicts; only server-proved runs are reported."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import market_results as mr  # noqa: E402
import results_report as rr  # noqa: E402

HONEST = [False] * 8
BAD = [True] * 3 + [False] * 5


def _run(attack: str, accs: list[float], accepted: list[list[int]], root: int = 100,
         prover: str = "mpc", malicious: list[bool] | None = None) -> mr.Run:
    rounds = [{"round": k + 1, "accepted": a, "rejected": {}, "batch_gas": 1000,
               "commit_gas": 10, "accuracy": acc, "binding_ok": True,
               "mpc": {"proofs": float(len(a)), "prove_s": 2.0, "cpu_s": 1.0, "mb_sent": 3.0}}
              for k, (acc, a) in enumerate(zip(accs, accepted, strict=True))]
    return mr.Run("logreg", attack, prover, "anvil", 8, malicious or
                  (HONEST if attack == "honest" else BAD), 0.2, 1.0, 0.01, 650, 0.1, rounds,
                  60.0, root)


def test_a_run_is_compared_with_the_honest_run_of_its_root_set_and_round():
    runs = [_run("honest", [0.5, 0.8, 0.9], [list(range(8))] * 3),
            _run("honest", [0.6, 0.95], [list(range(8))] * 2, root=400),
            _run("label_flip", [0.5, 0.7], [list(range(3, 8))] * 2),
            _run("adaptive_cosine", [0.5, 0.9], [list(range(8))] * 2, root=400)]
    rows = {(x["attack"], x["root"]): x for x in mr.summary_rows(runs)}
    assert rows["label_flip", 100]["honest_only"] == 0.8  # round 2 of the root-100 baseline
    assert rows["label_flip", 100]["delta_pts"] == pytest.approx(-10.0)
    assert rows["adaptive_cosine", 400]["honest_only"] == 0.95
    assert rows["adaptive_cosine", 400]["delta_pts"] == pytest.approx(-5.0)
    assert rows["adaptive_cosine", 400]["mal_refused"] == 0.0


def test_the_targets_name_the_runs_that_meet_them_and_those_that_do_not():
    runs = [_run("honest", [0.9] * 4, [list(range(8))] * 4),
            _run("sign_flip", [0.9] * 4, [list(range(3, 8))] * 4),
            # one malicious DO paid in round 3: not "refused every round"
            _run("scaling", [0.9] * 4, [list(range(3, 8))] * 2 + [[0, *range(3, 8)]]
                 + [list(range(3, 8))]),
            _run("label_flip", [0.9, 0.9, 0.9, 0.85], [list(range(3, 8))] * 4),
            # two honest DOs refused every round: 2 per round in this run
            _run("adaptive", [0.9] * 4, [list(range(5, 8))] * 4)]
    text = "\n".join(rr.targets(mr.summary_rows(runs)))
    assert "met by sign_flip (logreg, 4 rounds); **not met** by scaling (logreg, 4 rounds); " \
           "not run: gaussian_noise." in text
    assert "met by adaptive (logreg, 4 rounds); **not met** by label_flip (logreg, 4 rounds)." \
        in text
    # (0 + 0 + 0 + 0 + 2·4) / 20 rounds
    assert "**At most one honest DO refused per round on average**: met — 0.40 per round " \
           "over all 20 rounds" in text
    assert "worst run: adaptive (logreg, 4 rounds), 2.00" in text


def test_the_report_is_built_from_server_proved_runs_only(tmp_path):
    runs = [_run("honest", [0.9], [list(range(8))]),
            _run("sign_flip", [0.9], [list(range(3, 8))], prover="local")]
    with pytest.raises(SystemExit, match="server-proved runs only; logreg: sign_flip \\(local\\)"):
        rr.write_results(runs, tmp_path, ("", ""))
    assert not (tmp_path / "results.md").exists()  # nothing written
    rr.write_results(runs[:1], tmp_path, ("", ""))
    text = (tmp_path / "results.md").read_text()
    assert "| logreg: honest | 1 | 8 | 2.00 | 1.00 | 3.00 | 1.0 |" in text


def test_runs_saved_before_the_root_option_load_with_the_default_root_set(tmp_path):
    old = asdict(_run("honest", [0.9], [list(range(8))]))
    del old["root_size"]
    (tmp_path / "logreg-honest-mpc.json").write_text(json.dumps(old))
    new = _run("adaptive_cosine", [0.8], [list(range(8))], root=400)
    (tmp_path / mr.run_name("logreg", "adaptive_cosine", "mpc", 400)).write_text(
        json.dumps(asdict(new)))
    runs = mr.load_runs(tmp_path)
    assert [(r.attack, r.root_size) for r in runs] == [("honest", 100), ("adaptive_cosine", 400)]
    assert mr.run_name("logreg", "adaptive_cosine", "mpc", 400) == \
        "logreg-adaptive_cosine-mpc-root400.json"


def test_the_larger_root_set_is_judged_at_the_round_both_runs_reached(tmp_path):
    every = [list(range(8))]
    runs = [_run("honest", [0.5, 0.8, 0.9, 0.9], every * 4),
            _run("adaptive_cosine", [0.4, 0.6, 0.7, 0.8], every * 4),
            _run("honest", [0.5, 0.8], every * 2, root=400),
            _run("adaptive_cosine", [0.5, 0.75], every * 2, root=400)]
    assert [(root, acc, base) for root, acc, base in rr.same_round(runs, "adaptive_cosine", 2)] \
        == [(100, 0.6, 0.8), (400, 0.75, 0.8)]
    rr.write_results(runs, tmp_path, ("", ""))
    text = (tmp_path / "results.md").read_text()
    assert "At the same round (2): root set 100: 0.600 against 0.800 (Δ -20.0 points); root " \
           "set 400: 0.750 against 0.800 (Δ -5.0 points)." in text
    assert "at round 2 the root set of 400 narrows the gap from -20.0 to -5.0 points " \
           "(-5.000: not within 2) (that run stops at round 2, for time)" in text
