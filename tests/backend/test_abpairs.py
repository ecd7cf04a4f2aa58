"""benchmarks/abpairs.py: side-by-side repetitions alternate and report per-pair ratios."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

MOD = Path(__file__).resolve().parents[2] / "benchmarks" / "abpairs.py"


def _load():
    spec = importlib.util.spec_from_file_location("abpairs", MOD)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["abpairs"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def test_alternate_swaps_the_order_every_pair():
    ab = _load()
    log: list[str] = []
    a, b = ab.alternate(lambda: log.append("a") or len(log), lambda: log.append("b") or len(log), 4)
    assert log == ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert a == [1, 4, 5, 8] and b == [2, 3, 6, 7]  # a[k] and b[k] come from pair k


def test_pairs_report_medians_and_per_pair_ratios():
    ab = _load()
    p = ab.Pairs([2.0, 3.0, 9.0], [1.0, 2.0, 3.0])
    assert p.ratios == [2.0, 1.5, 3.0]
    assert p.median_a == 3.0 and p.median_b == 2.0 and p.median_ratio == 2.0
    line = p.line("x", "y")
    assert "ratio of medians 1.50x" in line and "per pair [2.00, 1.50, 3.00]" in line
    assert "median per-pair 2.00x" in line and "3 alternating pairs" in line
