"""The market dashboard in a real headless browser (Debian's chromium via Playwright), and
``market dashboard`` attached to anvil by URL: the page shows a round the test just ran and
updates, without a reload, when the next one lands.  Screenshot: tests/artifacts/dashboard.png."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from browser import browser_page, screenshot
from market_helpers import ToySource

from omnidsl.chain import anvil, embedded_chain
from omnidsl.market.dashboard import DashboardHook, DashboardServer, MarketView, RoundLogWriter
from omnidsl.market.demo import run_demo

pytestmark = pytest.mark.chain
ROOT = Path(__file__).resolve().parents[2]


class Gate:
    """``on_round`` that pauses the demo after round 1 until the test says go."""

    def __init__(self, *hooks: Any) -> None:
        self.hooks = hooks
        self.market: str | None = None
        self.verifier: str | None = None
        self.round1 = threading.Event()
        self.go = threading.Event()

    def __call__(self, actors: Any, report: Any) -> None:
        for h in self.hooks:
            h(actors, report)
        self.market = actors.mo.market.address
        self.verifier = actors.mo.verifier
        if report is not None and report.round == 1:
            self.round1.set()
            assert self.go.wait(120), "the test never released round 2"


def demo_thread(w3: Any, gate: Gate) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(run_demo(w3, rounds=2, owners=3, malicious=1, servers=2,
                                source=ToySource(), prover="local", log=lambda _m: None,
                                on_round=gate))
        except BaseException as exc:  # shown by the test
            out.append(exc)
            gate.round1.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


def test_the_dashboard_shows_the_rounds_live_in_a_real_browser(request) -> None:
    w3 = embedded_chain()
    view = MarketView(w3, source="test demo")
    gate = Gate(DashboardHook(view))
    request.addfinalizer(gate.go.set)  # a failed check must not leave the demo waiting
    with DashboardServer(view) as srv:
        t, out = demo_thread(w3, gate)
        assert gate.round1.wait(120) and not out, out
        with browser_page() as (page, errors):
            page.goto(srv.url)
            row1 = page.wait_for_selector('#tasks tbody tr[data-task="1"]', timeout=15_000)
            assert row1 is not None
            cells = row1.query_selector_all("td")
            assert cells[0].inner_text() == "1" and cells[2].inner_text() == "settled"
            accepted = row1.query_selector("td.accepted").inner_text()
            refused = row1.query_selector("td.refused").inner_text()
            assert accepted.startswith("2") and refused.startswith("1")
            assert "rule violated (no witness)" in refused and "(off-chain)" in refused
            assert cells[-1].inner_text() == "1.000"  # ToySource: accuracy = rounds applied
            assert page.inner_text("#market") == gate.market
            assert page.inner_text("#t-accepted") == "2"
            assert page.inner_text("#t-rewards") == "0.002"  # 2 x 0.001 ether
            assert "live" in page.inner_text("#status")
            assert page.query_selector('#tasks tbody tr[data-task="2"]') is None
            page.evaluate("window.__notReloaded = 42")
            gate.go.set()
            page.wait_for_selector('#tasks tbody tr[data-task="2"]', timeout=60_000)
            assert page.evaluate("window.__notReloaded") == 42  # updated in place
            page.wait_for_function(
                "document.querySelector('#t-accepted').textContent === '4'", timeout=10_000)
            assert len(page.query_selector_all("#accuracy circle")) == 2
            assert page.inner_text("#owners tbody").count("0x") == 3
            assert len(page.query_selector_all("#servers tbody tr")) == 2
            screenshot(page, "dashboard.png")
            assert errors == []
        t.join(60)
    assert len(out) == 1 and not isinstance(out[0], BaseException), out
    assert (ROOT / "tests" / "artifacts" / "dashboard.png").stat().st_size > 10_000


def _state(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "api/state", timeout=5) as r:
        return json.loads(r.read())


def _wait(url: str, pred: Any, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        s = _state(url)
        if pred(s):
            return s
        assert time.monotonic() < deadline, f"the dashboard never showed it: {s}"
        time.sleep(0.3)


def test_market_dashboard_command_follows_a_demo_on_anvil(tmp_path: Path, capsys,
                                                          request) -> None:
    from omnidsl.cli import main

    log = tmp_path / "rounds.jsonl"
    with anvil() as w3:
        gate = Gate(RoundLogWriter(log))
        request.addfinalizer(gate.go.set)
        t, out = demo_thread(w3, gate)
        assert gate.round1.wait(120) and not out, out
        url = w3.provider.endpoint_uri
        for addr, why in ((gate.verifier, "is not an omnidsl market"),
                          ("0x" + "12" * 20, "no contract at")):
            assert main(["market", "dashboard", "--chain", url, "--market", str(addr),
                         "--port", "0"]) == 1
            assert why in capsys.readouterr().err
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "omnidsl.cli", "market", "dashboard", "--chain",
             w3.provider.endpoint_uri, "--market", str(gate.market), "--port", "0",
             "--rounds-log", str(log), "--interval", "0.3"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            line = proc.stdout.readline() if proc.stdout else ""
            m = re.search(r"dashboard at (http://127\.0\.0\.1:\d+/)", line)
            assert m, (line, proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
            url = m.group(1)
            s = _wait(url, lambda s: s["tasks"] and s["tasks"][0]["accuracy"] is not None)
            t1 = s["tasks"][0]
            assert (t1["round"], t1["status"], len(t1["accepted"])) == (1, "settled", 2)
            assert [r["where"] for r in t1["refused"]] == ["off-chain"]
            assert s["market"] == gate.market and s["source"].startswith("http://127.0.0.1")
            gate.go.set()
            s = _wait(url, lambda s: len(s["tasks"]) == 2 and s["tasks"][1]["accuracy"] == 2.0)
            assert s["totals"]["accepted"] == 4 and s["tasks"][1]["batch_gas"] > 100_000
            t.join(60)
            proc.send_signal(signal.SIGINT)
            assert proc.wait(15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert len(out) == 1 and not isinstance(out[0], BaseException), out


def test_the_dashboard_command_refuses_a_chain_without_the_market(tmp_path: Path) -> None:
    from omnidsl.cli import main

    assert main(["market", "dashboard", "--chain", "embedded", "--market", "0x" + "11" * 20]) == 2
