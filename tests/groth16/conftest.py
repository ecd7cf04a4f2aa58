"""Fixtures for the Groth16 tests: backends, a small circuit with keys, witness and proof."""

from __future__ import annotations

from pathlib import Path

import pytest

import omnidsl.backend
from omnidsl.backend.base import Backend
from omnidsl.groth16.prover import prove_plain, public_signals
from omnidsl.groth16.setup import dev_setup
from tests.groth16.handmade import chain_circuit, chain_witness, to_bytes


@pytest.fixture(scope="session")
def backend() -> Backend:
    return omnidsl.backend.get_backend("native")


@pytest.fixture(scope="session")
def ref() -> Backend:
    return omnidsl.backend.get_backend("reference")


@pytest.fixture(scope="session")
def chain(backend):
    """(pk, witness bytes, public signals, proof) for a 12-constraint circuit."""
    r1cs = chain_circuit(12, n_pub_in=3)
    pk = dev_setup(r1cs, backend)
    z = to_bytes(chain_witness(12, [5, 7, 11], 3))
    proof = prove_plain(pk, z, backend)
    return pk, z, public_signals(pk, z), proof


@pytest.fixture(scope="module")
def ptau(tmp_path_factory) -> Path:
    """A 2^8 powers-of-tau prepared for phase 2 (test_snarkjs.py has snarkjs_ptau, made by snarkjs)."""
    from omnidsl.solidity.snarkjs_ref import tiny_ptau

    return tiny_ptau(tmp_path_factory.mktemp("ptau"), power=8)
