"""`omnidsl market dashboard` and the demo's observing options (``--dashboard PORT``,
``--rounds-log FILE``, ``--report DIR``)."""

from __future__ import annotations

import argparse
import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omnidsl.argparsing import describe
from omnidsl.chain.options import add_chain_options, config_from_args
from omnidsl.errors import ChainError, UsageError

if TYPE_CHECKING:
    from web3 import Web3

    from omnidsl.market.dashboard.view import MarketView
    from omnidsl.market.demo import Actors, RoundReport

#: Default port of ``market dashboard``.
DEFAULT_PORT = 8050


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port (0-65535; 0: any free one)")
    return port


def _wait_for_interrupt(url: str) -> None:
    print(f"dashboard at {url} (Ctrl-C to stop)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("dashboard stopped", flush=True)


def _check_market(w3: Web3, address: str, where: str) -> str:
    from web3 import Web3 as W3

    if not W3.is_address(address):
        raise UsageError(f"--market {address!r}: not an address (0x and 40 hex digits)")
    addr = W3.to_checksum_address(address)
    if not w3.eth.get_code(addr):
        raise ChainError(f"no contract at {addr} on {where}",
                         hint="--market is the address `market demo` prints ('market at 0x...')")
    return addr


def _dashboard(args: argparse.Namespace) -> int:
    from omnidsl.chain.config import open_chain
    from omnidsl.market.dashboard import DashboardServer, MarketView, RoundLogReader

    config = config_from_args(args)
    if config.kind != "rpc":
        raise UsageError(f"--chain {config.chain}: a chain started for this command has no "
                         "market on it; give the JSON-RPC URL of the chain the market runs on",
                         hint="for the embedded chain, watch a demo from its own process: "
                              "omnidsl market demo --dashboard PORT")
    if args.interval <= 0:
        raise UsageError(f"--interval {args.interval}: must be > 0 seconds")
    with open_chain(config) as chain:
        addr = _check_market(chain.w3, args.market, config.describe())
        view = MarketView(chain.w3, addr, source=config.describe())
        reader = RoundLogReader(args.rounds_log) if args.rounds_log else None

        def refresh() -> None:
            view.refresh()
            if reader is not None:
                reader.feed(view)

        refresh()
        if view.snapshot()["error"]:
            raise ChainError(f"{addr} on {config.describe()} is not an omnidsl market: "
                             f"{view.snapshot()['error']}")
        with DashboardServer(view, args.port, refresh=refresh, interval=args.interval) as srv:
            _wait_for_interrupt(srv.url)
    return 0


@dataclass
class DemoExtras:
    """What the demo's observing options add to a run: ``on_round`` for ``run_demo`` and
    ``finish(reports)`` once the rounds are done."""

    hooks: list[Callable[[Actors, RoundReport | None], None]] = field(default_factory=list)
    finishers: list[Callable[[list[RoundReport]], None]] = field(default_factory=list)
    tickers: list[Callable[[], None]] = field(default_factory=list)
    view: MarketView | None = None  # the dashboard's, with --dashboard

    def log(self, message: str) -> None:
        """``run_demo``'s ``log``: print, then let the dashboard read the chain (each progress
        line ends a stage of a round, so the page follows the round, not only its end)."""
        print(message, flush=True)
        for tick in self.tickers:
            tick()

    def on_round(self, actors: Actors, report: RoundReport | None) -> None:
        for hook in self.hooks:
            hook(actors, report)

    def finish(self, reports: list[RoundReport]) -> None:
        for fin in self.finishers:
            fin(reports)


@contextlib.contextmanager
def demo_extras(args: argparse.Namespace, w3: Web3, chain: str) -> Iterator[DemoExtras]:
    """Set up ``--dashboard``, ``--rounds-log`` and ``--report`` for one demo run (their output
    locations are checked here, before any round)."""
    from omnidsl.market.dashboard import DashboardHook, DashboardServer, MarketView, RoundLogWriter

    extras = DemoExtras()
    if args.report is not None:
        from omnidsl.report.files import check_new_dir

        check_new_dir(args.report)
        extras.finishers.append(lambda reps: _write_report(args, reps, chain))
    if args.rounds_log is not None:
        extras.hooks.append(RoundLogWriter(args.rounds_log))
    with contextlib.ExitStack() as stack:
        if args.dashboard is not None:
            view = extras.view = MarketView(w3, source=f"market demo on {chain}")
            srv = stack.enter_context(DashboardServer(view, args.dashboard))
            print(f"dashboard at {srv.url}", flush=True)
            hook = DashboardHook(view)
            extras.hooks.append(hook)
            extras.tickers.append(hook.tick)
            extras.finishers.append(lambda _reps: _wait_for_interrupt(srv.url))
        yield extras


def _write_report(args: argparse.Namespace, reports: list[RoundReport], chain: str) -> None:
    from omnidsl.market.report import write_demo_report

    meta: dict[str, Any] = {"chain": chain, "rounds": args.rounds, "owners": args.owners,
                            "malicious": args.malicious, "servers": args.servers,
                            "prover": args.prover, "attack": args.attack,
                            "model": getattr(args, "model", None)}
    index = write_demo_report(reports, Path(args.report), meta)
    print(f"report: {index}", flush=True)


def add_demo_options(demo: argparse.ArgumentParser) -> None:
    """The demo's observing options (one help section)."""
    g = demo.add_argument_group("watching the run")
    g.add_argument("--dashboard", type=_port, default=None, metavar="PORT",
                   help="serve the market dashboard on http://127.0.0.1:PORT during the run "
                        "(0: any free port), and after it until Ctrl-C")
    g.add_argument("--rounds-log", type=Path, default=None, metavar="FILE",
                   help="append each round's report (accuracy, off-chain refusals) as a JSON "
                        "line, for `market dashboard --rounds-log`")
    g.add_argument("--report", type=Path, default=None, metavar="DIR",
                   help="write plots (accuracy, accepted/refused, gas, payments per round) and "
                        "an HTML report to DIR (a new folder; all or nothing)")


def register(msub: argparse._SubParsersAction) -> None:
    """``market dashboard``."""
    p = msub.add_parser(
        "dashboard", help="serve a live page of a market (tasks, escrow, payments, accuracy)",
        **describe("Serve a local page (http://127.0.0.1:PORT) showing one market live from its "
                   "chain events: tasks and their escrow, servers, accepted and refused data "
                   "owners with the reasons, gas and payments; with --rounds-log, the model "
                   "owner's off-chain round reports (accuracy, refusals that never reached the "
                   "chain).  The chain is a JSON-RPC URL; the embedded chain lives inside its "
                   "process: use `market demo --dashboard PORT` there.",
                   ["omnidsl market dashboard --chain http://127.0.0.1:8545 --market 0xF2E2...",
                    "omnidsl market dashboard --chain http://127.0.0.1:8545 --market 0xF2E2... "
                    "--rounds-log rounds.jsonl --port 8050"]))
    p.add_argument("--market", required=True, metavar="ADDRESS",
                   help="the Market contract (`market demo` prints its address)")
    p.add_argument("--port", type=_port, default=DEFAULT_PORT,
                   help="port on 127.0.0.1 (0: any free port)")
    p.add_argument("--rounds-log", type=Path, default=None, metavar="FILE",
                   help="the model owner's round reports (JSON lines, `market demo "
                        "--rounds-log`): accuracy and off-chain refusals")
    p.add_argument("--interval", type=float, default=1.0, metavar="SECONDS",
                   help="how often the chain is read")
    add_chain_options(p)
    p.set_defaults(func=_dashboard)
