"""The model owner's round reports: the off-chain half of what the dashboard shows.

A round report is one JSON object (docs/market.md, "Round log"): the market, the task, the
round number, the test accuracy of the model after the round's update, and the data owners
refused off-chain with the reason (no witness, not attested by the servers, not encodable) —
refusals that never reach the chain.  ``market demo --rounds-log FILE`` appends one per line;
``market dashboard --rounds-log FILE`` reads them; ``market demo --dashboard PORT`` hands them
to its view directly (:class:`DashboardHook`).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omnidsl.market.dashboard.view import MarketView

if TYPE_CHECKING:
    from omnidsl.market.demo import Actors, RoundReport

logger = logging.getLogger(__name__)

#: Longest line of a round log read (a longer one is skipped), and most bytes read per call.
MAX_LINE = 1 << 20
READ_CHUNK = 4 * MAX_LINE


def round_entry(actors: Actors, report: RoundReport) -> dict[str, Any]:
    """The round report of one demo round."""
    return {"market": actors.mo.market.address, "task": report.task_id, "round": report.round,
            "accuracy": report.accuracy,
            "accepted": [actors.dos[i].account for i in report.accepted],
            "refused": {actors.dos[i].account: why for i, why in sorted(report.rejected.items())}}


class RoundLogWriter:
    """Appends round reports to a JSON-lines file (one ``write`` per line, flushed and synced,
    so a reader never sees half a report)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.touch()  # fails now (a missing folder) rather than after the first round

    def __call__(self, actors: Actors, report: RoundReport | None) -> None:
        if report is None:
            return
        line = json.dumps(round_entry(actors, report)) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)


class RoundLogReader:
    """Reads the complete lines a :class:`RoundLogWriter` appended since the last call."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.offset = 0

    def read(self) -> list[dict[str, Any]]:
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                data = f.read(READ_CHUNK)
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n") + 1  # a line still being written is read next time
        if not end and len(data) > MAX_LINE:  # no end in sight: not a round report
            logger.warning("%s: a line longer than %d bytes at offset %d; skipped", self.path,
                           MAX_LINE, self.offset)
            self.offset += len(data)
            return []
        self.offset += end
        out = []
        for n, raw in enumerate(data[:end].splitlines()):
            if not raw.strip() or len(raw) > MAX_LINE:
                continue
            try:
                out.append(json.loads(raw))
            except (json.JSONDecodeError, UnicodeDecodeError):
                logger.warning("%s: line %d after offset %d is not JSON; skipped", self.path,
                               n + 1, self.offset - end)
        return out

    def feed(self, view: MarketView) -> None:
        """Hand the new reports to ``view``."""
        for entry in self.read():
            view.add_round(entry)


class DashboardHook:
    """``run_demo``'s ``on_round`` for a dashboard in the same process: attaches the view to the
    market once it is deployed, then gives it every round's report and refreshes it (on the
    demo's thread: the embedded chain is not read from another thread)."""

    def __init__(self, view: MarketView) -> None:
        self.view = view

    def __call__(self, actors: Actors, report: RoundReport | None) -> None:
        if report is None:
            self.view.attach(actors.mo.market.address)
        self.view.refresh()
        if report is not None:
            self.view.add_round(round_entry(actors, report))

    def tick(self) -> None:
        """Read the chain's new events now (call on the demo's thread, e.g. from its ``log``)."""
        if self.view.market is not None:
            self.view.refresh()
