"""CLI: ``omnidsl init [DIR]`` — a rule, an input and a test to start from (omnidsl/examples)."""

from __future__ import annotations

import argparse
from pathlib import Path

from omnidsl.argparsing import describe
from omnidsl.errors import InputError
from omnidsl.files import Outputs


def init_command(args: argparse.Namespace) -> int:
    from omnidsl.examples import SCAFFOLD, example

    out = Path(args.dir)
    targets = [out / name for name in SCAFFOLD]
    taken = [str(t) for t in targets if t.exists()]
    if taken:
        raise InputError(f"{', '.join(taken)} already exist(s): init never overwrites a file",
                         hint="choose an empty or new folder")
    outputs = Outputs(targets, make_dirs=True)
    with outputs.writing() as tmp:
        for name, target in zip(SCAFFOLD, targets, strict=True):
            tmp(target).write_bytes(example(name).read_bytes())
    print(f"wrote {', '.join(SCAFFOLD)} in {out}; next, in {out}:\n"
          "  omnidsl compile norm_bound.omni --param D=8 -o build --report\n"
          "  omnidsl witness norm_bound.omni input.json --param D=8 -o w.wtns\n"
          "  python -m pytest test_rule.py")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "init", help="start a folder: an example rule, its input and a test",
        **describe("Write an example rule (norm_bound.omni: every gradient entry at most 4.0, "
                   "the L2 norm at most max_norm), an input for it (input.json, D = 8) and a "
                   "pytest file (test_rule.py) into DIR, the starting point of the README's "
                   "tour.  Never overwrites a file.",
                   ["omnidsl init tour && cd tour",
                    "omnidsl init ."]))
    p.add_argument("dir", metavar="DIR", nargs="?", default=".", help="folder to write into")
    p.set_defaults(func=init_command)
