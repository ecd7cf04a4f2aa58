"""``omnidsl market do contribute|claim|withdraw``: the data owner's commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from omnidsl.argparsing import describe
from omnidsl.errors import UsageError
from omnidsl.market.role_options import (
    add_role_options,
    add_rule_options,
    add_task_command,
    role_chain,
    rule_from_args,
)


def _contribute(args: argparse.Namespace) -> int:
    from omnidsl.files import Outputs
    from omnidsl.market.contribute import contribute, read_gradient
    from omnidsl.market.model_pin import read_model

    if not args.server:
        raise UsageError("give every server's inbox with --server URL (repeatable)")
    if args.wait <= 0:
        raise UsageError("--wait must be positive")
    outputs = Outputs([args.proof, args.public])
    rule = rule_from_args(args)
    gradient = read_gradient(args.gradient, rule.rule.dim)
    model = None if args.model is None else read_model(args.model)
    with role_chain(args) as (chain, market):
        proof, public = contribute(market, args.task, chain.account, gradient, rule,
                                   list(args.server), args.config, args.wait, model, args.batch)
    with outputs.writing() as tmp:
        for target, data in ((args.proof, proof), (args.public, public)):
            if target is not None and data is not None:
                tmp(target).write_text(json.dumps(data, indent=1))
    if args.batch:
        print(f"task {args.task}: gradient shared and its batch slot dealt to the servers for "
              f"{chain.account.address}; the task's first server submits the batch proof "
              "(then: omnidsl market do claim)")
    else:
        print(f"task {args.task}: gradient shared and proved by the servers for "
              f"{chain.account.address}; the task's first server submits it")
    return 0


def _claim(args: argparse.Namespace) -> int:
    from omnidsl.errors import ChainError

    with role_chain(args) as (chain, market):
        state = market.paid_state(args.task, chain.sender)
        if state != 2:
            raise ChainError(f"task {args.task}: nothing to claim for {chain.sender} (" + (
                "already claimed" if state == 3 else "credited to `withdraw`" if state == 1
                else "not credited") + ")")
        amount = market.claim_reward(args.task, chain.sender)[0]
    print(f"claimed {amount} wei for task {args.task} to {chain.sender}")
    return 0


def _withdraw(args: argparse.Namespace) -> int:
    with role_chain(args) as (chain, market):
        owed = market.balance_of(chain.sender)
        amount = market.withdraw(chain.sender)[0] if owed else 0
    print(f"withdrew {amount} wei to {chain.sender}")
    return 0


def register(msub: argparse._SubParsersAction) -> None:
    do = msub.add_parser(
        "do", help="data owner: contribute a gradient to a task, withdraw rewards",
        **describe("The data owner's commands (docs/market.md, Running a market).",
                   ["omnidsl market do contribute --market 0x… --task 1 --gradient g.npy "
                    "--rule r.omni --param D=8 --keys keys --config srv/servers.toml "
                    "--server http://127.0.0.1:7300 --server http://127.0.0.1:7301 "
                    "--chain http://127.0.0.1:8545 --key-file do.key"]))
    sub = do.add_subparsers(dest="do_command", metavar="VERB")
    c = sub.add_parser(
        "contribute", help="share a gradient with the task's servers and have it proved",
        **describe("Check the task (open, opened for these keys) and the gradient (refused here "
                   "if it breaks the rule), send each server its sealed and signed share, wait "
                   "until the servers have committed (the challenge is fixed), then let the "
                   "servers' `omnidsl serve` processes prove it. The gradient file is .npy (1-D "
                   "floats) or .json (a list of numbers, or {\"gradient\": [...]}).",
                   ["omnidsl market do contribute --market 0x… --task 1 --gradient g.json "
                    "--rule r.omni --param D=8 --keys keys --config srv/servers.toml --server "
                    "http://127.0.0.1:7300 --server http://127.0.0.1:7301 --server "
                    "http://127.0.0.1:7302 --chain http://127.0.0.1:8545 --key-file do.key"]))
    c.add_argument("--task", type=int, required=True)
    c.add_argument("--gradient", type=Path, required=True, metavar="FILE",
                   help="the gradient (.npy or .json, D real numbers)")
    c.add_argument("--model", type=Path, default=None, metavar="FILE",
                   help="the model the gradient was computed on (.npy or .json parameters): "
                   "checked against the model the task pins; required if it pins one")
    add_rule_options(c)
    c.add_argument("--config", type=Path, required=True,
                   help="servers.toml of the servers' `omnidsl serve` processes")
    c.add_argument("--server", action="append", default=[], metavar="URL",
                   help="a market server's inbox (repeatable: every server of the task)")
    c.add_argument("--wait", type=float, default=300.0, metavar="S",
                   help="how long to wait for the servers to commit")
    c.add_argument("--batch", action="store_true",
                   help="the task is proved one proof per batch: deal this DO's slot to the "
                        "servers instead of having its own proof made (claim with `claim`)")
    c.add_argument("--proof", type=Path, default=None, help="also write the proof here")
    c.add_argument("--public", type=Path, default=None,
                   help="also write the public signals here")
    add_role_options(c)
    c.set_defaults(func=_contribute)

    add_task_command(sub, "claim", "claim a reward credited by a batch proof",
                     "claimReward: the reward a batch proof credited to the signer in one task.",
                     "omnidsl market do claim --market 0x… --task 1 --chain "
                     "http://127.0.0.1:8545 --key-file do.key", _claim)

    w = sub.add_parser("withdraw", help="withdraw everything the market credited to the signer",
                       **describe("Pull-payment: withdraw the rewards credited to the signer.",
                                  ["omnidsl market do withdraw --market 0x… --chain "
                                   "http://127.0.0.1:8545 --key-file do.key"]))
    add_role_options(w)
    w.set_defaults(func=_withdraw)
    do.set_defaults(func=lambda args: (do.print_help(), 2)[1])
