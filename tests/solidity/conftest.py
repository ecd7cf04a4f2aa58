"""Fixtures for the Solidity verifier tests: snarkjs-made circuits/proofs and chains.

Artifacts (tiny .ptau, circuits with ℓ public inputs, proofs) are built once per test session.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from omnidsl.chain.artifacts import CompiledContract
from omnidsl.solidity.render import compile_verifier
from omnidsl.solidity.snarkjs_ref import (
    SnarkjsCircuit,
    build_circuit,
    tiny_ptau,
    toy_input,
    toy_main,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def ptau(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_ptau(tmp_path_factory.mktemp("ptau"), power=8)


@pytest.fixture(scope="session")
def toy_circuit(tmp_path_factory: pytest.TempPathFactory,
                ptau: Path) -> Callable[[int], SnarkjsCircuit]:
    """toy_circuit(ℓ): the Toy(ℓ) fixture circuit set up with snarkjs (cached per ℓ)."""
    cache: dict[int, SnarkjsCircuit] = {}

    def get(n_public: int) -> SnarkjsCircuit:
        if n_public not in cache:
            work = tmp_path_factory.mktemp(f"toy{n_public}")
            main = toy_main(FIXTURES / "toy.circom", n_public, work)
            cache[n_public] = build_circuit(main, work, ptau, n_public)
        return cache[n_public]

    return get


@pytest.fixture(scope="session")
def toy_proofs(toy_circuit: Callable[[int], SnarkjsCircuit]
               ) -> Callable[[int, int], list[tuple[dict[str, Any], list[str]]]]:
    """toy_proofs(ℓ, k): k distinct valid snarkjs proofs for Toy(ℓ) (cached, grown on demand)."""
    cache: dict[int, list[tuple[dict[str, Any], list[str]]]] = {}

    def get(n_public: int, k: int) -> list[tuple[dict[str, Any], list[str]]]:
        have = cache.setdefault(n_public, [])
        if len(have) < k:
            circ = toy_circuit(n_public)
            have += circ.prove_many([toy_input(n_public) for _ in range(k - len(have))])
        return have[:k]

    return get


@pytest.fixture(scope="session")
def compiled_verifier(toy_circuit: Callable[[int], SnarkjsCircuit]
                      ) -> Callable[..., CompiledContract]:
    """compiled_verifier(ℓ, batch=True): the Toy(ℓ) key's verifier (batch=True: the market's
    variant with verifyBatch and the reverting functions; False: the default, verifyProof
    alone), cached."""
    cache: dict[tuple[int, bool], CompiledContract] = {}

    def get(n_public: int, batch: bool = True) -> CompiledContract:
        if (n_public, batch) not in cache:
            cache[n_public, batch] = compile_verifier(toy_circuit(n_public).vk, batch=batch)
        return cache[n_public, batch]

    return get
