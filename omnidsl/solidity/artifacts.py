"""Build the contract artifacts shipped in ``omnidsl/chain/artifacts/`` with solc-js.

    python -m omnidsl.solidity.artifacts            # rewrite them (all or nothing)
    python -m omnidsl.solidity.artifacts --check    # exit 1 if they differ from a fresh build

``Market.json`` is ``contracts/*.sol`` compiled with the optimiser (200 runs) for
:data:`~omnidsl.solidity.compile.DEFAULT_EVM_VERSION`; ``Groth16Verifier.abi.json`` is the ABI
of the template rendered for a fixed one-input key (the key only changes constants and the
``uint256[N]`` argument, see :func:`omnidsl.chain.artifacts.verifier_abi`).  The format is in
docs/chain.md; ``tests/solidity/test_artifacts.py`` rebuilds and compares.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

from omnidsl.chain.artifacts import ARTIFACTS
from omnidsl.files import Outputs
from omnidsl.solidity.compile import DEFAULT_EVM_VERSION, compile_sources, default_server

#: the market contracts ship inside the package (omnidsl/contracts/, package data)
CONTRACTS_DIR = Path(str(files("omnidsl").joinpath("contracts")))
OPTIMIZER_RUNS = 200


def _compiler(evm_version: str) -> dict[str, Any]:
    return {"name": "solc-js", "version": default_server().start().version,
            "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS}, "evmVersion": evm_version}


def build_market() -> dict[str, Any]:
    """The Market artifact from ``contracts/*.sol``."""
    sources = {p.name: p.read_text(encoding="utf-8") for p in sorted(CONTRACTS_DIR.glob("*.sol"))}
    cc = compile_sources(sources, optimize=True, runs=OPTIMIZER_RUNS,
                         evm_version=DEFAULT_EVM_VERSION)["Market.sol:Market"]
    return {"contractName": "Market", "sourceName": "contracts/Market.sol",
            "compiler": _compiler(DEFAULT_EVM_VERSION),
            "sources": {f"contracts/{n}": "sha256:" + hashlib.sha256(t.encode()).hexdigest()
                        for n, t in sources.items()},
            "abi": cc.abi, "bytecode": cc.bytecode, "deployedBytecode": cc.deployed_bytecode}


def reference_vk(n_public: int = 1) -> dict[str, Any]:
    """A fixed, sound verification key with ``n_public`` public inputs (small multiples of the
    generators; only its shape matters here)."""
    from omnidsl.backend import get_backend
    from omnidsl.groth16.formats import vk_to_json
    from omnidsl.groth16.keys import VerifyingKey

    be = get_backend()
    g1, g2 = be.g1_generator(), be.g2_generator()
    vk = VerifyingKey(alpha_g1=be.g1_mul(g1, 2), beta_g2=be.g2_mul(g2, 3),
                      gamma_g2=be.g2_mul(g2, 5), delta_g2=be.g2_mul(g2, 7),
                      ic=[be.g1_mul(g1, 11 + 2 * i) for i in range(n_public + 1)])
    return vk_to_json(vk)


def build_verifier_abi() -> dict[str, Any]:
    """The verifier ABI artifact (template rendered for :func:`reference_vk`)."""
    from omnidsl.solidity.render import TEMPLATE, compile_verifier

    cc = compile_verifier(reference_vk(), "Groth16Verifier", batch=True)
    return {"contractName": "Groth16Verifier", "sourceName": f"templates/{TEMPLATE}",
            "nPublic": 1, "compiler": _compiler(DEFAULT_EVM_VERSION), "abi": cc.abi}


def build() -> dict[str, str]:
    """File name -> the exact text to ship."""
    docs = {"Market.json": build_market(), "Groth16Verifier.abi.json": build_verifier_abi()}
    return {name: json.dumps(doc, indent=1, sort_keys=True) + "\n" for name, doc in docs.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m omnidsl.solidity.artifacts",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    ap.add_argument("--dir", type=Path, default=ARTIFACTS, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    texts = build()
    if args.check:
        stale = [n for n, t in texts.items()
                 if not (args.dir / n).exists() or (args.dir / n).read_text("utf-8") != t]
        for name in stale:
            print(f"{args.dir / name}: differs from a fresh solc-js build", file=sys.stderr)
        return 1 if stale else 0
    paths = {name: args.dir / name for name in texts}
    outputs = Outputs(list(paths.values()))
    with outputs.writing() as tmp:
        for name, text in texts.items():
            tmp(paths[name]).write_text(text, encoding="utf-8")
    print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
