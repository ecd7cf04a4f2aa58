"""``market demo --report DIR``: valid PNGs and an HTML page naming every round, written all or
nothing; a report folder that exists is refused before any round."""

from __future__ import annotations

import argparse
import json
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from browser import browser_page
from market_helpers import ToySource

from omnidsl.chain import embedded_chain
from omnidsl.errors import OmniDSLError
from omnidsl.market.demo import REWARD, RoundReport, run_demo
from omnidsl.market.report import FILES, write_demo_report
from omnidsl.report.plots import PNG_MAGIC

pytestmark = pytest.mark.chain
META = {"owners": 3, "servers": 2, "prover": "local"}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> SimpleNamespace:
    """One demo run with the CLI's --dashboard 0 --rounds-log --report wiring (demo_extras);
    the wait for Ctrl-C after the rounds is replaced by one read of the page's state."""
    from omnidsl.market.dashboard import commands as watching

    d = tmp_path_factory.mktemp("demo")
    args = argparse.Namespace(dashboard=0, rounds_log=d / "rounds.jsonl", report=d / "rep",
                              rounds=2, owners=3, malicious=1, servers=2, prover="local",
                              attack="mixed", model="logreg")
    seen: dict[str, Any] = {}

    def read_page(url: str) -> None:
        seen["url"] = url
        with urllib.request.urlopen(url + "api/state", timeout=5) as r:
            seen["state"] = json.loads(r.read())

    w3 = embedded_chain()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(watching, "_wait_for_interrupt", read_page)
        with watching.demo_extras(args, w3, "the embedded chain") as extras:
            def log(message: str) -> None:  # what the page would show after each line
                extras.log(message)
                assert extras.view is not None
                seen.setdefault("log", []).append(
                    (message, [t["status"] for t in extras.view.snapshot()["tasks"]]))

            reports = run_demo(w3, rounds=2, owners=3, malicious=1, servers=2,
                               source=ToySource(), prover="local", log=log,
                               on_round=extras.on_round)
            extras.finish(reports)
    return SimpleNamespace(reports=reports, dir=d, seen=seen)


@pytest.fixture(scope="module")
def demo_reports(demo_run) -> list[RoundReport]:
    return demo_run.reports


def test_the_demo_options_serve_the_dashboard_log_the_rounds_and_write_the_report(
        demo_run) -> None:
    reps, d, seen = demo_run.reports, demo_run.dir, demo_run.seen
    assert seen["url"].startswith("http://127.0.0.1:")
    state = seen["state"]
    assert [(t["id"], t["round"], t["accuracy"]) for t in state["tasks"]] == \
        [(r.task_id, r.round, r.accuracy) for r in reps]
    assert state["source"] == "market demo on the embedded chain"
    # the page follows a round's stages, not only its end
    during = [tasks for m, tasks in seen["log"] if m.startswith("round 2: task 2 open")]
    assert during == [["settled", "challenge fixed"]]
    lines = [json.loads(x) for x in (d / "rounds.jsonl").read_text().splitlines()]
    assert [(e["task"], e["round"], e["accuracy"]) for e in lines] == \
        [(r.task_id, r.round, r.accuracy) for r in reps]
    assert all(e["market"] == state["market"] and len(e["refused"]) == 1 for e in lines)
    assert sorted(p.name for p in (d / "rep").iterdir()) == sorted(FILES)


class _Sections(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.images: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section" and a.get("id"):
            self.ids.append(str(a["id"]))
        if tag == "img":
            self.images.append(str(a["src"]))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_report_has_every_picture_and_names_every_round(demo_reports, tmp_path) -> None:
    index = write_demo_report(demo_reports, tmp_path / "rep", META)
    d = tmp_path / "rep"
    assert index == d / "index.html" and sorted(p.name for p in d.iterdir()) == sorted(FILES)
    for name in FILES:
        if name.endswith(".png"):
            data = (d / name).read_bytes()
            assert data.startswith(PNG_MAGIC) and len(data) > 5_000, name
    page = _Sections()
    page.feed(index.read_text(encoding="utf-8"))
    text = "".join(page.text)
    assert page.ids == ["round-1", "round-2"]
    assert "Round 1 (task 1)" in text and "Round 2 (task 2)" in text
    assert sorted(page.images) == sorted(n for n in FILES if n.endswith(".png"))
    assert demo_reports[0].rejected[0] in text  # DO0's reason, word for word
    rows = json.loads((d / "rounds.json").read_text())["rounds"]
    assert [r["batch_gas"] for r in rows] == [r.batch_gas for r in demo_reports]
    assert [r["rewards_wei"] for r in rows] == [REWARD * len(r.accepted) for r in demo_reports]
    # escrow = rewards + fees of the servers that delivered + reclaimed, every round
    assert all(r["rewards_wei"] + r["server_fees_wei"] + r["reclaimed_wei"] == r["escrow_wei"]
               and r["server_fees_wei"] > 0 for r in rows)


def test_a_failed_report_leaves_nothing(demo_reports, tmp_path, monkeypatch) -> None:
    from omnidsl.report import plots

    def broken(*_a: object, **_k: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(plots, "bar_chart", broken)
    with pytest.raises(OSError):
        write_demo_report(demo_reports, tmp_path / "rep", META)
    assert list(tmp_path.iterdir()) == []  # neither the folder nor its temporary twin


def test_an_existing_report_folder_is_refused_before_the_run(tmp_path: Path, capsys) -> None:
    from omnidsl.cli import main

    (tmp_path / "rep").mkdir()
    (tmp_path / "rep" / "keep.txt").write_text("mine")
    with pytest.raises(OmniDSLError, match="already exists"):
        write_demo_report([], tmp_path / "rep", META)
    assert main(["market", "demo", "--rounds", "1", "--report", str(tmp_path / "rep")]) == 1
    err = capsys.readouterr()
    assert "already exists and is not empty" in err.err and "round 1" not in err.out
    assert (tmp_path / "rep" / "keep.txt").read_text() == "mine"


def test_the_report_renders_in_a_real_browser(demo_run) -> None:
    """chromium loads the page and every picture (a PNG it cannot decode has no width)."""
    with browser_page() as (page, errors):
        page.goto((demo_run.dir / "rep" / "index.html").as_uri())
        widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
        assert len(widths) == 4 and all(w >= 600 for w in widths), widths
        assert page.locator("section h2").all_inner_texts() == ["Round 1 (task 1)",
                                                                "Round 2 (task 2)"]
        assert errors == []
