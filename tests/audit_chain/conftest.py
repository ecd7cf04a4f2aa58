"""Fixtures for the chain audit: one anvil, a snarkjs-made Toy(2) circuit whose public inputs are
[owner, v] (proof statement: a = owner + v), its generated verifier, and a deployed Market."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from omnidsl import chain as chains
from omnidsl.market.client import MarketClient
from omnidsl.solidity.render import compile_verifier
from omnidsl.solidity.snarkjs_ref import SnarkjsCircuit, build_circuit, tiny_ptau, toy_main

FIXTURE = Path(__file__).resolve().parent.parent / "solidity" / "fixtures" / "toy.circom"


@pytest.fixture(scope="session")
def audit_circuit(tmp_path_factory: pytest.TempPathFactory) -> SnarkjsCircuit:
    """Toy(2): public inputs x = [x0, x1], witness a = x0 + x1 (snarkjs keys, tiny ptau)."""
    ptau = tiny_ptau(tmp_path_factory.mktemp("audit_ptau"), power=8)
    work = tmp_path_factory.mktemp("audit_toy2")
    return build_circuit(toy_main(FIXTURE, 2, work), work, ptau, 2)


@pytest.fixture(scope="session")
def prove(audit_circuit: SnarkjsCircuit):
    """prove([(x0, x1), ...]) -> [(proof.json dict, public list)] (one node process per call)."""

    def run(xs: list[tuple[int, int]]) -> list[tuple[dict[str, Any], list[str]]]:
        inputs = [{"a": str(x0 + x1), "x": [str(x0), str(x1)]} for x0, x1 in xs]
        return audit_circuit.prove_many(inputs)

    return run


@pytest.fixture(scope="session")
def audit_anvil() -> Iterator[Any]:
    with chains.anvil() as w3:
        yield w3


@pytest.fixture(scope="session")
def verifier_cc(audit_circuit: SnarkjsCircuit):
    return compile_verifier(audit_circuit.vk)


@pytest.fixture(scope="session")
def verifier(audit_anvil, verifier_cc):
    return chains.deploy(audit_anvil, verifier_cc.abi, verifier_cc.bytecode)


@pytest.fixture(scope="session")
def market(audit_anvil) -> MarketClient:
    return MarketClient.deploy(audit_anvil)
