"""`omnidsl r1cs info|print`, `wtns check`, `wtns export json` — compared with snarkjs's own
commands on the same files (run through node, no mocks)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from omnidsl.cli import main
from omnidsl.field import R
from omnidsl.r1cs.wtnsfile import read_wtns, write_wtns

RULE = """rule Small(D = 3) {
    private g: fixed[D] bits 16 frac 12;
    public  m: fixed bits 32 frac 12;
    assert sum(g[i] * g[i] for i in 0..D) <= m * m;
    output total = sum(g[i] for i in 0..D);
}
"""


def run(capsys, *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def snarkjs_info(snarkjs: Path, *args: str | Path) -> str:
    proc = subprocess.run([str(snarkjs), *map(str, args)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout)


@pytest.fixture()
def work(tmp_path: Path, monkeypatch, capsys) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "small.omni").write_text(RULE)
    (tmp_path / "in.json").write_text(json.dumps({"g": [0.5, -1.0, 0.25], "m": 4}))
    assert main(["compile", "small.omni", "-o", "build"]) == 0
    assert main(["witness", "small.omni", "in.json", "-o", "w.wtns"]) == 0
    capsys.readouterr()
    return tmp_path


def test_r1cs_info_matches_snarkjs(work, capsys, snarkjs):
    code, out, _ = run(capsys, "r1cs", "info", "build/small.r1cs")
    assert code == 0
    ours = dict(line.split(": ", 1) for line in out.splitlines())
    theirs = dict(line.split("snarkJS: ", 1)[1].split(": ", 1)
                  for line in snarkjs_info(snarkjs, "r1cs", "info", "build/small.r1cs")
                  .splitlines() if "snarkJS: " in line)
    assert ours == theirs
    assert int(ours["# of Outputs"]) == 1 and int(ours["# of Public Inputs"]) == 1
    assert int(ours["# of Private Inputs"]) == 3
    # the rule itself gives the same figures (compiled as `compile` does)
    code, out2, _ = run(capsys, "r1cs", "info", "small.omni")
    assert code == 0 and out2 == out


def test_r1cs_print_names_and_lines(work, capsys):
    code, out, _ = run(capsys, "r1cs", "print", "build/small.r1cs")
    assert code == 0
    rows = out.splitlines()
    assert len(rows) == int(run(capsys, "r1cs", "info", "build/small.r1cs")[1]
                            .split("# of Constraints: ")[1].split()[0])
    assert all(re.fullmatch(r"\[ .* \] \* \[ .* \] - \[ .* \] = 0", r) for r in rows)
    text = "\n".join(rows)
    assert "main.g[0]" in text and "main.m" in text  # names from build/small.sym
    # from the rule: the same constraints, each with the line it comes from
    code, out, _ = run(capsys, "r1cs", "print", "small.omni")
    assert code == 0
    assert [r.split("   # ")[0] for r in out.splitlines()] == rows
    located = [r.rsplit("   # ", 1)[1] for r in out.splitlines() if "   # " in r]
    assert len(located) >= len(rows) - 1  # (the output's defining row has no line)
    assert {"small.omni:2", "small.omni:3", "small.omni:4"} <= set(located)


def test_wtns_check_accepts_and_names_the_failing_constraint(work, capsys):
    code, out, _ = run(capsys, "wtns", "check", "build/small.r1cs", "w.wtns")
    assert code == 0 and "OK" in out
    w = read_wtns("w.wtns")
    w[3] = np.frombuffer((7).to_bytes(32, "little"), "<u8")  # g[0] off its bit decomposition
    write_wtns("bad.wtns", w)
    code, _, err = run(capsys, "wtns", "check", "small.omni", "bad.wtns")
    assert code == 1
    assert "bad.wtns: constraint #" in err and "does not hold (from small.omni:2)" in err
    assert "main.g[0]" in err and "A*B = " in err and "Traceback" not in err
    code, _, err = run(capsys, "wtns", "check", "build/small.r1cs", "bad.wtns")
    assert code == 1 and "main.g[0]" in err and "from small.omni" not in err
    # a witness of another circuit: located, exit 1
    write_wtns("short.wtns", w[:-1])
    code, _, err = run(capsys, "wtns", "check", "build/small.r1cs", "short.wtns")
    assert code == 1 and "wires" in err and "another circuit" in err


def test_wtns_check_agrees_with_snarkjs(work, capsys, snarkjs):
    w = read_wtns("w.wtns")
    w[1] = np.frombuffer(((R - 5) % R).to_bytes(32, "little"), "<u8")
    write_wtns("bad.wtns", w)
    for f, ok in (("w.wtns", True), ("bad.wtns", False)):
        proc = subprocess.run([str(snarkjs), "wtns", "check", "build/small.r1cs", f],
                              capture_output=True, text=True, timeout=300)
        assert ("WITNESS IS CORRECT" in proc.stdout) is ok, proc.stdout
        assert (run(capsys, "wtns", "check", "build/small.r1cs", f)[0] == 0) is ok


def test_wtns_export_json_is_snarkjs_byte_for_byte(work, capsys, snarkjs):
    code, out, _ = run(capsys, "wtns", "export", "json", "w.wtns", "w.json")
    assert code == 0 and "w.json" in out
    snarkjs_info(snarkjs, "wtns", "export", "json", "w.wtns", "sj.json")
    assert Path("w.json").read_bytes() == Path("sj.json").read_bytes()
    values = json.loads(Path("w.json").read_text())
    assert values[0] == "1" and len(values) == read_wtns("w.wtns").shape[0]


@pytest.mark.parametrize("argv", [["r1cs", "info"], ["wtns", "export", "csv", "a", "b"],
                                  ["wtns", "check", "build/small.r1cs"]])
def test_incomplete_verbs_are_usage_errors(work, capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage: omnidsl" in capsys.readouterr().err


@pytest.mark.parametrize("verb", [["wtns"], ["r1cs"], ["wtns", "export"]])
def test_verb_without_subverb_prints_its_help(work, capsys, verb):
    code, _, err = run(capsys, *verb)
    assert code == 2 and f"usage: omnidsl {' '.join(verb)}" in err and "example" in err
