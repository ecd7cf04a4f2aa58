"""omnidsl/report (charts, report folders) and benchmarks/charts.py (the benches' charts):
valid PNGs, written all or nothing."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from omnidsl.errors import OmniDSLError
from omnidsl.report import plots
from omnidsl.report.files import check_new_dir, new_dir

ROOT = Path(__file__).resolve().parents[2]


def _charts_module():
    spec = importlib.util.spec_from_file_location("bench_charts", ROOT / "benchmarks" / "charts.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _png(path: Path) -> bool:
    return path.read_bytes().startswith(plots.PNG_MAGIC) and path.stat().st_size > 5_000


def test_the_bench_charts_are_pngs_beside_the_tables(tmp_path, monkeypatch, capsys) -> None:
    charts = _charts_module()
    monkeypatch.setenv("OMNIDSL_BENCH_OUT", str(tmp_path / "out"))
    prove = charts.prove_time_chart([
        {"constraints": 4_000, "snarkjs_prove_s": 0.9, "omnidsl_prove_cli_s": 0.5,
         "omnidsl_prove_inprocess_s": 0.1},
        {"constraints": 30_000, "snarkjs_prove_s": 3.1, "omnidsl_prove_cli_s": 1.2,
         "omnidsl_prove_inprocess_s": 0.6}])
    mpc = charts.collaborative_cost_chart([
        {"d": 1000, "n": 1, "config": "plain", "wall": 0.2, "cpu": 0.2},
        {"d": 1000, "n": 2, "config": "split/bounded", "wall": 0.5, "cpu": 0.25},
        {"d": 1000, "n": 3, "config": "split/bounded", "wall": 0.7, "cpu": 0.27}])
    gas = charts.gas_chart([{"ell": 1, "ours_tx": 214_029, "snarkjs_tx": 214_294,
                             "target": 206_300},
                            {"ell": 2, "ours_tx": 220_798, "snarkjs_tx": 221_195,
                             "target": 212_600}])
    out = capsys.readouterr().out
    for p in (prove, mpc, gas):
        assert p is not None and p.parent == tmp_path / "out" and _png(p)
        assert f"chart: {p}" in out
    assert sorted(q.name for q in (tmp_path / "out").iterdir()) == sorted(
        ["prove_time.png", "collaborative_cost.png", "verifier_gas.png"])  # no temporaries


def test_a_chart_without_matplotlib_is_one_line_not_a_traceback(tmp_path, monkeypatch,
                                                                capsys) -> None:
    charts = _charts_module()
    monkeypatch.setenv("OMNIDSL_BENCH_OUT", str(tmp_path))

    def missing(*_a: object, **_k: object) -> None:
        raise OmniDSLError("charts need matplotlib, which is not installed",
                           hint="pip install 'omnidsl[plot]'")

    monkeypatch.setattr(charts.plots, "line_chart", missing)
    assert charts.gas_chart([{"ell": 1, "ours_tx": 1, "snarkjs_tx": 1, "target": 1}]) is None
    assert "not drawn: charts need matplotlib" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_bar_and_line_charts(tmp_path) -> None:
    plots.bar_chart(tmp_path / "b.png", ["1", "2"], {"a": [1, 2], "b": [2, 1]}, "t", "x", "y")
    plots.bar_chart(tmp_path / "s.png", ["1", "2"], {"a": [1, 2], "b": [2, 1]}, "t", "x", "y",
                    stacked=False)
    plots.line_chart(tmp_path / "l.png", [1, 2, 3], {"a": [1.0, None, 3.0]}, "t", "x", "y")
    assert all(_png(tmp_path / n) for n in ("b.png", "s.png", "l.png"))


def test_a_report_folder_is_all_or_nothing(tmp_path) -> None:
    with new_dir(tmp_path / "r") as d:
        (d / "a.txt").write_text("a")
        assert not (tmp_path / "r").exists()  # nothing at the target until the end
    assert (tmp_path / "r" / "a.txt").read_text() == "a"
    with pytest.raises(RuntimeError), new_dir(tmp_path / "r2") as d:
        (d / "a.txt").write_text("a")
        raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]
    with pytest.raises(OmniDSLError, match="not empty"):
        check_new_dir(tmp_path / "r")
    with pytest.raises(OmniDSLError, match="does not exist"):
        check_new_dir(tmp_path / "no" / "r")
    (tmp_path / "empty").mkdir()
    with new_dir(tmp_path / "empty") as d:  # an empty folder may be the target
        (d / "x").write_text("x")
    assert (tmp_path / "empty" / "x").exists()
