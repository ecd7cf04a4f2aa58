"""Every rule in circuits/ through omnidsl's own pipeline, verified by the generated contract.

compile_file (small parameters) → dev setup → prove (plain driver) → snarkjs-layout JSON →
render_verifier → solc-js → deploy → verify, on anvil (all checks, plus a batch) and on the
embedded eth-tester chain (valid, tampered input, input ≥ r, tampered proofs, the reverting
variant).
"""

from __future__ import annotations

import pytest

from omnidsl import chain as chains
from omnidsl.backend import get_backend
from omnidsl.compiler import compile_file
from omnidsl.errors import ChainError
from omnidsl.field import Q, R, limbs_to_bytes
from omnidsl.groth16.formats import proof_to_json, public_to_json, vk_to_json
from omnidsl.groth16.prover import prove_plain, public_signals
from omnidsl.groth16.setup import dev_setup
from omnidsl.solidity.render import batch_calldata, compile_verifier, proof_calldata
from tests.groth16.cases import CASES, CIRCUITS

pytestmark = pytest.mark.chain
RULES = sorted(CASES)


def contract_name(rule: str) -> str:
    return rule.title().replace("_", "") + "Verifier"


@pytest.fixture(scope="module")
def rule_artifacts():
    """rule -> (vk json, [(proof json, public json)] * 3, compiled verifier), built once."""
    backend = get_backend()
    cache = {}

    def get(rule):
        if rule not in cache:
            params, inputs = CASES[rule]
            circuit = compile_file(CIRCUITS / f"{rule}.omni", params)
            z = limbs_to_bytes(circuit.witness(inputs))
            pk = dev_setup(circuit.r1cs, backend)
            pub = public_to_json(public_signals(pk, z))
            proofs = [(proof_to_json(prove_plain(pk, z, backend)), pub) for _ in range(3)]
            vk = vk_to_json(pk.vk)
            cache[rule] = (vk, proofs, compile_verifier(vk, contract_name(rule), batch=True))
        return cache[rule]

    return get


def test_every_rule_is_covered():
    assert sorted(p.stem for p in CIRCUITS.glob("*.omni")) == RULES


@pytest.mark.parametrize("rule", RULES)
def test_rule_on_anvil(rule, rule_artifacts, anvil_w3):
    vk, proofs, cc = rule_artifacts(rule)
    name = contract_name(rule)
    v = chains.deploy(anvil_w3, cc.abi, cc.bytecode)
    n = vk["nPublic"]
    assert n >= 1
    a, b, c, x = proof_calldata(*proofs[0])
    assert v.functions.verifyProof(a, b, c, x).call() is True
    assert v.functions.verifyProofOrRevert(a, b, c, x).call() is True
    for i in range(n):
        y = list(x)
        y[i] = (y[i] + 1) % R
        assert v.functions.verifyProof(a, b, c, y).call() is False
        with pytest.raises(ChainError, match=f"{name}: invalid proof"):
            chains.call(v.functions.verifyProofOrRevert(a, b, c, y))
        y[i] = x[i] + R
        assert v.functions.verifyProof(a, b, c, y).call() is False
        with pytest.raises(ChainError, match=f"{name}: public input not less than r"):
            chains.call(v.functions.verifyProofOrRevert(a, b, c, y))
    assert v.functions.verifyProof([a[0], (a[1] + 1) % Q], b, c, x).call() is False
    oa, ob, oc, _ = proof_calldata(*proofs[1])  # another (re-randomised) proof of the same input
    assert v.functions.verifyProof(oa, ob, oc, x).call() is True
    assert v.functions.verifyProof(oa, b, c, x).call() is False
    assert v.functions.verifyProof(a, b, oc, x).call() is False
    _total, execution = chains.gas_used(anvil_w3, v.functions.verifyProof(a, b, c, x))
    assert execution <= 200_000 + 6_300 * n
    # the three proofs as one batch, and the batch with one tampered input
    ps, xs = batch_calldata(proofs)
    assert v.functions.verifyBatch(ps, xs).call() is True
    xs[-1] = (xs[-1] + 1) % R
    assert v.functions.verifyBatch(ps, xs).call() is False


@pytest.mark.parametrize("rule", RULES)
def test_rule_on_embedded_chain(rule, rule_artifacts, embedded_w3):
    _vk, proofs, cc = rule_artifacts(rule)
    v = chains.deploy(embedded_w3, cc.abi, cc.bytecode)
    a, b, c, x = proof_calldata(*proofs[0])
    assert v.functions.verifyProof(a, b, c, x).call() is True
    y = list(x)
    y[-1] = (y[-1] + 1) % R
    assert v.functions.verifyProof(a, b, c, y).call() is False
    y[-1] = x[-1] + R
    with pytest.raises(ChainError, match="public input not less than r"):
        chains.call(v.functions.verifyProofOrRevert(a, b, c, y))
    # tampered proofs: A off the curve, and C taken from another valid proof of the same input
    name = contract_name(rule)
    assert v.functions.verifyProof([a[0], (a[1] + 1) % Q], b, c, x).call() is False
    _oa, _ob, oc, _ = proof_calldata(*proofs[1])
    assert v.functions.verifyProof(a, b, oc, x).call() is False
    with pytest.raises(ChainError, match=f"{name}: invalid proof"):
        chains.call(v.functions.verifyProofOrRevert(a, b, oc, x))
