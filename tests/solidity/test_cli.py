"""`omnidsl export-verifier` and `omnidsl verify-onchain`."""

from __future__ import annotations

import json

import pytest

from omnidsl.cli import main
from omnidsl.field import R


@pytest.fixture
def files(tmp_path, toy_circuit, toy_proofs):
    circ = toy_circuit(2)
    proof, public = toy_proofs(2, 1)[0]
    (tmp_path / "proof.json").write_text(json.dumps(proof))
    (tmp_path / "public.json").write_text(json.dumps(public))
    bad = [str((int(public[0]) + 1) % R), public[1]]
    (tmp_path / "bad_public.json").write_text(json.dumps(bad))
    return circ, tmp_path


def test_export_verifier(files, capsys):
    circ, tmp = files
    out = tmp / "V.sol"
    # KEYS may be the key directory or the vk file itself
    assert main(["export-verifier", str(circ.workdir), "-o", str(out), "--abi", "--bin",
                 "--name", "ToyVerifier"]) == 0
    assert "contract ToyVerifier {" in out.read_text()
    abi = json.loads((tmp / "V.abi.json").read_text())
    assert [e.get("name") for e in abi] == ["verifyProof"]  # snarkjs's ABI
    code = (tmp / "V.bin").read_text().strip()
    assert code.startswith("6080") and len(code) > 2000
    assert "2 public inputs" in capsys.readouterr().out
    assert main(["export-verifier", str(circ.vk_path), "-o", str(tmp / "W.sol")]) == 0
    assert (tmp / "W.sol").read_text() == out.read_text().replace("ToyVerifier", "Groth16Verifier")
    # --batch: the market's variant (verifyBatch and the reverting functions as well)
    assert main(["export-verifier", str(circ.workdir), "-o", str(tmp / "B.sol"), "--abi",
                 "--batch"]) == 0
    abi = json.loads((tmp / "B.abi.json").read_text())
    assert {e.get("name") for e in abi} == {"verifyProof", "verifyProofOrRevert", "verifyBatch",
                                            "verifyBatchOrRevert", "N_PUBLIC"}


def test_export_verifier_errors(tmp_path, capsys):
    assert main(["export-verifier", str(tmp_path), "-o", str(tmp_path / "V.sol")]) == 1
    assert "no such verification key" in capsys.readouterr().err
    (tmp_path / "verification_key.json").write_text("{not json")
    assert main(["export-verifier", str(tmp_path)]) == 1
    assert "not valid JSON" in capsys.readouterr().err


@pytest.mark.chain
@pytest.mark.parametrize("chain", ["embedded", "anvil"])
def test_verify_onchain(chain, files, capsys):
    circ, tmp = files
    args = ["verify-onchain", "--chain", chain, "--vk", str(circ.vk_path), "--proof",
            str(tmp / "proof.json")]
    assert main([*args, "--public", str(tmp / "public.json")]) == 0
    out = capsys.readouterr().out
    assert "valid: true" in out
    gas = int(out.split("gas used: ")[1].split()[0])
    assert 200_000 < gas < 300_000
    if chain == "anvil":
        assert main([*args, "--public", str(tmp / "bad_public.json")]) == 1
        assert "valid: false" in capsys.readouterr().out


@pytest.mark.chain
def test_verify_onchain_rpc_errors(files, capsys):
    circ, tmp = files
    base = ["verify-onchain", "--vk", str(circ.vk_path), "--proof", str(tmp / "proof.json")]
    assert main([*base, "--chain", "http://127.0.0.1:9", "--public",
                 str(tmp / "public.json")]) == 1
    assert "cannot reach an Ethereum node" in capsys.readouterr().err
    (tmp / "short.json").write_text('["1"]')
    assert main([*base, "--public", str(tmp / "short.json")]) == 1
    assert "the key expects 2" in capsys.readouterr().err
    assert main([*base, "--chain", "mainnet", "--public", str(tmp / "public.json")]) == 1
    assert "not a chain omnidsl can use" in capsys.readouterr().err


ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # test key


@pytest.mark.chain
def test_verify_onchain_on_a_node_with_a_key_and_an_attached_verifier(files, capsys,
                                                                     monkeypatch, anvil_w3):
    """A JSON-RPC node: deploy signed by --key-env; then attach with --address using the
    shipped ABI (no solc-js: compiling would fail) and no key (calls only)."""
    circ, tmp = files
    url = anvil_w3.provider.endpoint_uri
    monkeypatch.setenv("OMNIDSL_TEST_KEY", ANVIL_KEY)
    base = ["verify-onchain", "--chain", url, "--chain-id", str(anvil_w3.eth.chain_id),
            "--vk", str(circ.vk_path), "--proof", str(tmp / "proof.json")]
    assert main([*base, "--key-env", "OMNIDSL_TEST_KEY", "--public",
                 str(tmp / "public.json")]) == 0
    out = capsys.readouterr().out
    address = out.split("verifier: ")[1].split()[0]
    assert "valid: true" in out and "gas used: 2" in out

    import omnidsl.solidity.compile as compile_mod

    monkeypatch.setattr(compile_mod, "compile_sources", lambda *a, **k: pytest.fail("compiled"))
    assert main([*base, "--address", address, "--public", str(tmp / "public.json")]) == 0
    out = capsys.readouterr().out
    assert f"verifier: {address}" in out and "valid: true" in out
    assert "not measured (no signer" in out
    assert main([*base, "--address", address, "--public", str(tmp / "bad_public.json")]) == 1
    assert "valid: false" in capsys.readouterr().out
    empty = "0x" + "11" * 20
    assert main([*base, "--address", empty, "--public", str(tmp / "public.json")]) == 1
    assert "no contract there" in capsys.readouterr().err
    # no key on a node: a deployment is refused, the node's unlocked accounts are not used
    assert main([*base, "--public", str(tmp / "public.json")]) == 1
    assert "no sender account" in capsys.readouterr().err
    assert main([*base[:3], "--chain-id", "1", *base[5:], "--public",
                 str(tmp / "public.json")]) == 1
    assert "expected --chain-id 1" in capsys.readouterr().err
