"""Gas per contributor of a server batch at k = 8, 16, 32 (issue 14 item 7), on anvil.

Two paths, same rule, same DOs, same anvil, alternated per k (A/B):

Today's path: ``Market.submitBatch`` with k real Groth16 proofs of the shipped market rule
(``market_norm.omni``) compiled by omnidsl (dev setup, omnidsl's prover, the generated verifier's
``verifyBatch``: k + 3 pairings), attested by 3 servers.  The gas does not depend on D (the
gradient never goes on-chain), so a small D keeps the proving quick.

One proof per batch (``Market.submitBatchProof``): the batch statement of k composed copies of
the rule (``omnidsl.mpc.batch_system``, one dev setup per k), ONE proof made by three parties
with Shamir sharing in which every DO deals only its own slot and the servers check each slot
against their committed shares (``batch_shamir.prove_local``: the servers as threads of this
process; ``--plain`` for the single-machine prover), the generated
single-proof verifier of the batch key (4 pairings, 2k + 2 public inputs), one storage slot per credited DO.  Also printed: the DO's
own payout transaction in each path (``withdraw`` after ``submitBatch``; ``claimReward`` after
``submitBatchProof``), the batch statement's constraints and, per k, its dev setup and proving
time, CPU and the process's peak memory.

The breakdown is measured, not modelled: the transaction is traced (``debug_traceTransaction``,
struct logger) and the gas of every SSTORE, SLOAD, LOG and precompile call is summed; calldata
is priced from the transaction's bytes (EIP-2028: 4 per zero byte, 16 per non-zero byte; anvil's
default hardfork charges max(that, EIP-7623's floor), shown as "calldata floor").

    python benchmarks/batch_gas_bench.py [--dim 16] [--ks 8,16,32] [--reps 1] [--plain]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from omnidsl.chain import anvil  # noqa: E402
from omnidsl.market import dsl_rule  # noqa: E402
from omnidsl.market.batch_attest import record_batch, submit_batch_proof  # noqa: E402
from omnidsl.market.batch_rule import (  # noqa: E402
    deploy_batch_verifier,
    public_padding,
    setup_batch,
)
from omnidsl.market.batch_shamir import prove_local  # noqa: E402
from omnidsl.market.demo import BOND, FEE, REWARD, setup_actors  # noqa: E402

N_SERVERS = 3
PRECOMPILES = {6: "ecAdd", 7: "ecMul", 8: "pairing"}
_CALLS = ("STATICCALL", "CALL", "DELEGATECALL")
#: a call's own cost to a precompile (always warm, EIP-2929)
WARM_CALL = 100


def trace_breakdown(w3: Any, tx_hash: str) -> dict[str, int]:
    """Gas of the transaction by kind, from the struct-logger trace (precompile calls: the gas
    the precompile consumed = the call's cost minus what came back)."""
    res = w3.provider.make_request("debug_traceTransaction", [tx_hash, {
        "disableStack": False, "disableMemory": True, "disableStorage": True}])
    logs = res["result"]["structLogs"]
    out: dict[str, int] = {"SSTORE": 0, "SLOAD": 0, "LOG": 0, "ecAdd": 0, "ecMul": 0,
                           "pairing": 0, "ecrecover": 0, "keccak": 0}
    for i, st in enumerate(logs):
        op = st["op"]
        if op in ("SSTORE", "SLOAD"):
            out[op] += int(st["gasCost"])
        elif op.startswith("LOG"):
            out["LOG"] += int(st["gasCost"])
        elif op == "KECCAK256":
            out["keccak"] += int(st["gasCost"])
        elif op in _CALLS and st.get("stack"):
            addr = int(st["stack"][-2], 16)
            if addr in PRECOMPILES or addr == 1:
                nxt = logs[i + 1] if i + 1 < len(logs) else None
                if nxt is None or nxt["depth"] != st["depth"]:
                    continue
                used = int(st["gas"]) - int(nxt["gas"]) - WARM_CALL
                out[PRECOMPILES.get(addr, "ecrecover")] += used
    return out


def calldata_gas(data: bytes) -> tuple[int, int]:
    """(EIP-2028 price, EIP-7623 floor) of the calldata (excluding the 21,000 base)."""
    zeros = data.count(0)
    nonzero = len(data) - zeros
    return 4 * zeros + 16 * nonzero, 10 * (zeros + 4 * nonzero)


MAX_Q = 3 << dsl_rule.FRAC


def _round(w3: Any, rule: Any, k: int, rng: np.random.Generator,
           batch_verifier: str | None = None) -> tuple[Any, int, int]:
    """Actors, a task (with the batch verifier for k, if given), k DOs' committed shares, ρ."""
    actors = setup_actors(w3, rule, n_owners=k, n_servers=N_SERVERS)
    mo, servers, dos = actors.mo, actors.servers, actors.dos
    now = int(w3.eth.get_block("latest")["timestamp"])
    tid = mo.open_task([s.account for s in servers], REWARD, FEE, k * (REWARD + N_SERVERS * FEE),
                       now + 3600, deliver_by=now + 7200, bond=BOND, pinned=rule.pins(MAX_Q))
    if batch_verifier is not None:
        mo.market.set_batch_verifier(tid, k, batch_verifier, mo.account)
    grads = [[int(v) for v in rng.integers(-200, 200, rule.dim)] for _ in dos]
    for do, q in zip(dos, grads, strict=True):
        do.share(tid, q, servers)
    for s in servers:
        s.commit(tid)
    for s in servers:
        s.reveal(tid)
    return actors, tid, mo.market.task(tid).rho


def new_path(w3: Any, batch: Any, k: int, rng: np.random.Generator,
             parties: int | None) -> dict[str, Any]:
    """One task, k DOs, ONE proof of the batch statement via ``submitBatchProof``."""
    rule = batch.rule
    verifier = deploy_batch_verifier(w3, batch, str(w3.eth.default_account))
    actors, tid, rho = _round(w3, rule, k, rng, verifier)
    inputs = [rule.witness_input(d.vectors[tid], d.account, rho, MAX_Q) for d in actors.dos]
    cpu0, t0 = time.process_time(), time.perf_counter()
    if parties:
        committed = [[s.shares[tid][d.account] for s in actors.servers] for d in actors.dos]
        proof = prove_local(batch, inputs, public_padding(rule, inputs[0]), n_parties=parties,
                            committed=committed)
    else:
        proof = batch.prove(inputs)
    prove_s, prove_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    items = rule.prove_many(inputs)  # the DOs' bound per-DO proofs, which a server requires
    for s in actors.servers:  # the in-process prover stands in for the servers' sessions
        s.record(tid, items)
        record_batch(s, tid, proof)
    res = submit_batch_proof(actors.servers, tid, proof, batch)
    assert len(res.accepted) == k, res.rejected
    claim = actors.mo.market.claim_reward(tid, actors.dos[0].account)[1].gas_used
    return measured(w3, res.tx.tx_hash, res.gas_used, k) | {
        "prove_s": prove_s, "prove_cpu": prove_cpu, "payout": claim}


def today(w3: Any, rule: Any, k: int, rng: np.random.Generator) -> dict[str, Any]:
    """One task, k DOs, one ``submitBatch`` of k valid proofs; gas and its breakdown."""
    actors, tid, rho = _round(w3, rule, k, rng)
    servers, dos = actors.servers, actors.dos
    t0 = time.perf_counter()
    items = rule.prove_many([rule.witness_input(d.vectors[tid], d.account, rho, MAX_Q)
                             for d in dos])
    prove_s = time.perf_counter() - t0
    for s in servers:  # the local prover stands in for every server's own prover
        s.record(tid, items)
    res = servers[0].submit(tid, items, cosigners=servers[1:])
    assert len(res.accepted) == k, res.rejected
    payout = actors.mo.market.withdraw(dos[0].account)[1].gas_used
    return measured(w3, res.tx.tx_hash, res.gas_used, k) | {"prove_s": prove_s,
                                                             "payout": payout}


def measured(w3: Any, tx_hash: str, gas: int, k: int) -> dict[str, Any]:
    tx = w3.eth.get_transaction(tx_hash)
    data = bytes(tx["input"])
    cd, floor = calldata_gas(data)
    out: dict[str, Any] = {"gas": gas, "k": k, "calldata": cd, "calldata_floor": floor,
                           "calldata_bytes": len(data)}
    out.update(trace_breakdown(w3, tx_hash))
    return out


ROWS = (("pairing", "pairing precompile"), ("ecMul", "ecMul precompile"),
        ("ecAdd", "ecAdd precompile"), ("ecrecover", "ecrecover (attestation)"),
        ("calldata", "calldata (EIP-2028)"), ("SSTORE", "SSTORE (crediting)"),
        ("SLOAD", "SLOAD"), ("LOG", "events (LOG)"), ("keccak", "KECCAK256"))


def print_table(title: str, runs: dict[int, list[dict[str, Any]]]) -> None:
    ks = sorted(runs)
    med = {k: {key: statistics.median(r[key] for r in runs[k]) for key in runs[k][0]}
           for k in ks}
    print(f"\n{title}: gas per contributor (median of {len(runs[ks[0]])})")
    print(f"{'':28}" + "".join(f"{f'k = {k}':>12}" for k in ks))
    print(f"{'transaction gasUsed / k':28}" + "".join(f"{med[k]['gas'] / k:>12,.0f}" for k in ks))
    for key, name in ROWS:
        print(f"{'  ' + name:28}" + "".join(f"{med[k][key] / k:>12,.0f}" for k in ks))
    rest = {k: med[k]["gas"] - 21_000 - sum(med[k][key] for key, _ in ROWS) for k in ks}
    print(f"{'  21,000 base':28}" + "".join(f"{21_000 / k:>12,.0f}" for k in ks))
    print(f"{'  everything else':28}" + "".join(f"{rest[k] / k:>12,.0f}" for k in ks))
    print(f"{'(calldata floor EIP-7623)':28}"
          + "".join(f"{med[k]['calldata_floor'] / k:>12,.0f}" for k in ks))
    print(f"{'calldata bytes':28}" + "".join(f"{med[k]['calldata_bytes']:>12,.0f}" for k in ks))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dim", type=int, default=16, help="D of market_norm.omni (gas: no effect)")
    ap.add_argument("--ks", default="8,16,32")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--plain", action="store_true",
                    help="prove the batch with the single-machine prover (default: 3 parties, "
                         "Shamir, every DO dealing its own slot, in this process)")
    args = ap.parse_args(argv)
    ks = [int(x) for x in args.ks.split(",") if x]
    t0 = time.perf_counter()
    rule = dsl_rule.setup(args.dim)
    print(f"MarketNorm at D = {args.dim}: {rule.circuit.r1cs.n_constraints:,} constraints, "
          f"{rule.iface.n_public} public signals; compiled + dev setup in "
          f"{time.perf_counter() - t0:.1f}s")
    batches, setup_stats = {}, {}
    for k in ks:
        cpu0, t0 = time.process_time(), time.perf_counter()
        batches[k] = setup_batch(rule, k)
        setup_stats[k] = (time.perf_counter() - t0, time.process_time() - cpu0)
    rng = np.random.default_rng(0)
    parties = None if args.plain else 3
    old: dict[int, list[dict[str, Any]]] = {k: [] for k in ks}
    new: dict[int, list[dict[str, Any]]] = {k: [] for k in ks}
    with anvil(steps_tracing=True) as w3:
        for _ in range(args.reps):
            for k in ks:  # A/B alternated
                old[k].append(today(w3, rule, k, rng))
                new[k].append(new_path(w3, batches[k], k, rng, parties))
    print_table("today: submitBatch (k proofs, verifyBatch: k + 3 pairings)", old)
    print_table("new: submitBatchProof (one proof of the batch statement, 4 pairings)", new)
    print(f"\n{'':28}" + "".join(f"{f'k = {k}':>12}" for k in ks))
    row = {k: (statistics.median(r["gas"] for r in old[k]) / k,
               statistics.median(r["gas"] for r in new[k]) / k) for k in ks}
    print(f"{'per contributor: today':28}" + "".join(f"{row[k][0]:>12,.0f}" for k in ks))
    print(f"{'per contributor: new':28}" + "".join(f"{row[k][1]:>12,.0f}" for k in ks))
    print(f"{'ratio new / today':28}" + "".join(f"{row[k][1] / row[k][0]:>12.3f}" for k in ks))
    pay = {k: (statistics.median(r["payout"] for r in old[k]),
               statistics.median(r["payout"] for r in new[k])) for k in ks}
    print(f"{'DO payout tx: withdraw':28}" + "".join(f"{pay[k][0]:>12,.0f}" for k in ks))
    print(f"{'DO payout tx: claimReward':28}" + "".join(f"{pay[k][1]:>12,.0f}" for k in ks))
    how = "plain prover" if args.plain else "3 parties, Shamir, each DO deals its slot, one process"
    print(f"\nbatch statement (D = {args.dim}); proving: {how}")
    print(f"{'k':>4} {'constraints':>12} {'public':>7} {'setup s':>8} {'setup CPU':>10} "
          f"{'prove s':>8} {'prove CPU':>10} {'k proofs s':>11}")
    for k in ks:
        b = batches[k]
        pr = statistics.median(r["prove_s"] for r in new[k])
        pc = statistics.median(r["prove_cpu"] for r in new[k])
        old_s = statistics.median(r["prove_s"] for r in old[k])
        print(f"{k:>4} {b.system.r1cs.n_constraints:>12,} {b.system.layout.n_public:>7} "
              f"{setup_stats[k][0]:>8.2f} {setup_stats[k][1]:>10.2f} {pr:>8.2f} {pc:>10.2f} "
              f"{old_s:>11.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(k proofs s: today's k single proofs, plain prover; process peak RSS {peak:,.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
