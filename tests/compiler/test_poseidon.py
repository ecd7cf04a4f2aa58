"""Poseidon (omnidsl.compiler.poseidon) against circomlibjs: constants, hashes, commitments."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from omnidsl.compiler import poseidon as P
from omnidsl.field import R
from omnidsl.npm import node_package

ORACLE = Path(__file__).with_name("poseidon_oracle.cjs")


def circomlibjs(jobs: list) -> list[int]:
    """Hashes from npm circomlibjs (fails, never skips, when node or the package is missing)."""
    node = shutil.which("node")
    assert node is not None, "node not found: the Poseidon oracle needs Node.js"
    pkg = node_package("circomlibjs")
    proc = subprocess.run([node, str(ORACLE), str(pkg)], input=json.dumps(jobs),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return [int(v) for v in json.loads(proc.stdout)]


def test_generated_constants_equal_circomlibjs_tables():
    table = json.loads((node_package("circomlibjs") / "src" / "poseidon_constants.json")
                       .read_text())
    for t in range(2, 18):
        p = P.params(t)
        assert [v for row in p.C for v in row] == [int(x, 16) for x in table["C"][t - 2]]
        assert [list(r) for r in p.M] == [[int(x, 16) for x in r] for r in table["M"][t - 2]]
        assert p.rounds == 8 + P.PARTIAL_ROUNDS[t]


def test_hashes_equal_circomlibjs_for_every_arity():
    rng = random.Random(11)
    edge = [0, 1, 2, R - 1, R - 2, (1 << 253), (1 << 128) + 7]
    jobs = []
    for arity in range(1, 17):
        for _ in range(6):
            jobs.append([rng.randrange(R) for _ in range(arity)])
        jobs.append([rng.choice(edge) for _ in range(arity)])
        jobs.append([rng.randrange(1 << 16) for _ in range(arity)])
    want = circomlibjs([[str(v) for v in j] for j in jobs])
    got = [P.poseidon(j) for j in jobs]
    assert len(jobs) == 16 * 8
    assert got == want
    for arity in range(1, 17):  # the native (Rust) implementation, batched per arity
        rows = [(k, j) for k, j in enumerate(jobs) if len(j) == arity]
        native = P.hash_many(arity, [v for _, j in rows for v in j])
        assert native == [want[k] for k, _ in rows]
    assert len(set(got)) == len(got)
    assert P.poseidon([1, 2]) == int(
        "7853200120776062878684798364095072458815029376092732009249414926327459813530")


def test_commitment_is_circomlibjs_tree_over_packed_entries():
    rng = random.Random(5)
    vecs = [[rng.randrange(-(1 << 15), 1 << 15) for _ in range(d)]
            for d in (1, 15, 16, 240, 241, 3841, 7510)]
    jobs = [{"tree": [str(e) for e in P.pack(v, 16)]} for v in vecs]
    want = circomlibjs(jobs)
    assert want == [P.commit_vector(v, 16) for v in vecs]
    assert want[:4] == [P.commit_vector(v, 16, native=False) for v in vecs[:4]]


def test_packing_layout():
    assert P.per_element(16) == 15 and P.per_element(8) == 31 and P.per_element(253) == 1
    vals = list(range(-7, 9))  # 16 entries of 16 bits: one full element and one of one entry
    packed = P.pack(vals, 16)
    assert len(packed) == 2
    assert packed[0] == sum((v + (1 << 15)) << (16 * j) for j, v in enumerate(vals[:15]))
    assert packed[1] == 8 + (1 << 15)
    assert max(P.pack([(1 << 15) - 1] * 15, 16)) < (1 << 240)
    with pytest.raises(ValueError, match="entry 3 = 32768 outside"):
        P.pack([0, 0, 0, 1 << 15], 16)
    with pytest.raises(ValueError):
        P.poseidon([])
    with pytest.raises(ValueError):
        P.poseidon([0] * 17)
    with pytest.raises(ValueError, match="1 to 16 inputs"):
        P.hash_many(17, [0] * 17)
    with pytest.raises(ValueError, match="not a multiple of the arity"):
        P.hash_many(2, [0] * 3)


def test_tree_shape():
    assert P.tree_levels(1) == [[1]]
    assert P.tree_levels(16) == [[16]]
    assert P.tree_levels(17) == [[16, 1], [2]]
    assert P.tree_levels(501) == [[16] * 31 + [5], [16, 16], [2]]
    e = list(range(100, 117))  # the documented examples (docs/dsl.md, committed inputs)
    assert P.tree_hash(e[:1]) == P.poseidon(e[:1])
    assert P.tree_hash(e) == P.poseidon([P.poseidon(e[:16]), P.poseidon(e[16:])])
