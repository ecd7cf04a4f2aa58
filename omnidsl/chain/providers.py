"""The three kinds of chain omnidsl talks to, each returning a connected :class:`Web3`.

- :func:`embedded_chain` — web3.py's eth-tester (py-evm) in process, with the BN254 precompiles
  served by the native core; no node needed.
- :func:`anvil` — a context manager starting the project's anvil (npm ``@foundry-rs/anvil``) on
  127.0.0.1 with a free port; yields a connected :class:`Web3` and stops that process on exit.
- :func:`connect` — any JSON-RPC URL.

The dev chains (embedded, anvil) set ``w3.eth.default_account`` to their first funded account;
:func:`connect` sets no account: a remote node's unlocked accounts are never used implicitly
(:mod:`omnidsl.chain.config` installs the configured signer instead).
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import time
from collections.abc import Iterator
from typing import Any

from web3 import Web3

from omnidsl.chain.options import EVM_VERSIONS
from omnidsl.errors import ChainError
from omnidsl.npm import npm_bin
from omnidsl.procs import free_ports, stop_group

log = logging.getLogger(__name__)

#: Block gas limit used by the embedded chain and anvil (batch verification of 32+ proofs and
#: large verifiers need more than the 30M default of some nodes).
GAS_LIMIT = 100_000_000


def check_evm_version(evm_version: str) -> str:
    """``evm_version`` if omnidsl supports it, else a :class:`ChainError` listing the choices."""
    if evm_version not in EVM_VERSIONS:
        raise ChainError(f"EVM version {evm_version!r} is not supported",
                         hint=f"choose one of {', '.join(EVM_VERSIONS)}")
    return evm_version


def _py_evm_vm(evm_version: str | None) -> Any:
    """The py-evm VM class of a hard fork (default: Prague, py-evm's latest)."""
    from eth.vm.forks.cancun import CancunVM
    from eth.vm.forks.prague import PragueVM
    from eth.vm.forks.shanghai import ShanghaiVM

    vms = {"shanghai": ShanghaiVM, "cancun": CancunVM, "prague": PragueVM}
    return vms[check_evm_version(evm_version or "prague")]


def embedded_chain(gas_limit: int = GAS_LIMIT, fast: bool = True,
                   evm_version: str | None = None) -> Web3:
    """A fresh in-process chain (eth-tester + py-evm) with funded accounts ``w3.eth.accounts``.

    ``fast`` (default) keeps it within ~2x of anvil's time instead of 10-150x, with the same
    results and gas (docs/verifier.md, benchmarks/chain_bench.py): the BN254 precompiles are
    served by the native core (:mod:`omnidsl.chain.precompiles`), ``eth_estimateGas`` uses
    geth's search (:mod:`omnidsl.chain.estimator`) and transactions are looked up by index
    (:mod:`omnidsl.chain.tester_backend`); ``fast=False`` is py-evm as eth-tester ships it.
    ``evm_version`` picks the hard fork (default Prague).
    """
    from eth_tester import EthereumTester, PyEVMBackend
    from web3.providers.eth_tester import EthereumTesterProvider

    vm = _py_evm_vm(evm_version)
    params = PyEVMBackend.generate_genesis_params(overrides={"gas_limit": gas_limit})
    if fast:
        from omnidsl.chain.estimator import gas_search
        from omnidsl.chain.precompiles import native_vm
        from omnidsl.chain.tester_backend import IndexedPyEVMBackend

        backend = IndexedPyEVMBackend(genesis_parameters=params,
                                      vm_configuration=((0, native_vm(vm)),))
        # The chain class is made per backend by eth-tester: setting it there reaches this chain
        # and the instances a snapshot revert makes from it, and nothing else.
        type(backend.chain).gas_estimator = staticmethod(gas_search)
        backend.chain.gas_estimator = gas_search
    elif evm_version is None:
        backend = PyEVMBackend(genesis_parameters=params)
    else:
        backend = PyEVMBackend(genesis_parameters=params, vm_configuration=((0, vm),))
    tester = EthereumTester(backend=backend)
    w3 = Web3(EthereumTesterProvider(tester))
    w3.eth.default_account = w3.eth.accounts[0]
    return w3


def connect(rpc_url: str, timeout: float = 30.0) -> Web3:
    """A Web3 connected to a JSON-RPC node at ``rpc_url`` (http(s)://); no default account."""
    if rpc_url.startswith(("ws://", "wss://")):
        raise ChainError(f"{rpc_url}: websocket URLs are not supported, use http(s)://")
    if not rpc_url.startswith(("http://", "https://")):
        raise ChainError(f"{rpc_url!r} is not a JSON-RPC URL",
                         hint="use http(s)://host:port, or `embedded` / `anvil`")
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
    try:
        w3.eth.chain_id  # noqa: B018 - raises if the node cannot be reached
    except Exception as exc:
        raise ChainError(f"cannot reach an Ethereum node at {rpc_url}: {exc}",
                         hint="start one (e.g. `omnidsl verify-onchain --chain anvil`) or check "
                              "the URL") from exc
    return w3


@contextlib.contextmanager
def anvil(port: int | None = None, gas_limit: int = GAS_LIMIT, code_size_limit: int | None = None,
          hardfork: str | None = None, startup_timeout: float = 30.0,
          chain_id: int | None = None, steps_tracing: bool = False) -> Iterator[Web3]:
    """Start ``anvil`` on 127.0.0.1 (a free port unless given); yield a connected Web3.
    ``steps_tracing``: record every opcode (``debug_traceTransaction`` struct logs; benchmarks).

    The anvil process started here (and only it) is stopped on exit.
    """
    port = port or free_ports(1)[0]
    args = [str(npm_bin("anvil")), "--host", "127.0.0.1", "--port", str(port),
            "--gas-limit", str(gas_limit), "--silent"]
    if code_size_limit is not None:
        args += ["--code-size-limit", str(code_size_limit)]
    if hardfork:
        args += ["--hardfork", check_evm_version(hardfork)]
    if chain_id is not None:
        args += ["--chain-id", str(chain_id)]
    if steps_tracing:
        args.append("--steps-tracing")
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)  # the shim and its anvil: one group
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
        log.info("anvil listening on %s (pid %d)", url, proc.pid)
        yield w3
    finally:
        stop_group(proc, linger=0.25)  # an in-memory dev chain: nothing to flush
        if proc.stderr:
            proc.stderr.close()
