"""eth-tester's py-evm backend with transaction look-ups by index instead of by scan.

eth-tester finds a transaction (for ``eth_getTransactionByHash`` and
``eth_getTransactionReceipt``) by decoding every block from the head back to the one that holds
it, so each look-up costs O(chain length) and ``eth_getLogs`` — which fetches the receipt of
every transaction in its block range — O(chain length²): on the market demo's chain of ~90
blocks, 12 ``getLogs`` calls took 1.8 s against 11 ms on anvil.  py-evm already keeps a
transaction-hash → (block number, index) table for the canonical chain (updated on reorgs and
snapshot reverts); :class:`IndexedPyEVMBackend` uses it, checking the hash it finds, and falls
back to eth-tester's scan when the table does not answer.  The serialized results are those of
eth-tester's own serializers, so the answers are unchanged.

Mined blocks and receipts never change, so their serialized forms are also kept, keyed by the
block hash (a block replaced by a snapshot revert has another hash and is not served) and
handed out as copies.
"""

from __future__ import annotations

import copy
from typing import Any

from eth.exceptions import HeaderNotFound
from eth.exceptions import TransactionNotFound as EVMTransactionNotFound
from eth_tester import PyEVMBackend
from eth_tester.backends.pyevm import main as _pyevm
from eth_tester.backends.pyevm.serializers import (
    serialize_transaction,
    serialize_transaction_receipt,
)

__all__ = ["IndexedPyEVMBackend"]


class IndexedPyEVMBackend(PyEVMBackend):
    """:class:`eth_tester.PyEVMBackend` answering transaction look-ups from py-evm's index."""

    #: Serialized mined blocks by (block hash, full transactions) and receipts by
    #: (block hash, index); capped (cleared when full).
    CACHE_LIMIT = 50_000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._blocks: dict[tuple[bytes, bool], Any] = {}
        self._receipts: dict[tuple[bytes, int], Any] = {}
        super().__init__(*args, **kwargs)

    def _pending_number(self) -> int:
        return int(self.chain.header.block_number)

    def _mined_hash(self, number: int) -> bytes | None:
        """The canonical hash of block ``number`` if it is mined, else None."""
        if not 0 <= number < self._pending_number():
            return None
        try:
            return bytes(self.chain.chaindb.get_canonical_block_hash(number))
        except HeaderNotFound:
            return None

    def _keep(self, cache: dict[Any, Any], key: Any, value: Any) -> Any:
        if len(cache) >= self.CACHE_LIMIT:
            cache.clear()
        cache[key] = value
        return copy.deepcopy(value)

    def _find_transaction(self, transaction_hash: bytes) -> tuple[Any, Any, int]:
        """(block, transaction, index) as eth-tester's ``_get_transaction_by_hash`` returns."""
        chain = self.chain
        head = chain.get_block()  # the pending block comes first, as in eth-tester
        for index, tx in enumerate(head.transactions):
            if tx.hash == transaction_hash:
                return head, tx, index
        try:
            number, index = chain.chaindb.get_transaction_index(transaction_hash)
        except EVMTransactionNotFound:
            number = None
        if number is not None and number < head.number:
            block = chain.get_canonical_block_by_number(number)
            if index < len(block.transactions) and block.transactions[index].hash == transaction_hash:
                return block, block.transactions[index], index
        return _pyevm._get_transaction_by_hash(chain, transaction_hash)

    def get_transaction_by_hash(self, transaction_hash: bytes) -> Any:
        block, transaction, index = self._find_transaction(transaction_hash)
        is_pending = block.number == self.chain.get_block().number
        return serialize_transaction(block, transaction, index, is_pending)

    def get_transaction_receipt(self, transaction_hash: bytes) -> Any:
        try:
            number, index = self.chain.chaindb.get_transaction_index(transaction_hash)
        except EVMTransactionNotFound:
            number = index = -1
        mined = self._mined_hash(number)
        hit = self._receipts.get((mined, index)) if mined is not None else None
        if hit is not None and hit["transaction_hash"] == transaction_hash:
            return copy.deepcopy(hit)
        block, transaction, index = self._find_transaction(transaction_hash)
        is_pending = block.number == self._pending_number()
        receipt = serialize_transaction_receipt(
            block, block.get_receipts(self.chain.chaindb), transaction, index, is_pending,
            self.chain.get_vm())
        if is_pending or "blob_gas_used" in receipt:  # blob prices follow the current block
            return receipt
        return self._keep(self._receipts, (bytes(block.hash), index), receipt)

    def get_block_by_number(self, block_number: Any, full_transaction: bool = True) -> Any:
        pending = self._pending_number()
        number = block_number
        if block_number in ("latest", "safe", "finalized"):
            number = max(0, pending - 1)
        elif block_number == "earliest":
            number = 0
        mined = self._mined_hash(number) if isinstance(number, int) else None
        if mined is None:  # the pending block, or not a block: eth-tester's answer or error
            return super().get_block_by_number(block_number, full_transaction)
        key = (mined, bool(full_transaction))
        if key in self._blocks:
            return copy.deepcopy(self._blocks[key])
        return self._keep(self._blocks, key, super().get_block_by_number(number, full_transaction))
