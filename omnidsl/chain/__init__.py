"""Chains: embedded (eth-tester), anvil and JSON-RPC providers, one configuration, one
transaction helper, and the shipped contract artifacts.  See README.md and docs/chain.md."""

from omnidsl.chain.providers import GAS_LIMIT, anvil, connect, embedded_chain
from omnidsl.chain.tx import call, deploy, gas_used, intrinsic_gas, transact

__all__ = ["GAS_LIMIT", "anvil", "call", "connect", "deploy", "embedded_chain",
           "gas_used", "intrinsic_gas", "transact"]
