"""The compile pipeline (omnidsl/compiler/pipeline.py): each stage runs once and only when asked
for; the cache stores the compiled stage (a hit neither lowers nor optimises); `setup` and
`witness --circuit` take the compiled output instead of recompiling."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import omnidsl.compiler.pipeline as pipeline
from omnidsl.cli import main
from omnidsl.compiler import Pipeline, compile_rule
from omnidsl.compiler.builder import Builder
from omnidsl.groth16.keys import read_proving_key
from omnidsl.groth16.setup import r1cs_equal
from omnidsl.r1cs.wtnsfile import read_wtns

SRC = """rule P(D = 5) {
    private g: fixed[D] bits 12 frac 8;
    public  t: fixed bits 12 frac 8;
    assert all(abs(g[i]) <= t for i in 0..D);
    output s = sum(g[i] * g[i] for i in 0..D);
}
"""
INPUTS = {"g": [0.5, -1.0, 0.25, 1.5, 0.0], "t": 2.0}


class Counter:
    """Counts the calls of the stage functions the pipeline module uses."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.calls: dict[str, int] = {}
        for name in ("parse", "check", "compile_lowered"):
            real = getattr(pipeline, name)
            monkeypatch.setattr(pipeline, name, self._wrap(name, real))
        real_run = pipeline.Lowerer.run
        monkeypatch.setattr(pipeline.Lowerer, "run",
                            lambda low: self._bump("lower") or real_run(low))
        real_emit = Builder.to_r1cs
        monkeypatch.setattr(Builder, "to_r1cs",
                            lambda b, *a: self._bump("emit") or real_emit(b, *a))

    def _bump(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    def _wrap(self, name, real):
        def f(*a, **k):
            self._bump(name)
            return real(*a, **k)
        return f


def test_each_stage_runs_once(monkeypatch):
    n = Counter(monkeypatch)
    p = Pipeline(SRC, "p.omni", {"D": 5}, 2)
    assert p.rule.name == "P" and n.calls == {"parse": 1}
    assert p.checked.params == {"D": 5} and n.calls == {"parse": 1, "check": 1}
    c1, c2 = p.circuit, p.circuit
    assert c1 is c2 and p.compiled.r1cs is c1.r1cs and p.lowered.builder is c1.builder
    assert n.calls == {"parse": 1, "check": 1, "lower": 1, "compile_lowered": 1, "emit": 1}
    w = c1.witness(INPUTS)
    assert c1.decoded_outputs(w) == {"s": 0.25 + 1 + 0.0625 + 2.25}
    assert n.calls["lower"] == 1  # witnesses run the stored program, no lowering


def test_same_circuit_as_compile_rule():
    for level in (0, 1, 2):
        a = compile_rule(SRC, "p.omni", None, level)
        b = Pipeline(SRC, "p.omni", None, level).circuit
        assert r1cs_equal(a.r1cs, b.r1cs) and np.array_equal(a.kept, b.kept)
        assert a.n_constraints_o0 == b.n_constraints_o0 > 0
        assert np.array_equal(a.witness(INPUTS), b.witness(INPUTS))


def test_from_checked_skips_the_front_end(monkeypatch):
    checked = Pipeline(SRC, "p.omni").checked
    n = Counter(monkeypatch)
    c = Pipeline.from_checked(checked, 1).circuit
    assert c.rule is checked and c.opt_level == 1
    assert "parse" not in n.calls and "check" not in n.calls


def test_cache_hit_neither_lowers_nor_optimises(tmp_path, monkeypatch):
    first = Pipeline(SRC, "p.omni", None, 2, tmp_path).compiled
    n = Counter(monkeypatch)
    again = Pipeline(SRC, "p.omni", None, 2, tmp_path)
    assert r1cs_equal(again.compiled.r1cs, first.r1cs)
    assert np.array_equal(again.compiled.kept, first.kept)
    assert n.calls == {"parse": 1, "check": 1}  # the key needs the checked rule, nothing more
    c = again.circuit  # a witness program: lowered now, blocks dropped, nothing emitted
    assert n.calls == {"parse": 1, "check": 1, "lower": 1}
    assert not c.builder.blocks
    assert c.decoded_outputs(c.witness(INPUTS))["s"] == 3.5625


def test_a_cache_entry_that_does_not_fit_is_compiled_again(tmp_path):
    first = Pipeline(SRC, "p.omni", None, 2, tmp_path).circuit
    (entry,) = (tmp_path / "compiled").iterdir()
    meta = json.loads((entry / "meta.json").read_text())
    meta["n_constraints_o0"] += 1  # as if another lowering had written it
    (entry / "meta.json").write_text(json.dumps(meta))
    again = Pipeline(SRC, "p.omni", None, 2, tmp_path).circuit
    assert again.n_constraints_o0 == first.n_constraints_o0
    assert r1cs_equal(again.r1cs, first.r1cs)
    assert np.array_equal(again.witness(INPUTS), first.witness(INPUTS))
    meta = json.loads((entry / "meta.json").read_text())  # stored again, right this time
    assert meta["n_constraints_o0"] == first.n_constraints_o0


def test_bad_level_is_refused_at_once():
    with pytest.raises(ValueError, match="optimisation level"):
        Pipeline(SRC, "p.omni", None, 3)


@pytest.fixture
def work(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OMNIDSL_CACHE", str(tmp_path / "cache"))
    (tmp_path / "p.omni").write_text(SRC)
    (tmp_path / "in.json").write_text(json.dumps(INPUTS))
    return tmp_path


def test_setup_takes_the_compiled_output(work, monkeypatch, capsys):
    assert main(["compile", "p.omni", "-o", "out"]) == 0
    n = Counter(monkeypatch)
    assert main(["setup", "p.omni", "-o", "keys"]) == 0, capsys.readouterr().err
    assert "lower" not in n.calls and "emit" not in n.calls and "compile_lowered" not in n.calls
    pk = read_proving_key(work / "keys" / "proving_key.bin")
    assert r1cs_equal(pk.r1cs, Pipeline(SRC, "p.omni").compiled.r1cs)


def test_witness_from_compile_files_does_not_optimise(work, monkeypatch, capsys):
    import omnidsl.compiler.optimise as optimise

    monkeypatch.setenv("OMNIDSL_CACHE", "off")
    assert main(["compile", "p.omni", "-o", "out"]) == 0
    assert main(["witness", "p.omni", "in.json", "-o", "a.wtns"]) == 0
    n = Counter(monkeypatch)
    monkeypatch.setattr(optimise, "optimise", lambda *a, **k: pytest.fail("optimised again"))
    code = main(["witness", "p.omni", "in.json", "-o", "b.wtns", "--circuit", "out/p.json"])
    assert code == 0, capsys.readouterr().err
    assert n.calls == {"parse": 1, "check": 1, "lower": 1, "compile_lowered": 1, "emit": 1}
    assert np.array_equal(read_wtns(work / "a.wtns"), read_wtns(work / "b.wtns"))


def test_a_lowering_bug_names_the_statement(monkeypatch):
    import omnidsl.compiler.gadgets as gadgets
    from omnidsl.errors import InternalError

    def broken(*a, **k):
        raise InternalError("mul broke")

    monkeypatch.setattr(gadgets, "mul", broken)
    # the first product is abs(g[i])'s, in the assertion on line 4
    with pytest.raises(InternalError, match=r"mul broke \(while lowering p\.omni:4:5\)"):
        _ = Pipeline(SRC, "p.omni").circuit
