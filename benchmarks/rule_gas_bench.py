"""Gas of the committed-cosine market rule (circuits/market_cosine.omni) through the DSL path, on
anvil: publishing the reference with the task, and a batch of 8 valid proofs.

The rule is compiled by omnidsl, keys from a dev setup, proofs from omnidsl's Groth16 prover (on
one machine: the gas does not depend on who proved), verified by omnidsl's generated verifier.
The task is opened with ``omnidsl.market.tasks.open_task`` (pins: the reference's Poseidon
commitment, τ, max_norm, min_norm) and publishes the reference as calldata
(``Market.publishReference``); every data owner reads it back and checks it against the pin
(``tasks.task_terms``) before proving.  Also: the gas of publishing a reference of each size in
``--publish-sizes`` (no proofs needed: calldata only).

    python benchmarks/rule_gas_bench.py [--dim 7510] [--owners 8] [--publish-sizes 650,7510]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from omnidsl.chain import anvil  # noqa: E402
from omnidsl.market import dsl_rule, tasks  # noqa: E402
from omnidsl.market.demo import BOND, FEE, REWARD, setup_actors  # noqa: E402

N_SERVERS = 3


def publish_gas(mo, task_id: int, pin, dim: int, rng: np.random.Generator) -> tuple[int, int]:
    """(gas, calldata bytes of the entries) of publishing a random ``dim``-entry reference."""
    entries = [int(v) for v in rng.integers(-(1 << 12), 1 << 12, dim)]
    data = tasks.pack_entries(entries, pin.info.bits)
    res = mo.market.publish_reference(task_id, pin.index, data, mo.account)
    return res.gas_used, len(data)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dim", type=int, default=7510)
    ap.add_argument("--owners", type=int, default=8)
    ap.add_argument("--publish-sizes", default="650,7510")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rule = dsl_rule.setup_file(dsl_rule.COSINE_RULE, {"D": args.dim})
    print(f"MarketCosine at D = {args.dim}: {rule.circuit.r1cs.n_constraints:,} constraints, "
          f"{rule.iface.n_public} public signals; compiled + dev setup in "
          f"{time.perf_counter() - t0:.1f}s")
    rng = np.random.default_rng(0)
    ref = rng.normal(0, 0.05, args.dim)
    values = {"ref": ref, "tau": 0.25, "max_norm": 3 * float(np.linalg.norm(ref)),
              "min_norm": 0.01}
    with anvil() as w3:
        actors = setup_actors(w3, rule, n_owners=args.owners, n_servers=N_SERVERS)
        mo, servers, dos = actors.mo, actors.servers, actors.dos
        now = int(w3.eth.get_block("latest")["timestamp"])
        terms = tasks.encode_terms(rule, values)
        escrow = args.owners * (REWARD + N_SERVERS * FEE)
        tid = mo.open_task([s.account for s in servers], REWARD, FEE, escrow, now + 3600,
                           deliver_by=now + 7200, bond=BOND, pinned=rule.pins(terms))
        pin = rule.iface.pin("ref")
        assert pin is not None
        pub = tasks.publish(mo, tid, pin, terms["ref"])
        checked = tasks.task_terms(mo.market, tid, rule)  # what every DO checks
        assert checked == terms
        grads = [[int(v) for v in np.rint((ref + rng.normal(0, 0.02, args.dim)) * 4096)]
                 for _ in dos]
        for do, q in zip(dos, grads, strict=True):
            do.share(tid, q, servers)
        for s in servers:
            s.commit(tid)
        for s in servers:
            s.reveal(tid)
        rho = mo.market.task(tid).rho
        t1 = time.perf_counter()
        items = rule.prove_many([rule.witness_input(d.vectors[tid], d.account, rho, checked)
                                 for d in dos])
        prove_s = time.perf_counter() - t1
        for s in servers:  # the local prover stands in for every server's own prover
            s.record(tid, items)
        res = servers[0].submit(tid, items, cosigners=servers[1:])
        assert len(res.accepted) == args.owners, res.rejected
        print(f"{args.owners} proofs in {prove_s:.1f}s (one machine)")
        print(f"\n{'':48} {'gas':>12} {'per DO':>10}")
        batch = f"batch of {args.owners} valid proofs (+ 3 signatures)"
        print(f"{batch:48} {res.gas_used:>12,} {res.gas_used // args.owners:>10,}")
        own = f"publish the task's reference, D = {args.dim} ({2 * args.dim} bytes)"
        print(f"{own:48} {pub:>12,}")
        for d in (int(x) for x in args.publish_sizes.split(",") if x):
            gas, n = publish_gas(mo, tid, pin, d, rng)
            print(f"{f'publish a reference, D = {d} ({n} bytes)':48} {gas:>12,}")
        code = w3.eth.get_code(mo.verifier)
        print(f"\nverifier runtime code: {len(code):,} bytes (EIP-170: 24,576)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
