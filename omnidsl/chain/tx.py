"""The one transaction-and-revert helper: deploy, transact, call, gas measurement.

Every function raises :class:`~omnidsl.errors.ChainError` when the node rejects or reverts:
the message names what failed (``label``, default the function name, e.g. ``Market.submitBatch``)
and the contract's revert reason, on eth-tester and on JSON-RPC nodes alike; the hint locates it
(contract address, transaction hash, gas used).  A transaction mined with status 0 (sent with
explicit gas, so no estimate reported the reason) is replayed as a call on its own block to get
the reason.

Gas: without an explicit ``gas`` a transaction gets ``eth_estimateGas`` x :data:`GAS_MARGIN`
+ 10,000, capped by the block gas limit and by ``gas_cap`` (an estimate above the cap is an
error naming both, rather than a transaction that cannot succeed).
"""

from __future__ import annotations

import contextlib
from typing import Any

from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError, Web3Exception

from omnidsl.errors import ChainError

#: Gas head-room over eth_estimateGas (state-dependent paths, e.g. a batch's fallback).
GAS_MARGIN = 1.25
#: Seconds to wait for a receipt.
RECEIPT_TIMEOUT = 300


def revert_types() -> tuple[type[BaseException], ...]:
    """Exception types meaning "the call or transaction reverted"."""
    errs: list[type[BaseException]] = [ContractLogicError]
    with contextlib.suppress(ImportError):  # eth-tester is only needed for the embedded chain
        from eth_tester.exceptions import TransactionFailed

        errs.append(TransactionFailed)
    return tuple(errs)


def failure_types() -> tuple[type[BaseException], ...]:
    """Exception types meaning "the node refused" (reverts, validation, transport)."""
    errs: list[type[BaseException]] = [*revert_types(), Web3Exception, ValueError,
                                       ConnectionError, OSError]
    with contextlib.suppress(ImportError):
        from eth_tester.exceptions import ValidationError

        errs.append(ValidationError)
    with contextlib.suppress(ImportError):
        from eth.exceptions import VMError

        errs.append(VMError)
    return tuple(errs)


def revert_reason(exc: BaseException) -> str:
    """The reason string of a revert exception (without web3's "execution reverted: ")."""
    msg = getattr(exc, "message", None) or str(exc)
    return str(msg).replace("execution reverted: ", "")


def sender_of(w3: Web3, sender: str | None) -> str:
    """``sender``, else the chain's configured account; never a guessed unlocked account."""
    if sender:
        return Web3.to_checksum_address(sender)
    if w3.eth.default_account:
        return str(w3.eth.default_account)
    raise ChainError("no sender account for the transaction",
                     hint="configure a signer (--key-file FILE or --key-env VAR)")


def _label(fn: Any, label: str | None) -> str:
    return label or getattr(fn, "fn_name", None) or "transaction"


def _where(fn: Any, extra: str = "") -> str:
    address = getattr(fn, "address", None)
    parts = [f"contract {address}"] if address else []
    return "; ".join([*parts, extra] if extra else parts)


def gas_limit_of(w3: Web3, gas_cap: int | None = None) -> int:
    """The most gas one transaction may use: the block gas limit, capped by ``gas_cap``."""
    block = int(w3.eth.get_block("latest")["gasLimit"])
    return min(block, gas_cap) if gas_cap else block


def estimate(w3: Web3, fn: Any, tx: dict[str, Any], gas_cap: int | None = None,
             label: str | None = None) -> int:
    """Gas to offer ``fn`` sent with ``tx``: estimate x margin + 10,000, capped (see module)."""
    name = _label(fn, label)
    limit = gas_limit_of(w3, gas_cap)
    try:
        need = int(fn.estimate_gas(tx))
    except revert_types() as exc:
        raise ChainError(f"{name} reverted: {revert_reason(exc)}",
                         hint=_where(fn, "found by eth_estimateGas, nothing was sent")) from exc
    except failure_types() as exc:
        raise ChainError(f"{name} failed: {revert_reason(exc)}", hint=_where(fn)) from exc
    if need > limit:
        raise ChainError(f"{name} needs {need:,} gas, above the gas cap of {limit:,}",
                         hint="raise --gas-cap (at most the block gas limit)")
    return min(int(need * GAS_MARGIN) + 10_000, limit)


def _replay_reason(fn: Any, tx: dict[str, Any], receipt: Any) -> str:
    """The revert reason of a mined failed transaction, by replaying it as a call on its own
    block (same timestamp; a reverted transaction left the contract's state unchanged)."""
    used = int(receipt["gasUsed"])
    if used >= int(tx.get("gas", 0)):  # a revert returns the unused gas; this used it all
        return f"out of gas (all {used:,} gas used)"
    try:
        fn.call(tx, block_identifier=int(receipt["blockNumber"]))
    except failure_types() as exc:
        return f"{revert_reason(exc)} (gas used {used:,})"
    return f"no reason given (gas used {used:,})"


def transact(w3: Web3, fn: Any, sender: str | None = None, gas: int | None = None,
             value: int = 0, gas_cap: int | None = None, label: str | None = None) -> Any:
    """Send ``contract.functions.f(...)`` as a transaction; return the receipt (status 1).

    Raises :class:`ChainError` "<label> reverted: <reason>" when it reverts.
    """
    name = _label(fn, label)
    tx: dict[str, Any] = {"from": sender_of(w3, sender)}
    if value:
        tx["value"] = value
    tx["gas"] = gas if gas is not None else estimate(w3, fn, tx, gas_cap, name)
    try:
        tx_hash = fn.transact(tx)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT)
    except revert_types() as exc:
        raise ChainError(f"{name} reverted: {revert_reason(exc)}", hint=_where(fn)) from exc
    except failure_types() as exc:
        raise ChainError(f"{name} failed: {revert_reason(exc)}", hint=_where(fn)) from exc
    if receipt["status"] != 1:
        raise ChainError(f"{name} reverted: {_replay_reason(fn, tx, receipt)}",
                         hint=_where(fn, f"transaction {Web3.to_hex(receipt['transactionHash'])}"))
    return receipt


def deploy(w3: Web3, abi: list[dict[str, Any]], bytecode: str, *args: Any,
           sender: str | None = None, gas: int | None = None, gas_cap: int | None = None,
           label: str = "contract") -> Contract:
    """Deploy a contract (constructor ``args``); return the bound Contract.

    Raises :class:`ChainError` when the deployment reverts or runs out of gas.
    """
    factory = w3.eth.contract(abi=abi, bytecode=bytecode)
    ctor = factory.constructor(*args)
    tx: dict[str, Any] = {"from": sender_of(w3, sender)}
    hint = ("the constructor reverted, ran out of gas, or the code is above the node's "
            "code-size limit")
    try:
        if gas is None:
            limit = gas_limit_of(w3, gas_cap)
            gas = min(int(ctor.estimate_gas(tx) * GAS_MARGIN) + 10_000, limit)
        tx["gas"] = gas
        tx_hash = ctor.transact(tx)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT)
    except failure_types() as exc:
        raise ChainError(f"{label} deployment failed: {revert_reason(exc)}", hint=hint) from exc
    if receipt["status"] != 1 or not receipt.get("contractAddress"):
        raise ChainError(f"{label} deployment reverted (gas used {receipt['gasUsed']:,})",
                         hint=f"{hint}; transaction {Web3.to_hex(receipt['transactionHash'])}")
    contract = w3.eth.contract(address=receipt["contractAddress"], abi=abi)
    assert isinstance(contract, Contract)  # with an address: an instance, not a factory
    return contract


def call(fn: Any, sender: str | None = None, gas: int | None = None,
         label: str | None = None) -> Any:
    """``contract.functions.f(...).call()`` with reverts raised as :class:`ChainError`."""
    tx: dict[str, Any] = {}
    if sender:
        tx["from"] = sender
    if gas is not None:
        tx["gas"] = gas
    name = _label(fn, label)
    try:
        return fn.call(tx)
    except revert_types() as exc:
        raise ChainError(f"{name} reverted: {revert_reason(exc)}", hint=_where(fn)) from exc
    except failure_types() as exc:
        raise ChainError(f"{name} failed: {revert_reason(exc)}", hint=_where(fn)) from exc


def intrinsic_gas(data: bytes) -> int:
    """21,000 + calldata cost (4 per zero byte, 16 per non-zero byte) of a call transaction."""
    zeros = data.count(0)
    return 21_000 + 4 * zeros + 16 * (len(data) - zeros)


def gas_used(w3: Web3, fn: Any, gas: int = 30_000_000, sender: str | None = None
             ) -> tuple[int, int]:
    """Send ``fn`` as a transaction with an explicit gas limit; (gasUsed, execution gas).

    Execution gas is gasUsed minus the intrinsic cost (21,000 + calldata).  An explicit limit is
    used because eth_estimateGas can under-estimate calls whose precompiles fail softly.
    """
    receipt = transact(w3, fn, sender=sender, gas=gas)
    data = bytes.fromhex(fn._encode_transaction_data()[2:])
    return int(receipt["gasUsed"]), int(receipt["gasUsed"]) - intrinsic_gas(data)
