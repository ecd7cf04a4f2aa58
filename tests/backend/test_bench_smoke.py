"""The backend benchmark runs end to end at tiny sizes and prints native/reference ratios."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "backend_bench.py"


def test_backend_bench_quick(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("backend_bench", BENCH)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--quick", "--reps", "1"]) == 0
    out = capsys.readouterr().out
    assert "G1 MSM 2^8 random scalars" in out and "FFT 2^10" in out
    assert "EXTRAPOLATED" in out
    ratios = [float(line.split()[-1].rstrip("x")) for line in out.splitlines() if line.endswith("x")]
    assert len(ratios) >= 4 and all(r > 1 for r in ratios)
