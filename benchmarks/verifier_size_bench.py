"""Deployment cost of the generated Groth16 verifier against snarkjs's exported verifier.

For Toy(ℓ) keys made by snarkjs (the same key for both verifiers) it prints, per ℓ: the
deployment gas (receipt gasUsed of the creation transaction), the runtime code size, and the
gas of one verifyProof (transaction gasUsed and execution gas = gasUsed − 21,000 − calldata;
both verifiers get identical calldata), for

  * ours: the default verifier (`omnidsl export-verifier`: verifyProof alone),
  * snarkjs: `snarkjs zkey export solidityverifier` of the same zkey,
  * market: ours with --batch (verifyBatch and the reverting variants; what the market deploys),

then deployment gas and code size for fixed keys with more public inputs (no proofs needed), and
where EIP-170 (24,576 bytes of runtime code) is reached.  Gas is deterministic, so every figure
is measured once (no repetitions, no A/B alternation: nothing here is a time).

Usage: python benchmarks/verifier_size_bench.py [--ells 1,4,8,16] [--big-ells 32,64,128]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from omnidsl import chain as chains
from omnidsl.chain.artifacts import CompiledContract
from omnidsl.solidity.artifacts import reference_vk
from omnidsl.solidity.compile import compile_sources
from omnidsl.solidity.render import EIP170_LIMIT, compile_verifier, proof_calldata
from omnidsl.solidity.snarkjs_ref import (
    build_circuit,
    tiny_ptau,
    toy_input,
    toy_main,
    verifier_source_for_vk,
    widen_pragma,
)

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "solidity" / "fixtures" / "toy.circom"
KINDS = ("ours", "snarkjs", "market")


def _size(cc: CompiledContract) -> int:
    return (len(cc.deployed_bytecode) - 2) // 2


def _deploy(w3: Any, cc: CompiledContract) -> tuple[Any, int]:
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": w3.eth.accounts[0], "data": cc.bytecode}))
    assert receipt["status"] == 1, "deployment failed"
    return w3.eth.contract(address=receipt["contractAddress"], abi=cc.abi), int(receipt["gasUsed"])


def _contracts(vk: dict[str, Any], snarkjs_source: str) -> dict[str, CompiledContract]:
    return {"ours": compile_verifier(vk),
            "snarkjs": compile_sources({"S.sol": snarkjs_source})["Groth16Verifier"],
            "market": compile_verifier(vk, batch=True)}


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.3f}"


def with_proofs(w3: Any, work: Path, ells: list[int]) -> list[dict[str, Any]]:
    """Table 1: Toy(ℓ) keys and proofs made by snarkjs."""
    ptau = tiny_ptau(work / "ptau", power=8)
    rows = []
    print(f"\n1. Toy(ℓ) keys made by snarkjs, on anvil (ratios: ours / snarkjs)\n"
          f"{'ℓ':>3} | {'deploy gas':^28} | {'code bytes':^20} | {'verifyProof exec gas':^28} |"
          f" {'market (--batch)':^27}\n"
          f"{'':>3} | {'ours':>8} {'snarkjs':>8} {'ratio':>6}   | {'ours':>5} {'snarkjs':>7}"
          f" {'ratio':>5} | {'ours':>8} {'snarkjs':>8} {'ratio':>6}   | {'deploy':>9} {'bytes':>5}"
          f" {'exec':>8}")
    for n in ells:
        d = work / f"toy{n}"
        circ = build_circuit(toy_main(FIXTURE, n, d), d, ptau, n)
        proof, public = circ.prove_many([toy_input(n)])[0]
        args = proof_calldata(proof, public)
        row: dict[str, Any] = {"ell": n}
        for kind, cc in _contracts(circ.vk, widen_pragma(circ.verifier_source())).items():
            contract, deploy_gas = _deploy(w3, cc)
            fn = contract.functions.verifyProof(*args)
            assert fn.call() is True, f"{kind}: the valid proof was refused"
            tx, execution = chains.gas_used(w3, fn)
            row[kind] = {"deploy": deploy_gas, "bytes": _size(cc), "tx": tx, "exec": execution}
        o, s, m = (row[k] for k in KINDS)
        print(f"{n:>3} | {o['deploy']:>8,} {s['deploy']:>8,} {_ratio(o['deploy'], s['deploy']):>6}"
              f"   | {o['bytes']:>5,} {s['bytes']:>7,} {_ratio(o['bytes'], s['bytes']):>5} |"
              f" {o['exec']:>8,} {s['exec']:>8,} {_ratio(o['exec'], s['exec']):>6}   |"
              f" {m['deploy']:>9,} {m['bytes']:>5,} {m['exec']:>8,}")
        rows.append(row)
    return rows


def fixed_keys(w3: Any, work: Path, ells: list[int]) -> list[dict[str, Any]]:
    """Table 2: the fixed reference keys (deployment only), snarkjs's template rendered by ejs."""
    print("\n2. fixed keys (omnidsl.solidity.artifacts.reference_vk), deployment only\n"
          f"{'ℓ':>4} | {'ours gas':>9} {'snarkjs':>9} {'ratio':>6} | {'ours B':>6} {'snarkjs':>7}"
          f" {'ratio':>6} | {'market gas':>10} {'market B':>8}")
    rows = []
    for n in ells:
        vk = reference_vk(n)
        row: dict[str, Any] = {"ell": n}
        for kind, cc in _contracts(vk, verifier_source_for_vk(vk, work / "vk")).items():
            _, gas = _deploy(w3, cc)
            row[kind] = {"deploy": gas, "bytes": _size(cc)}
        o, s, m = (row[k] for k in KINDS)
        print(f"{n:>4} | {o['deploy']:>9,} {s['deploy']:>9,} {_ratio(o['deploy'], s['deploy']):>6}"
              f" | {o['bytes']:>6,} {s['bytes']:>7,} {_ratio(o['bytes'], s['bytes']):>6} |"
              f" {m['deploy']:>10,} {m['bytes']:>8,}")
        rows.append(row)
    return rows


def eip170(rows: list[dict[str, Any]]) -> None:
    """Where each verifier reaches EIP-170, from the code size's slope between the two largest ℓ."""
    if len(rows) < 2:
        return
    lo, hi = rows[-2], rows[-1]
    print(f"\n3. bytes per public input and the largest ℓ under EIP-170 ({EIP170_LIMIT:,} bytes),"
          f" from ℓ = {lo['ell']} and {hi['ell']}")
    for kind in KINDS:
        slope = (hi[kind]["bytes"] - lo[kind]["bytes"]) / (hi["ell"] - lo["ell"])
        limit = hi["ell"] + int((EIP170_LIMIT - hi[kind]["bytes"]) / slope)
        print(f"  {kind:>8}: {slope:6.1f} bytes per input, ℓ ≤ ≈ {limit}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ells", default="1,4,8,16", help="Toy(ℓ) keys with proofs (table 1)")
    ap.add_argument("--big-ells", default="32,64,128", help="fixed keys, deployment (table 2)")
    args = ap.parse_args()
    ells = [int(v) for v in args.ells.split(",") if v]
    big = [int(v) for v in args.big_ells.split(",") if v]
    with tempfile.TemporaryDirectory(prefix="omnidsl-vsize-") as tmp, chains.anvil() as w3:
        work = Path(tmp)
        print("building Toy(ℓ) circuits with snarkjs (tiny 2^8 ptau) ...", flush=True)
        rows = with_proofs(w3, work, ells)
        rows += fixed_keys(w3, work, big)
        eip170(rows)


if __name__ == "__main__":
    main()
