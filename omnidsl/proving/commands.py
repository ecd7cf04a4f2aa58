"""CLI: ``omnidsl prove`` — one command for every proving mode.

    omnidsl prove --keys DIR --witness W.wtns [-o proof.json] [--public public.json]
        [--servers servers.toml | --parties N [--scheme NAME]]
        [--witness-msm split|servers] [--shares bounded|uniform]

Without ``--servers``/``--parties`` the plain prover runs here; ``--parties N`` runs N parties of
the collaborative prover in this process (the oracle of a server run); ``--servers`` shares the
witness among the servers servers.toml lists (``omnidsl serve``; docs/mpc.md).  The proof is
verified before anything is written, and proof.json and public.json are written together or not
at all.  ``omnidsl prove-shared`` is a deprecated alias of ``prove --servers``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from omnidsl.argparsing import describe
from omnidsl.errors import FormatError, UsageError
from omnidsl.files import Outputs

log = logging.getLogger(__name__)

WITNESS_MSM_HELP = ("split (default): compute π_A's and π_B(G2)'s witness MSMs here and deal "
                    "them as point shares, the servers check them by a pairing; servers: every "
                    "MSM on the shares (docs/mpc.md)")
SHARES_HELP = ("bounded (default): statistically hiding masks sized by the key's wire widths "
               "(2^-40), much cheaper MSMs for the servers; uniform: masks uniform on F_r")


def prove_command(args: argparse.Namespace) -> int:
    from omnidsl.groth16.commands import load_witness
    from omnidsl.groth16.formats import write_proof, write_public
    from omnidsl.groth16.keydir import PK_NAME, load_keys
    from omnidsl.proving import prove

    if not (args.keys and args.witness):
        raise UsageError("prove needs --keys DIR and --witness FILE.wtns")
    servers, parties = getattr(args, "servers", None), getattr(args, "parties", None)
    options = {k: v for k in ("witness_msm", "shares") if (v := getattr(args, k, None))}
    if servers and parties:
        raise UsageError("--servers and --parties exclude each other",
                         hint="--parties N proves in this process, --servers with the servers")
    if options and not (servers or parties):
        raise UsageError("--witness-msm/--shares need --servers servers.toml (or --parties N)",
                         hint="the plain prover computes every MSM itself")
    if getattr(args, "scheme", None) and not parties:
        raise UsageError("--scheme goes with --parties N (servers.toml names the servers' scheme)")
    outputs = Outputs([args.out, args.public])  # before proving: written together, or neither
    target = None
    if servers:
        from omnidsl.mpc.config import load_config

        target = load_config(servers)
    pk = load_keys(args.keys)
    pk_path = Path(args.keys) / PK_NAME if Path(args.keys).is_dir() else Path(args.keys)
    z = load_witness(args.witness)
    if len(z) // 32 != pk.n_wires:
        raise FormatError(f"{args.witness}: {len(z) // 32} wires, but the keys in {args.keys} are "
                          f"for a circuit with {pk.n_wires}",
                          hint="the witness and the keys come from different circuits")
    res = prove(pk, z, target if target is not None else parties, pk_path=pk_path,
                scheme=getattr(args, "scheme", None), **options)  # progress: prove's own task
    with outputs.writing() as tmp:
        write_proof(res.proof, tmp(args.out))
        if args.public:
            write_public(res.public, tmp(args.public))
    if target is not None:
        sent = max(r.bytes_sent for r in res.reports)
        print(f"proof by {target.n} servers verified in {res.wall_s:.2f} s "
              f"(max {sent / 1e6:.2f} MB sent per server) → {args.out}, {args.public}",
              file=sys.stderr)
    elif parties:
        print(f"proof by {parties} parties in process verified in {res.wall_s:.2f} s → "
              f"{args.out}", file=sys.stderr)
    print(f"proof written to {args.out}")
    return 0


def prove_shared_command(args: argparse.Namespace) -> int:
    """Deprecated alias: ``prove-shared`` = ``prove --servers``."""
    log.warning("omnidsl prove-shared is deprecated: use `omnidsl prove --servers servers.toml "
                "...`")
    return prove_command(args)


def _options(p: argparse.ArgumentParser) -> None:
    from omnidsl.mpc.schemes import SHARE_MODES, WITNESS_MSM_MODES

    p.add_argument("--keys", required=True, help="key directory (or proving_key.bin)")
    p.add_argument("--witness", required=True, help="witness .wtns")
    p.add_argument("-o", "--out", default="proof.json", help="proof output (snarkjs JSON)")
    p.add_argument("--public", default="public.json", help="public signals output")
    p.add_argument("--witness-msm", choices=WITNESS_MSM_MODES, help=WITNESS_MSM_HELP)
    p.add_argument("--shares", choices=SHARE_MODES, help=SHARES_HELP)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "prove", help="prove a witness (plain, N parties here, or N servers)",
        **describe("Prove a witness with a key directory and verify the proof before writing "
                   "proof.json and public.json (both or neither).  With --servers the witness "
                   "is secret-shared among the servers servers.toml lists (the sharing scheme "
                   "it names); --parties N runs N parties of that protocol in this process.",
                   ["omnidsl prove --keys keys --witness w.wtns -o proof.json",
                    "omnidsl prove --keys keys --witness w.wtns --servers servers.toml",
                    "omnidsl prove --keys keys --witness w.wtns --parties 3"]))
    _options(p)
    p.add_argument("--servers", help="servers.toml: prove with secret-shared servers")
    p.add_argument("--parties", type=int, metavar="N",
                   help="run N parties of the collaborative prover in this process")
    p.add_argument("--scheme", help="sharing scheme of --parties (default additive)")
    p.set_defaults(func=prove_command)

    s = sub.add_parser(
        "prove-shared", help="(deprecated) = prove --servers servers.toml",
        **describe("Deprecated spelling of `omnidsl prove --servers servers.toml` (says so on "
                   "stderr, then does exactly that).",
                   ["omnidsl prove-shared --servers servers.toml --keys keys --witness w.wtns"]))
    _options(s)
    s.add_argument("--servers", required=True, help="servers.toml")
    s.set_defaults(func=prove_shared_command)
