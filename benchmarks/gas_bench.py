"""Gas of the generated Groth16 verifier vs snarkjs's exported verifier, on anvil.

Prints three tables:
  1. verifyProof for ℓ = 1, 2, 4, 8 public inputs: ours (the default verifier) vs snarkjs (same
     circuit, same proof, same calldata), transaction gas and execution gas (gasUsed - 21,000 - calldata), the target
     200,000 + 6,300·ℓ and the ratio ours/snarkjs;
  2. verifyBatch for k = 1, 4, 16, 32 proofs (ℓ = 2; the --batch verifier): total and per-proof
     gas;
  3. solc-js compile time of a verifier: cold (new node process) and warm (median of 5).

Deployment gas and code size: benchmarks/verifier_size_bench.py.

Usage: python benchmarks/gas_bench.py [--ells 1,2,4,8] [--ks 1,4,16,32]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import charts

from omnidsl import chain as chains
from omnidsl.solidity.compile import SolcServer, compile_sources
from omnidsl.solidity.render import (
    batch_calldata,
    compile_verifier,
    proof_calldata,
    render_verifier,
)
from omnidsl.solidity.snarkjs_ref import (
    build_circuit,
    tiny_ptau,
    toy_input,
    toy_main,
    widen_pragma,
)

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "solidity" / "fixtures" / "toy.circom"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ells", default="1,2,4,8")
    ap.add_argument("--ks", default="1,4,16,32")
    args = ap.parse_args()
    ells = [int(v) for v in args.ells.split(",")]
    ks = [int(v) for v in args.ks.split(",")]

    with tempfile.TemporaryDirectory(prefix="omnidsl-gas-") as tmp:
        work = Path(tmp)
        print("building circuits with snarkjs (tiny 2^8 ptau) ...", flush=True)
        ptau = tiny_ptau(work / "ptau", power=8)
        circuits = {}
        for n in sorted({*ells, 2}):
            d = work / f"toy{n}"
            circuits[n] = build_circuit(toy_main(FIXTURE, n, d), d, ptau, n)

        with chains.anvil() as w3:
            print("\n1. verifyProof gas on anvil (tx = receipt gasUsed; exec = tx - intrinsic)")
            print(f"{'ℓ':>3} {'ours tx':>9} {'ours exec':>10} {'snarkjs tx':>11} "
                  f"{'snarkjs exec':>13} {'target':>8} {'ours/snarkjs':>13}")
            gas_rows = []
            for n in ells:
                circ = circuits[n]
                proof, public = circ.prove_many([toy_input(n)])[0]
                a, b, c, x = proof_calldata(proof, public)
                ours_cc = compile_verifier(circ.vk)
                theirs_src = widen_pragma(circ.verifier_source())
                theirs_cc = compile_sources({"S.sol": theirs_src})["Groth16Verifier"]
                ours = chains.deploy(w3, ours_cc.abi, ours_cc.bytecode)
                theirs = chains.deploy(w3, theirs_cc.abi, theirs_cc.bytecode)
                assert ours.functions.verifyProof(a, b, c, x).call()
                assert theirs.functions.verifyProof(a, b, c, x).call()
                o_tx, o_ex = chains.gas_used(w3, ours.functions.verifyProof(a, b, c, x))
                t_tx, t_ex = chains.gas_used(w3, theirs.functions.verifyProof(a, b, c, x))
                target = 200_000 + 6_300 * n
                print(f"{n:>3} {o_tx:>9,} {o_ex:>10,} {t_tx:>11,} {t_ex:>13,} {target:>8,} "
                      f"{o_ex / t_ex:>13.3f}")
                gas_rows.append({"ell": n, "ours_tx": o_tx, "snarkjs_tx": t_tx, "target": target})
            charts.gas_chart(gas_rows)

            print("\n2. verifyBatch gas on anvil (ℓ = 2): one multi-pairing with k + 3 pairs")
            print(f"{'k':>3} {'total tx':>11} {'per proof':>10} {'vs k×verifyProof':>17}")
            circ = circuits[2]
            cc = compile_verifier(circ.vk, batch=True)  # the market's variant has verifyBatch
            v = chains.deploy(w3, cc.abi, cc.bytecode)
            items = circ.prove_many([toy_input(2) for _ in range(max(ks))])
            single_tx, _ = chains.gas_used(w3, v.functions.verifyProof(*proof_calldata(*items[0])))
            for k in ks:
                proofs, inputs = batch_calldata(items[:k])
                assert v.functions.verifyBatch(proofs, inputs).call()
                tx, _ = chains.gas_used(w3, v.functions.verifyBatch(proofs, inputs))
                print(f"{k:>3} {tx:>11,} {tx / k:>10,.0f} {tx / (k * single_tx):>17.3f}")

        print("\n3. solc-js compile time of one verifier (optimizer on, 200 runs)")
        source = {"V.sol": render_verifier(circuits[2].vk)}
        t0 = time.perf_counter()
        srv = SolcServer().start()
        t1 = time.perf_counter()
        compile_sources(source, server=srv)
        t2 = time.perf_counter()
        warm = []
        for _ in range(5):
            s = time.perf_counter()
            compile_sources(source, server=srv)
            warm.append(time.perf_counter() - s)
        srv.close()
        print(f"cold: {t2 - t0:.2f} s (node + solc-js load {t1 - t0:.2f} s, first compile "
              f"{t2 - t1:.2f} s); warm: median {statistics.median(warm) * 1000:.0f} ms of 5")


if __name__ == "__main__":
    main()
