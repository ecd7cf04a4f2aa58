"""The embedded chain's speed against anvil: py-evm's BN254 precompiles vs the native ones.

Three chains: `before` = eth-tester/py-evm with py-evm's own ecAdd/ecMul/ecPairing (py_ecc),
`after` = the same chain with the precompiles served by omnidsl._native (what
`chains.embedded_chain()` gives), and `anvil`.  Two operations:
  1. an eth_call to 0x08 with a valid 4-pair input (a Groth16 verification's pairing);
  2. a Groth16 verifier's verifyProof (ℓ = 2, snarkjs-made proof) sent as a transaction and
     its receipt polled for every millisecond (submit + mine + receipt).
  3. the market demo (`make demo`'s 3 rounds and 8 data owners; local prover unless
     --demo-prover mpc): time spent inside the chain's JSON-RPC requests (the whole on-chain
     part: deployments, calls, gas estimates, transactions, receipts, logs), per chain.
`before` is the embedded chain as it was (`embedded_chain(fast=False)`: eth-tester and py-evm
as shipped, with eth-keys' pure-Python secp256k1 for sender recovery); `after` is
`embedded_chain()`: native precompiles, geth-style gas estimation, transaction look-ups by index
and coincurve (libsecp256k1, which eth-keys uses when it is installed).
Repetitions alternate the chains (before, after, anvil, rotated each repetition) so that load
drift hits all of them alike; medians, the median of the per-repetition ratios, and the gasUsed
on each chain (which must be equal) are printed.

Usage: python benchmarks/chain_bench.py [--reps 7] [--ell 2] [--demo-reps 2 (0: no demo)]
                                        [--demo-rounds 3] [--demo-prover local|mpc]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from py_ecc import optimized_bn128 as bn
from web3.exceptions import TransactionNotFound

from omnidsl import chain as chains
from omnidsl.field import R
from omnidsl.market.demo import run_demo
from omnidsl.solidity.render import compile_verifier, proof_calldata
from omnidsl.solidity.snarkjs_ref import build_circuit, tiny_ptau, toy_input, toy_main

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "solidity" / "fixtures" / "toy.circom"
PAIRING = "0x0000000000000000000000000000000000000008"
CHAINS = ("before", "after", "anvil")


def _w(v: int) -> bytes:
    return v.to_bytes(32, "big")


def _g1(k: int) -> bytes:
    x, y = bn.normalize(bn.multiply(bn.G1, k % R))
    return _w(x.n) + _w(y.n)


def _g2(k: int) -> bytes:
    x, y = bn.normalize(bn.multiply(bn.G2, k % R))
    return _w(x.coeffs[1]) + _w(x.coeffs[0]) + _w(y.coeffs[1]) + _w(y.coeffs[0])


def four_pairs() -> bytes:
    """e(aG1, bG2)·e(cG1, dG2)·e(eG1, fG2)·e(-(ab+cd+ef)G1, G2) = 1."""
    a, b, c, d, e, f = 3, 5, 7, 11, 13, 17
    return (_g1(a) + _g2(b) + _g1(c) + _g2(d) + _g1(e) + _g2(f)
            + _g1(-(a * b + c * d + e * f)) + _g2(1))


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


@contextlib.contextmanager
def ecdsa_of(name: str) -> Iterator[None]:
    """`before` runs with eth-keys' pure-Python backend (read from the environment per use)."""
    if name != "before":
        yield
        return
    old = os.environ.get("ECC_BACKEND_CLASS")
    os.environ["ECC_BACKEND_CLASS"] = "eth_keys.backends.NativeECCBackend"
    try:
        yield
    finally:
        if old is None:
            del os.environ["ECC_BACKEND_CLASS"]
        else:
            os.environ["ECC_BACKEND_CLASS"] = old


def _embedded(name: str) -> Any:
    return chains.embedded_chain(fast=name == "after")


def _demo_chain_time(w3: Any, rounds: int, prover: str) -> tuple[float, int]:
    """Run the demo on ``w3``; (seconds inside its JSON-RPC requests, request count)."""
    provider = w3.provider
    inner = provider.make_request
    acc = [0.0, 0]

    def timed(method: Any, params: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return inner(method, params)
        finally:
            acc[0] += time.perf_counter() - t0
            acc[1] += 1

    provider.make_request = timed  # this provider object only
    try:
        run_demo(w3, rounds=rounds, owners=8, malicious=3, prover=prover, log=lambda _: None)
    finally:
        provider.make_request = inner
    return acc[0], int(acc[1])


def demo(reps: int, rounds: int, prover: str) -> None:
    times: dict[str, list[float]] = {n: [] for n in CHAINS}
    requests: dict[str, set[int]] = {n: set() for n in CHAINS}
    print(f"\nmarket demo, {reps} alternating repetitions (each a fresh chain) ...", flush=True)
    for rep in range(reps):
        for name in CHAINS[rep % 3:] + CHAINS[:rep % 3]:
            if name == "anvil":
                with chains.anvil() as w3:
                    t, n = _demo_chain_time(w3, rounds, prover)
            else:
                with ecdsa_of(name):
                    t, n = _demo_chain_time(_embedded(name), rounds, prover)
            times[name].append(t)
            requests[name].add(n)
            print(f"  {name}: {t:.2f}s in {n} requests", flush=True)
    _report(f"3. market demo ({rounds} rounds, 8 DOs, {prover} prover): time inside JSON-RPC "
            "requests",
            times, {n: f"{sorted(requests[n])} requests" for n in CHAINS})


def _report(title: str, times: dict[str, list[float]], extra: dict[str, str]) -> None:
    print(f"\n{title}")
    print(f"{'chain':>8} {'median':>10} {'min':>10} {'max':>10}")
    for name in CHAINS:
        t = times[name]
        print(f"{name:>8} {statistics.median(t) * 1e3:>8.1f}ms {min(t) * 1e3:>8.1f}ms "
              f"{max(t) * 1e3:>8.1f}ms  {extra.get(name, '')}")

    def ratio(a: str, b: str) -> str:
        per = [x / y for x, y in zip(times[a], times[b], strict=True)]
        return (f"{statistics.median(times[a]) / statistics.median(times[b]):8.2f}x "
                f"(median of per-repetition ratios {statistics.median(per):.2f}x)")

    print(f"  before / anvil: {ratio('before', 'anvil')}")
    print(f"  after  / anvil: {ratio('after', 'anvil')}")
    print(f"  before / after: {ratio('before', 'after')}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--ell", type=int, default=2, help="public inputs of the verifier")
    ap.add_argument("--demo-reps", type=int, default=2, help="demo repetitions (0: skip)")
    ap.add_argument("--demo-rounds", type=int, default=3)
    ap.add_argument("--demo-prover", choices=("local", "mpc"), default="local")
    args = ap.parse_args()
    from eth_keys.backends import get_default_backend_class

    print(f"eth-keys backend of `after`: {get_default_backend_class()}")

    with tempfile.TemporaryDirectory(prefix="omnidsl-chain-") as tmp, chains.anvil() as anvil:
        work = Path(tmp)
        print("building the toy circuit with snarkjs (tiny 2^8 ptau) ...", flush=True)
        ptau = tiny_ptau(work / "ptau", power=8)
        circ = build_circuit(toy_main(FIXTURE, args.ell, work / "toy"), work / "toy", ptau,
                             args.ell)
        proof, public = circ.prove_many([toy_input(args.ell)])[0]
        cc = compile_verifier(circ.vk)
        w3s = {"before": _embedded("before"), "after": _embedded("after"), "anvil": anvil}
        verifiers = {n: chains.deploy(w3, cc.abi, cc.bytecode) for n, w3 in w3s.items()}
        calldata = proof_calldata(proof, public)
        pairs = four_pairs()

        def pairing_call(name: str) -> bytes:
            return bytes(w3s[name].eth.call({"to": PAIRING, "data": pairs, "gas": 500_000}))

        def verify_tx(name: str) -> int:
            w3 = w3s[name]
            fn = verifiers[name].functions.verifyProof(*calldata)
            tx_hash = fn.transact({"from": w3.eth.default_account, "gas": 1_000_000})
            while True:  # poll every ms (web3's wait_for_transaction_receipt sleeps 100 ms)
                try:
                    receipt = w3.eth.get_transaction_receipt(tx_hash)
                except TransactionNotFound:
                    time.sleep(0.001)
                    continue
                assert receipt["status"] == 1
                return int(receipt["gasUsed"])

        for name in CHAINS:  # warm-up (and the results must be right)
            assert pairing_call(name) == _w(1), name
            assert verifiers[name].functions.verifyProof(*calldata).call(), name
        pair_t: dict[str, list[float]] = {n: [] for n in CHAINS}
        tx_t: dict[str, list[float]] = {n: [] for n in CHAINS}
        gas: dict[str, set[int]] = {n: set() for n in CHAINS}
        print(f"{args.reps} alternating repetitions on {', '.join(CHAINS)} ...", flush=True)
        for rep in range(args.reps):
            order = CHAINS[rep % 3:] + CHAINS[:rep % 3]
            for name in order:
                with ecdsa_of(name):
                    t, out = _timed(lambda n=name: pairing_call(n))
                assert out == _w(1)
                pair_t[name].append(t)
            for name in order:
                with ecdsa_of(name):
                    t, used = _timed(lambda n=name: verify_tx(n))
                tx_t[name].append(t)
                gas[name].add(used)

    _report("1. 4-pair ecPairing eth_call (0x08)", pair_t, {})
    _report(f"2. verifyProof transaction (ℓ = {args.ell}, send + mine + receipt)", tx_t,
            {n: f"gasUsed {sorted(gas[n])}" for n in CHAINS})
    same = len({frozenset(g) for g in gas.values()}) == 1
    print(f"\ngasUsed identical on all three chains: {'yes' if same else 'NO'}")
    if not same:
        raise SystemExit(1)
    if args.demo_reps > 0:
        demo(args.demo_reps, args.demo_rounds, args.demo_prover)


if __name__ == "__main__":
    main()
