"""`omnidsl` command line: a thin dispatcher.

Each pipeline stage owns its sub-commands in ``omnidsl/<stage>/commands.py`` exposing
``register(subparsers) -> None``; every sub-parser sets ``func=callable(args) -> int``.
User errors (:class:`OmniDSLError`) print as one located message and exit 1, and so do the
ordinary mistakes nobody mapped earlier: an ``OSError`` (a missing, unreadable or unwritable
file) and a ``UnicodeDecodeError`` (a binary file where text is expected), mapped here once.
Anything else prints one line asking for a report and exits 2.  Tracebacks only with ``--debug``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from omnidsl.errors import OmniDSLError
from omnidsl.files import os_error_message

#: Stages that contribute sub-commands, in pipeline order.
COMMAND_MODULES = (
    "omnidsl.compiler.commands",
    "omnidsl.groth16.commands",
    "omnidsl.mpc.commands",
    "omnidsl.solidity.commands",
    "omnidsl.market.commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="omnidsl",
        description="Gradient-validity rules → R1CS → Groth16 (collaborative) → Ethereum market.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # stage not built yet
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except OmniDSLError as exc:
        print(str(exc), file=sys.stderr)
        if args.debug:
            traceback.print_exc()
        return 1
    except OSError as exc:
        if args.debug:
            traceback.print_exc()
        print(os_error_message(exc), file=sys.stderr)
        return 1
    except UnicodeDecodeError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"error: a file is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
              f"{exc.start})\nhint: check the file arguments: rules, inputs, keys and proofs are "
              "text files", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {exc} (re-run with --debug and report it)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
