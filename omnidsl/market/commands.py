"""`omnidsl market ...` sub-commands."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from omnidsl.argparsing import describe
from omnidsl.chain.options import add_chain_options, config_from_args
from omnidsl.errors import UsageError
from omnidsl.market.dashboard import commands as watching


def _demo(args: argparse.Namespace) -> int:
    from omnidsl.chain.config import open_chain
    from omnidsl.market.demo import run_demo

    config = config_from_args(args)
    rule_args = demo_rule_args(args)
    print(f"omnidsl market demo: {demo_args_summary(args)} on {config.describe()}")
    with open_chain(config) as chain, \
            watching.demo_extras(args, chain.w3, config.describe()) as extras:
        reports = run_demo(chain.w3, rounds=args.rounds, owners=args.owners,
                           malicious=args.malicious, servers=args.servers, workdir=args.workdir,
                           attack=args.attack, norm_factor=args.norm_factor, ptau=args.ptau,
                           prover=args.prover, gas_cap=config.gas_cap, model=args.model,
                           log=extras.log, on_round=extras.on_round,
                           model_noise=args.model_noise, batch_proof=args.batch_proof,
                           **rule_args)
        extras.finish(reports)
    return 0


def demo_rule_args(args: argparse.Namespace) -> dict[str, Any]:
    """run_demo's rule_file/rule_params/rule_values from --rule/--rule-param/--pin."""
    from omnidsl.compiler.commands import parse_params
    from omnidsl.market.tasks import parse_values, shipped_rule

    if args.rule is None:
        if args.rule_param or args.pin:
            raise UsageError("--rule-param and --pin need --rule")
        return {}
    return {"rule_file": shipped_rule(args.rule), "rule_params": parse_params(args.rule_param),
            "rule_values": parse_values(args.pin)}


def demo_args_summary(args: argparse.Namespace) -> str:
    return (f"{args.rounds} rounds, {args.owners} data owners ({args.malicious} malicious), "
            f"{args.servers} servers, prover {args.prover}"
            + (f", model noise {args.model_noise:g}" if getattr(args, "model_noise", 0) else ""))


def register(sub: argparse._SubParsersAction) -> None:
    market = sub.add_parser(
        "market", help="the OmniLytics+ data market (contract, roles, demo)",
        **describe("The OmniLytics+ data market: a contract where a model owner pays data owners "
                   "whose gradients provably satisfy the rule (docs/market.md).",
                   ["omnidsl market demo", "omnidsl market demo --chain anvil --rounds 2",
                    "omnidsl market demo --dashboard 8050 --report demo-report"]))
    msub = market.add_subparsers(dest="market_command", metavar="SUBCOMMAND")
    demo = msub.add_parser(
        "demo", help="run training rounds through the market contract",
        **describe("Run federated-training rounds through the market contract: data owners "
                   "(some malicious) submit secret-shared gradients, the servers prove the rule "
                   "for each, the contract pays the accepted ones; prints each round's table.",
                   ["omnidsl market demo",
                    "omnidsl market demo --rounds 5 --owners 10 --malicious 4 --attack scaling",
                    "omnidsl market demo --chain anvil --prover local",
                    "omnidsl market demo --rule cosine --pin tau=0.3 --pin min_norm=0.01 "
                    "--attack sign_flip"]))
    demo.add_argument("--rounds", type=int, default=3, help="training rounds")
    demo.add_argument("--owners", type=int, default=8, help="data owners")
    demo.add_argument("--malicious", type=int, default=3, help="how many of them are malicious")
    demo.add_argument("--servers", type=int, default=3, help="proving servers")
    from omnidsl.ml.federated import ATTACKS, MODELS
    from omnidsl.ml.models import MODEL_CHOICES

    demo.add_argument("--attack", default="mixed", choices=ATTACKS,
                      help="what the malicious data owners do (mixed: scaling, noise, sign flip, "
                           "label flip in turn; adaptive: the reversed update inside the L2 "
                           "bound; adaptive_cosine: the most harmful update the cosine rule "
                           "accepts, docs/results.md)")
    demo.add_argument("--model", default="logreg", choices=MODELS,
                      help="; ".join(f"{k}: {v[0]}" for k, v in MODEL_CHOICES.items())
                      + "; the data owners see only a perturbed copy (docs/privacy.md)")
    demo.add_argument("--model-noise", type=float, default=0.0, metavar="SIGMA",
                      help="publish the perturbed model with fresh Gaussian noise each round, "
                           "SIGMA x each layer's weight spread (default 0: none; accuracy cost "
                           "and what it hides: docs/privacy.md)")
    demo.add_argument("--batch-proof", action="store_true",
                      help="submit each round as ONE proof of the batch statement (k = --owners "
                           "slots, Shamir among the servers; docs/market.md, 'One proof per "
                           "batch') instead of a batch of per-DO proofs")
    demo.add_argument("--prover", choices=("mpc", "local", "snarkjs", "omnidsl"), default="mpc",
                      help="mpc (= omnidsl): the DSL rule proved collaboratively by the "
                           "N server processes (omnidsl serve), each checking it proves the shares "
                           "it committed to; local: the same rule proved on one machine (for "
                           "speed comparisons); snarkjs: an equivalent circom rule proved by "
                           "snarkjs (all check the aggregate binding)")
    demo.add_argument("--norm-factor", type=float, default=3.0,
                      help="L2 bound = factor x norm of the model owner's reference gradient")
    demo.add_argument("--workdir", type=Path, default=None,
                      help="where the rule's keys are made/cached (default ~/.cache/omnidsl/market)")
    demo.add_argument("--ptau", type=Path, default=None, help="prepared powers-of-tau file")
    demo.add_argument("--rule", default=None, metavar="FILE|norm|cosine",
                      help="a rule meeting the market interface (mpc/local; default: the norm "
                           "rule; cosine = market_cosine.omni, FLTrust against the published "
                           "reference)")
    demo.add_argument("--rule-param", action="append", metavar="NAME=V",
                      help="a parameter of --rule other than D (D = the model's parameters)")
    demo.add_argument("--pin", action="append", metavar="NAME=VALUE",
                      help="a pinned input of --rule the round does not set (max_norm and "
                           "committed references are set from the MO's reference), e.g. "
                           "--pin tau=0.3 --pin min_norm=0.01")
    add_chain_options(demo)
    watching.add_demo_options(demo)
    demo.set_defaults(func=_demo)
    watching.register(msub)
    from omnidsl.market import do_commands, mo_commands, server_commands, status_commands

    for module in (mo_commands, server_commands, do_commands, status_commands):
        module.register(msub)
    market.set_defaults(func=lambda args: (market.print_help(), 2)[1])
