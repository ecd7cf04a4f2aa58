"""Chains omnidsl talks to, and a deployment helper shared by the verifier and the market.

- :func:`embedded_chain` — web3.py's eth-tester (py-evm) in process; the default, no node needed.
- :func:`anvil` — a context manager starting the project's anvil (npm ``@foundry-rs/anvil``) on
  127.0.0.1 with a free port; yields a connected :class:`Web3` and stops that process on exit.
- :func:`connect` — any JSON-RPC URL.
- :func:`deploy` / :func:`transact` — deploy a contract / send a transaction, raising a clear
  :class:`~omnidsl.errors.ChainError` on revert or out-of-gas.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError, Web3Exception

from omnidsl.errors import ChainError
from omnidsl.npm import npm_bin
from omnidsl.procs import stop_process

#: Block gas limit used by the embedded chain and anvil (batch verification of 32+ proofs and
#: large verifiers need more than the 30M default of some nodes).
GAS_LIMIT = 100_000_000


def embedded_chain(gas_limit: int = GAS_LIMIT, fast: bool = True) -> Web3:
    """A fresh in-process chain (eth-tester + py-evm) with funded accounts ``w3.eth.accounts``.

    ``fast`` (default) keeps it within ~2x of anvil's time instead of 10-150x, with the same
    results and gas (docs/verifier.md, benchmarks/chain_bench.py): the BN254 precompiles are
    served by the native core (:mod:`omnidsl.solidity.precompiles`), ``eth_estimateGas`` uses
    geth's search (:mod:`omnidsl.solidity.estimator`) and transactions are looked up by index
    (:mod:`omnidsl.solidity.tester_backend`); ``fast=False`` is py-evm as eth-tester ships it.
    """
    from eth_tester import EthereumTester, PyEVMBackend
    from web3.providers.eth_tester import EthereumTesterProvider

    params = PyEVMBackend.generate_genesis_params(overrides={"gas_limit": gas_limit})
    if fast:
        from omnidsl.solidity.estimator import gas_search
        from omnidsl.solidity.precompiles import native_vm
        from omnidsl.solidity.tester_backend import IndexedPyEVMBackend

        backend = IndexedPyEVMBackend(genesis_parameters=params,
                                      vm_configuration=((0, native_vm()),))
        # The chain class is made per backend by eth-tester: setting it there reaches this chain
        # and the instances a snapshot revert makes from it, and nothing else.
        type(backend.chain).gas_estimator = staticmethod(gas_search)
        backend.chain.gas_estimator = gas_search
    else:
        backend = PyEVMBackend(genesis_parameters=params)
    tester = EthereumTester(backend=backend)
    w3 = Web3(EthereumTesterProvider(tester))
    w3.eth.default_account = w3.eth.accounts[0]
    return w3


def connect(rpc_url: str, timeout: float = 30.0) -> Web3:
    """A Web3 connected to a JSON-RPC node at ``rpc_url`` (http(s):// or ws(s)://)."""
    if rpc_url.startswith(("ws://", "wss://")):
        raise ChainError(f"{rpc_url}: websocket URLs are not supported, use http(s)://")
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
    try:
        w3.eth.chain_id  # noqa: B018 - raises if the node cannot be reached
    except Exception as exc:
        raise ChainError(f"cannot reach an Ethereum node at {rpc_url}: {exc}",
                         hint="start one (e.g. `omnidsl verify-onchain --anvil`) or check the URL"
                         ) from exc
    with contextlib.suppress(Exception):
        accounts = w3.eth.accounts
        if accounts:
            w3.eth.default_account = accounts[0]
    return w3


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def anvil(port: int | None = None, gas_limit: int = GAS_LIMIT, code_size_limit: int | None = None,
          hardfork: str | None = None, startup_timeout: float = 30.0) -> Iterator[Web3]:
    """Start ``anvil`` on 127.0.0.1 (a free port unless given); yield a connected Web3.

    The anvil process started here (and only it) is stopped on exit.
    """
    port = port or free_port()
    args = [str(npm_bin("anvil")), "--host", "127.0.0.1", "--port", str(port),
            "--gas-limit", str(gas_limit), "--silent"]
    if code_size_limit is not None:
        args += ["--code-size-limit", str(code_size_limit)]
    if hardfork:
        args += ["--hardfork", hardfork]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        probe = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 1}))
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
                raise ChainError(f"anvil exited with code {proc.returncode}: {err.strip()[-500:]}",
                                 hint=f"is port {port} already in use?")
            if probe.is_connected():
                break
            if time.monotonic() > deadline:
                raise ChainError(f"anvil did not answer on {url} within {startup_timeout:.0f} s")
            time.sleep(0.05)
        w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 120}))
        w3.eth.default_account = w3.eth.accounts[0]
        yield w3
    finally:
        stop_process(proc)
        if proc.stderr:
            proc.stderr.close()


def _sender(w3: Web3, sender: str | None) -> str:
    if sender:
        return sender
    if w3.eth.default_account:
        return str(w3.eth.default_account)
    accounts = w3.eth.accounts
    if not accounts:
        raise ChainError("no sender account: the node has no unlocked accounts",
                         hint="pass sender= an unlocked account address")
    return str(accounts[0])


def _chain_errors() -> tuple[type[BaseException], ...]:
    """Exception types meaning "the node rejected/reverted the transaction"."""
    errs: list[type[BaseException]] = [ContractLogicError, Web3Exception, ValueError]
    try:
        from eth_tester.exceptions import TransactionFailed, ValidationError

        errs += [TransactionFailed, ValidationError]
    except ImportError:  # eth-tester is optional for RPC-only use
        pass
    with contextlib.suppress(ImportError):
        from eth.exceptions import VMError

        errs.append(VMError)
    return tuple(errs)


def _reason(exc: BaseException) -> str:
    msg = getattr(exc, "message", None) or str(exc)
    return str(msg)


def deploy(w3: Web3, abi: list[dict[str, Any]], bytecode: str, *args: Any,
           sender: str | None = None, gas: int | None = None) -> Contract:
    """Deploy a contract (constructor ``args``); return the bound Contract.

    Raises :class:`ChainError` when the deployment reverts or runs out of gas.
    """
    factory = w3.eth.contract(abi=abi, bytecode=bytecode)
    tx: dict[str, Any] = {"from": _sender(w3, sender)}
    if gas is not None:
        tx["gas"] = gas
    try:
        tx_hash = factory.constructor(*args).transact(tx)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
    except _chain_errors() as exc:
        raise ChainError(f"contract deployment failed: {_reason(exc)}",
                         hint="the constructor reverted, ran out of gas, or the code is above "
                              "the node's code-size limit") from exc
    if receipt["status"] != 1 or not receipt.get("contractAddress"):
        raise ChainError(f"contract deployment reverted (gas used {receipt['gasUsed']})",
                         hint="the constructor reverted or ran out of gas")
    return w3.eth.contract(address=receipt["contractAddress"], abi=abi)


def transact(w3: Web3, fn: Any, sender: str | None = None, gas: int | None = None,
             value: int = 0) -> Any:
    """Send ``contract.functions.f(...)`` as a transaction; return the receipt.

    Raises :class:`ChainError` with the revert reason when it reverts.
    """
    tx: dict[str, Any] = {"from": _sender(w3, sender)}
    if gas is not None:
        tx["gas"] = gas
    if value:
        tx["value"] = value
    name = getattr(fn, "fn_name", "transaction")
    try:
        tx_hash = fn.transact(tx)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
    except _chain_errors() as exc:
        raise ChainError(f"{name} reverted: {_reason(exc)}") from exc
    if receipt["status"] != 1:
        raise ChainError(f"{name} reverted (gas used {receipt['gasUsed']})")
    return receipt


def intrinsic_gas(data: bytes) -> int:
    """21,000 + calldata cost (4 per zero byte, 16 per non-zero byte) of a call transaction."""
    zeros = data.count(0)
    return 21_000 + 4 * zeros + 16 * (len(data) - zeros)


def call(fn: Any, sender: str | None = None, gas: int | None = None) -> Any:
    """``contract.functions.f(...).call()`` with reverts raised as :class:`ChainError`.

    The error message contains the revert reason on both eth-tester and JSON-RPC nodes.
    """
    tx: dict[str, Any] = {}
    if sender:
        tx["from"] = sender
    if gas is not None:
        tx["gas"] = gas
    name = getattr(fn, "fn_name", "call")
    try:
        return fn.call(tx)
    except _chain_errors() as exc:
        raise ChainError(f"{name} reverted: {_reason(exc)}") from exc


def gas_used(w3: Web3, fn: Any, gas: int = 30_000_000, sender: str | None = None
             ) -> tuple[int, int]:
    """Send ``fn`` as a transaction with an explicit gas limit; (gasUsed, execution gas).

    Execution gas is gasUsed minus the intrinsic cost (21,000 + calldata).  An explicit limit is
    used because eth_estimateGas can under-estimate calls whose precompiles fail softly.
    """
    receipt = transact(w3, fn, sender=sender, gas=gas)
    data = bytes.fromhex(fn._encode_transaction_data()[2:])
    return int(receipt["gasUsed"]), int(receipt["gasUsed"]) - intrinsic_gas(data)
