"""``omnidsl market mo deploy|publish|open|batch-verifier|close|check|reclaim``: the model owner's commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from omnidsl.argparsing import describe
from omnidsl.errors import UsageError
from omnidsl.market.role_options import (
    add_role_options,
    add_rule_options,
    add_task_command,
    address,
    role_chain,
    rule_from_args,
)

STATE_HELP = "the model owner's state folder (its X25519 key, verifiers, task records)"


def _deploy(args: argparse.Namespace) -> int:
    from omnidsl.market.owner import deploy_market

    with role_chain(args) as (chain, _):
        addr = deploy_market(chain.w3, chain.sender, chain.config.gas_cap)
    print(json.dumps({"market": addr}) if args.json else addr)
    return 0


def _open(args: argparse.Namespace) -> int:
    from omnidsl.market.model_pin import read_model
    from omnidsl.market.owner import TaskTerms, open_task

    servers = [address(s, "--servers") for s in args.servers.split(",") if s.strip()]
    if len(servers) < 2 or len(set(servers)) != len(servers):
        raise UsageError("--servers: at least 2 distinct server addresses, comma-separated")
    for name in ("reward", "fee", "bond", "deadline", "delivery_window"):
        if getattr(args, name) < 0:
            raise UsageError(f"--{name.replace('_', '-')} must not be negative")
    rule = rule_from_args(args)
    terms = TaskTerms(servers=servers, values=_values(args, rule), reward=args.reward, fee=args.fee,
                      bond=args.bond, escrow=args.escrow, owners=args.owners,
                      deadline_s=args.deadline, delivery_window_s=args.delivery_window,
                      model=None if args.model is None else read_model(args.model))
    with role_chain(args) as (chain, market):
        task_id = open_task(market, chain.sender, args.state, rule, terms)
    print(json.dumps({"task": task_id}) if args.json else f"task {task_id} opened")
    return 0


def _values(args: argparse.Namespace, rule: Any) -> dict[str, Any]:
    """The task's pinned values from ``--pin NAME=VALUE`` (a bare VALUE for a rule pinning one
    scalar) and ``--reference NAME=FILE`` (a vector or committed reference, .npy or .json)."""
    from omnidsl.market.contribute import read_gradient

    pins = {p.name: p for p in rule.rule.iface.pins}
    values: dict[str, Any] = {}
    for item in args.pin:
        name, eq, text = item.rpartition("=")
        if not eq:
            scalars = [p for p in pins.values() if p.kind == "scalar"]
            if len(pins) != 1 or len(scalars) != 1:
                raise UsageError(f"--pin {item}: rule {rule.rule.iface.rule} pins "
                                 f"{', '.join(pins) or 'nothing'}; give --pin NAME=VALUE")
            name = scalars[0].name
        try:
            values[name] = float(text)
        except ValueError:
            raise UsageError(f"--pin {item}: expected NAME=NUMBER") from None
    for item in args.reference:
        name, eq, path = item.partition("=")
        if not eq or not path:
            raise UsageError(f"--reference {item}: expected NAME=FILE")
        pin = pins.get(name)
        if pin is None or pin.kind == "scalar":
            raise UsageError(f"--reference {item}: rule {rule.rule.iface.rule} pins no vector "
                             f"named {name!r}")
        values[name] = [float(v) for v in read_gradient(Path(path), int(pin.info.length or 0))]
    return values


def _publish(args: argparse.Namespace) -> int:
    import numpy as np

    from omnidsl.files import Outputs
    from omnidsl.market import model_pin, private_model

    outputs = Outputs([args.out])
    clear = model_pin.read_model(args.clear_model)
    published = private_model.publish(args.state, clear, args.model, args.model_noise,
                                      args.hidden)
    with outputs.writing() as tmp, open(tmp(args.out), "wb") as f:
        np.save(f, published)
    digest = model_pin.model_digest(published).hex()
    print(json.dumps({"published": str(args.out), "sha256": digest}) if args.json else
          f"published model written to {args.out} (sha256 {digest}); pin it with "
          f"`market mo open --model {args.out}`")
    return 0


def _close(args: argparse.Namespace) -> int:
    from omnidsl.market.owner import close_task

    with role_chain(args) as (chain, market):
        close_task(market, chain.sender, args.task)
    print(f"task {args.task}: submissions closed; the servers deliver their aggregate shares")
    return 0


def _batch_verifier(args: argparse.Namespace) -> int:
    from omnidsl.market.batch_rule import deploy_batch_verifier
    from omnidsl.market.daemon_batch import load_batch_keys

    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    keys = load_batch_keys(rule_from_args(args), args.batch_keys, args.batch_size, None)
    with role_chain(args) as (chain, market):
        addr = deploy_batch_verifier(chain.w3, keys.batch, chain.sender)
        market.set_batch_verifier(args.task, args.batch_size, addr, chain.sender)
    print(json.dumps({"task": args.task, "k": args.batch_size, "verifier": addr}) if args.json
          else f"task {args.task}: batches of {args.batch_size} are verified by {addr}")
    return 0


def _check(args: argparse.Namespace) -> int:
    import numpy as np

    from omnidsl.files import Outputs
    from omnidsl.market.owner import check_task

    outputs = Outputs([args.out])
    with role_chain(args) as (chain, market):
        res = check_task(market, chain.sender, args.state, args.task, report=not args.no_report)
        gradient = res.gradient
        if args.clear and res.accepted:
            from omnidsl.market.private_model import clear_gradient

            gradient = clear_gradient(market, args.state, args.task, gradient)
    if args.out is not None:
        with outputs.writing() as tmp, open(tmp(args.out), "wb") as f:
            np.save(f, gradient)
    summary = {"task": res.task_id, "accepted": res.accepted, "aggregate_matches": res.matched,
               "out": str(args.out) if args.out else None}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"task {res.task_id}: {len(res.accepted)} accepted gradients; the aggregate "
              + ("matches the on-chain fingerprints" if res.matched
                 else "does NOT match the on-chain fingerprints")
              + (f"; sum written to {args.out}" if args.out else ""))
    return 0 if res.matched else 1


def _reclaim(args: argparse.Namespace) -> int:
    from omnidsl.market.owner import reclaim_task

    with role_chain(args) as (chain, market):
        amount = reclaim_task(market, chain.sender, args.task)
    print(f"task {args.task}: reclaimed {amount} wei")
    return 0


def register(msub: argparse._SubParsersAction) -> None:
    mo = msub.add_parser(
        "mo", help="model owner: deploy the market, open tasks, check the aggregate, reclaim",
        **describe("The model owner's commands (docs/market.md, Running a market).",
                   ["omnidsl market mo deploy --chain http://127.0.0.1:8545 --key-file mo.key",
                    "omnidsl market mo open --market 0x… --rule r.omni --param D=8 --keys keys "
                    "--servers 0xA,0xB,0xC --pin 1.5 --chain http://127.0.0.1:8545 "
                    "--key-file mo.key",
                    "omnidsl market mo open --market 0x… --rule market_cosine.omni --param D=16 "
                    "--keys keys --servers 0xA,0xB,0xC --reference ref=ref.npy --pin tau=0.25 "
                    "--pin max_norm=2 --pin min_norm=0.01 --chain http://127.0.0.1:8545 "
                    "--key-file mo.key"]))
    sub = mo.add_subparsers(dest="mo_command", metavar="VERB")
    d = sub.add_parser("deploy", help="deploy a Market contract; prints its address",
                       **describe("Deploy a Market contract (the shipped artifact).",
                                  ["omnidsl market mo deploy --chain http://127.0.0.1:8545 "
                                   "--key-file mo.key"]))
    d.add_argument("--json", action="store_true", help="print {\"market\": ADDR}")
    add_role_options(d, market=False)
    d.set_defaults(func=_deploy)

    o = sub.add_parser("open", help="open a task (deploys the rule's verifier once)",
                       **describe("Open a task: the rule's verifier (deployed on first use), "
                                  "the servers, the pinned bound, rewards, fees, bonds and the "
                                  "escrow (amounts in wei, times in seconds from now).",
                                  ["omnidsl market mo open --market 0x… --rule r.omni --param "
                                   "D=8 --keys keys --servers 0xA,0xB,0xC --pin 1.5 --chain "
                                   "http://127.0.0.1:8545 --key-file mo.key --json"]))
    add_rule_options(o)
    o.add_argument("--servers", required=True, metavar="ADDR,ADDR,...",
                   help="the servers' Ethereum addresses (the first one submits the batches)")
    o.add_argument("--pin", action="append", default=[], metavar="NAME=VALUE",
                   help="a pinned public scalar of the rule, as a real number (repeatable; a "
                        "bare VALUE when the rule pins one scalar, e.g. the norm rule's "
                        "max_norm)")
    o.add_argument("--reference", action="append", default=[], metavar="NAME=FILE",
                   help="a pinned vector, e.g. the cosine rule's committed `ref` (.npy or .json, "
                        "D reals): pinned by its commitment and published with the task")
    o.add_argument("--model", type=Path, default=None, metavar="FILE",
                   help="the round's model as sent to the data owners (.npy or .json "
                        "parameters): its digest is pinned with the task and every data owner "
                        "checks its copy against it")
    o.add_argument("--reward", type=int, default=10**15, help="wei per accepted gradient")
    o.add_argument("--fee", type=int, default=10**14,
                   help="wei per accepted gradient to each server that delivers")
    o.add_argument("--bond", type=int, default=10**15, help="wei each server deposits")
    o.add_argument("--escrow", type=int, default=None,
                   help="wei escrowed (default: --owners x (reward + servers x fee))")
    o.add_argument("--owners", type=int, default=8, help="gradients the default escrow pays")
    o.add_argument("--deadline", type=int, default=3600, help="seconds until submissions close")
    o.add_argument("--delivery-window", type=int, default=3600,
                   help="seconds after the deadline to deliver aggregate shares (>= 300)")
    o.add_argument("--state", type=Path, default=Path("mo-state"), help=STATE_HELP)
    o.add_argument("--json", action="store_true", help="print {\"task\": ID}")
    add_role_options(o)
    o.set_defaults(func=_open)

    p = sub.add_parser("publish", help="perturb (and add noise to) the clear model for the DOs",
                       **describe("Make the model to send to the data owners from the clear "
                                  "parameters: a fresh function-preserving perturbation and, "
                                  "with --model-noise, fresh Gaussian noise (docs/privacy.md); "
                                  "its secret is kept in --state for `mo check --clear`. No "
                                  "chain needed.",
                                  ["omnidsl market mo publish --clear-model theta.npy --model "
                                   "mlp --model-noise 0.1 -o published.npy"]))
    p.add_argument("--clear-model", type=Path, required=True, metavar="FILE",
                   help="the clear parameters (.npy or .json)")
    from omnidsl.ml.models import MODEL_CHOICES

    p.add_argument("--model", required=True, choices=tuple(MODEL_CHOICES),
                   help="the parameters' layout (omnidsl/ml/models.py)")
    p.add_argument("--hidden", type=int, default=None, help="an MLP's hidden units if not the "
                   "model's default")
    p.add_argument("--model-noise", type=float, default=0.0, metavar="SIGMA",
                   help="Gaussian noise, SIGMA x each layer's weight spread (default 0: none)")
    p.add_argument("-o", "--out", type=Path, required=True, help="the published model (.npy)")
    p.add_argument("--state", type=Path, default=Path("mo-state"), help=STATE_HELP)
    p.add_argument("--json", action="store_true", help="print {\"published\", \"sha256\"}")
    p.set_defaults(func=_publish)

    c = sub.add_parser("close", help="end a task's submissions (the servers then deliver)",
                       **describe("End the submission phase of a task early.",
                                  ["omnidsl market mo close --market 0x… --task 1 "
                                   "--chain http://127.0.0.1:8545 --key-file mo.key"]))
    c.add_argument("--task", type=int, required=True)
    add_role_options(c)
    c.set_defaults(func=_close)

    b = sub.add_parser("batch-verifier",
                       help="name the verifier of one proof per batch of k (before commitments)",
                       **describe("Deploy the generated verifier of the rule's batch key for k "
                                  "slots and name it for the task (setBatchVerifier; before any "
                                  "server commits). Servers run with the same --batch-keys then "
                                  "submit one proof per batch (docs/market.md, One proof per "
                                  "batch).",
                                  ["omnidsl market mo batch-verifier --market 0x… --task 1 "
                                   "--rule r.omni --param D=8 --keys keys --batch-keys bkeys "
                                   "--batch-size 4 --chain http://127.0.0.1:8545 --key-file "
                                   "mo.key"]))
    b.add_argument("--task", type=int, required=True)
    add_rule_options(b)
    b.add_argument("--batch-keys", type=Path, required=True, metavar="DIR",
                   help="the proving key of the rule's batch statement for --batch-size slots")
    b.add_argument("--batch-size", type=int, required=True, metavar="K")
    b.add_argument("--json", action="store_true", help="print {task, k, verifier} as JSON")
    add_role_options(b)
    b.set_defaults(func=_batch_verifier)

    k = sub.add_parser("check", help="reconstruct and check the aggregate; write it",
                       **describe("Open the servers' delivered aggregate shares, reconstruct the "
                                  "sum of the accepted gradients, check it against the on-chain "
                                  "fingerprints (recorded on-chain) and write it as .npy. Exit 1 "
                                  "if it does not match.",
                                  ["omnidsl market mo check --market 0x… --task 1 -o sum.npy "
                                   "--chain http://127.0.0.1:8545 --key-file mo.key"]))
    k.add_argument("--task", type=int, required=True)
    k.add_argument("-o", "--out", type=Path, default=None, help="write the sum here (.npy)")
    k.add_argument("--clear", action="store_true",
                   help="write the sum in the clear model's coordinates (the task pins a model "
                        "made by `mo publish` with this --state)")
    k.add_argument("--no-report", action="store_true",
                   help="do not record the outcome on-chain (reportAggregate)")
    k.add_argument("--state", type=Path, default=Path("mo-state"), help=STATE_HELP)
    k.add_argument("--json", action="store_true", help="print the result as JSON")
    add_role_options(k)
    k.set_defaults(func=_check)

    add_task_command(sub, "reclaim", "take back the unspent escrow after the delivery deadline",
                     "After the delivery deadline: take back the escrow nobody earned and the "
                     "fees and bonds of servers that withheld.",
                     "omnidsl market mo reclaim --market 0x… --task 1 --chain "
                     "http://127.0.0.1:8545 --key-file mo.key", _reclaim)
    mo.set_defaults(func=lambda args: (mo.print_help(), 2)[1])
