"""The contract artifacts shipped in omnidsl/chain/artifacts cannot drift: a fresh solc-js build
gives the same bytes; the verifier ABI for any key size matches a real compile; the Market is
deployed and used with no compiler at all."""

from __future__ import annotations

import json

import pytest

from omnidsl.chain import artifacts
from omnidsl.chain.artifacts import ARTIFACTS, verifier_abi
from omnidsl.solidity import artifacts as build
from omnidsl.solidity import compile as solc
from omnidsl.solidity.render import compile_verifier


def test_a_fresh_solc_js_build_gives_the_shipped_artifacts():
    fresh = build.build()
    assert sorted(fresh) == sorted(p.name for p in ARTIFACTS.glob("*.json"))
    for name, text in fresh.items():
        assert (ARTIFACTS / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: run python -m omnidsl.solidity.artifacts")
    market = json.loads(fresh["Market.json"])
    assert market["compiler"]["version"] == solc.default_server().start().version
    assert set(market["sources"]) == {"contracts/Market.sol", "contracts/IBatchVerifier.sol"}
    assert build.main(["--check"]) == 0


def test_check_reports_a_stale_artifact(tmp_path, capsys):
    for p in ARTIFACTS.glob("*.json"):
        (tmp_path / p.name).write_text(p.read_text())
    doc = json.loads((tmp_path / "Market.json").read_text())
    doc["bytecode"] = doc["bytecode"][:-2] + "00"
    (tmp_path / "Market.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    assert build.main(["--check", "--dir", str(tmp_path)]) == 1
    assert "Market.json: differs from a fresh solc-js build" in capsys.readouterr().err


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_the_verifier_abi_matches_a_compile_for_every_key_size(n):
    assert verifier_abi(n) == compile_verifier(build.reference_vk(n), batch=True).abi
    # the default (single-proof) verifier's ABI is snarkjs's: verifyProof alone, as in verifier_abi
    slim = compile_verifier(build.reference_vk(n)).abi
    assert [e["name"] for e in slim] == ["verifyProof"]
    assert slim[0] in verifier_abi(n)


@pytest.mark.chain
def test_the_market_needs_no_compiler(monkeypatch):
    from omnidsl.chain import embedded_chain
    from omnidsl.market.client import MarketClient

    monkeypatch.setattr(solc, "compile_sources", lambda *a, **k: pytest.fail("compiled"))
    w3 = embedded_chain()
    market = MarketClient.deploy(w3)
    assert w3.eth.get_code(market.address) == bytes.fromhex(artifacts.market().deployed_bytecode[2:])
    attached = MarketClient(w3, market.address)  # attaching reads the shipped ABI
    assert attached.total_held() == 0 and attached.abi == artifacts.market().abi
