"""Fixtures for the chain package tests: a tiny contract and one anvil for the module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from omnidsl.chain import providers
from omnidsl.chain.artifacts import CompiledContract

#: anvil's well-known first dev key (funded on every anvil): a test key, never a real one.
ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ANVIL_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"

BOX = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
contract Box {
    uint256 public value;
    constructor(uint256 v) { require(v != 13, "unlucky"); value = v; }
    function set(uint256 v) external { require(v < 100, "Box: too big"); value = v; }
    function burn(uint256 n) external { for (uint256 i = 0; i < n; i++) value += i; }
}
"""


@pytest.fixture(scope="session")
def anvil_key() -> tuple[str, str]:
    """(private key, address) of anvil's first dev account."""
    return ANVIL_KEY, ANVIL_ADDRESS


@pytest.fixture(scope="session")
def box() -> CompiledContract:
    from omnidsl.solidity.compile import compile_sources

    return compile_sources({"Box.sol": BOX})["Box"]


@pytest.fixture(scope="module")
def anvil_url() -> Iterator[str]:
    with providers.anvil() as w3:
        yield str(w3.provider.endpoint_uri)


@pytest.fixture
def key_file(tmp_path: Any) -> Any:
    """A fresh private key in a mode-600 file; (path, address)."""
    import secrets

    from eth_account import Account

    key = secrets.token_bytes(32)
    path = tmp_path / "signer.key"
    path.touch(mode=0o600)
    path.write_text("0x" + key.hex() + "\n")
    return path, Account.from_key(key).address
