"""The README's quickstart and production-setup commands run as written (in a scratch copy of the
repository's `circuits/`), so the tour stays exact.  The collaborative lines (servers-init,
serve, prove --servers) and the market demo are exercised by tests/mpc and tests/market."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest

from omnidsl.cli import main

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
    for verb in ("compile", "r1cs info", "witness", "wtns check", "setup dev", "prove",
                 "verify ", "export-verifier", "zkey export soliditycalldata", "verify-onchain"):
        assert f"omnidsl {verb}" in joined, verb
    assert [ln.split()[2] for ln in production] == ["phase2", "contribute", "contribute",
                                                     "verify"]
    data = json.loads((ROOT / "circuits" / "norm_bound.input.json").read_text())
    assert len(data["g"]) == 8  # the tour's --param D=8


@pytest.mark.slow
def test_the_tour_runs(tmp_path, monkeypatch, capsys):
    from omnidsl.market.circom_rule import shared_ptau

    shutil.copytree(ROOT / "circuits", tmp_path / "circuits")
    (tmp_path / "pot.ptau").symlink_to(shared_ptau())
    monkeypatch.chdir(tmp_path)
    tour, production = blocks()
    for line in tour + production:
        if any(s in line for s in SKIP):
            continue
        argv = shlex.split(line)[1:]
        code = main(argv)
        out = capsys.readouterr()
        assert code == 0, f"{line}\n{out.out}\n{out.err}"
    assert (tmp_path / "keys_0002" / "proving_key.bin").exists()
    assert (tmp_path / "keys_0000" / "proving_key.bin").exists()  # nothing overwritten
