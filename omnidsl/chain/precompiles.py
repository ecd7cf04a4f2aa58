"""The BN254 precompiles of the embedded chain, served by the native core.

py-evm computes ecAdd (0x06), ecMul (0x07) and ecPairing (0x08) with py_ecc in pure Python
(≈ 0.66 s per 4-pair pairing call).  :func:`native_vm` returns a subclass of the fork's VM
whose computation class maps those three addresses to :mod:`omnidsl._native` (arkworks), for
the chain :func:`omnidsl.chain.providers.embedded_chain` creates; nothing global is patched.

EVM semantics are kept exactly: the input rules of EIP-196/197 (right-padding, (0, 0) and the
all-zero G2 word as infinity, coordinates < q, on-curve, G2 subgroup, a pairing input length
that is a multiple of 192) are checked in Rust (native/src/evm.rs); invalid input raises
``VMError`` as py-evm's own precompiles do, so the call fails and burns its gas; the gas is
charged before the work with py-evm's own EIP-1108 constants, in the same order as py-evm.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth._utils.address import force_bytes_to_address
from eth.abc import ComputationAPI, VirtualMachineAPI
from eth.exceptions import VMError
from eth.vm.forks.istanbul import IstanbulVM
from eth.vm.forks.istanbul.constants import (
    GAS_ECADD,
    GAS_ECMUL,
    GAS_ECPAIRING_BASE,
    GAS_ECPAIRING_PER_POINT,
)
from eth.vm.forks.prague import PragueVM

from omnidsl import _native

__all__ = ["ECADD", "ECMUL", "ECPAIRING", "ecadd", "ecmul", "ecpairing", "native_vm"]

ECADD = force_bytes_to_address(b"\x06")
ECMUL = force_bytes_to_address(b"\x07")
ECPAIRING = force_bytes_to_address(b"\x08")

#: Bytes of one (G1, G2) pair of the ecPairing input.
PAIR_BYTES = 192


def ecadd(computation: ComputationAPI) -> ComputationAPI:
    """0x06 (EIP-196, EIP-1108 gas): P + Q."""
    computation.consume_gas(GAS_ECADD, reason="ECADD Precompile")
    try:
        computation.output = _native.evm_ecadd(computation.msg.data_as_bytes)
    except ValueError as exc:
        raise VMError("Invalid ECADD parameters") from exc
    return computation


def ecmul(computation: ComputationAPI) -> ComputationAPI:
    """0x07 (EIP-196, EIP-1108 gas): k·P."""
    computation.consume_gas(GAS_ECMUL, reason="ECMUL Precompile")
    try:
        computation.output = _native.evm_ecmul(computation.msg.data_as_bytes)
    except ValueError as exc:
        raise VMError("Invalid ECMUL parameters") from exc
    return computation


def ecpairing(computation: ComputationAPI) -> ComputationAPI:
    """0x08 (EIP-197, EIP-1108 gas): 1 if Π e(P_i, Q_i) = 1 else 0, as a 32-byte word."""
    data = computation.msg.data_as_bytes
    if len(data) % PAIR_BYTES:
        raise VMError("Invalid ECPAIRING parameters")
    gas = GAS_ECPAIRING_BASE + (len(data) // PAIR_BYTES) * GAS_ECPAIRING_PER_POINT
    computation.consume_gas(gas, reason="ECPAIRING Precompile")
    try:
        computation.output = _native.evm_ecpairing(data)
    except ValueError as exc:
        raise VMError("Invalid ECPAIRING parameters") from exc
    return computation


NATIVE_PRECOMPILES: dict[Any, Callable[[ComputationAPI], ComputationAPI]] = {
    ECADD: ecadd,
    ECMUL: ecmul,
    ECPAIRING: ecpairing,
}

_CACHE: dict[type[VirtualMachineAPI], type[VirtualMachineAPI]] = {}


def native_vm(base: type[VirtualMachineAPI] = PragueVM) -> type[VirtualMachineAPI]:
    """``base`` (a py-evm VM class, Istanbul or later) with 0x06–0x08 served natively.

    Only the classes returned here (a computation, a state and a VM subclass) carry the native
    precompiles; ``base`` and every other chain are left untouched.  Cached per ``base``.
    """
    if base in _CACHE:
        return _CACHE[base]
    if not issubclass(base, IstanbulVM):  # earlier forks price the precompiles differently
        raise ValueError(f"{base.__name__}: native BN254 precompiles need Istanbul or later")
    state_cls = base.get_state_class()
    comp_cls = state_cls.computation_class
    name = f"NativeBn254{base.__name__}"
    computation = type(f"{name}Computation", (comp_cls,), {
        "_precompiles": {**comp_cls.get_precompiles(), **NATIVE_PRECOMPILES},
        "__module__": __name__,
    })
    state = type(f"{name}State", (state_cls,), {
        "computation_class": computation,
        "__module__": __name__,
    })
    vm = base.configure(__name__=name, _state_class=state)
    _CACHE[base] = vm
    return vm
