"""CLI: ``omnidsl export-verifier`` and ``omnidsl verify-onchain``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from omnidsl.argparsing import describe
from omnidsl.chain.options import add_chain_options
from omnidsl.errors import FormatError
from omnidsl.extras import require
from omnidsl.files import Outputs


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export-verifier", help="render (and compile) the Solidity verifier of a verification key",
        **describe("Render the Solidity verifier of a verification key (refused if the key is "
                   "unsound: docs/verifier.md), compile it with the project's solc-js, and "
                   "write the source (and with --abi/--bin the ABI and creation bytecode); all "
                   "files or none.",
                   ["omnidsl export-verifier keys -o Verifier.sol --abi --bin",
                    "omnidsl export-verifier keys/verification_key.json -o NormVerifier.sol "
                    "--name NormVerifier",
                    "omnidsl export-verifier keys -o RuleVerifier.sol --batch"]))
    p.add_argument("keys", help="verification_key.json, or a key directory containing it")
    p.add_argument("-o", "--output", default="Verifier.sol", help="Solidity file to write")
    p.add_argument("--name", default="Groth16Verifier", help="contract name")
    p.add_argument("--abi", action="store_true", help="also write <output>.abi.json")
    p.add_argument("--bin", action="store_true",
                   help="also write <output>.bin (creation bytecode, hex)")
    p.add_argument("--batch", action="store_true",
                   help="also verifyBatch (k proofs, one multi-pairing) and the reverting "
                        "variants: the verifier the market deploys (costs ~3x more to deploy)")
    p.set_defaults(func=_export_verifier)

    v = sub.add_parser(
        "verify-onchain", help="deploy the verifier and check a proof on an EVM; prints gas used",
        **describe("Deploy the key's verifier (or use --address) on a chain and call "
                   "verifyProof with the proof and public signals; prints validity and gas.  "
                   "Exit 0 if the contract accepts the proof, 1 if not.",
                   ["omnidsl verify-onchain --chain embedded --vk keys --proof proof.json "
                    "--public public.json",
                    "omnidsl verify-onchain --chain http://127.0.0.1:8545 --key-env DEPLOYER_KEY "
                    "--vk keys --proof proof.json --public public.json"]))
    v.add_argument("--vk", required=True, help="verification_key.json (or key directory)")
    v.add_argument("--proof", required=True, help="proof.json (snarkjs layout)")
    v.add_argument("--public", required=True, help="public.json (list of decimal strings)")
    v.add_argument("--address", help="use a verifier already deployed at this address (its ABI "
                                     "is the shipped one: no compiler, no transaction needed)")
    add_chain_options(v)
    v.set_defaults(func=_verify_onchain)


def _proof_words(proof: Any, path: str) -> None:
    """Every proof coordinate fits an EVM word (else it could not even be sent)."""
    from omnidsl.groth16.formats import WORD

    coords: list[int] = []
    for p in (proof.a, proof.c):
        coords += [] if p is None else list(p)
    if proof.b is not None:
        coords += [*proof.b[0], *proof.b[1]]
    if not all(0 <= v < WORD for v in coords):
        raise FormatError(f"{path}: a proof coordinate is negative or wider than 256 bits")


def _export_verifier(args: argparse.Namespace) -> int:
    require("chain")  # keccak (selectors) and the ABI tools come with web3
    from omnidsl.solidity.render import compile_verifier, load_vk, render_verifier, vk_file

    out = Path(args.output)
    abi_path = out.with_suffix(".abi.json") if args.abi else None
    bin_path = out.with_suffix(".bin") if args.bin else None
    outputs = Outputs([out, abi_path, bin_path])  # before compiling: all written, or none
    vk = load_vk(args.keys)
    where = str(vk_file(args.keys))
    # refuses unsound keys (vkcheck.py); compile_verifier also enforces EIP-170
    source = render_verifier(vk, args.name, batch=args.batch, source=where)
    compiled = compile_verifier(vk, args.name, batch=args.batch, source=where)
    with outputs.writing() as tmp:
        tmp(out).write_text(source, encoding="utf-8")
        if abi_path is not None:
            tmp(abi_path).write_text(json.dumps(compiled.abi, indent=2) + "\n", encoding="utf-8")
        if bin_path is not None:
            tmp(bin_path).write_text(compiled.bytecode[2:] + "\n", encoding="utf-8")
    written = [str(p) for p in (out, abi_path, bin_path) if p is not None]
    size = (len(compiled.deployed_bytecode) - 2) // 2
    print(f"wrote {', '.join(written)} ({args.name}: {vk.get('nPublic', len(vk['IC']) - 1)} "
          f"public inputs, {size} bytes of runtime code)")
    return 0


def _verify_onchain(args: argparse.Namespace) -> int:
    require("chain")  # keccak (selectors) and the ABI tools come with web3
    from omnidsl.chain.artifacts import verifier_abi
    from omnidsl.chain.config import open_chain
    from omnidsl.chain.options import config_from_args
    from omnidsl.chain.providers import GAS_LIMIT
    from omnidsl.chain.tx import gas_used
    from omnidsl.errors import ChainError
    from omnidsl.groth16.formats import read_proof, read_public
    from omnidsl.solidity.render import (
        compile_verifier,
        load_vk,
        proof_calldata,
        vk_constants,
        vk_file,
    )

    config = config_from_args(args)
    vk = load_vk(args.vk)
    where = str(vk_file(args.vk))
    n = vk_constants(vk, where)["n"]  # refuses an unsound key (vkcheck.py) before any chain
    # the same parsers as `omnidsl verify` (strict public signals: formats.public_signal)
    proof = read_proof(args.proof)
    public = read_public(args.public)
    _proof_words(proof, args.proof)
    if len(public) != n:
        raise FormatError(f"{args.public}: {len(public)} public inputs, the key expects {n}")
    a, b, c, x = proof_calldata(proof, public)
    if args.address:
        compiled = None
    else:
        compiled = compile_verifier(vk, source=where, evm_version=config.evm_version)
    with open_chain(config) as chain:
        w3 = chain.w3
        if compiled is None:
            if not w3.is_address(args.address):
                raise ChainError(f"--address {args.address!r} is not an address")
            address = w3.to_checksum_address(args.address)
            if not w3.eth.get_code(address):
                raise ChainError(f"--address {address}: no contract there on {config.describe()}")
            verifier = w3.eth.contract(address=address, abi=verifier_abi(n))
        else:
            verifier = chain.deploy(compiled.abi, compiled.bytecode, label="verifier")
        fn = verifier.functions.verifyProof(a, b, c, x) if n else \
            verifier.functions.verifyProof(a, b, c)
        gas = min(GAS_LIMIT // 4, chain.gas_limit())
        valid = bool(chain.call(fn, gas=gas))
        measured = gas_used(w3, fn, gas=gas, sender=chain.sender) if chain.sender else None
    print(f"verifier: {verifier.address}")
    print(f"valid: {'true' if valid else 'false'}")
    if measured is None:
        print("gas used: not measured (no signer: --key-file or --key-env)")
    else:
        total, execution = measured
        print(f"gas used: {total} (execution {execution}, intrinsic {total - execution})")
    return 0 if valid else 1
