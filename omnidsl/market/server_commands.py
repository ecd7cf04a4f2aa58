"""``omnidsl market server run``: a market server operator's long-running process."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from omnidsl.argparsing import describe
from omnidsl.errors import UsageError
from omnidsl.market.role_options import (
    add_role_options,
    add_rule_options,
    role_chain,
    rule_from_args,
)

log = logging.getLogger("omnidsl.market.server")


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    try:
        if not sep or not host:
            raise ValueError
        return host, int(port)
    except ValueError:
        raise UsageError(f"--listen {value!r}: expected HOST:PORT") from None


def _run(args: argparse.Namespace) -> int:
    from omnidsl.market.daemon import ServerDaemon, Timing, make_server, start_inbox
    from omnidsl.mpc.config import load_config

    host, port = _listen(args.listen)
    if args.expect is not None and args.expect < 1:
        raise UsageError("--expect must be at least 1")
    if min(args.collect_window, args.prove_window) < 0 or args.poll <= 0:
        raise UsageError("--collect-window/--prove-window must be >= 0 and --poll > 0")
    cfg = load_config(args.config)
    cfg.server(args.id)  # FormatError naming the config if the id is not there
    rule = rule_from_args(args)
    batch = None
    if (args.batch_keys is None) != (args.batch_size is None):
        raise UsageError("give --batch-keys and --batch-size together")
    if args.batch_keys is not None:
        from omnidsl.market.daemon_batch import load_batch_keys

        if args.batch_size < 1:
            raise UsageError("--batch-size must be at least 1")
        batch = load_batch_keys(rule, args.batch_keys, args.batch_size, cfg)
    if not args.quiet and not args.verbose:  # a daemon reports what it does by default
        logging.getLogger("omnidsl.market").setLevel(logging.INFO)
    stop = threading.Event()
    with role_chain(args) as (chain, market):
        server = make_server(market, chain.account, rule, args.bind_dir)
        daemon = ServerDaemon(server, chain.account, rule, args.id, list(args.peer),
                              Timing(args.expect, args.collect_window, args.prove_window,
                                     args.poll),
                              state_dir=args.state or args.bind_dir / "state", batch=batch)
        try:
            box = start_inbox(daemon, host, port)
        except OSError as exc:
            raise UsageError(f"--listen {args.listen}: cannot listen ({exc.strerror})") from None

        def on_signal(signum: int, _frame: object) -> None:
            log.info("signal %d: stopping", signum)
            stop.set()

        old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            log.info("market server %s (serve id %d) on %s, inbox %s", daemon.address, args.id,
                     chain.config.describe(), box.url)
            print(f"ready {daemon.address} {box.url}", flush=True)
            daemon.run(stop)
        finally:
            box.stop()
            for s, h in old.items():
                signal.signal(s, h)
        busy = [t for t, st in daemon.tasks.items() if not st.done]
        log.info("stopped%s", f"; tasks in progress (resumed from {daemon.state_dir} at the "
                 f"next start): {busy}" if busy else "")
    sys.stdout.flush()
    return 0


def register(msub: argparse._SubParsersAction) -> None:
    srv = msub.add_parser(
        "server", help="server operator: run a market server",
        **describe("The server operator's commands (docs/market.md, Running a market).",
                   ["omnidsl market server run --market 0x… --rule r.omni --param D=8 --keys "
                    "keys --config srv/servers.toml --id 0 --bind-dir pins0 --listen "
                    "127.0.0.1:7300 --peer http://127.0.0.1:7301 --chain http://127.0.0.1:8545 "
                    "--key-file server0.key"]))
    sub = srv.add_subparsers(dest="server_command", metavar="VERB")
    r = sub.add_parser(
        "run", help="watch the market and serve its tasks until SIGTERM",
        **describe("Watch the market for tasks that list this server and were opened for its "
                   "rule; receive the data owners' sealed shares on the inbox (--listen), "
                   "commit, reveal the seed, let the DOs prove through this operator's "
                   "`omnidsl serve --bind-dir DIR` process, submit the batch (the task's first "
                   "server, with every peer's attestation), deliver the aggregate share and "
                   "withdraw the fees. Prints `ready ADDRESS URL` once listening; stops cleanly "
                   "on SIGTERM.",
                   ["omnidsl market server run --market 0x… --rule r.omni --param D=8 --keys "
                    "keys --config srv/servers.toml --id 0 --bind-dir pins0 --peer "
                    "http://127.0.0.1:7301 --peer http://127.0.0.1:7302 --expect 3 "
                    "--chain http://127.0.0.1:8545 --key-file server0.key"]))
    add_rule_options(r)
    r.add_argument("--config", type=Path, required=True,
                   help="servers.toml of the `omnidsl serve` processes")
    r.add_argument("--id", type=int, required=True,
                   help="the id of this operator's `omnidsl serve` process in servers.toml")
    r.add_argument("--bind-dir", type=Path, required=True, metavar="DIR",
                   help="the --bind-dir of this operator's `omnidsl serve` process (pins, "
                        "receipts)")
    r.add_argument("--state", type=Path, default=None, metavar="DIR",
                   help="where each task's shares, salt, seed and progress are kept (mode 600) "
                        "so a restarted server resumes (default: BIND_DIR/state)")
    r.add_argument("--listen", default="127.0.0.1:0", metavar="HOST:PORT",
                   help="the inbox's address (port 0: a free one, printed)")
    r.add_argument("--peer", action="append", default=[], metavar="URL",
                   help="another server's inbox (repeatable; the coordinator asks them to attest)")
    r.add_argument("--expect", type=int, default=None, metavar="K",
                   help="commit as soon as K data owners' shares are held")
    r.add_argument("--collect-window", type=float, default=30.0, metavar="S",
                   help="else commit S seconds after the first share")
    r.add_argument("--prove-window", type=float, default=120.0, metavar="S",
                   help="the coordinator submits when every committed DO has a proof, or S "
                        "seconds after the challenge was fixed")
    r.add_argument("--poll", type=float, default=1.0, metavar="S", help="chain poll interval")
    r.add_argument("--batch-keys", type=Path, default=None, metavar="DIR",
                   help="the proving key of the rule's batch statement (also listed under "
                        "[circuits] of servers.toml): tasks that name a batch verifier for "
                        "--batch-size are proved one proof per batch (submitBatchProof)")
    r.add_argument("--batch-size", type=int, default=None, metavar="K",
                   help="the k of --batch-keys")
    add_role_options(r)
    r.set_defaults(func=_run)
    srv.set_defaults(func=lambda args: (srv.print_help(), 2)[1])
