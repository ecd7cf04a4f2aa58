"""The command line's argparse conventions, shared by every ``omnidsl/<stage>/commands.py``.

* :class:`HelpFormatter`: descriptions and examples keep their line breaks
  (``RawDescriptionHelpFormatter``) and every option with a real default shows it
  (``ArgumentDefaultsHelpFormatter``, without the noise of ``(default: None)``).
* :class:`Parser`: the parser class of the top level and of every sub-command (argparse creates
  sub-parsers of the same class), so the global flags (:data:`GLOBAL_FLAGS`: ``--debug``,
  ``-v``, ``-q``, ``--log-format``, ``--progress``) are accepted anywhere on the command line.  Usage errors exit
  2 (argparse's convention); commands raise :class:`~omnidsl.errors.UsageError` for the checks
  argparse cannot express, which the CLI also maps to exit 2.
* :func:`add_verbs`: sub-verbs with a default (``setup RULE`` is ``setup dev RULE``): when the
  first word is not a verb, the default verb parses the whole remainder.
* :func:`describe`: a description with an ``example:`` section, as every verb has one.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

#: (flags, add_argument keywords) of the options every (sub-)command accepts.
GLOBAL_FLAGS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (("--debug",), {"action": "store_true", "help": "show tracebacks for errors"}),
    (("-v", "--verbose"), {"action": "count",
                           "help": "more log output (-v info, -vv debug) on stderr"}),
    (("-q", "--quiet"), {"action": "store_true", "help": "log errors only"}),
    (("--log-format",), {"choices": ("text", "json"),
                         "help": "log lines as text or one JSON object per line"}),
    (("--progress",), {"action": "store_true",
                       "help": "show progress on stderr also when it is not a terminal "
                               "(on a terminal it is shown anyway; -q hides it)"}),
)
GLOBAL_DEFAULTS = {"debug": False, "verbose": 0, "quiet": False, "log_format": "text",
                   "progress": False}


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Raw descriptions/epilogs; ``(default: X)`` for options whose default means something."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (action.default in (None, False, argparse.SUPPRESS, [], "")
                or "default" in text or not action.help):
            return action.help
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` with omnidsl's formatter and the global flags (see module doc)."""

    def __init__(self, *args: Any, top_level: bool = False, **kwargs: Any):
        kwargs.setdefault("formatter_class", HelpFormatter)
        kwargs.setdefault("conflict_handler", "resolve")  # a command may redefine a global flag
        super().__init__(*args, **kwargs)
        group = self.add_argument_group("global options")
        for flags, kw in GLOBAL_FLAGS:
            kw = dict(kw)
            dest = flags[-1].lstrip("-").replace("-", "_")
            # sub-commands leave the value alone unless the flag is given there
            kw["default"] = GLOBAL_DEFAULTS[dest] if top_level else argparse.SUPPRESS
            group.add_argument(*flags, **kw)


class _VerbsAction(argparse._SubParsersAction):
    """Sub-parsers whose first word may be omitted: it then defaults to ``default_verb``."""

    default_verb: str | None = None

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        if self.default_verb and values and values[0] not in self._name_parser_map:
            values = [self.default_verb, *values]
        super().__call__(parser, namespace, values, option_string)


class _AnyChoice(Mapping[str, argparse.ArgumentParser]):
    """The choices of a :class:`_VerbsAction` with a default (a view of its verbs): every word
    is acceptable, the action routes unknown ones to the default verb."""

    def __init__(self, verbs: dict[str, argparse.ArgumentParser]):
        self.verbs = verbs

    def __getitem__(self, key: str) -> argparse.ArgumentParser:
        return self.verbs[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.verbs)

    def __len__(self) -> int:
        return len(self.verbs)

    def __contains__(self, key: object) -> bool:
        return True


def add_verbs(parser: argparse.ArgumentParser, dest: str, default: str | None = None,
              metavar: str | None = None) -> argparse._SubParsersAction:
    """Sub-verbs of ``parser`` (``setup dev|phase2|contribute|verify``); with ``default``, a
    first word that is not a verb is parsed by the ``default`` verb (the older spelling)."""
    sub = parser.add_subparsers(dest=dest, metavar=metavar, action=_VerbsAction)
    assert isinstance(sub, _VerbsAction)
    sub.default_verb = default
    if default:
        # argparse only iterates choices and tests membership: a Mapping view will do
        sub.choices = _AnyChoice(sub._name_parser_map)  # type: ignore[assignment]
    return sub


def describe(summary: str, examples: Sequence[str], details: str = "") -> dict[str, Any]:
    """``description`` and ``epilog`` keywords for ``add_parser``: what the verb does (paragraphs
    refilled to 78 columns), ``details`` kept as written, then its examples (one command line
    each)."""
    desc = "\n\n".join(textwrap.fill(" ".join(par.split()), 78)
                       for par in summary.strip().split("\n\n"))
    desc += "\n\n" + details.strip("\n") if details else ""
    epilog = "example" + ("s" if len(examples) > 1 else "") + ":\n" + "\n".join(
        f"  {e}" for e in examples)
    return {"description": desc, "epilog": epilog}
