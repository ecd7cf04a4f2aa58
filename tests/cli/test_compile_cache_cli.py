"""`omnidsl compile` fills the compile cache; `witness` and `setup` of the same rule, params and
-O reuse it (no lowering to -O0 R1CS, no optimisation pass); --no-cache compiles afresh."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import omnidsl.compiler.pipeline as pipeline
from omnidsl.cli import main
from omnidsl.groth16.keys import read_proving_key
from omnidsl.r1cs.r1csfile import read_r1cs
from omnidsl.r1cs.wtnsfile import read_wtns

RULE = """rule Small(D = 4) {
    private g: fixed[D] bits 16 frac 12;
    public  t: fixed bits 16 frac 12;
    assert all(abs(g[i]) <= t for i in 0..D), "too large";
    output total = sum(g[i] for i in 0..D);
}
"""
INPUT = {"g": [0.5, -1.0, 0.25, 3.0], "t": 4}


@pytest.fixture()
def work(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OMNIDSL_CACHE", str(tmp_path / "cache"))
    (tmp_path / "small.omni").write_text(RULE)
    (tmp_path / "in.json").write_text(json.dumps(INPUT))
    return tmp_path


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_witness_and_setup_reuse_the_compile(work, capsys, monkeypatch):
    assert run(capsys, "compile", "small.omni", "--param", "D=4", "-o", "out")[0] == 0
    compiled = read_r1cs(work / "out" / "small.r1cs")
    monkeypatch.setattr(pipeline, "compile_lowered",
                        lambda *a, **k: pytest.fail("recompiled although cached"))
    code, text = run(capsys, "witness", "small.omni", "in.json", "-o", "w.wtns")
    assert code == 0, text
    assert "total = 2.75" in text
    assert read_wtns(work / "w.wtns").shape[0] == compiled.n_wires
    code, text = run(capsys, "setup", "small.omni", "-o", "keys")
    assert code == 0, text
    pk = read_proving_key(work / "keys" / "proving_key.bin")
    assert pk.r1cs.to_rows() == compiled.to_rows()
    assert pk.r1cs.wire_bits is not None  # widths survive the cache (unlike a .r1cs file)


def test_other_level_or_no_cache_compiles(work, capsys, monkeypatch):
    assert run(capsys, "compile", "small.omni", "-o", "out")[0] == 0
    calls = []
    real = pipeline.compile_lowered
    monkeypatch.setattr(pipeline, "compile_lowered", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert run(capsys, "witness", "small.omni", "in.json", "-o", "w.wtns", "-O", "1")[0] == 0
    assert run(capsys, "witness", "small.omni", "in.json", "-o", "w.wtns", "--no-cache")[0] == 0
    assert run(capsys, "setup", "small.omni", "-o", "keys", "--no-cache")[0] == 0
    assert len(calls) == 3
    assert run(capsys, "witness", "small.omni", "in.json", "-o", "w.wtns", "-O", "1")[0] == 0
    assert len(calls) == 3  # -O1 is cached now


def test_cache_off(work, capsys, monkeypatch):
    monkeypatch.setenv("OMNIDSL_CACHE", "off")
    assert run(capsys, "compile", "small.omni", "-o", "out")[0] == 0
    assert run(capsys, "witness", "small.omni", "in.json", "-o", "w.wtns")[0] == 0
    assert not (work / "cache").exists()
