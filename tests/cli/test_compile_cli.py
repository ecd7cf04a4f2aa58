"""`omnidsl compile` / `omnidsl witness`: files, report, and one-line located errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from omnidsl.cli import main
from omnidsl.r1cs.r1csfile import read_r1cs
from omnidsl.r1cs.wtnsfile import read_wtns

RULE = """rule Small(D = 4) {
    private g: fixed[D] bits 16 frac 12;
    public  m: fixed bits 32 frac 12;
    assert all(abs(g[i]) <= 4.0 for i in 0..D), "entry too large";
    assert sum(g[i] * g[i] for i in 0..D) <= m * m;
    output total = sum(g[i] for i in 0..D);
}
"""


@pytest.fixture()
def rule(tmp_path: Path) -> Path:
    p = tmp_path / "small.omni"
    p.write_text(RULE)
    return p


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def write_json(tmp_path: Path, data, name: str = "in.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return p


def test_compile_writes_files_and_report(rule, tmp_path, capsys):
    code, out, err = run(capsys, "compile", str(rule), "-o", str(tmp_path / "b"), "--report",
                         "--param", "D=6", "-O2")
    assert code == 0, err
    r1cs = read_r1cs(tmp_path / "b" / "small.r1cs")
    desc = json.loads((tmp_path / "b" / "small.json").read_text())
    assert desc["params"] == {"D": 6} and desc["n_constraints"] == r1cs.n_constraints
    assert (r1cs.n_pub_out, r1cs.n_pub_in, r1cs.n_prv_in) == (1, 1, 6)
    assert "main.g[5]" in (tmp_path / "b" / "small.sym").read_text()
    assert f"{r1cs.n_constraints} constraints" in out
    assert "  line  constraints  source" in out and "assert all(abs(g[i])" in out


def test_compile_levels(rule, tmp_path, capsys):
    counts = []
    for lvl in ("-O0", "-O1", "-O2"):
        code, _, err = run(capsys, "compile", str(rule), lvl, "-o", str(tmp_path / lvl))
        assert code == 0, err
        counts.append(read_r1cs(tmp_path / lvl / "small.r1cs").n_constraints)
    assert counts[0] >= counts[1] >= counts[2] and counts[0] > counts[2]


def test_witness_roundtrip(rule, tmp_path, capsys):
    inp = write_json(tmp_path, {"g": [0.5, -1.0, 0.25, 3.0], "m": 4})
    wt = tmp_path / "w.wtns"
    pub = tmp_path / "public.json"
    code, out, err = run(capsys, "witness", str(rule), str(inp), "-o", str(wt), "--public",
                         str(pub))
    assert code == 0, err
    assert "total = 2.75" in out
    w = read_wtns(wt)
    assert w.shape[1] == 4 and w.shape[0] > 4
    assert json.loads(pub.read_text()) == [str(int(2.75 * 4096)), str(4 * 4096)]


@pytest.mark.parametrize("data,msg", [
    ({"g": [0.5, 0, 0, 0]}, "missing input 'm'"),
    ({"g": [0.5, 0, 0], "m": 1}, "input 'g' needs 4 values, got 3"),
    ({"g": [0.5, 0, 0, 0], "m": 1, "x": 2}, "unknown input 'x'"),
    ('{"g": [NaN, 0, 0, 0], "m": 1}', "input g[0] is nan"),
    ({"g": [0.5, 0, 9.0, 0], "m": 1}, "input g[2] = 9.0 is out of range"),
    ({"g": [0.5, 0, True, 0], "m": 1}, "must be a number"),
    ({"g": 1, "m": 1}, "input 'g' is a vector of 4"),
    ('{"g": [1, 2,', "invalid JSON"),
    ({"g": [4.5, 0, 0, 0], "m": 10}, "assertion failed: abs(g[i]) = 4.5 > 4.0 at i = 0 (entry"),
    ({"g": [1, 1, 0, 0], "m": 1}, "assertion failed: sum(g[i] * g[i] for i in 0..D) = 2 > m * m"),
])
def test_witness_input_errors(rule, tmp_path, capsys, data, msg):
    inp = write_json(tmp_path, data)
    code, _, err = run(capsys, "witness", str(rule), str(inp), "-o", str(tmp_path / "w.wtns"))
    assert code == 1
    assert msg in err
    assert "Traceback" not in err and not (tmp_path / "w.wtns").exists()


@pytest.mark.parametrize("src,msg,line", [
    ("rule R { private x: fixed; assert y > 0; }", "unknown name 'y'", "1:35"),
    ("rule R { private x: fixed[3]; assert x > 0.1; }", "not exactly representable", "1:"),
    ("rule R {\n private x: fixed bits 200;\n let y = x * x;\n}", "beyond the 2^250 limit", "3:10"),
    ("rule R { private x: fixed; assert x > ; }", "error", "1:"),
])
def test_compile_errors_are_one_located_message(tmp_path, capsys, src, msg, line):
    p = tmp_path / "bad.omni"
    p.write_text(src)
    code, _, err = run(capsys, "compile", str(p), "-o", str(tmp_path))
    assert code == 1
    first = err.splitlines()[0]
    assert first.startswith(f"{p}:{line}") and msg in err
    assert "Traceback" not in err


def test_bad_param_and_missing_file(rule, tmp_path, capsys):
    code, _, err = run(capsys, "compile", str(rule), "--param", "D=x")
    assert code == 2 and "--param D needs an integer" in err  # a usage error
    assert "usage: omnidsl compile" in err
    code, _, err = run(capsys, "compile", str(rule), "--param", "E=3")
    assert code == 1 and "has no parameter 'E'" in err
    code, _, err = run(capsys, "compile", str(tmp_path / "nope.omni"))
    assert code == 1 and "cannot read" in err


def test_subprocess_exit_code_and_no_traceback(tmp_path):
    p = tmp_path / "bad.omni"
    p.write_text("rule R { private x: fixed; assert abs(x, x) > 0; }")
    res = subprocess.run([sys.executable, "-m", "omnidsl.cli", "compile", str(p)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 1
    assert "abs() takes 1 argument(s), got 2" in res.stderr
    assert "Traceback" not in res.stderr


def test_snarkjs_accepts_and_rejects(rule, tmp_path, capsys, snarkjs):
    run(capsys, "compile", str(rule), "-o", str(tmp_path))
    inp = write_json(tmp_path, {"g": [0.5, -1.0, 0.25, 3.0], "m": 4})
    wt = tmp_path / "w.wtns"
    assert run(capsys, "witness", str(rule), str(inp), "-o", str(wt))[0] == 0
    ok = subprocess.run([str(snarkjs), "wtns", "check", str(tmp_path / "small.r1cs"), str(wt)],
                        capture_output=True, text=True)
    assert "WITNESS IS CORRECT" in ok.stdout, ok.stdout + ok.stderr
    raw = bytearray(wt.read_bytes())
    raw[-40] ^= 1  # corrupt an internal wire
    wt.write_bytes(bytes(raw))
    bad = subprocess.run([str(snarkjs), "wtns", "check", str(tmp_path / "small.r1cs"), str(wt)],
                         capture_output=True, text=True)
    assert "WITNESS IS CORRECT" not in bad.stdout


def test_witness_reuses_compile_output(rule, tmp_path, capsys):
    out = tmp_path / "build"
    assert run(capsys, "compile", str(rule), "-o", str(out), "--param", "D=5")[0] == 0
    inp = write_json(tmp_path, {"g": [0.5, -1.0, 0.25, 3.0, 0.0], "m": 4})
    a, b = tmp_path / "a.wtns", tmp_path / "b.wtns"
    assert run(capsys, "witness", str(rule), str(inp), "-o", str(a), "--param", "D=5")[0] == 0
    code, _, err = run(capsys, "witness", str(rule), str(inp), "-o", str(b), "--circuit",
                       str(out / "small.json"))
    assert code == 0, err
    assert a.read_bytes() == b.read_bytes()
    rule.write_text(RULE.replace("4.0", "3.0"))
    code, _, err = run(capsys, "witness", str(rule), str(inp), "-o", str(b), "--circuit",
                       str(out / "small.json"))
    assert code == 1 and "different rule text" in err
    code, _, err = run(capsys, "witness", str(rule), str(inp), "-o", str(b), "--circuit",
                       str(inp))
    assert code == 1 and "not a circuit description" in err
