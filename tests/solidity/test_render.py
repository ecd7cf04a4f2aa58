"""Rendering, vk validation, calldata layout and the solc-js bridge (no chain needed)."""

from __future__ import annotations

import copy
import json
import subprocess

import pytest
from py_ecc.bn128 import G1, G2, multiply

from omnidsl.errors import ChainError, FormatError
from omnidsl.field import Q, R
from omnidsl.npm import npm_bin
from omnidsl.solidity import compile as solc
from omnidsl.solidity.render import (
    EIP170_LIMIT,
    batch_calldata,
    check_code_size,
    compile_verifier,
    proof_calldata,
    render_verifier,
)


def _g1(p):
    return [str(int(p[0])), str(int(p[1])), "1"]


def _g2(p):
    return [[str(p[0].coeffs[0]), str(p[0].coeffs[1])],
            [str(p[1].coeffs[0]), str(p[1].coeffs[1])], ["1", "0"]]


def synthetic_vk(n: int) -> dict:
    """A well-formed (not setup-derived) vk with n public inputs, for render/compile tests
    (distinct IC points and G2 constants: the render refuses degenerate keys)."""
    return {"protocol": "groth16", "curve": "bn128", "nPublic": n,
            "vk_alpha_1": _g1(multiply(G1, 5)), "vk_beta_2": _g2(multiply(G2, 7)),
            "vk_gamma_2": _g2(G2), "vk_delta_2": _g2(multiply(G2, 3)),
            "IC": [_g1(multiply(G1, i + 2)) for i in range(n + 1)]}


def test_render_has_interface_and_constants():
    vk = synthetic_vk(3)
    src = render_verifier(vk, "RuleVerifier")
    assert "contract RuleVerifier {" in src
    assert "uint256[3] calldata input" in src
    assert src.count("function ") == 1 and "function verifyProof(" in src
    market = render_verifier(vk, "RuleVerifier", batch=True)
    for fn in ("verifyProof(", "verifyProofOrRevert(", "verifyBatch(", "verifyBatchOrRevert("):
        assert f"function {fn}" in market
    alpha_x = int(vk["vk_alpha_1"][0])
    assert f"0x{alpha_x:064x}" in src
    # -beta's y coordinate (c1 first, as the precompile wants) is embedded, not beta's
    b = vk["vk_beta_2"]
    assert f"0x{(Q - int(b[1][1])) % Q:064x}" in src
    assert f"0x{int(b[0][1]):064x}" in src
    assert f"{R:064x}" in src


@pytest.mark.parametrize("mutate, message", [
    (lambda vk: vk.update(protocol="plonk"), "protocol"),
    (lambda vk: vk.update(curve="bls12381"), "curve"),
    (lambda vk: vk["IC"].pop(), "IC has"),
    (lambda vk: vk.update(vk_alpha_1=["1", "3", "1"]), r"vk_alpha_1 is not on the curve \(BN254 G1\)"),
    (lambda vk: vk["vk_delta_2"][0].__setitem__(0, "5"), r"vk_delta_2 is not on the curve \(the BN254 twist"),
    (lambda vk: vk.update(vk_alpha_1=[str(Q), "2", "1"]), r"vk_alpha_1 has a coordinate that is not an integer in \[0, q\)"),
    (lambda vk: vk.pop("vk_gamma_2"), "vk_gamma_2: missing"),
])
def test_bad_vk_is_a_format_error(mutate, message):
    vk = copy.deepcopy(synthetic_vk(2))
    mutate(vk)
    with pytest.raises(FormatError, match=message):
        render_verifier(vk)


@pytest.mark.parametrize("mutate, message", [
    (lambda vk: vk.update(vk_alpha_1=["1", "3", "1"]), "vk_alpha_1 is not on the curve"),
    (lambda vk: vk["vk_delta_2"][0].__setitem__(0, "5"), "vk_delta_2 is not on the curve"),
    (lambda vk: vk.update(vk_delta_2=vk["vk_gamma_2"]), "vk_delta_2 equals ±vk_gamma_2"),
    (lambda vk: vk["IC"][1].__setitem__(0, "0x10"), "IC[1][0]: expected a decimal integer"),
    (lambda vk: vk.pop("vk_beta_2"), "vk_beta_2: missing"),
])
def test_verify_and_export_verifier_read_a_key_alike(tmp_path, capsys, mutate, message):
    """One model of verification_key.json: `omnidsl verify` (groth16) and `omnidsl
    export-verifier` (solidity) refuse a bad key with the same located line."""
    from omnidsl.cli import main

    vk = copy.deepcopy(synthetic_vk(2))
    mutate(vk)
    path = tmp_path / "verification_key.json"
    path.write_text(json.dumps(vk))
    (tmp_path / "public.json").write_text('["1", "2"]')
    (tmp_path / "proof.json").write_text(json.dumps({
        "pi_a": ["1", "2", "1"], "pi_b": [["1", "2"], ["3", "4"], ["1", "0"]],
        "pi_c": ["1", "2", "1"], "protocol": "groth16", "curve": "bn128"}))
    errors = []
    for argv in (["verify", path, tmp_path / "public.json", tmp_path / "proof.json"],
                 ["export-verifier", path, "-o", tmp_path / "V.sol"]):
        assert main([str(a) for a in argv]) == 1
        errors.append(capsys.readouterr().err.splitlines()[0])
    assert errors[0] == errors[1] and message in errors[0] and str(path) in errors[0]
    assert not (tmp_path / "V.sol").exists()


def test_solidity_uses_no_curve_library_of_its_own():
    from pathlib import Path

    import omnidsl.solidity as pkg

    for src in Path(pkg.__file__).parent.glob("*.py"):
        assert "py_ecc" not in src.read_text(), src


def test_bad_contract_name():
    with pytest.raises(FormatError, match="identifier"):
        render_verifier(synthetic_vk(1), "not-a-name")


def test_calldata_matches_snarkjs_soliditycalldata(toy_circuit, toy_proofs, tmp_path):
    proof, public = toy_proofs(2, 1)[0]
    (tmp_path / "proof.json").write_text(json.dumps(proof))
    (tmp_path / "public.json").write_text(json.dumps(public))
    out = subprocess.run([str(npm_bin("snarkjs")), "zkey", "export", "soliditycalldata",
                          "public.json", "proof.json"], cwd=tmp_path, capture_output=True,
                         text=True, check=True).stdout
    a, b, c, x = json.loads("[" + out.strip() + "]")
    ours = proof_calldata(proof, public)
    to_int = lambda v: [to_int(e) for e in v] if isinstance(v, list) else int(v, 16)  # noqa: E731
    assert ours == (to_int(a), to_int(b), to_int(c), to_int(x))
    proofs, inputs = batch_calldata([(proof, public), (proof, public)])
    assert proofs[:8] == [*ours[0], *ours[1][0], *ours[1][1], *ours[2]]
    assert proofs[8:] == proofs[:8] and inputs == ours[3] * 2


def test_bad_proof_json_is_a_format_error():
    with pytest.raises(FormatError, match=r"proof\.json: pi_b: missing"):
        proof_calldata({"pi_a": ["1", "2", "1"]}, ["1"])
    with pytest.raises(FormatError, match="public"):
        proof_calldata({"pi_a": ["1", "2"], "pi_b": [["1", "2"], ["3", "4"]],
                        "pi_c": ["1", "2"]}, ["abc"])


def test_compile_error_has_location():
    src = "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.20;\n" \
          "contract A {\n    function f() external pure returns (uint) { return y; }\n}\n"
    with pytest.raises(ChainError) as err:
        solc.compile_sources({"bad.sol": src})
    text = str(err.value)
    assert text.startswith("bad.sol:4:")
    assert "Undeclared identifier" in text
    assert "^" in text.splitlines()[2]


def test_server_is_reused_and_restartable():
    src = {"ok.sol": "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.20;\n"
                     "contract Ok { uint public x = 7; }\n"}
    srv = solc.SolcServer()
    with srv:
        first = solc.compile_sources(src, server=srv)
        pid = srv._proc.pid
        second = solc.compile_sources(src, server=srv)
        assert srv._proc.pid == pid
        assert first["Ok"] == second["Ok"] == first["ok.sol:Ok"]
        assert first["Ok"].bytecode.startswith("0x6080")
        assert any(e.get("name") == "x" for e in first["Ok"].abi)
    assert not srv.running
    assert solc.compile_sources(src, server=srv)["Ok"] == first["Ok"]  # restarts on demand
    srv.close()


def test_verifier_compiles_and_code_size_grows_with_inputs():
    size = lambda cc: (len(cc.deployed_bytecode) - 2) // 2  # noqa: E731
    small, bigger = compile_verifier(synthetic_vk(1)), compile_verifier(synthetic_vk(8))
    # the default: 64 bytes of code per public input (one IC point in the table; a few bytes
    # more where an address literal gets wider)
    assert 1_000 < size(small) < size(small) + 7 * 64 <= size(bigger) <= size(small) + 7 * 64 + 8
    assert [e.get("name") for e in small.abi] == ["verifyProof"]
    market = compile_verifier(synthetic_vk(1), batch=True)
    assert size(small) < size(market) < EIP170_LIMIT
    assert any(e.get("name") == "verifyBatch" for e in market.abi)


def test_eip170_limit_is_a_clear_chain_error():
    with pytest.raises(ChainError) as err:
        check_code_size("V", "0x" + "00" * (EIP170_LIMIT + 1), n_public=300)
    msg = str(err.value)
    assert "24577 bytes" in msg and "24576" in msg and "300 public inputs" in msg
    assert "hint:" in msg
    check_code_size("V", "0x" + "00" * EIP170_LIMIT)  # exactly at the limit is fine


@pytest.mark.slow
def test_eip170_real_verifier_too_large():
    with pytest.raises(ChainError, match="EIP-170"):
        compile_verifier(synthetic_vk(340), batch=True)
    compile_verifier(synthetic_vk(340))  # the default is 64 bytes per input: it still fits
    with pytest.raises(ChainError, match="EIP-170"):
        compile_verifier(synthetic_vk(380))


def test_key_without_public_inputs_compiles():
    for batch in (False, True):
        cc = compile_verifier(synthetic_vk(0), batch=batch)
        fn = next(e for e in cc.abi if e.get("name") == "verifyProof")
        assert [i["type"] for i in fn["inputs"]] == ["uint256[2]", "uint256[2][2]", "uint256[2]"]
