"""Options and setup shared by the market role commands (``market mo|server|do|status``).

Every role command talks to a running node (``--chain URL``, e.g. anvil's): the chain must
outlive the command, so ``--chain embedded``/``anvil`` (which live only as long as one command)
are usage errors there — in one process, use the Python API of the role modules instead
(:mod:`omnidsl.market.owner`, :mod:`~omnidsl.market.daemon`, :mod:`~omnidsl.market.contribute`).
A command that sends transactions needs a signer (``--key-file``/``--key-env``): never an account
the node has unlocked.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from omnidsl.chain.options import add_chain_options, config_from_args
from omnidsl.errors import UsageError


def add_role_options(p: argparse.ArgumentParser, market: bool = True) -> None:
    """``--market ADDR`` (unless ``market`` is False) and the chain options."""
    if market:
        p.add_argument("--market", required=True, metavar="ADDR",
                       help="the Market contract's address (`omnidsl market mo deploy`)")
    add_chain_options(p)


def add_task_command(sub: Any, name: str, help: str, summary: str, example: str,
                     func: Any) -> argparse.ArgumentParser:
    """A role subcommand acting on one task: ``--task N``, the role options, ``func``."""
    from omnidsl.argparsing import describe

    p = sub.add_parser(name, help=help, **describe(summary, [example]))
    p.add_argument("--task", type=int, required=True)
    add_role_options(p)
    p.set_defaults(func=func)
    return p


def add_rule_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("rule", "the task's rule: the same files for the MO, the servers "
                                     "and the data owners (checked against the task's ruleHash)")
    g.add_argument("--rule", type=Path, required=True, metavar="FILE", help="the rule (.omni)")
    g.add_argument("--param", action="append", metavar="NAME=INTEGER", default=[],
                   help="a rule parameter (repeatable), e.g. D=650")
    g.add_argument("--keys", type=Path, required=True, metavar="DIR",
                   help="the rule's key directory (`omnidsl setup ... -o DIR`)")


def rule_from_args(args: argparse.Namespace) -> Any:
    from omnidsl.groth16.keydir import params
    from omnidsl.market.rulefile import load_rule

    return load_rule(args.rule, params(args.param), args.keys)


def address(value: str, what: str) -> str:
    """A checksummed address, or a UsageError naming the option."""
    from web3 import Web3

    try:
        return str(Web3.to_checksum_address(value))
    except (ValueError, TypeError):
        raise UsageError(f"{what} {value!r}: not an Ethereum address (0x + 40 hex digits)") \
            from None


@contextlib.contextmanager
def role_chain(args: argparse.Namespace, signer: bool = True) -> Iterator[Any]:
    """Yield (chain, MarketClient or None) for a role command (see the module docstring)."""
    from web3 import Web3

    from omnidsl.chain.config import open_chain
    from omnidsl.market.client import MarketClient

    if not str(args.chain).startswith(("http://", "https://")):
        raise UsageError(f"--chain {args.chain}: the market role commands need a running node "
                         "(--chain http://HOST:PORT, e.g. anvil's), the chain must outlive "
                         "each command")
    if signer and args.key_file is None and args.key_env is None:
        raise UsageError("this command sends transactions: give its signer with --key-file FILE "
                         "or --key-env VAR")
    market_addr = address(args.market, "--market") if getattr(args, "market", None) else None
    config = config_from_args(args)
    with open_chain(config) as chain:
        market = None
        if market_addr is not None:
            if len(chain.w3.eth.get_code(Web3.to_checksum_address(market_addr))) == 0:
                from omnidsl.errors import ChainError

                raise ChainError(f"no contract at --market {market_addr} on {config.describe()}")
            market = MarketClient(chain.w3, market_addr, gas_cap=config.gas_cap)
        yield chain, market
