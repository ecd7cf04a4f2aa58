"""``omnidsl market status``: tasks, escrow, servers, accepted/refused, payments."""

from __future__ import annotations

import argparse
import json

from omnidsl.argparsing import describe
from omnidsl.market.role_options import add_role_options, role_chain


def _status(args: argparse.Namespace) -> int:
    from omnidsl.market.status import format_status, market_status

    with role_chain(args, signer=False) as (_, market):
        st = market_status(market, args.task)
    print(json.dumps(st, indent=1) if args.json else format_status(st))
    return 0


def register(msub: argparse._SubParsersAction) -> None:
    s = msub.add_parser(
        "status", help="tasks, escrow, servers, accepted/refused data owners, payments",
        **describe("What the market holds, read from the chain: per task its phase, remaining "
                   "escrow, what each server did (committed/revealed/delivered), accepted and "
                   "refused data owners (with the reason), the aggregate check; then what each "
                   "account withdrew and still has credited. No signer needed.",
                   ["omnidsl market status --market 0x… --chain http://127.0.0.1:8545",
                    "omnidsl market status --market 0x… --task 1 --json --chain "
                    "http://127.0.0.1:8545"]))
    s.add_argument("--task", type=int, default=None, help="only this task")
    s.add_argument("--json", action="store_true", help="JSON instead of the tables")
    add_role_options(s)
    s.set_defaults(func=_status)
