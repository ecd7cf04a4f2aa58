"""Shared test fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CIRCUITS = ROOT / "circuits"


@pytest.fixture(scope="session", autouse=True)
def _compile_cache(tmp_path_factory):
    """The CLI's compile cache in a folder of this test session (not the user's ~/.cache)."""
    old = os.environ.get("OMNIDSL_CACHE")
    os.environ["OMNIDSL_CACHE"] = str(tmp_path_factory.mktemp("compile_cache"))
    yield
    if old is None:
        os.environ.pop("OMNIDSL_CACHE", None)
    else:
        os.environ["OMNIDSL_CACHE"] = old


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def snarkjs() -> Path:
    """Path of the project's snarkjs (installed from package.json; fails loudly if it cannot)."""
    from omnidsl.npm import npm_bin

    return npm_bin("snarkjs")


# ---- the chain audits (tests/solidity/test_verifier_audit.py, tests/market/test_market_audit.py,
# tests/market/test_market_roles_audit.py): one anvil, a snarkjs-made Toy(2) circuit whose public
# inputs are [owner, v] (proof statement: a = owner + v), its generated verifier, a deployed Market.


@pytest.fixture(scope="session")
def audit_circuit(tmp_path_factory: pytest.TempPathFactory):
    """Toy(2): public inputs x = [x0, x1], witness a = x0 + x1 (snarkjs keys, tiny ptau)."""
    from omnidsl.solidity.snarkjs_ref import build_circuit, tiny_ptau, toy_main

    ptau = tiny_ptau(tmp_path_factory.mktemp("audit_ptau"), power=8)
    work = tmp_path_factory.mktemp("audit_toy2")
    toy = ROOT / "tests" / "solidity" / "fixtures" / "toy.circom"
    return build_circuit(toy_main(toy, 2, work), work, ptau, 2)


@pytest.fixture(scope="session")
def audit_prove(audit_circuit):
    """audit_prove([(x0, x1), ...]) -> [(proof.json dict, public list)] (one node process)."""

    def run(xs: list[tuple[int, int]]) -> list[tuple[dict[str, Any], list[str]]]:
        inputs = [{"a": str(x0 + x1), "x": [str(x0), str(x1)]} for x0, x1 in xs]
        return audit_circuit.prove_many(inputs)

    return run


@pytest.fixture(scope="session")
def audit_anvil() -> Iterator[Any]:
    from omnidsl import chain as chains

    with chains.anvil() as w3:
        yield w3


@pytest.fixture(scope="session")
def audit_verifier_cc(audit_circuit):
    from omnidsl.solidity.render import compile_verifier

    return compile_verifier(audit_circuit.vk, batch=True)  # the market's variant


@pytest.fixture(scope="session")
def audit_verifier(audit_anvil, audit_verifier_cc):
    from omnidsl import chain as chains

    return chains.deploy(audit_anvil, audit_verifier_cc.abi, audit_verifier_cc.bytecode)


@pytest.fixture(scope="session")
def audit_market(audit_anvil):
    from omnidsl.market.client import MarketClient

    return MarketClient.deploy(audit_anvil)


# ---- one anvil and one embedded chain for the session (tests/chain, tests/solidity)


@pytest.fixture(scope="session")
def anvil_w3() -> Iterator[Any]:
    from omnidsl import chain

    with chain.anvil() as w3:
        yield w3


@pytest.fixture(scope="session")
def embedded_w3() -> Any:
    from omnidsl import chain

    return chain.embedded_chain()
