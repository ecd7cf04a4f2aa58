"""snarkjs reads our .r1cs/.wtns/.sym; we read circom2's files (hand-built systems, circom)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from r1cs.helpers import num2bits, num2bits_witness, satisfied

from omnidsl.compiler.optimise import optimise
from omnidsl.field import R, ints_to_limbs, limbs_to_ints
from omnidsl.r1cs.r1csfile import read_r1cs, write_r1cs
from omnidsl.r1cs.symfile import read_sym, write_sym
from omnidsl.r1cs.wtnsfile import read_wtns, write_wtns
from tests.r1cs.helpers import random_circuit, sections

from .tools import circom_compile, export_json, r1cs_info, run, wtns_check

ROOT = Path(__file__).resolve().parents[2]


def rows_as_json(r) -> list:
    return [[{str(w): str(c) for w, c in lc.items()} for lc in row] for row in r.to_rows()]


@pytest.mark.parametrize("level", [0, 2])
def test_snarkjs_accepts_num2bits(tmp_path, level):
    r, kept = optimise(num2bits(16, public=False), level)
    write_r1cs(tmp_path / "a.r1cs", r)
    info = r1cs_info(tmp_path / "a.r1cs")
    assert info == {"Wires": r.n_wires, "Constraints": r.n_constraints, "Private Inputs": 1,
                    "Public Inputs": 0, "Labels": r.n_labels, "Outputs": 0}
    assert info["Constraints"] == (17 if level == 0 else 16)
    z = num2bits_witness(16, 51234)
    zk = [z[w] for w in kept]
    write_wtns(tmp_path / "good.wtns", ints_to_limbs(zk))
    assert wtns_check(tmp_path / "a.r1cs", tmp_path / "good.wtns")
    for j in (1, len(zk) - 1):  # corrupt the input, then a bit (+2: no longer a bit)
        bad = list(zk)
        bad[j] = (bad[j] + 2) % R
        write_wtns(tmp_path / "bad.wtns", ints_to_limbs(bad))
        assert not wtns_check(tmp_path / "a.r1cs", tmp_path / "bad.wtns")


def test_snarkjs_export_matches_our_constraints(tmp_path):
    r, z = random_circuit(random.Random(5), n_in=3, n_gates=25)
    write_r1cs(tmp_path / "r.r1cs", r)
    data = export_json(tmp_path / "r.r1cs")
    assert data["nVars"] == r.n_wires and data["nConstraints"] == r.n_constraints
    assert data["constraints"] == rows_as_json(r)
    write_wtns(tmp_path / "r.wtns", ints_to_limbs(z))
    assert wtns_check(tmp_path / "r.r1cs", tmp_path / "r.wtns")
    o, kept = optimise(r, 2)
    write_r1cs(tmp_path / "o.r1cs", o)
    assert export_json(tmp_path / "o.r1cs")["constraints"] == rows_as_json(o)
    write_wtns(tmp_path / "o.wtns", ints_to_limbs([z[w] for w in kept]))
    assert wtns_check(tmp_path / "o.r1cs", tmp_path / "o.wtns")


def test_snarkjs_prints_with_our_sym(tmp_path):
    r = num2bits(4)
    write_r1cs(tmp_path / "a.r1cs", r)
    write_sym(tmp_path / "a.sym", r)
    proc = run("snarkjs", "r1cs", "print", tmp_path / "a.r1cs", tmp_path / "a.sym")
    assert proc.returncode == 0, proc.stderr
    assert "main.out[3]" in proc.stdout and "main.in" in proc.stdout


@pytest.mark.slow
def test_read_circom2_files(tmp_path):
    """circom2's .r1cs/.sym/.wtns of the norm-bound circuit read back exactly."""
    # a self-contained circom2 norm rule (51 constraints per entry, no circomlib include): the
    # benchmark peer in benchmarks/circom/ is now the 18-per-entry hand optimum
    src = Path(__file__).resolve().parent / "data" / "norm_bound_51.circom"
    path = circom_compile(src, "component main {public [max_norm]} = NormBound(3);", tmp_path)
    r = read_r1cs(path)
    data = export_json(path)
    assert (r.n_wires, r.n_constraints, r.n_pub_in, r.n_prv_in, r.n_pub_out, r.n_labels) == (
        data["nVars"], data["nConstraints"], data["nPubInputs"], data["nPrvInputs"],
        data["nOutputs"], data["nLabels"])
    assert rows_as_json(r) == data["constraints"]
    assert r.n_constraints == 3 * 51 + 32 + 1 + 67 - 1
    # circom's witness generator output satisfies what we read
    g = [4.0, -3.5, 0.25]
    inputs = {"g": [str(round(x * 4096) % R) for x in g], "max_norm": str(6 * 4096)}
    (tmp_path / "in.json").write_text(json.dumps(inputs))
    proc = run("snarkjs", "wtns", "calculate", tmp_path / "main_js" / "main.wasm",
               tmp_path / "in.json", tmp_path / "w.wtns")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    w = read_wtns(tmp_path / "w.wtns")
    z = limbs_to_ints(w)
    assert len(z) == r.n_wires and z[0] == 1
    assert satisfied(r, z)
    z[r.n_protected] = (z[r.n_protected] + 1) % R
    assert not satisfied(r, z)
    # our writer reproduces circom's sections byte for byte (circom orders them 2, 1, 3)
    write_r1cs(tmp_path / "again.r1cs", r)
    ours = sections((tmp_path / "again.r1cs").read_bytes())
    theirs = sections(path.read_bytes())
    assert [t for t, _ in theirs] == [2, 1, 3]
    assert dict(ours) == dict(theirs)
    syms = read_sym(tmp_path / "main.sym")
    assert syms[0].name == "main.max_norm" and syms[0].wire == 1
    eliminated = [s for s in syms if s.wire == -1]
    assert eliminated and all(s.label < r.n_labels for s in syms)
    assert np.array_equal(r.wire_to_label[:5], np.arange(5))
