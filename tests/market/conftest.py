"""Fixtures for the market tests: an embedded chain, a deployed Market, the market rule's real
keys, and the TEST-ONLY allow-list verifier (used only by the escrow/payment tests; see
contracts/AllowListTestVerifier.sol)."""

from __future__ import annotations

from pathlib import Path

import pytest
from market_helpers import DIM, HERE, AllowList
from web3 import Web3

from omnidsl.chain import deploy, embedded_chain
from omnidsl.market import dsl_rule
from omnidsl.market.client import MarketClient
from omnidsl.solidity.compile import compile_sources


@pytest.fixture(scope="session")
def rule_dir(tmp_path_factory) -> Path:
    """Where the market rule (dimension 8) is set up once per test session (real snarkjs keys)."""
    return tmp_path_factory.mktemp("market_rule")


@pytest.fixture(scope="session")
def rule(rule_dir: Path):
    from omnidsl.market import circom_rule as cr

    return cr.setup(8, rule_dir / "rule_8")


@pytest.fixture(scope="module")
def w3() -> Web3:
    return embedded_chain()


@pytest.fixture(scope="module")
def market(w3: Web3) -> MarketClient:
    return MarketClient.deploy(w3)


@pytest.fixture(scope="module")
def allow_list(w3: Web3) -> AllowList:
    src = (HERE / "contracts" / "AllowListTestVerifier.sol").read_text()
    cc = compile_sources({"AllowListTestVerifier.sol": src})["AllowListTestVerifier"]
    return AllowList(deploy(w3, cc.abi, cc.bytecode), w3)


@pytest.fixture(scope="module")
def accounts(w3: Web3) -> dict[str, object]:
    acc = w3.eth.accounts
    return {"mo": acc[0], "servers": list(acc[1:4]), "outsider": acc[4], "dos": list(acc[5:10])}


@pytest.fixture(scope="module")
def dsl() -> dsl_rule.DslRule:
    """The market rule in the DSL at dimension DIM (compiled, dev keys)."""
    return dsl_rule.setup(DIM)
