"""Every rule in circuits/ compiles to files snarkjs accepts, and snarkjs agrees with our
constraint checker on valid and corrupted witnesses."""

from __future__ import annotations

import numpy as np
import pytest

from omnidsl.compiler.check import violated
from omnidsl.compiler.circuit import compile_file
from omnidsl.field import R, ints_to_limbs, limbs_to_ints
from omnidsl.r1cs.r1csfile import read_r1cs, write_r1cs
from omnidsl.r1cs.symfile import read_sym, write_sym
from omnidsl.r1cs.wtnsfile import read_wtns, write_wtns

from .tools import CIRCUITS, RULES, find_inputs, r1cs_info, run, small_params, wtns_check


def test_rules_exist():
    assert len(RULES) >= 3 and {"norm_bound", "cosine", "range"} <= {p.stem for p in RULES}


@pytest.mark.slow
@pytest.mark.parametrize("path", RULES, ids=lambda p: p.stem)
def test_rule_files_accepted_by_snarkjs(path, tmp_path):
    c = compile_file(path, small_params(path), 2)
    r = c.r1cs
    write_r1cs(tmp_path / "c.r1cs", r)
    write_sym(tmp_path / "c.sym", r)
    info = r1cs_info(tmp_path / "c.r1cs")
    assert info == {"Wires": r.n_wires, "Constraints": r.n_constraints,
                    "Private Inputs": r.n_prv_in, "Public Inputs": r.n_pub_in,
                    "Labels": r.n_labels, "Outputs": r.n_pub_out}
    back = read_r1cs(tmp_path / "c.r1cs")
    assert back.to_rows() == r.canonicalise().to_rows()
    assert len(read_sym(tmp_path / "c.sym")) >= r.n_public

    wit = c.witness(find_inputs(c))
    write_wtns(tmp_path / "good.wtns", wit)
    assert np.array_equal(read_wtns(tmp_path / "good.wtns"), wit)
    assert violated(r, wit).size == 0
    assert wtns_check(tmp_path / "c.r1cs", tmp_path / "good.wtns")

    # corrupt wires until our checker sees a violation; snarkjs must reject that witness too
    z = limbs_to_ints(wit)
    n_checked = 0
    for j in (r.n_wires - 1, r.n_public + 1, r.n_wires // 2):
        bad = list(z)
        bad[j] = (bad[j] + 3) % R
        limbs = ints_to_limbs(bad)
        if violated(r, limbs).size == 0:
            continue
        write_wtns(tmp_path / "bad.wtns", limbs)
        assert not wtns_check(tmp_path / "c.r1cs", tmp_path / "bad.wtns")
        n_checked += 1
    assert n_checked >= 1


def test_snarkjs_print_names_rule_signals(tmp_path):
    path = CIRCUITS / "norm_bound.omni"
    c = compile_file(path, {"D": 3}, 2)
    write_r1cs(tmp_path / "c.r1cs", c.r1cs)
    write_sym(tmp_path / "c.sym", c.r1cs)
    proc = run("snarkjs", "r1cs", "print", tmp_path / "c.r1cs", tmp_path / "c.sym")
    assert proc.returncode == 0, proc.stderr
    assert "main.g[0]" in proc.stdout or "g[0]" in proc.stdout
