"""Gas of the market (rollup) against the OmniLytics+ on-chain baseline, on anvil.

Market: 8 data owners, one batch of 8 real Groth16 proofs of the market rule (snarkjs keys,
omnidsl's generated verifier), with the aggregate-binding commitments; also the same batch with one
invalid proof (per-proof fallback).  The gradient never goes on-chain, so the market's gas does not
depend on its length D.
Baseline: contracts/baseline/OnChainAggregator.sol — each data owner uploads a D = 7,450-entry
gradient in chunks; the contract stores it and adds it into a running sum.

    python benchmarks/market_gas_bench.py [--owners 8] [--dim 7450] [--chunk 500] [--rpc URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from omnidsl.market import circom_rule as cr  # noqa: E402
from omnidsl.market.chains import anvil, connect, deploy, transact  # noqa: E402
from omnidsl.market.demo import FEE, REWARD, setup_actors  # noqa: E402
from omnidsl.solidity.compile import compile_sources  # noqa: E402

RULE_DIM = 8  # the market's gas is independent of D; a small rule keeps the setup quick


def market_gas(w3, rule: cr.SnarkjsRule, owners: int) -> dict[str, float]:
    actors = setup_actors(w3, rule, n_owners=owners, n_servers=3)
    mo, servers, dos = actors.mo, actors.servers, actors.dos
    max_norm2 = 10**12
    out: dict[str, float] = {}
    rng = np.random.default_rng(0)
    grads = [[int(v) for v in rng.integers(-200, 200, RULE_DIM)] for _ in dos]
    for label, n_bad in (("valid", 0), ("one_invalid", 1)):
        now = int(w3.eth.get_block("latest")["timestamp"])
        tid = mo.open_task([s.account for s in servers], REWARD, FEE, owners * (REWARD + FEE),
                           now + 3600, pinned_value=max_norm2)
        for do, q in zip(dos, grads, strict=True):
            do.share(tid, q, servers)
        commit = sum(s.commit(tid) for s in servers)
        rho = mo.market.task(tid).rho
        items = rule.prove_many([cr.witness_input(q, d.account, rho, max_norm2)
                                 for q, d in zip(grads, dos, strict=True)])
        for j in range(n_bad):  # claim DO j's proof for DO 0's neighbour: the proof is invalid
            proof, public = items[j]
            public = list(public)
            public[cr.OWNER_INDEX] = str(int(dos[-1].account, 16))
            items[j] = (proof, public)
        res = servers[0].submit(tid, items)
        accepted = len(res.accepted)
        out[f"{label}_batch"] = res.gas_used
        out[f"{label}_accepted"] = accepted
        out[f"{label}_per_do"] = res.gas_used / max(accepted, 1)
        out[f"{label}_commit"] = commit
        out[f"{label}_per_do_with_commit"] = (res.gas_used + commit) / max(accepted, 1)
    return out


def baseline_gas(w3, owners: int, dim: int, chunk: int) -> list[int]:
    src = (ROOT / "contracts" / "baseline" / "OnChainAggregator.sol").read_text()
    cc = compile_sources({"OnChainAggregator.sol": src})["OnChainAggregator"]
    agg = deploy(w3, cc.abi, cc.bytecode, dim)
    rng = np.random.default_rng(1)
    per_owner = []
    for who in w3.eth.accounts[:owners]:
        g = rng.integers(-(1 << 15), 1 << 15, dim)
        total = 0
        for off in range(0, dim, chunk):
            vals = [int(v) for v in g[off:off + chunk]]
            receipt = transact(w3, agg.functions.submitChunk(off, vals), sender=who,
                               gas=29_000_000)
            total += int(receipt["gasUsed"])
        per_owner.append(total)
    assert agg.functions.contributions().call() == owners
    return per_owner


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--owners", type=int, default=8)
    ap.add_argument("--dim", type=int, default=7450)
    ap.add_argument("--chunk", type=int, default=500)
    ap.add_argument("--rpc", help="use this node instead of starting anvil")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="omnidsl_market_bench_"))
    t0 = time.perf_counter()
    rule = cr.setup(RULE_DIM, work / f"rule_{RULE_DIM}")
    print(f"market rule set up in {time.perf_counter() - t0:.1f}s ({work})")

    def run(w3) -> int:
        m = market_gas(w3, rule, args.owners)
        base = baseline_gas(w3, args.owners, args.dim, args.chunk)
        b_med = statistics.median(base)
        print(f"\n{args.owners} data owners; baseline gradient D = {args.dim} "
              f"(chunks of {args.chunk})")
        print(f"{'':34} {'gas':>14} {'per DO':>12}")
        print(f"{'market batch, all valid':34} {m['valid_batch']:>14,.0f} "
              f"{m['valid_per_do']:>12,.0f}")
        print(f"{'  + share commitments (3 servers)':34} {m['valid_commit']:>14,.0f} "
              f"{m['valid_per_do_with_commit']:>12,.0f}")
        print(f"{'market batch, 1 invalid proof':34} {m['one_invalid_batch']:>14,.0f} "
              f"{m['one_invalid_per_do']:>12,.0f}  ({m['one_invalid_accepted']:.0f} accepted)")
        print(f"{'OmniLytics+ on-chain baseline':34} {sum(base):>14,.0f} {b_med:>12,.0f}  "
              f"(median; first DO {base[0]:,}, later {base[-1]:,})")
        print(f"\nratio baseline / market per DO: {b_med / m['valid_per_do']:,.0f}x "
              f"(with commitments {b_med / m['valid_per_do_with_commit']:,.0f}x)")
        return 0

    if args.rpc:
        return run(connect(args.rpc))
    with anvil() as w3:
        return run(w3)


if __name__ == "__main__":
    sys.exit(main())
