"""The embedded chain's gas estimator (omnidsl.solidity.estimator) against py-evm's exact search.

For each transaction the estimate must be a limit at which the transaction succeeds, at least
the exact minimum and at most 1.5 % above it; reverts must still raise; plain transfers cost
21,000.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth.estimators.gas import binary_gas_search_exact

from omnidsl.errors import ChainError
from omnidsl.market import chains
from omnidsl.solidity import estimator
from omnidsl.solidity.compile import compile_sources
from omnidsl.solidity.render import batch_calldata, proof_calldata

pytestmark = pytest.mark.chain

SRC = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
contract Store {
    mapping(uint256 => uint256) public slot;
    function fill(uint256 n) external { for (uint256 i = 0; i < n; i++) slot[i] = i + 1; }
    function clear(uint256 n) external { for (uint256 i = 0; i < n; i++) delete slot[i]; }
    function burn(uint256 n) external view returns (uint256 r) {
        require(gasleft() > n, "Store: want more gas");
        for (uint256 i = 0; i < 100; i++) r += i;
    }
    function poke(address to) external payable { (bool ok,) = to.call{value: msg.value}(""); require(ok); }
}
"""


@pytest.fixture(scope="module")
def store() -> Any:
    return compile_sources({"Store.sol": SRC})["Store"]


def _exact(w3: Any, tx: dict[str, Any]) -> int:
    """py-evm's exact bisection on the same chain state."""
    chain = w3.provider.ethereum_tester.backend.chain
    chain.gas_estimator = binary_gas_search_exact
    try:
        return int(w3.eth.estimate_gas(tx))
    finally:
        chain.gas_estimator = estimator.gas_search


def _tx(fn: Any, sender: str, value: int = 0) -> dict[str, Any]:
    base: dict[str, Any] = {"from": sender, "gas": 1_000_000}
    if value:
        base["value"] = value
    tx = dict(fn.build_transaction(base))
    tx.pop("gas")
    return tx


def _check(w3: Any, tx: dict[str, Any]) -> int:
    fast = int(w3.eth.estimate_gas(tx))
    exact = _exact(w3, tx)
    assert exact <= fast <= exact * 1.0155 + 1, (fast, exact)
    w3.eth.call({**tx, "gas": fast})  # succeeds at the estimate
    return fast


def test_estimates_are_tight_and_sufficient(store: Any, compiled_verifier: Any,
                                            toy_proofs: Any) -> None:
    w3 = chains.embedded_chain()
    chain = w3.provider.ethereum_tester.backend.chain
    assert chain.gas_estimator is estimator.gas_search
    me, other = w3.eth.accounts[:2]
    assert _check(w3, {"from": me, "to": other, "value": 1}) == 21_000
    factory = w3.eth.contract(abi=store.abi, bytecode=store.bytecode)
    _check(w3, {"from": me, "data": factory.constructor().data_in_transaction})
    c = chains.deploy(w3, store.abi, store.bytecode)
    for n in (1, 10, 60):
        _check(w3, _tx(c.functions.fill(n), me))
    chains.transact(w3, c.functions.fill(60))
    # clearing storage earns refunds: the limit must cover the gas before the refund
    _check(w3, _tx(c.functions.clear(60), me))
    # a call that demands more gas than it uses (gasleft check): still found
    _check(w3, _tx(c.functions.burn(2_000_000), me))
    _check(w3, _tx(c.functions.poke(other), me, value=5))
    cc = compiled_verifier(2)
    v = chains.deploy(w3, cc.abi, cc.bytecode)
    a, b, cp, x = proof_calldata(*toy_proofs(2, 1)[0])
    fn = v.functions.verifyProof(a, b, cp, x)
    limit = _check(w3, _tx(fn, me))
    assert fn.call({"gas": limit}) is True
    proofs, inputs = batch_calldata(toy_proofs(2, 4))
    _check(w3, _tx(v.functions.verifyBatch(proofs, inputs), me))


def test_reverts_still_raise(store: Any) -> None:
    w3 = chains.embedded_chain()
    c = chains.deploy(w3, store.abi, store.bytecode)
    with pytest.raises(ChainError, match="Store: want more gas"):
        chains.transact(w3, c.functions.burn(200_000_000))  # more than the block gas limit


def test_estimator_survives_a_snapshot_revert() -> None:
    w3 = chains.embedded_chain()
    tester = w3.provider.ethereum_tester
    snap = tester.take_snapshot()
    tester.mine_blocks(2)
    tester.revert_to_snapshot(snap)
    assert tester.backend.chain.gas_estimator is estimator.gas_search
    slow = chains.embedded_chain(fast_estimate=False)
    assert slow.provider.ethereum_tester.backend.chain.gas_estimator is not estimator.gas_search
