"""The generated verifier on anvil and on the embedded eth-tester chain (snarkjs-made proofs)."""

from __future__ import annotations

import copy

import pytest

from omnidsl import chain as chains
from omnidsl.errors import ChainError
from omnidsl.field import Q, R
from omnidsl.solidity.render import proof_calldata

pytestmark = pytest.mark.chain


def _tamper_cases(proof, public, other_proof):
    """(label, a, b, c, x) variants that must all be rejected."""
    a, b, c, x = proof_calldata(proof, public)
    oa, ob, oc, _ = proof_calldata(other_proof, public)
    yield "a off curve", [a[0], (a[1] + 1) % Q], b, c, x
    yield "a from another proof", oa, b, c, x
    yield "b from another proof", a, ob, c, x
    yield "c from another proof", a, b, oc, x
    yield "b coordinates swapped", a, [b[0][::-1], b[1][::-1]], c, x
    for i in range(len(x)):
        y = list(x)
        y[i] = (y[i] + 1) % R
        yield f"input {i} changed", a, b, c, y


@pytest.fixture(scope="module")
def anvil_verifiers(anvil_w3, compiled_verifier):
    cache = {}

    def get(n):
        if n not in cache:
            cc = compiled_verifier(n)
            cache[n] = chains.deploy(anvil_w3, cc.abi, cc.bytecode)
        return cache[n]

    return get


@pytest.mark.parametrize("n", [1, 2, 4])
def test_anvil_valid_and_tampered(n, anvil_verifiers, toy_proofs):
    v = anvil_verifiers(n)
    (p0, x0), (p1, _) = toy_proofs(n, 2)
    a, b, c, x = proof_calldata(p0, x0)
    assert v.functions.verifyProof(a, b, c, x).call() is True
    assert v.functions.verifyProofOrRevert(a, b, c, x).call() is True
    assert v.functions.N_PUBLIC().call() == n
    for label, ta, tb, tc, tx in _tamper_cases(p0, x0, p1):
        assert v.functions.verifyProof(ta, tb, tc, tx).call() is False, label
        with pytest.raises(ChainError, match="Groth16Verifier: "):
            chains.call(v.functions.verifyProofOrRevert(ta, tb, tc, tx))


def test_anvil_reasons_and_field_checks(anvil_verifiers, toy_proofs):
    v = anvil_verifiers(2)
    (p0, x0), (p1, _) = toy_proofs(2, 2)
    a, b, c, x = proof_calldata(p0, x0)
    # input + r is the same residue: must still be rejected (not reduced silently)
    big = [x[0] + R, x[1]]
    assert v.functions.verifyProof(a, b, c, big).call() is False
    with pytest.raises(ChainError, match="public input not less than r"):
        chains.call(v.functions.verifyProofOrRevert(a, b, c, big))
    with pytest.raises(ChainError, match="public input not less than r"):
        chains.call(v.functions.verifyProofOrRevert(a, b, c, [x[0], 2**256 - 1]))
    # a coordinate + q is the same point mod q: must be rejected
    qa = [a[0] + Q, a[1]]
    assert v.functions.verifyProof(qa, b, c, x).call() is False
    with pytest.raises(ChainError, match="proof coordinate not less than q"):
        chains.call(v.functions.verifyProofOrRevert(qa, b, c, x))
    with pytest.raises(ChainError, match="proof point not on the curve"):
        chains.call(v.functions.verifyProofOrRevert([a[0], (a[1] + 1) % Q], b, c, x))
    oa = proof_calldata(p1, x0)[0]
    with pytest.raises(ChainError, match="invalid proof"):
        chains.call(v.functions.verifyProofOrRevert(oa, b, c, x))


def test_anvil_low_gas_reverts_instead_of_false(anvil_verifiers, toy_proofs):
    """With too little gas a precompile could fail; the verifier must not answer 'false'."""
    v = anvil_verifiers(2)
    a, b, c, x = proof_calldata(*toy_proofs(2, 1)[0])
    with pytest.raises(ChainError, match="insufficient gas"):
        chains.call(v.functions.verifyProof(a, b, c, x), gas=150_000)
    assert v.functions.verifyProof(a, b, c, x).call({"gas": 300_000}) is True
    # at the smallest gas limit that does not revert (what eth_estimateGas finds) the answer is
    # still true: a valid proof is never reported invalid for lack of gas
    for n in (1, 2, 4):
        v = anvil_verifiers(n)
        a, b, c, x = proof_calldata(*toy_proofs(n, 1)[0])
        limit = v.functions.verifyProof(a, b, c, x).estimate_gas()
        assert v.functions.verifyProof(a, b, c, x).call({"gas": limit}) is True


def test_anvil_gas_within_target(anvil_w3, anvil_verifiers, toy_proofs):
    for n in (1, 4):
        v = anvil_verifiers(n)
        a, b, c, x = proof_calldata(*toy_proofs(n, 1)[0])
        total, execution = chains.gas_used(anvil_w3, v.functions.verifyProof(a, b, c, x))
        assert 181_000 + 6_150 * n < execution <= 200_000 + 6_300 * n, (n, execution)
        assert total - execution > 21_000


def test_embedded_chain_verifier(embedded_w3, compiled_verifier, toy_proofs):
    """The representative few on eth-tester/py-evm (its pairing is slow, ≈ 1-2 s per check)."""
    cc = compiled_verifier(2)
    v = chains.deploy(embedded_w3, cc.abi, cc.bytecode)
    (p0, x0), (p1, x1) = toy_proofs(2, 2)
    a, b, c, x = proof_calldata(p0, x0)
    assert v.functions.verifyProof(a, b, c, x).call() is True
    assert v.functions.verifyProof(a, b, c, [x[0], (x[1] + 1) % R]).call() is False
    assert v.functions.verifyProof([a[0], (a[1] + 1) % Q], b, c, x).call() is False
    with pytest.raises(ChainError, match="public input not less than r"):
        chains.call(v.functions.verifyProofOrRevert(a, b, c, [x[0] + R, x[1]]))
    with pytest.raises(ChainError, match="proof point not on the curve"):
        chains.call(v.functions.verifyProofOrRevert([a[0], (a[1] + 1) % Q], b, c, x))
    receipt = chains.transact(embedded_w3, v.functions.verifyProof(a, b, c, x), gas=1_000_000)
    assert 181_000 < receipt["gasUsed"] < 300_000
    # a batch of two (one extra multi-pairing) on py-evm as well
    from omnidsl.solidity.render import batch_calldata

    proofs, inputs = batch_calldata([(p0, x0), (p1, x1)])
    assert v.functions.verifyBatch(proofs, inputs).call() is True
    bad = copy.copy(inputs)
    bad[3] = (bad[3] + 1) % R
    assert v.functions.verifyBatch(proofs, bad).call() is False


def test_anvil_key_without_public_inputs(anvil_w3, ptau, tmp_path_factory):
    """ℓ = 0: verifyProof(a, b, c) and a batch with an empty inputs array."""
    import shutil
    from pathlib import Path

    from omnidsl.solidity.render import batch_calldata, compile_verifier
    from omnidsl.solidity.snarkjs_ref import build_circuit, toy_input

    work = tmp_path_factory.mktemp("toy0")
    shutil.copyfile(Path(__file__).parent / "fixtures" / "toy.circom", work / "toy.circom")
    main = work / "toy0.circom"
    main.write_text('pragma circom 2.0.0;\ninclude "toy.circom";\ncomponent main = Toy(1);\n')
    circ = build_circuit(main, work, ptau, 0)
    assert circ.vk["nPublic"] == 0
    items = circ.prove_many([toy_input(1), toy_input(1)])
    assert items[0][1] == []
    a, b, c, _ = proof_calldata(*items[0])
    for batch in (False, True):
        cc = compile_verifier(circ.vk, batch=batch)
        v = chains.deploy(anvil_w3, cc.abi, cc.bytecode)
        assert v.functions.verifyProof(a, b, c).call() is True
        assert v.functions.verifyProof(a, b, proof_calldata(*items[1])[2]).call() is False
    proofs, inputs = batch_calldata(items)
    assert inputs == []
    assert v.functions.verifyBatch(proofs, inputs).call() is True
    assert v.functions.verifyBatch(proofs[:8] + proofs[:6] + proofs[14:], inputs).call() is False


@pytest.mark.parametrize("n", [1, 4])
def test_anvil_default_verifier(n, anvil_w3, compiled_verifier, toy_proofs):
    """The default verifier (verifyProof alone, what export-verifier emits): the same answers,
    the gas precheck, and execution gas within the target."""
    cc = compiled_verifier(n, batch=False)
    v = chains.deploy(anvil_w3, cc.abi, cc.bytecode)
    (p0, x0), (p1, _) = toy_proofs(n, 2)
    a, b, c, x = proof_calldata(p0, x0)
    assert v.functions.verifyProof(a, b, c, x).call() is True
    for label, ta, tb, tc, tx in _tamper_cases(p0, x0, p1):
        assert v.functions.verifyProof(ta, tb, tc, tx).call() is False, label
    assert v.functions.verifyProof(a, b, c, [x[0] + R, *x[1:]]).call() is False
    assert v.functions.verifyProof([a[0] + Q, a[1]], b, c, x).call() is False
    with pytest.raises(ChainError, match="Groth16Verifier: insufficient gas"):
        chains.call(v.functions.verifyProof(a, b, c, x), gas=150_000)
    _total, execution = chains.gas_used(anvil_w3, v.functions.verifyProof(a, b, c, x))
    assert execution <= 200_000 + 6_300 * n
    # the up-front gas demand is enough: estimate_gas finds a limit at which it returns true
    limit = v.functions.verifyProof(a, b, c, x).estimate_gas()
    assert v.functions.verifyProof(a, b, c, x).call({"gas": limit}) is True
