"""Batch verification (k = 1, 4, 16, 32) and gas against snarkjs's own verifier, on anvil."""

from __future__ import annotations

import re

import pytest

from omnidsl import chain as chains
from omnidsl.errors import ChainError
from omnidsl.field import Q, R
from omnidsl.solidity.compile import compile_sources
from omnidsl.solidity.render import batch_calldata, proof_calldata

pytestmark = pytest.mark.chain
N = 2


@pytest.fixture(scope="module")
def verifier(anvil_w3, compiled_verifier):
    cc = compiled_verifier(N)
    return chains.deploy(anvil_w3, cc.abi, cc.bytecode)


@pytest.mark.parametrize("k", [1, 4, 16, 32])
def test_batch_valid_and_gas_per_proof(k, anvil_w3, verifier, toy_proofs):
    proofs, inputs = batch_calldata(toy_proofs(N, k))
    assert len(proofs) == 8 * k and len(inputs) == N * k
    assert verifier.functions.verifyBatch(proofs, inputs).call() is True
    assert verifier.functions.verifyBatchOrRevert(proofs, inputs).call() is True
    total, _ = chains.gas_used(anvil_w3, verifier.functions.verifyBatch(proofs, inputs))
    # k + 3 pairings and 2k + ℓ + 2 ecMuls (EIP-1108 prices) bound it from below
    floor = 45_000 + 34_000 * (k + 3) + 6_000 * (2 * k + N + 2)
    print(k, total, total - floor)
    assert floor < total < floor + 40_000 + 8_000 * k
    if k == 32:
        assert total / k <= 60_000, total / k


def test_batch_with_one_bad_proof_is_rejected(verifier, toy_proofs):
    items = toy_proofs(N, 16)
    proofs, inputs = batch_calldata(items)
    cases = {}
    x = list(inputs)
    x[7 * N + 1] = (x[7 * N + 1] + 1) % R
    cases["one input changed"] = (proofs, x)
    x = list(inputs)
    x[3 * N:4 * N], x[4 * N:5 * N] = x[4 * N:5 * N], x[3 * N:4 * N]
    cases["inputs of two proofs swapped"] = (proofs, x)
    p = list(proofs)
    p[5 * 8 + 6:5 * 8 + 8], p[9 * 8 + 6:9 * 8 + 8] = p[9 * 8 + 6:9 * 8 + 8], p[5 * 8 + 6:5 * 8 + 8]
    cases["c of two proofs swapped"] = (p, inputs)
    p = list(proofs)
    p[15 * 8 + 1] = (p[15 * 8 + 1] + 1) % Q
    cases["last a off curve"] = (p, inputs)
    for label, (pp, xx) in cases.items():
        assert verifier.functions.verifyBatch(pp, xx).call() is False, label
        with pytest.raises(ChainError, match="Groth16Verifier: "):
            chains.call(verifier.functions.verifyBatchOrRevert(pp, xx))


def test_batch_field_and_shape_checks(verifier, toy_proofs):
    proofs, inputs = batch_calldata(toy_proofs(N, 4))
    big = list(inputs)
    big[5] += R
    assert verifier.functions.verifyBatch(proofs, big).call() is False
    with pytest.raises(ChainError, match="public input not less than r"):
        chains.call(verifier.functions.verifyBatchOrRevert(proofs, big))
    bigq = list(proofs)
    bigq[10] += Q
    with pytest.raises(ChainError, match="proof coordinate not less than q"):
        chains.call(verifier.functions.verifyBatchOrRevert(bigq, inputs))
    for pp, xx in (([], []), (proofs[:-1], inputs), (proofs, inputs[:-1]), (proofs, [])):
        assert verifier.functions.verifyBatch(pp, xx).call() is False
        with pytest.raises(ChainError, match="batch lengths do not match"):
            chains.call(verifier.functions.verifyBatchOrRevert(pp, xx))


def test_batch_low_gas_reverts(verifier, toy_proofs):
    proofs, inputs = batch_calldata(toy_proofs(N, 4))
    with pytest.raises(ChainError, match="insufficient gas"):
        chains.call(verifier.functions.verifyBatch(proofs, inputs), gas=300_000)
    for k in (1, 4, 16):
        proofs, inputs = batch_calldata(toy_proofs(N, k))
        fn = verifier.functions.verifyBatch(proofs, inputs)
        assert fn.call({"gas": fn.estimate_gas()}) is True  # never false for lack of gas


def snarkjs_verifier_source(circuit) -> str:
    """snarkjs's exported verifier; only the pragma line is adjusted if solc 0.8.37 refuses it."""
    src = circuit.verifier_source()
    return re.sub(r"pragma solidity [^;]+;", "pragma solidity >=0.7.0 <0.9.0;", src, count=1)


@pytest.mark.parametrize("n", [1, 4])
def test_gas_ours_vs_snarkjs(n, anvil_w3, toy_circuit, compiled_verifier, toy_proofs):
    circ = toy_circuit(n)
    theirs_cc = compile_sources({"SnarkjsVerifier.sol": snarkjs_verifier_source(circ)})
    theirs_cc = theirs_cc["Groth16Verifier"]
    theirs = chains.deploy(anvil_w3, theirs_cc.abi, theirs_cc.bytecode)
    ours_cc = compiled_verifier(n)
    ours = chains.deploy(anvil_w3, ours_cc.abi, ours_cc.bytecode)
    a, b, c, x = proof_calldata(*toy_proofs(n, 1)[0])
    assert theirs.functions.verifyProof(a, b, c, x).call() is True
    assert ours.functions.verifyProof(a, b, c, x).call() is True
    bad = [(x[0] + 1) % R, *x[1:]]
    assert theirs.functions.verifyProof(a, b, c, bad).call() is False
    assert ours.functions.verifyProof(a, b, c, bad).call() is False
    t_total, t_exec = chains.gas_used(anvil_w3, theirs.functions.verifyProof(a, b, c, x))
    o_total, o_exec = chains.gas_used(anvil_w3, ours.functions.verifyProof(a, b, c, x))
    assert o_total - o_exec == t_total - t_exec  # identical calldata
    assert o_exec < t_exec, (o_exec, t_exec)
