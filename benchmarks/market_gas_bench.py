"""Gas of the market (rollup) against the OmniLytics+ on-chain baseline, on anvil.

Market: 8 data owners, 3 servers, one batch of 8 real Groth16 proofs of the market rule (snarkjs
keys, omnidsl's generated verifier) carrying the attestation of every server (3 EIP-191
signatures), with the aggregate-binding commitments (and the servers' bonds), the challenge-seed
reveals and the deliveries of the sealed aggregate shares (which pay the servers' fees); also the
same batch with one invalid proof (per-proof fallback; attested by every server, so the chain
alone refuses it).  The gradient never goes on-chain (only each server's sealed aggregate share,
D + 1 field elements), so the market's batch gas does not depend on its length D.
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

from omnidsl.chain import anvil, connect, deploy, transact  # noqa: E402
from omnidsl.market import circom_rule as cr  # noqa: E402
from omnidsl.market.attestation import sign_digest  # noqa: E402
from omnidsl.market.demo import BOND, FEE, REWARD, setup_actors  # noqa: E402
from omnidsl.solidity.compile import compile_sources  # noqa: E402
from omnidsl.solidity.render import batch_calldata  # noqa: E402

RULE_DIM = 8  # the market's gas is independent of D; a small rule keeps the setup quick
N_SERVERS = 3


def market_gas(w3, rule: cr.SnarkjsRule, owners: int) -> dict[str, float]:
    actors = setup_actors(w3, rule, n_owners=owners, n_servers=N_SERVERS)
    mo, servers, dos = actors.mo, actors.servers, actors.dos
    market = mo.market
    max_norm2 = 10**12
    out: dict[str, float] = {}
    rng = np.random.default_rng(0)
    grads = [[int(v) for v in rng.integers(-200, 200, RULE_DIM)] for _ in dos]
    for label, n_bad in (("valid", 0), ("one_invalid", 1)):
        now = int(w3.eth.get_block("latest")["timestamp"])
        tid = mo.open_task([s.account for s in servers], REWARD, FEE,
                           owners * (REWARD + N_SERVERS * FEE), now + 3600,
                           pinned_value=max_norm2, deliver_by=now + 7200, bond=BOND)
        for do, q in zip(dos, grads, strict=True):
            do.share(tid, q, servers)
        commit = sum(s.commit(tid) for s in servers)
        reveal = sum(s.reveal(tid) for s in servers)
        rho = market.task(tid).rho
        items = rule.prove_many([cr.witness_input(d.vectors[tid], d.account, rho, max_norm2)
                                 for d in dos])
        for s in servers:  # the snarkjs prover stands in for every server's own prover
            s.record(tid, items)
        for j in range(n_bad):  # claim DO j's proof for the last DO: the proof is invalid
            proof, public = items[j]
            public = list(public)
            public[cr.OWNER_INDEX] = str(int(dos[-1].account, 16))
            items[j] = (proof, public)
        if n_bad:  # no honest server attests it; signed by all, the chain refuses it alone
            proofs, inputs = batch_calldata(items)
            digest = market.attestation_digest(tid, proofs, inputs)
            sigs = b"".join(sign_digest(w3, s.account, digest, s.signer) for s in servers)
            res = market.submit_batch(tid, proofs, inputs, sigs, servers[0].account)
        else:
            res = servers[0].submit(tid, items, cosigners=servers[1:])
        mo.close(tid)
        deliver = sum(s.deliver(tid) for s in servers)
        accepted = len(res.accepted)
        per = max(accepted, 1)
        out[f"{label}_batch"] = res.gas_used
        out[f"{label}_accepted"] = accepted
        out[f"{label}_per_do"] = res.gas_used / per
        out[f"{label}_commit"] = commit
        out[f"{label}_reveal"] = reveal
        out[f"{label}_deliver"] = deliver
        out[f"{label}_total"] = res.gas_used + commit + reveal + deliver
        out[f"{label}_per_do_total"] = out[f"{label}_total"] / per
    return out


def baseline_gas(w3, owners: int, dim: int, chunk: int) -> list[int]:
    src = (ROOT / "omnidsl" / "contracts" / "baseline" / "OnChainAggregator.sol").read_text()
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
    ap.add_argument("--rpc", help="use this dev node (unlocked accounts) instead of starting anvil")
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
        n = N_SERVERS
        k = m["valid_accepted"]
        w = 44
        print(f"{'':{w}} {'gas':>14} {'per DO':>12}")
        rows = [
            (f"market batch, all valid (+ {n} signatures)", m["valid_batch"]),
            (f"  share commitments + bonds ({n} servers)", m["valid_commit"]),
            (f"  challenge-seed reveals ({n} servers)", m["valid_reveal"]),
            (f"  sealed aggregate deliveries ({n} servers)", m["valid_deliver"]),
            ("  total per round", m["valid_total"]),
        ]
        for name, gas in rows:
            print(f"{name:{w}} {gas:>14,.0f} {gas / k:>12,.0f}")
        print(f"{'market batch, 1 invalid proof':{w}} {m['one_invalid_batch']:>14,.0f} "
              f"{m['one_invalid_per_do']:>12,.0f}  ({m['one_invalid_accepted']:.0f} accepted)")
        print(f"{'OmniLytics+ on-chain baseline':{w}} {sum(base):>14,.0f} {b_med:>12,.0f}  "
              f"(median; first DO {base[0]:,}, later {base[-1]:,})")
        print(f"\nratio baseline / market per DO: {b_med / m['valid_per_do']:,.0f}x (batch only), "
              f"{b_med / m['valid_per_do_total']:,.0f}x (with commitments, reveals and "
              "deliveries)")
        return 0

    if args.rpc:
        w3 = connect(args.rpc)
        # a dev node (anvil/hardhat): its unlocked accounts play the owners, explicitly
        w3.eth.default_account = w3.eth.accounts[0]
        return run(w3)
    with anvil() as w3:
        return run(w3)


if __name__ == "__main__":
    sys.exit(main())
