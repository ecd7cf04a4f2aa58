"""The embedded chain's fast paths other than the precompiles, against eth-tester/py-evm's own.

* gas estimation (omnidsl.chain.estimator) against py-evm's exact search: for each
  transaction the estimate is a limit at which it succeeds, at least the exact minimum and at
  most 1.5 % above it; reverts still raise; plain transfers cost 21,000;
* transaction look-ups by index (omnidsl.chain.tester_backend): the same receipts,
  transactions and logs as eth-tester's scan, also for the pending block, after a snapshot
  revert and for unknown hashes.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth.estimators.gas import binary_gas_search_exact
from eth_tester import PyEVMBackend
from eth_tester.exceptions import BlockNotFound, TransactionNotFound

from omnidsl import chain as chains
from omnidsl.chain import estimator
from omnidsl.chain.tester_backend import IndexedPyEVMBackend
from omnidsl.errors import ChainError
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
    event Noted(uint256 indexed k, uint256 v);
    function note(uint256 k, uint256 v) external { emit Noted(k, v); }
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
    slow = chains.embedded_chain(fast=False)
    assert slow.provider.ethereum_tester.backend.chain.gas_estimator is not estimator.gas_search


def _outcome(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except (TransactionNotFound, BlockNotFound) as exc:
        return type(exc).__name__


def _same_lookups(w3: Any, hashes: list[Any]) -> None:
    backend = w3.provider.ethereum_tester.backend
    assert isinstance(backend, IndexedPyEVMBackend)
    for _ in range(2):  # the second time from the cache
        for h in hashes:
            raw = bytes(h)
            for name in ("get_transaction_receipt", "get_transaction_by_hash"):
                assert _outcome(getattr(backend, name), raw) == \
                    _outcome(getattr(PyEVMBackend, name), backend, raw), name
        top = int(w3.eth.block_number)
        for number in [*range(top + 3), "latest", "earliest", "pending", "safe"]:
            for full in (False, True):
                assert _outcome(backend.get_block_by_number, number, full) == _outcome(
                    PyEVMBackend.get_block_by_number, backend, number, full), (number, full)


def test_indexed_lookups_match_eth_tester(store: Any) -> None:
    w3 = chains.embedded_chain()
    tester = w3.provider.ethereum_tester
    me, other = w3.eth.accounts[:2]
    c = chains.deploy(w3, store.abi, store.bytecode)
    hashes = [c.functions.note(i % 3, i).transact({"from": me}) for i in range(12)]
    hashes.append(w3.eth.send_transaction({"from": me, "to": other, "value": 7}))
    _same_lookups(w3, hashes)
    logs = c.events.Noted().get_logs(from_block=0, argument_filters={"k": 1})
    assert [int(e["args"]["v"]) for e in logs] == [1, 4, 7, 10]
    assert [e["transactionHash"] for e in logs] == [hashes[i] for i in (1, 4, 7, 10)]
    # a transaction not mined yet (eth-tester holds it: neither look-up finds it), then mined
    tester.disable_auto_mine_transactions()
    pending = c.functions.note(9, 9).transact({"from": me})
    _same_lookups(w3, [pending])
    tester.enable_auto_mine_transactions()
    _same_lookups(w3, [pending, *hashes])
    # after a revert the undone transactions are gone and the kept ones still found
    snap = tester.take_snapshot()
    undone = [c.functions.note(5, i).transact({"from": me}) for i in range(3)]
    _same_lookups(w3, undone)  # cached: must not be served after the revert
    tester.revert_to_snapshot(snap)
    _same_lookups(w3, hashes[:3])
    backend = tester.backend
    for h in undone:
        with pytest.raises(TransactionNotFound):
            backend.get_transaction_receipt(bytes(h))
    redo = [c.functions.note(6, i).transact({"from": me}) for i in range(2)]  # same numbers
    _same_lookups(w3, [*redo, *hashes[-2:], *undone])
    # a returned receipt is a copy: changing it does not change the next answer
    got = backend.get_transaction_receipt(bytes(redo[0]))
    got["logs"].clear()
    assert backend.get_transaction_receipt(bytes(redo[0]))["logs"]
    with pytest.raises(TransactionNotFound):
        backend.get_transaction_by_hash(b"\x11" * 32)
