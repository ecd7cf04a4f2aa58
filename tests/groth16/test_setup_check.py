"""Issue 10 item 7: what verifiers read (verification_key.json) is what `setup verify` checked.

The attack: set ``vk_delta_2`` to ``vk_gamma_2`` in verification_key.json (the proving key is
untouched, so the transcript check alone passes); then A = α, B = β, C = −L with
L = IC₀ + Σ xᵢ·ICᵢ satisfies the pairing equation for any public inputs, without a witness.
`setup verify` must name the field, and `verify`, `export-verifier` and `verify-onchain` must
refuse the key.  Also: G2 points outside the subgroup or off the curve, δ₂ = the generator, a
contribution with factor 1, and contributor names over 255 bytes.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from omnidsl.cli import main
from omnidsl.errors import FormatError, InputError
from omnidsl.field import R
from omnidsl.groth16 import setup as S
from omnidsl.groth16.commands import PK_NAME, VK_NAME
from omnidsl.groth16.formats import g2_json, proof_to_json, read_vk, vk_to_json
from omnidsl.groth16.keys import (
    Contribution,
    Proof,
    dumps_proving_key,
    read_proving_key,
    write_proving_key,
)
from omnidsl.groth16.points import g1_array
from omnidsl.groth16.verifier import prepare_vk, verify
from omnidsl.groth16.vkcheck import check_vk
from omnidsl.r1cs.r1csfile import write_r1cs
from tests.groth16.handmade import chain_circuit
from tests.groth16.twist import twist_point_outside_subgroup

K, N_IN = 20, 2  # 21 constraints + 4 input rows → domain 32 (fits a 2^8 ptau); 3 public signals
PUBLIC = [11, 22, 33]  # arbitrary: no witness exists for them, the forgery does not need one


@pytest.fixture(scope="module")
def keys(tmp_path_factory, ptau) -> Path:
    """Phase-2 keys from the ptau with one contribution: γ₂ = G₂ (as snarkjs), δ₂ random."""
    d = tmp_path_factory.mktemp("keys")
    write_r1cs(d / "chain.r1cs", chain_circuit(K, n_pub_in=N_IN))
    assert main(["setup", str(d / "chain.r1cs"), "--ptau", str(ptau), "-o", str(d / "k0")]) == 0
    assert main(["setup", "contribute", str(d / "k0"), "-o", str(d / "k"), "--name", "alice"]) == 0
    return d / "k"


@pytest.fixture
def work(keys, tmp_path) -> Path:
    """A private copy of the key directory (tests tamper with it)."""
    shutil.copytree(keys, tmp_path / "k")
    return tmp_path / "k"


def _edit_vk(keys: Path, change: Any) -> dict[str, Any]:
    vk = json.loads((keys / VK_NAME).read_text())
    change(vk)
    (keys / VK_NAME).write_text(json.dumps(vk, indent=1))
    return vk


def _forge(vk_path: Path, out: Path, backend) -> Proof:
    """The no-witness proof A = α, B = β, C = −L (valid whenever γ₂ = δ₂)."""
    vk = read_vk(vk_path)
    scalars = b"".join(x.to_bytes(32, "little") for x in PUBLIC)
    L = backend.g1_add(vk.ic[0], backend.g1_msm(g1_array(list(vk.ic[1:])), scalars))
    proof = Proof(vk.alpha_g1, vk.beta_g2, backend.g1_neg(L))
    (out / "proof.json").write_text(json.dumps(proof_to_json(proof)))
    (out / "public.json").write_text(json.dumps([str(x) for x in PUBLIC]))
    return proof


def _verifier_cmds(vk: Path, d: Path) -> dict[str, list[str]]:
    proof, public = str(d / "proof.json"), str(d / "public.json")
    return {
        "verify": ["verify", str(vk), public, proof],
        "export-verifier": ["export-verifier", str(vk), "-o", str(d / "V.sol")],
        "verify-onchain": ["verify-onchain", "--chain", "embedded", "--vk", str(vk), "--proof", proof,
                           "--public", public],
    }


def _assert_all_verifiers_refuse(vk: Path, d: Path, field: str, capsys) -> None:
    for name, cmd in _verifier_cmds(vk, d).items():
        capsys.readouterr()
        assert main(cmd) == 1, name
        out = capsys.readouterr()
        assert f"{vk}: {field} " in out.err, (name, out.err)
        assert "internal error" not in out.err and "verifier:" not in out.out, name
    assert not (d / "V.sol").exists()  # export-verifier wrote nothing


def test_delta_equals_gamma_attack_is_refused(work, ptau, backend, snarkjs, capsys):
    assert main(["setup", "verify", str(work), "--ptau", str(ptau)]) == 0
    assert "matches proving_key.bin" in capsys.readouterr().out
    _edit_vk(work, lambda vk: vk.update(vk_delta_2=vk["vk_gamma_2"]))
    proof = _forge(work / VK_NAME, work.parent, backend)
    # the attack is real: the pairing equation holds for the tampered key, and snarkjs (which
    # trusts the file) accepts the forged proof — so the file must be checked before use
    vk = read_vk(work / VK_NAME)
    L = backend.g1_neg(proof.c)
    assert backend.pairing_check([(backend.g1_neg(proof.a), proof.b), (vk.alpha_g1, vk.beta_g2),
                                  (L, vk.gamma_g2), (proof.c, vk.delta_g2)])
    sj = subprocess.run([str(snarkjs), "groth16", "verify", str(work / VK_NAME),
                         str(work.parent / "public.json"), str(work.parent / "proof.json")],
                        capture_output=True, text=True, timeout=120)
    assert sj.returncode == 0 and "OK" in sj.stdout, sj.stdout + sj.stderr
    # setup verify names the file and the field
    capsys.readouterr()
    assert main(["setup", "verify", str(work), "--ptau", str(ptau)]) == 1
    err = capsys.readouterr().err
    assert f"{work / VK_NAME}: vk_delta_2 does not match proving_key.bin" in err
    # every omnidsl verifier refuses the key itself, located
    _assert_all_verifiers_refuse(work / VK_NAME, work.parent, "vk_delta_2", capsys)
    # the Python API: verify() is False (never raises), prepare_vk refuses, check_vk locates
    assert verify(vk, PUBLIC, proof, backend) is False
    assert prepare_vk(vk, backend) is None
    with pytest.raises(FormatError, match=r"k\.json: vk_delta_2 equals ±vk_gamma_2"):
        check_vk(vk, backend, "k.json")


@pytest.mark.parametrize("change, field", [
    (lambda vk: vk.update(protocol="plonk"), "protocol"),
    (lambda vk: vk.update(curve="bls12381"), "curve"),
    (lambda vk: vk.update(nPublic=vk["nPublic"] + 1), "nPublic"),
    (lambda vk: vk.update(nPublic=str(vk["nPublic"])), "nPublic"),
    (lambda vk: vk.update(vk_alpha_1=vk["IC"][0]), "vk_alpha_1"),
    (lambda vk: vk.update(vk_beta_2=vk["vk_delta_2"]), "vk_beta_2"),
    (lambda vk: vk.update(vk_gamma_2=vk["vk_delta_2"]), "vk_gamma_2"),
    (lambda vk: vk["vk_delta_2"][0].reverse(), "vk_delta_2"),
    (lambda vk: vk["IC"].__setitem__(2, vk["IC"][1]), "IC[2]"),
    (lambda vk: vk["IC"].pop(), "IC"),
    (lambda vk: vk.pop("vk_gamma_2"), "vk_gamma_2: missing"),
    (lambda vk: vk.update(vk_alphabeta_12=[]), "unexpected field 'vk_alphabeta_12'"),
])
def test_setup_verify_checks_every_field(work, ptau, change, field, capsys):
    _edit_vk(work, change)
    capsys.readouterr()
    assert main(["setup", "verify", str(work), "--ptau", str(ptau)]) == 1
    err = capsys.readouterr().err
    assert f"{work / VK_NAME}: {field}" in err, err


def test_setup_verify_needs_the_vk_file(work, ptau, capsys):
    (work / VK_NAME).unlink()
    assert main(["setup", "verify", str(work), "--ptau", str(ptau)]) == 1
    assert f"{work / VK_NAME}: missing" in capsys.readouterr().err


def _dev_keys(d: Path) -> Path:
    """Dev keys (γ₂ random, so δ₂ = G₂ is a different case from δ₂ = γ₂)."""
    write_r1cs(d / "chain.r1cs", chain_circuit(6, n_pub_in=N_IN))
    assert main(["setup", str(d / "chain.r1cs"), "-o", str(d / "dev")]) == 0
    return d / "dev"


@pytest.mark.parametrize("case, field, reason", [
    ("generator", "vk_delta_2", "is ±the G2 generator"),
    ("neg_gamma", "vk_delta_2", "equals ±vk_gamma_2"),
    ("subgroup", "vk_delta_2", "is not in the r-torsion subgroup"),
    ("subgroup_gamma", "vk_gamma_2", "is not in the r-torsion subgroup"),
    ("off_curve", "vk_beta_2", "is not on the curve"),
    ("beta_gamma", "vk_gamma_2", "equals ±vk_beta_2"),
    ("ic_infinity", "IC[1]", "is the point at infinity"),
])
def test_verifiers_refuse_degenerate_keys(tmp_path, backend, case, field, reason, capsys):
    keys = _dev_keys(tmp_path)
    g2 = backend.g2_generator()
    bad = twist_point_outside_subgroup(random.Random(7))
    assert not backend.g2_is_valid(bad)

    def change(vk: dict[str, Any]) -> None:
        if case == "generator":
            vk["vk_delta_2"] = g2_json(g2)
        elif case == "neg_gamma":
            vk["vk_delta_2"] = g2_json(backend.g2_neg(read_vk(keys / VK_NAME).gamma_g2))
        elif case == "subgroup":
            vk["vk_delta_2"] = g2_json(bad)
        elif case == "subgroup_gamma":
            vk["vk_gamma_2"] = g2_json(bad)
        elif case == "off_curve":
            vk["vk_beta_2"][1][0] = str(int(vk["vk_beta_2"][1][0]) + 1)
        elif case == "beta_gamma":
            vk["vk_gamma_2"] = vk["vk_beta_2"]
        else:
            vk["IC"][1] = ["0", "1", "0"]

    _edit_vk(keys, change)
    _forge(keys / VK_NAME, tmp_path, backend)
    _assert_all_verifiers_refuse(keys / VK_NAME, tmp_path, field, capsys)
    vk = read_vk(keys / VK_NAME)
    with pytest.raises(FormatError, match=re.escape(f"verification key: {field} {reason}")):
        check_vk(vk, backend)


def test_contribution_with_factor_one_is_refused(work, ptau, backend, capsys):
    """A contributor who keeps δ (x = 1) gives a valid proof of knowledge, so the transcript
    passes; but the key still has δ₂ = γ₂ = G₂ and setup verify must refuse it."""
    from omnidsl.groth16.ptau import read_ptau

    p = read_ptau(ptau)
    try:
        initial = S.phase2_initial(read_proving_key(work / PK_NAME).r1cs, p, backend)
    finally:
        p.close()
    g1, g2, k = backend.g1_generator(), backend.g2_generator(), 12345
    pok_r = backend.g1_mul(initial.delta_g1, k)
    c = S._challenge(S.circuit_digest(initial), 0, None, g1, g2, pok_r, "mallory")
    pk = replace(initial, contributions=[Contribution(g1, g2, pok_r, (k + c) % R, "mallory")])
    write_proving_key(pk, work / PK_NAME)
    (work / VK_NAME).write_text(json.dumps(vk_to_json(pk.vk), indent=1) + "\n")
    capsys.readouterr()
    assert main(["setup", "verify", str(work), "--ptau", str(ptau)]) == 1
    assert f"{work / PK_NAME}: vk_delta_2 equals ±vk_gamma_2" in capsys.readouterr().err


def _snapshot(d: Path) -> dict[str, tuple[bytes, int]]:
    return {f.name: (f.read_bytes(), f.stat().st_mtime_ns) for f in sorted(d.iterdir())}


@pytest.mark.parametrize("name", ["é" * 128, "x" * 256, "\udcff"])
def test_bad_contributor_name_refused_nothing_written(work, name, capsys):
    before = _snapshot(work)
    nxt = work.parent / "next"
    assert main(["setup", "contribute", str(work), "-o", str(nxt), "--name", name]) == 1
    err = capsys.readouterr().err
    assert "contributor name" in err and "internal error" not in err
    assert _snapshot(work) == before and not nxt.exists()


def test_contributor_name_limit(work, ptau, backend, capsys):
    """255 UTF-8 bytes is recorded whole and verifies; the API and the writer refuse 256."""
    name = "é" * 127 + "x"  # 255 bytes
    nxt = work.parent / "next"
    assert main(["setup", "contribute", str(work), "-o", str(nxt), "--name", name]) == 0
    assert main(["setup", "verify", str(nxt), "--ptau", str(ptau)]) == 0
    pk = read_proving_key(nxt / PK_NAME)
    assert pk.contributions[-1].name == name
    with pytest.raises(InputError, match="256 bytes"):
        S.contribute(pk, backend, name=name + "y")
    long = replace(pk, contributions=[*pk.contributions[:-1],
                                      replace(pk.contributions[-1], name=name + "y")])
    with pytest.raises(FormatError, match="256 bytes"):
        dumps_proving_key(long)
