"""Committed-reference cosine rule: constraints beside the public-reference rule and circom.

    python benchmarks/commit_bench.py [--sizes 7510] [--no-circom] [--circom-timeout 1800]
                                      [--deploy]

For every D: the constraint count (-O2, and -O0) and compile time of
circuits/cosine_committed.omni (reference committed: one public signal), of circuits/cosine.omni
(public reference: D public signals), the commitment gadget alone (and per entry), and the
constraint count of benchmarks/circom/cosine_committed.circom (the same rule with circomlib's
Poseidon and Num2Bits) compiled by circom2 --O2.  ``--deploy`` also runs, at the largest D,
`omnidsl setup` (dev keys), `omnidsl export-verifier` and deploys the verifier on anvil (which
enforces EIP-170), reporting the runtime code size and the setup time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
COMMITTED = ROOT / "circuits" / "cosine_committed.omni"
PUBLIC = ROOT / "circuits" / "cosine.omni"


def ours(rule: Path, d: int) -> dict:
    from omnidsl.compiler.circuit import compile_file

    t0 = time.perf_counter()
    c = compile_file(rule, {"D": d}, 2)
    return {"constraints": c.r1cs.n_constraints, "o0": c.n_constraints_o0,
            "public": c.r1cs.n_public, "seconds": time.perf_counter() - t0}


def circom(d: int, timeout: float) -> tuple[int | None, float, str]:
    """(constraints, seconds, note) of the circom version at D (circom2 --O2): the committed
    cosine rule's peer in circom_peers.py."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from circom_peers import PEERS, peer_constraints

    peer = next(p for p in PEERS if p.rule == COMMITTED.stem)
    return peer_constraints(peer, d, timeout)


def deploy(d: int) -> dict:
    """Dev setup, export-verifier and deployment on anvil at D (CLI, as a user would)."""
    import json

    from omnidsl import chain as chains
    from omnidsl.cli import main

    with tempfile.TemporaryDirectory(prefix="commit_deploy_") as tmp:
        keys, sol = Path(tmp) / "keys", Path(tmp) / "V.sol"
        t0 = time.perf_counter()
        if main(["setup", str(COMMITTED), "--param", f"D={d}", "-o", str(keys)]) != 0:
            raise SystemExit("setup failed")
        t_setup = time.perf_counter() - t0
        if main(["export-verifier", str(keys), "-o", str(sol), "--abi", "--bin"]) != 0:
            raise SystemExit("export-verifier failed")
        abi = json.loads(sol.with_suffix(".abi.json").read_text())
        code = "0x" + sol.with_suffix(".bin").read_text().strip().removeprefix("0x")
        with chains.anvil() as w3:
            v = chains.deploy(w3, abi, code)
            size = len(bytes(w3.eth.get_code(v.address)))
    return {"setup_s": t_setup, "runtime_bytes": size}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="7510")
    ap.add_argument("--circom-timeout", type=float, default=1800.0)
    ap.add_argument("--no-circom", action="store_true")
    ap.add_argument("--deploy", action="store_true")
    args = ap.parse_args(argv)
    from omnidsl.compiler.poseidon_gadget import commitment_cost

    print("cosine rule, reference committed (circuits/cosine_committed.omni) vs public "
          "(circuits/cosine.omni) vs circom2 --O2 (benchmarks/circom/cosine_committed.circom)")
    head = (f"{'D':>6} {'committed':>10} {'(-O0)':>8} {'pub':>4} {'public-ref':>10} "
            f"{'pub':>5} {'commit':>7} {'/entry':>6} {'circom':>8} {'circom s':>8} "
            f"{'ours/circom':>11}")
    print(head)
    print("-" * len(head))
    notes = []
    for d in (int(s) for s in args.sizes.split(",")):
        c, p = ours(COMMITTED, d), ours(PUBLIC, d)
        cc = commitment_cost(d, 16)
        circ, ct, note = (None, 0.0, "skipped") if args.no_circom else circom(
            d, args.circom_timeout)
        ratio = f"{c['constraints'] / circ:.3f}" if circ else "n/a"
        print(f"{d:>6} {c['constraints']:>10} {c['o0']:>8} {c['public']:>4} "
              f"{p['constraints']:>10} {p['public']:>5} {cc:>7} {cc / d:>6.2f} "
              f"{circ if circ else '-':>8} {ct:>8.1f} {ratio:>11}", flush=True)
        if note:
            notes.append(f"D={d}: {note}")
    for line in notes:
        print("note:", line)
    if args.deploy:
        d = max(int(s) for s in args.sizes.split(","))
        r = deploy(d)
        print(f"D={d}: dev setup {r['setup_s']:.0f} s; verifier runtime code "
              f"{r['runtime_bytes']} bytes (EIP-170 limit 24576), deployed on anvil")
    print("committed/public-ref: constraints at -O2; pub: public signals; commit: the "
          "commitment gadget alone (Poseidon tree over 15-entry packed elements).")


if __name__ == "__main__":
    main()
