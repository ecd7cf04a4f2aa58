"""Chains: embedded (eth-tester), anvil and JSON-RPC providers, one configuration, one
transaction helper, and the shipped contract artifacts.  See README.md and docs/chain.md.

The names below are re-exported lazily, so ``omnidsl.chain.options`` (imported by the CLI for
every command) does not load web3.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "GAS_LIMIT": "providers", "anvil": "providers", "connect": "providers",
    "embedded_chain": "providers",
    "call": "tx", "deploy": "tx", "gas_used": "tx", "intrinsic_gas": "tx", "transact": "tx",
    "ChainConfig": "config", "Chain": "config", "open_chain": "config",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'omnidsl.chain' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"omnidsl.chain.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value
