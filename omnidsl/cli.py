"""`omnidsl` command line: a thin dispatcher.

Each pipeline stage owns its sub-commands in ``omnidsl/<stage>/commands.py`` exposing
``register(subparsers) -> None``; every sub-parser sets ``func=callable(args) -> int``.
Parsers follow omnidsl/argparsing.py (help with defaults and examples, global flags anywhere).
Exit codes: 0 success; 1 a user error (:class:`OmniDSLError`: one located message) or an ordinary
mistake nobody mapped earlier: an ``OSError`` (a missing, unreadable or unwritable file) and a
``UnicodeDecodeError`` (a binary file where text is expected), mapped here once; 2 a usage error
(argparse's own, or :class:`UsageError` from a command's check) and, with a line asking for a
report, anything unexpected; 130 interrupted.  Tracebacks only with ``--debug``.
``-v``/``-q``/``--log-format`` configure stdlib logging of the ``omnidsl`` loggers on stderr;
progress (omnidsl/progress.py) shows on stderr when it is a terminal or with ``--progress``,
never with ``-q``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import time
import traceback

from omnidsl import progress
from omnidsl.argparsing import Parser
from omnidsl.errors import OmniDSLError, UsageError
from omnidsl.extras import missing_extra
from omnidsl.files import os_error_message

#: Stages that contribute sub-commands, in pipeline order.
COMMAND_MODULES = (
    "omnidsl.examples.commands",
    "omnidsl.compiler.commands",
    "omnidsl.r1cs.commands",
    "omnidsl.groth16.commands",
    "omnidsl.groth16.zkey_commands",
    "omnidsl.proving.commands",
    "omnidsl.mpc.commands",
    "omnidsl.solidity.commands",
    "omnidsl.market.commands",
)


def version() -> str:
    """The installed distribution's version (the source tree's when not installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("omnidsl")
    except PackageNotFoundError:
        from omnidsl import __version__

        return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="omnidsl", top_level=True,
        description="Gradient-validity rules → R1CS → Groth16 (collaborative) → Ethereum market.",
        epilog="example:\n  omnidsl compile circuits/norm_bound.omni --param D=8 -o build\n"
               "run `omnidsl COMMAND --help` for a command's options and examples",
    )
    parser.add_argument("--version", action="version", version=f"omnidsl {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # stage not built yet
                continue
            raise
        module.register(sub)
    _mark_help_parsers(parser)
    return parser


def _mark_help_parsers(parser: argparse.ArgumentParser) -> None:
    """Every (sub-)parser records itself as ``args.help_parser``: the usage a command's own
    usage error prints, and the help shown for a verb given without its sub-verb."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action._name_parser_map.values():
                child.set_defaults(help_parser=child)
                _mark_help_parsers(child)


#: attributes of every LogRecord; anything else on a record came from ``extra=``
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message",
                                                                                   "asctime"}


class JsonLogFormatter(logging.Formatter):
    """One JSON object per record: ``{"time", "level", "logger", "message"}`` (+ ``"error"``),
    plus the record's ``extra`` fields (e.g. ``server``, ``session``, ``stage``, ``elapsed_s``)."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        out: dict[str, object] = {"time": f"{stamp}.{int(record.msecs):03d}Z",
                                  "level": record.levelname.lower(), "logger": record.name,
                                  "message": record.getMessage()}
        for k, v in vars(record).items():
            if k not in _RECORD_ATTRS and not k.startswith("_") and k not in out:
                out[k] = v if isinstance(v, int | float | str | bool | None) else str(v)
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out)


def configure_logging(verbose: int = 0, quiet: bool = False, fmt: str = "text") -> None:
    """The ``omnidsl`` loggers' level and format on stderr: warnings by default, ``-v`` info,
    ``-vv`` debug, ``-q`` errors only; ``fmt`` ``json`` for one JSON object a line."""
    level = logging.ERROR if quiet else {0: logging.WARNING, 1: logging.INFO}.get(
        verbose, logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter() if fmt == "json"
                         else logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    log = logging.getLogger("omnidsl")
    for old in [h for h in log.handlers if getattr(h, "_omnidsl_cli", False)]:
        log.removeHandler(old)
    handler._omnidsl_cli = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose or 0, args.quiet, args.log_format or "text")
    if not getattr(args, "func", None):
        (getattr(args, "help_parser", None) or parser).print_help(sys.stderr)
        return 2
    progress.configure(False if args.quiet else (True if args.progress else None))
    try:
        return _run(args)
    finally:
        progress.configure(False)


def _run(args: argparse.Namespace) -> int:
    """Run the command; map errors to exit codes and one line on stderr (module doc)."""
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        prog = getattr(args, "help_parser", None)
        print(f"{prog.format_usage().rstrip()}\n" if prog else "", end="", file=sys.stderr)
        print(str(exc), file=sys.stderr)
        return 2
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
        missing = missing_extra(exc) if isinstance(exc, ModuleNotFoundError) else None
        if missing is not None:  # an optional part (omnidsl/extras.py) is not installed
            print(str(missing), file=sys.stderr)
            return 1
        print(f"internal error: {type(exc).__name__}: {exc} (re-run with --debug and report it)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
