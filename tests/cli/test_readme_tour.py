"""The README's quickstart and production-setup commands run as written, from an empty folder
(`omnidsl init` writes the example rule, input and test), so the tour stays exact.  The
collaborative lines (servers-init, serve, prove --servers) and the market demo are exercised by
tests/mpc and tests/market."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from omnidsl.cli import main
from omnidsl.examples import SCAFFOLD, example

ROOT = Path(__file__).resolve().parents[2]
SKIP = ("servers-init", "serve ", "--servers", "market demo")


def blocks() -> list[list[str]]:
    """The `omnidsl ...` lines of each code block of the README's quickstart section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    out = []
    for block in re.findall(r"```\n(.*?)```", section, flags=re.S):
        lines = [ln.split("  #")[0].strip() for ln in block.splitlines()]
        out.append([ln for ln in lines if ln.startswith("omnidsl ")])
    return out


def test_the_tour_has_what_it_promises():
    tour, production = blocks()
    joined = "\n".join(tour)
    assert tour[0] == "omnidsl init tour"
    for verb in ("compile", "r1cs info", "witness", "wtns check", "setup dev", "prove",
                 "verify ", "export-verifier", "zkey export soliditycalldata", "verify-onchain"):
        assert f"omnidsl {verb}" in joined, verb
    assert [ln.split()[2] for ln in production] == ["phase2", "contribute", "contribute",
                                                     "verify"]


def test_the_shipped_example_is_the_repository_rule():
    assert example("norm_bound.omni").read_text() == (ROOT / "circuits" / "norm_bound.omni") \
        .read_text()


def test_init_writes_a_working_start_and_never_overwrites(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["init", "start"]) == 0
    assert sorted(p.name for p in (tmp_path / "start").iterdir()) == sorted(SCAFFOLD)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "test_rule.py"], cwd=tmp_path / "start", capture_output=True,
                          text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})  # (the test cache too)
    assert proc.returncode == 0 and "2 passed" in proc.stdout, proc.stdout + proc.stderr
    (tmp_path / "start" / "input.json").write_text("{}")
    capsys.readouterr()
    assert main(["init", "start"]) == 1
    assert "never overwrites" in capsys.readouterr().err
    assert (tmp_path / "start" / "input.json").read_text() == "{}"


@pytest.mark.slow
def test_the_tour_runs(tmp_path, monkeypatch, capsys):
    from omnidsl.market.circom_rule import shared_ptau

    monkeypatch.chdir(tmp_path)
    tour, production = blocks()
    assert main(shlex.split(tour[0])[1:]) == 0  # omnidsl init tour; then: cd tour
    monkeypatch.chdir(tmp_path / "tour")
    (tmp_path / "tour" / "pot.ptau").symlink_to(shared_ptau())
    for line in tour[1:] + production:
        if any(s in line for s in SKIP):
            continue
        code = main(shlex.split(line)[1:])
        out = capsys.readouterr()
        assert code == 0, f"{line}\n{out.out}\n{out.err}"
    assert (tmp_path / "tour" / "keys_0002" / "proving_key.bin").exists()
    assert (tmp_path / "tour" / "keys_0000" / "proving_key.bin").exists()  # nothing overwritten
