"""The compile cache: a hit gives the same circuit without the optimisation pass; any change of
source, params, level or compiler misses; broken entries are misses; eviction keeps it small."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import omnidsl.compiler.cache as cache
import omnidsl.compiler.pipeline as pipeline
from omnidsl.compiler import compile_rule
from omnidsl.compiler.cache import cache_root, compile_cached
from omnidsl.groth16.setup import r1cs_equal

SRC = """rule T(D = 6) {
    private g: fixed[D] bits 16 frac 12;
    public  t: fixed bits 16 frac 12;
    assert sum(1 if abs(g[i]) > t else 0 for i in 0..D) <= 3, "too many";
    output n = sum(1 if g[i] > t else 0 for i in 0..D);
}
"""
INPUTS = {"g": [0.5, -0.25, 0.0, 1.5, 0.125, -2.0], "t": 1.0}


@pytest.fixture
def root(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("OMNIDSL_CACHE", str(tmp_path / "c"))
    return tmp_path / "c"


def entries(root: Path) -> list[Path]:
    folder = root / "compiled"
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".")) \
        if folder.exists() else []


def no_compiling(monkeypatch) -> None:
    monkeypatch.setattr(pipeline, "compile_lowered",
                        lambda *a, **k: pytest.fail("compiled although cached"))


def test_hit_is_the_same_circuit_without_optimising(root, monkeypatch):
    first = compile_cached(SRC, "t.omni")
    assert len(entries(root)) == 1
    no_compiling(monkeypatch)
    again = compile_cached(SRC, "t.omni")
    assert r1cs_equal(again.r1cs, first.r1cs)
    assert np.array_equal(again.kept, first.kept)
    assert np.array_equal(again.r1cs.wire_bits, first.r1cs.wire_bits)
    assert np.array_equal(again.r1cs.constraint_line, first.r1cs.constraint_line)
    assert again.r1cs.labels == first.r1cs.labels
    assert again.n_constraints_o0 == first.n_constraints_o0
    w = again.witness(INPUTS)
    assert np.array_equal(w, first.witness(INPUTS))
    assert again.decoded_outputs(w) == {"n": 1}


def test_same_as_uncached_compile(root):
    cached = compile_cached(SRC, "t.omni", {"D": 6}, 1)
    cached = compile_cached(SRC, "t.omni", {"D": 6}, 1)  # from the entry
    plain = compile_rule(SRC, "t.omni", {"D": 6}, 1)
    assert r1cs_equal(cached.r1cs, plain.r1cs)


def test_every_key_component_misses(root, monkeypatch):
    compile_cached(SRC, "t.omni")
    compile_cached(SRC, "t.omni", {"D": 6})  # the same effective params: a hit
    assert len(entries(root)) == 1
    compile_cached(SRC, "t.omni", {"D": 7})
    compile_cached(SRC, "t.omni", None, 1)
    compile_cached(SRC.replace("<= 3", "<= 4"), "t.omni")
    monkeypatch.setattr(cache, "_DIGEST", "another compiler")
    compile_cached(SRC, "t.omni")
    assert len(entries(root)) == 5


@pytest.mark.parametrize("damage", ["meta", "array", "shape", "format"])
def test_broken_entry_is_a_miss(root, damage):
    good = compile_cached(SRC, "t.omni")
    (entry,) = entries(root)
    if damage == "meta":
        (entry / "meta.json").write_text("{not json", encoding="utf-8")
    elif damage == "array":
        (entry / "A_wire.npy").write_bytes(b"\x93NUMPY garbage")
    elif damage == "shape":
        np.save(entry / "kept.npy", np.arange(3))
    else:
        meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
        meta["format"] = 99
        (entry / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    again = compile_cached(SRC, "t.omni")
    assert r1cs_equal(again.r1cs, good.r1cs)
    assert np.array_equal(again.witness(INPUTS), good.witness(INPUTS))
    assert len(entries(root)) == 1  # replaced by a fresh entry


def test_off_and_no_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNIDSL_CACHE", "off")
    assert cache_root() is None
    compile_cached(SRC, "t.omni")
    monkeypatch.setenv("OMNIDSL_CACHE", str(tmp_path / "c"))
    compile_cached(SRC, "t.omni", root=False)
    assert not (tmp_path / "c").exists()


def test_default_location(monkeypatch, tmp_path):
    monkeypatch.delenv("OMNIDSL_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_root() == tmp_path / "omnidsl"


def test_eviction_keeps_the_most_recent(root, monkeypatch):
    monkeypatch.setattr(cache, "MAX_ENTRIES", 2)
    for d in (3, 4, 5):
        compile_cached(SRC, "t.omni", {"D": d})
    assert len(entries(root)) == 2
    no_compiling(monkeypatch)
    compile_cached(SRC, "t.omni", {"D": 5})  # the newest two are still there
    compile_cached(SRC, "t.omni", {"D": 4})


def test_size_cap(root, monkeypatch):
    monkeypatch.setattr(cache, "MAX_BYTES", 1)
    compile_cached(SRC, "t.omni", {"D": 3})
    compile_cached(SRC, "t.omni", {"D": 4})
    assert len(entries(root)) == 1  # only the newest, however large
