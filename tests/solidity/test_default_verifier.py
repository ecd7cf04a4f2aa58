"""The default verifier (what `omnidsl export-verifier` emits: verifyProof alone) against
snarkjs's exported verifier of the same key: it accepts exactly what snarkjs's accepts (valid,
tampered, out-of-field, non-canonical, infinity, non-subgroup, wrong number of inputs), verifies
for no more gas, and costs no more to deploy (gas and runtime code) — on anvil for Toy(ℓ) keys
made by snarkjs, on the embedded chain for fixed keys up to ℓ = 100."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils import keccak

from omnidsl import chain as chains
from omnidsl.chain.artifacts import CompiledContract
from omnidsl.field import Q, R
from omnidsl.solidity.artifacts import reference_vk
from omnidsl.solidity.compile import compile_sources
from omnidsl.solidity.render import batch_calldata, compile_verifier
from omnidsl.solidity.snarkjs_ref import verifier_source_for_vk, widen_pragma
from tests.solidity.evm_points import twist_point_outside_subgroup

pytestmark = pytest.mark.chain
ELLS = [1, 4, 16]


def _size(cc: CompiledContract) -> int:
    return (len(cc.deployed_bytecode) - 2) // 2


def _deploy(w3: Any, cc: CompiledContract) -> tuple[Any, int]:
    """(contract, deployment gasUsed)."""
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": w3.eth.accounts[0], "data": cc.bytecode}))
    assert receipt["status"] == 1
    return w3.eth.contract(address=receipt["contractAddress"], abi=cc.abi), int(receipt["gasUsed"])


def _snarkjs_cc(source: str) -> CompiledContract:
    return compile_sources({"SnarkjsVerifier.sol": source})["Groth16Verifier"]


@pytest.fixture(scope="module")
def deployed(anvil_w3, toy_circuit, compiled_verifier):
    """deployed(ℓ) -> {"ours": (contract, gas, size), "snarkjs": (...)} for Toy(ℓ)."""
    cache: dict[int, dict[str, tuple[Any, int, int]]] = {}

    def get(n: int) -> dict[str, tuple[Any, int, int]]:
        if n not in cache:
            circ = toy_circuit(n)
            pair = {"ours": compiled_verifier(n, batch=False),
                    "snarkjs": _snarkjs_cc(widen_pragma(circ.verifier_source()))}
            cache[n] = {k: (*_deploy(anvil_w3, cc), _size(cc)) for k, cc in pair.items()}
        return cache[n]

    return get


def _cases(item: tuple[Any, Any], other: tuple[Any, Any]) -> list[tuple[str, list[int], list[int]]]:
    """(label, 8 proof words, inputs): the valid proof and every kind of tampering."""
    (w, xs), (ow, oxs) = batch_calldata([item]), batch_calldata([other])
    gx, gy = twist_point_outside_subgroup()
    cases = [("valid", w, xs), ("another valid proof", ow, oxs)]
    for i in range(8):
        cases.append((f"word {i} + 1", [*w[:i], (w[i] + 1) % Q, *w[i + 1:]], xs))
        cases.append((f"word {i} + q", [*w[:i], w[i] + Q, *w[i + 1:]], xs))
    neg = lambda v: (Q - v) % Q  # noqa: E731
    cases += [
        ("-A", [w[0], neg(w[1]), *w[2:]], xs),
        ("-A, -B (valid: malleable)", [w[0], neg(w[1]), w[2], w[3], neg(w[4]), neg(w[5]),
                                       *w[6:]], xs),
        ("A of another proof", [*ow[:2], *w[2:]], xs),
        ("C of another proof", [*w[:6], *ow[6:]], xs),
        ("B's c0/c1 swapped", [*w[:2], w[3], w[2], w[5], w[4], *w[6:]], xs),
        ("A = 0", [0, 0, *w[2:]], xs), ("B = 0", [*w[:2], 0, 0, 0, 0, *w[6:]], xs),
        ("C = 0", [*w[:6], 0, 0], xs), ("all zero", [0] * 8, xs),
        ("B outside G2", [*w[:2], int(gx.coeffs[1]), int(gx.coeffs[0]), int(gy.coeffs[1]),
                          int(gy.coeffs[0]), *w[6:]], xs),
        ("inputs of another proof", w, oxs),
    ]
    for j in range(len(xs)):
        for label, v in (("+ 1", (xs[j] + 1) % R), ("+ r", xs[j] + R), ("= r", R),
                         ("= 2^256 - 1", 2**256 - 1)):
            cases.append((f"input {j} {label}", w, [*xs[:j], v, *xs[j + 1:]]))
    return cases


def _outcome(w3: Any, address: str, data: bytes) -> Any:
    """The call's decoded bool, or "revert"."""
    try:
        out = w3.eth.call({"to": address, "data": "0x" + data.hex(), "gas": 2_000_000})
    except Exception:  # any revert counts as "revert"
        return "revert"
    return int.from_bytes(bytes(out), "big") if len(out) == 32 else bytes(out)


def _calldata(n: int, words: list[int], xs: list[int]) -> bytes:
    sig = "verifyProof(uint256[2],uint256[2][2],uint256[2]" + (f",uint256[{n}])" if n else ")")
    return keccak(text=sig)[:4] + b"".join(v.to_bytes(32, "big") for v in [*words, *xs])


@pytest.mark.parametrize("n", ELLS)
def test_accepts_exactly_what_snarkjs_accepts(n, anvil_w3, deployed, toy_proofs):
    d = deployed(n)
    ours, theirs = d["ours"][0].address, d["snarkjs"][0].address
    items = toy_proofs(n, 2)
    outcomes = []
    for label, w, xs in _cases(items[0], items[1]):
        data = _calldata(n, w, xs)
        got, want = _outcome(anvil_w3, ours, data), _outcome(anvil_w3, theirs, data)
        assert got == want, (label, got, want)
        outcomes.append((label, got))
    assert [label for label, got in outcomes if got == 1] == [
        "valid", "another valid proof", "-A, -B (valid: malleable)"]
    # the wrong number of inputs: the same outcome as snarkjs's (short calldata reverts, words
    # after the N inputs are ignored), and a verifyProof of another size does not exist
    (w, xs), = [batch_calldata([items[0]])]
    for label, data in (("one input short", _calldata(n, w, xs)[:-32]),
                        ("one input more", _calldata(n, w, [*xs, 7])),
                        ("selector of N + 1", _calldata(n + 1, w, [*xs, 7])),
                        ("no inputs", _calldata(0, w, []))):
        got, want = _outcome(anvil_w3, ours, data), _outcome(anvil_w3, theirs, data)
        assert got == want, (label, got, want)
    assert _outcome(anvil_w3, ours, _calldata(n, w, xs)[:-32]) == "revert"


@pytest.mark.parametrize("n", ELLS)
def test_cheaper_than_snarkjs_to_deploy_and_to_verify(n, anvil_w3, deployed, toy_proofs):
    d = deployed(n)
    (ours, ours_deploy, ours_size), (theirs, their_deploy, their_size) = d["ours"], d["snarkjs"]
    assert ours_size <= their_size, (ours_size, their_size)
    assert ours_deploy <= their_deploy, (ours_deploy, their_deploy)
    w, xs = batch_calldata(toy_proofs(n, 1))
    args = (w[0:2], [w[2:4], w[4:6]], w[6:8], xs)
    o_total, o_exec = chains.gas_used(anvil_w3, ours.functions.verifyProof(*args))
    t_total, t_exec = chains.gas_used(anvil_w3, theirs.functions.verifyProof(*args))
    assert o_total - o_exec == t_total - t_exec  # identical calldata
    assert o_exec <= t_exec, (o_exec, t_exec)


def test_the_snarkjs_reference_is_snarkjs_own_export(toy_circuit, tmp_path):
    """verifier_source_for_vk renders exactly what `snarkjs zkey export solidityverifier` writes."""
    circ = toy_circuit(4)
    assert verifier_source_for_vk(circ.vk, tmp_path) == widen_pragma(circ.verifier_source())


@pytest.mark.parametrize("n", [1, 2, 8, 32, 100])
def test_fixed_key_deployment_no_more_than_snarkjs(n, embedded_w3, tmp_path):
    """For the fixed reference keys (artifacts.reference_vk: gas is deterministic), deploying the
    default verifier costs no more gas and no more runtime code than snarkjs's verifier; the
    market's variant (batch=True) costs more, and stays under EIP-170."""
    vk = reference_vk(n)
    ours, theirs = compile_verifier(vk), _snarkjs_cc(verifier_source_for_vk(vk, tmp_path))
    (_, ours_gas), (_, their_gas) = _deploy(embedded_w3, ours), _deploy(embedded_w3, theirs)
    assert _size(ours) <= _size(theirs), (_size(ours), _size(theirs))
    assert ours_gas <= their_gas, (ours_gas, their_gas)
    market = compile_verifier(vk, batch=True)
    assert _size(ours) < _size(market)
    _, market_gas = _deploy(embedded_w3, market)
    assert market_gas > ours_gas


def test_embedded_chain_agrees(embedded_w3, toy_circuit, compiled_verifier, toy_proofs):
    """The representative few on eth-tester/py-evm, ours against snarkjs's (ℓ = 2)."""
    circ = toy_circuit(2)
    ours, _ = _deploy(embedded_w3, compiled_verifier(2, batch=False))
    theirs, _ = _deploy(embedded_w3, _snarkjs_cc(widen_pragma(circ.verifier_source())))
    items = toy_proofs(2, 2)
    picked = {"valid", "word 1 + q", "word 6 + 1", "input 1 + r", "input 0 + 1", "B = 0"}
    for label, w, xs in _cases(items[0], items[1]):
        if label in picked:
            data = _calldata(2, w, xs)
            got = _outcome(embedded_w3, ours.address, data)
            assert got == _outcome(embedded_w3, theirs.address, data), label
            assert got == (1 if label == "valid" else 0), label
