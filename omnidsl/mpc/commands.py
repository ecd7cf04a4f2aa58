"""CLI of the collaborative prover.

    omnidsl serve --id I --config servers.toml
    omnidsl servers-init N -o DIR [--port P] [--circuit NAME=KEYDIR ...] [--force]
                         [--scheme additive|shamir [--threshold T]]
    omnidsl prove-shared --servers servers.toml --keys DIR --witness w.wtns -o proof.json --public public.json
    omnidsl prove --servers servers.toml ...   (same as prove-shared; plain `prove` otherwise)
    ... [--witness-msm split|servers] [--shares bounded|uniform]   (docs/mpc.md)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from omnidsl.errors import InputError, OmniDSLError
from omnidsl.mpc.schemes import (
    DEFAULT_SCHEME,
    SHARE_MODES,
    WITNESS_MSM_MODES,
    get_scheme,
    scheme_names,
)


def serve_command(args: argparse.Namespace) -> int:
    from omnidsl.mpc.config import load_config
    from omnidsl.mpc.server import run_server
    from omnidsl.procs import tune_allocator

    cfg = load_config(args.config)
    cfg.server(args.id)
    if args.threads is not None:
        if not 1 <= args.threads <= 1024:
            raise InputError("--threads must be in 1..1024")
        os.environ["RAYON_NUM_THREADS"] = str(args.threads)  # read when the pool starts
    listen = None
    if args.listen:
        host, _, port = args.listen.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise InputError(f"--listen {args.listen!r}: expected HOST:PORT")
        listen = (host, int(port))
    tune_allocator()
    # "ready ID" on stdout: what ServerCluster (omnidsl/mpc/cluster.py) waits for
    run_server(cfg, args.id, ready=lambda: print(f"ready {args.id}", flush=True),
               corrupt=args.test_corrupt_shares, crash_at=args.test_crash_at,
               record_dir=args.record_dir, bind_dir=args.bind_dir, listen=listen)
    return 0


def servers_init_command(args: argparse.Namespace) -> int:
    from omnidsl.mpc.config import write_config

    if not 2 <= args.n <= 254:
        raise InputError("the number of servers must be in 2..254")
    circuits = {}
    for item in args.circuit or []:
        name, eq, where = item.partition("=")
        if not eq or not name.isidentifier():
            raise InputError(f"--circuit {item!r}: expected NAME=KEYDIR")
        circuits[name] = str(Path(where).resolve())
    params: dict[str, int | str] = {}
    if args.threshold is not None:
        if args.scheme != "shamir":
            raise InputError(f"--threshold applies to the shamir scheme, not {args.scheme}")
        params["threshold"] = args.threshold
    try:
        get_scheme(args.scheme, params).check_parties(args.n)
    except OmniDSLError as exc:
        raise InputError(f"--scheme {args.scheme}: {exc.message}", hint=exc.hint) from None
    out = write_config(args.out, args.n, args.port, circuits=circuits, timeout=args.timeout,
                       force=args.force, scheme=args.scheme, scheme_params=params)
    print(f"{out}: {args.n} servers on ports {args.port}..{args.port + args.n - 1} "
          f"({args.scheme} sharing{', t = ' + str(args.threshold) if params else ''})")
    return 0


def prove_shared_command(args: argparse.Namespace) -> int:
    from omnidsl.files import Outputs
    from omnidsl.groth16.commands import PK_NAME, load_keys, load_witness
    from omnidsl.groth16.formats import write_proof, write_public
    from omnidsl.mpc.config import load_config
    from omnidsl.mpc.coordinator import prove_shared

    if not args.witness:
        raise InputError("missing --witness W.wtns")
    outputs = Outputs([args.out, args.public])  # before the servers work: both, or neither
    cfg = load_config(args.servers)
    pk = load_keys(args.keys)
    pk_path = Path(args.keys) / PK_NAME if Path(args.keys).is_dir() else Path(args.keys)
    witness = load_witness(args.witness)
    res = prove_shared(cfg, pk_path, witness, pk=pk,
                       witness_msm=args.witness_msm or WITNESS_MSM_MODES[0],
                       shares=args.shares or SHARE_MODES[0])
    with outputs.writing() as tmp:
        write_proof(res.proof, tmp(args.out))
        write_public(res.public, tmp(args.public))
    sent = max(r.bytes_sent for r in res.reports)
    print(f"proof by {cfg.n} servers verified in {res.wall_s:.2f} s "
          f"(max {sent / 1e6:.2f} MB sent per server) → {args.out}, {args.public}",
          file=sys.stderr)
    return 0


WITNESS_MSM_HELP = ("split (default): compute π_A's and π_B(G2)'s witness MSMs here and deal "
                    "them as point shares, the servers check them by a pairing; servers: every "
                    "MSM on the shares (docs/mpc.md)")
SHARES_HELP = ("bounded (default): statistically hiding masks sized by the key's wire widths "
               "(2^-40), much cheaper MSMs for the servers; uniform: masks uniform on F_r")


def _mode_options(p: argparse.ArgumentParser, prefix: str = "") -> None:
    p.add_argument("--witness-msm", choices=WITNESS_MSM_MODES, help=prefix + WITNESS_MSM_HELP)
    p.add_argument("--shares", choices=SHARE_MODES, help=prefix + SHARES_HELP)


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("serve", help="run one collaborative proving server")
    s.add_argument("--id", type=int, required=True, help="this server's id in servers.toml")
    s.add_argument("--config", required=True, help="servers.toml")
    s.add_argument("--threads", type=int, help="worker threads for the maths (default: all "
                   "cores; give co-located servers a share of the cores each)")
    s.add_argument("--record-dir", help="(testing) append every received payload to DIR/serverI.bin")
    s.add_argument("--bind-dir", help="only prove shares pinned in DIR by this server's operator "
                   "(the market: a server proves exactly the shares it committed to)")
    s.add_argument("--listen", metavar="HOST:PORT", help="listen here instead of the address "
                   "servers.toml lists for this server (behind NAT or a port forward)")
    s.add_argument("--test-corrupt-shares", action="store_true", help=argparse.SUPPRESS)
    s.add_argument("--test-crash-at", metavar="STEP", help=argparse.SUPPRESS)
    s.set_defaults(func=serve_command)

    i = sub.add_parser("servers-init", help="write servers.toml and key files for N servers")
    i.add_argument("n", type=int, help="number of servers (≥ 2)")
    i.add_argument("-o", "--out", required=True, help="output directory")
    i.add_argument("--port", type=int, default=7100, help="port of server 0 (others follow)")
    i.add_argument("--timeout", type=float, default=60.0, help="per-step network timeout (s)")
    i.add_argument("--circuit", action="append", metavar="NAME=KEYDIR",
                   help="a key directory the servers can prove for")
    i.add_argument("--force", action="store_true", help="replace an existing servers.toml and "
                   "key files in DIR (servers running with the old keys must be restarted)")
    i.add_argument("--scheme", choices=scheme_names(), default=DEFAULT_SCHEME,
                   help="how the witness is shared (docs/mpc.md, Sharing schemes)")
    i.add_argument("--threshold", type=int, metavar="T",
                   help="shamir: privacy against T servers, 2T + 1 ≤ N (default 1)")
    i.set_defaults(func=servers_init_command)

    p = sub.add_parser("prove-shared", help="prove with secret-shared servers (data owner side)")
    p.add_argument("--servers", required=True, help="servers.toml")
    p.add_argument("--keys", required=True, help="key directory (or proving_key.bin)")
    p.add_argument("--witness", required=True, help="witness .wtns")
    p.add_argument("-o", "--out", default="proof.json", help="proof output (snarkjs JSON)")
    p.add_argument("--public", default="public.json", help="public signals output")
    _mode_options(p)
    p.set_defaults(func=prove_shared_command)

    prove = sub.choices.get("prove")
    if prove is not None:  # `omnidsl prove --servers FILE` = prove-shared
        prove.add_argument("--servers", help="servers.toml: prove with secret-shared servers")
        _mode_options(prove, "with --servers: ")
        plain = prove.get_default("func")

        def dispatch(args: argparse.Namespace) -> int:
            if getattr(args, "servers", None):
                return prove_shared_command(args)
            if getattr(args, "witness_msm", None) or getattr(args, "shares", None):
                raise InputError("--witness-msm/--shares need --servers servers.toml",
                                 hint="the plain prover computes every MSM itself")
            return plain(args)

        prove.set_defaults(func=dispatch)
