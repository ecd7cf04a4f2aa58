"""CLI of the collaborative prover.

    omnidsl serve --id I --config servers.toml
    omnidsl servers-init N -o DIR [--port P] [--circuit NAME=KEYDIR ...] [--force]
                         [--scheme additive|shamir [--threshold T]]

The data owner's side is ``omnidsl prove --servers servers.toml`` (``omnidsl/proving``).
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from omnidsl.argparsing import describe
from omnidsl.errors import OmniDSLError, UsageError
from omnidsl.mpc.schemes import DEFAULT_SCHEME, get_scheme, scheme_names


def serve_command(args: argparse.Namespace) -> int:
    return serve_with(args)


def serve_with(args: argparse.Namespace, server_class: type | None = None) -> int:
    """Run ``omnidsl serve`` with ``args`` (``server_class``: a Server subclass, for tests)."""
    from omnidsl.mpc.config import load_config
    from omnidsl.mpc.server import run_server
    from omnidsl.procs import tune_allocator

    cfg = load_config(args.config)
    cfg.server(args.id)
    if args.threads is not None:
        if not 1 <= args.threads <= 1024:
            raise UsageError("--threads must be in 1..1024")
        os.environ["RAYON_NUM_THREADS"] = str(args.threads)  # read when the pool starts
    listen = None
    if args.listen:
        host, _, port = args.listen.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise UsageError(f"--listen {args.listen!r}: expected HOST:PORT")
        listen = (host, int(port))
    tune_allocator()
    if not getattr(args, "quiet", False) and not getattr(args, "verbose", 0):
        logging.getLogger("omnidsl").setLevel(logging.INFO)  # a server logs its sessions
    # "ready ID" on stdout: what ServerCluster (omnidsl/mpc/cluster.py) waits for
    run_server(cfg, args.id, ready=lambda: print(f"ready {args.id}", flush=True),
               server_class=server_class, record_dir=args.record_dir, bind_dir=args.bind_dir,
               listen=listen)
    return 0


def serve_options(s: argparse.ArgumentParser) -> None:
    """The options of ``omnidsl serve``."""
    s.add_argument("--id", type=int, required=True, help="this server's id in servers.toml")
    s.add_argument("--config", required=True, help="servers.toml")
    s.add_argument("--threads", type=int, help="worker threads for the maths (default: all "
                   "cores; give co-located servers a share of the cores each)")
    s.add_argument("--record-dir", help="(testing) append every received payload to DIR/serverI.bin")
    s.add_argument("--bind-dir", help="only prove shares pinned in DIR by this server's operator "
                   "(the market: a server proves exactly the shares it committed to)")
    s.add_argument("--listen", metavar="HOST:PORT", help="listen here instead of the address "
                   "servers.toml lists for this server (behind NAT or a port forward)")


def servers_init_command(args: argparse.Namespace) -> int:
    from omnidsl.mpc.config import write_config

    if not 2 <= args.n <= 254:
        raise UsageError("the number of servers must be in 2..254")
    circuits = {}
    for item in args.circuit or []:
        name, eq, where = item.partition("=")
        if not eq or not name.isidentifier():
            raise UsageError(f"--circuit {item!r}: expected NAME=KEYDIR")
        circuits[name] = str(Path(where).resolve())
    params: dict[str, int | str] = {}
    if args.threshold is not None:
        if args.scheme != "shamir":
            raise UsageError(f"--threshold applies to the shamir scheme, not {args.scheme}")
        params["threshold"] = args.threshold
    try:
        get_scheme(args.scheme, params).check_parties(args.n)
    except OmniDSLError as exc:
        raise UsageError(f"--scheme {args.scheme}: {exc.message}", hint=exc.hint) from None
    out = write_config(args.out, args.n, args.port, circuits=circuits, timeout=args.timeout,
                       force=args.force, scheme=args.scheme, scheme_params=params)
    print(f"{out}: {args.n} servers on ports {args.port}..{args.port + args.n - 1} "
          f"({args.scheme} sharing{', t = ' + str(args.threshold) if params else ''})")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser(
        "serve", help="run one collaborative proving server",
        **describe("Run server ID of servers.toml: it listens on its configured address, "
                   "authenticates data owners and its peers by their X25519 keys, and proves "
                   "sessions with the sharing scheme servers.toml names (docs/mpc.md).",
                   ["omnidsl serve --id 0 --config cluster/servers.toml",
                    "omnidsl serve --id 1 --config cluster/servers.toml --threads 4"]))
    serve_options(s)
    s.set_defaults(func=serve_command)

    i = sub.add_parser(
        "servers-init", help="write servers.toml and key files for N servers",
        **describe("Write servers.toml and one X25519 key file per server for a cluster of N "
                   "servers on consecutive ports (refuses to replace an existing cluster "
                   "unless --force).",
                   ["omnidsl servers-init 3 -o cluster --circuit nb=keys",
                    "omnidsl servers-init 5 -o cluster --scheme shamir --threshold 2"]))
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
