"""Contract ABIs and bytecode shipped as package data (``omnidsl/chain/artifacts/*.json``).

Attaching to a deployed Market or verifier, and deploying a Market, needs no compiler: the
artifacts were compiled once by solc-js (:mod:`omnidsl.solidity.artifacts` writes them; a test
recompiles and compares, so they cannot drift from ``contracts/*.sol`` and the template).

- ``Market.json``: ``contracts/Market.sol`` (+ ``IBatchVerifier.sol``): ``abi``, ``bytecode``,
  ``deployedBytecode`` (0x-hex), ``compiler`` (solc-js version and settings) and ``sources``
  (SHA-256 of each source file compiled).
- ``Groth16Verifier.abi.json``: the ABI of a generated verifier with one public input, in its
  market variant (``batch=True``; the default verifier's ABI is its ``verifyProof`` entry); the
  ABI of a key with ``n`` public inputs differs only in the ``uint256[n] input`` argument of
  ``verifyProof``/``verifyProofOrRevert`` (absent for ``n = 0``): :func:`verifier_abi`.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from omnidsl.errors import ChainError

ARTIFACTS = Path(__file__).resolve().with_name("artifacts")
#: Functions of the verifier whose last argument is the ``uint256[N] input`` array.
_SIZED = ("verifyProof", "verifyProofOrRevert")


class CompiledContract(NamedTuple):
    """ABI (list of dicts), creation bytecode and runtime bytecode (both ``0x``-prefixed hex)."""

    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str


@cache
def _read(name: str) -> dict[str, Any]:
    path = ARTIFACTS / name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ChainError(f"{path}: cannot read the shipped contract artifact ({exc})",
                         hint="reinstall omnidsl, or rebuild it: python -m "
                              "omnidsl.solidity.artifacts") from None
    if not isinstance(data, dict) or not isinstance(data.get("abi"), list):
        raise ChainError(f"{path}: not a contract artifact (no abi)")
    return data


def artifact(name: str) -> dict[str, Any]:
    """The whole artifact document ``<name>.json`` (a copy)."""
    return copy.deepcopy(_read(f"{name}.json"))


def market() -> CompiledContract:
    """The Market contract as shipped (ABI, creation and runtime bytecode)."""
    data = _read("Market.json")
    return CompiledContract(copy.deepcopy(data["abi"]), data["bytecode"],
                            data["deployedBytecode"])


def verifier_abi(n_public: int) -> list[dict[str, Any]]:
    """The ABI of the generated verifier of a key with ``n_public`` public inputs."""
    if n_public < 0:
        raise ValueError("n_public must be >= 0")
    abi = copy.deepcopy(_read("Groth16Verifier.abi.json")["abi"])
    for item in abi:
        if item.get("type") == "function" and item.get("name") in _SIZED:
            inputs = item["inputs"]
            if not inputs or inputs[-1].get("name") != "input":
                raise ChainError("the shipped verifier ABI has no `input` argument")
            if n_public == 0:
                inputs.pop()
            else:
                inputs[-1]["type"] = inputs[-1]["internalType"] = f"uint256[{n_public}]"
    return abi
