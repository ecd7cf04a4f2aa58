"""Progress and logs of proving (issue 13, item 4): every proving mode reports its stages as
progress events (captured with ``omnidsl.progress.listen``, the real prover running), the CLI
shows them on stderr with ``--progress`` (or a terminal) and never with ``-q``, and the servers'
JSON log lines parse and carry the session id."""

from __future__ import annotations

import io
import json

import pytest

from omnidsl import progress
from omnidsl.cli import main
from omnidsl.proving import prove
from omnidsl.r1cs.wtnsfile import write_wtns
from tests.groth16.cases import CASES
from tests.mpc.cluster import Cluster, make_keys, wait_until

PROVER_STAGES = ["evaluate constraints", "FFTs", "a·b", "h", "MSM A, B, L", "open A, B",
                 "MSM H", "open C"]


@pytest.fixture(scope="module")
def nb(tmp_path_factory):
    """norm_bound at D = 8: key directory, proving key, witness bytes."""
    from omnidsl.backend import get_backend

    params, inputs = CASES["norm_bound"]
    d = tmp_path_factory.mktemp("nb")
    pk, z, _ = make_keys("norm_bound", params, inputs, d, get_backend())
    return d, pk, z


def _capture(fn):
    events: list[progress.Event] = []
    with progress.listen(events.append):
        result = fn()
    return result, events


def test_plain_prove_reports_each_stage_in_order(nb):
    _, pk, z = nb
    res, events = _capture(lambda: prove(pk, z))
    assert res.verified
    assert events[0].kind == "start" and events[-1].kind == "end"
    ends = [e for e in events if e.kind == "stage-end"]
    assert [e.stage for e in ends] == [*PROVER_STAGES, "verify"]
    assert [e.done for e in ends] == list(range(1, 10)) and {e.total for e in ends} == {9}
    assert all(e.task == "prove" and e.ok and e.elapsed_s >= 0 for e in events)
    assert events[-1].done == events[-1].total == 9


def test_parties_in_process_report_deal_prove_and_party_stages(nb):
    _, pk, z = nb
    res, events = _capture(lambda: prove(pk, z, 3))
    assert res.verified and res.parties == 3
    ends = [e.stage for e in events if e.kind == "stage-end"]
    top = [s for s in ends if "›" not in s]
    assert top == ["deal", "parties prove", "verify"]
    # party 0's prover stages, nested in "parties prove" (one party's, not three times)
    assert [s for s in ends if "›" in s] == [f"parties prove › {s}" for s in PROVER_STAGES]
    assert {e.task for e in events} == {"prove (3 parties)"}


def test_a_failed_stage_is_reported_as_failed():
    events: list[progress.Event] = []
    with progress.listen(events.append), pytest.raises(ValueError), \
            progress.task("job", total=2) as t:
        with t.stage("one"):
            pass
        with t.stage("two"):
            raise ValueError("boom")
    assert [(e.kind, e.stage, e.ok) for e in events] == [
        ("start", None, True), ("stage", "one", True), ("stage-end", "one", True),
        ("stage", "two", True), ("stage-end", "two", False), ("end", None, False)]
    assert events[-1].done == 1  # the failed stage is not counted as done
    assert progress.current() is progress.NO_TASK  # and the task is closed
    with progress.step("outside any task"):  # library code outside a task: nothing happens
        pass


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_terminal_display_redraws_one_line_and_clears_it():
    tty = _Tty()
    progress.configure(None, stream=tty)  # auto: on, as the stream is a terminal
    try:
        with progress.task("job", total=2) as t, t.stage("first"):
            pass
    finally:
        progress.configure(False)
    out = tty.getvalue()
    assert "\r\x1b[Kjob: first" in out and "\n" not in out
    assert out.endswith("\r\x1b[K")  # the status line is gone at the end
    plain = io.StringIO()
    assert progress.configure(None, stream=plain) is None  # not a terminal: off by default


class _Screen:
    """Two terminal streams (stdout, stderr) writing into one screen log, in order."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str]] = []

    def stream(self, name: str) -> _Tty:
        screen = self

        class _Stream(_Tty):
            def write(self, s: str) -> int:
                screen.log.append((name, s))
                return len(s)

        return _Stream()


def test_output_clears_the_status_line_first(monkeypatch):
    """On a terminal, a line printed to stdout (or logged) while a status line is drawn takes it
    off the screen first, so the two never share a line; the guards go away afterwards."""
    import logging
    import sys

    screen = _Screen()
    out, err = screen.stream("out"), screen.stream("err")
    monkeypatch.setattr(sys, "stdout", out)
    handler = logging.StreamHandler(err)
    logger = logging.getLogger("omnidsl")
    logger.addHandler(handler)
    try:
        progress.configure(True, stream=err)
        with progress.task("job", total=1) as t, t.stage("one"):
            print("a result line")
            logging.getLogger("omnidsl.test").warning("a log line")
    finally:
        progress.configure(False)
        logger.removeHandler(handler)
    assert sys.stdout is out and handler.stream is err  # restored
    visible, shown = False, []  # replay the screen: is a status line on it at each write?
    for name, s in screen.log:
        if name == "err" and s.startswith("\r\x1b[K"):
            visible = s != "\r\x1b[K"
        elif s.strip():
            assert not visible, f"{s!r} written on the status line"
            shown.append(s.strip())
    assert "a result line" in shown and any("a log line" in x for x in shown)
    assert ("err", "\r\x1b[K") in screen.log[:screen.log.index(("out", "a result line"))]


@pytest.fixture()
def files(nb, tmp_path):
    d, _, z = nb
    from omnidsl.field import bytes_to_limbs

    w = tmp_path / "w.wtns"
    write_wtns(w, bytes_to_limbs(z))
    return d, w, tmp_path


def test_cli_progress_lines_with_flag_and_silenced_by_q(files, capsys):
    d, w, tmp = files
    base = ["prove", "--keys", str(d), "--witness", str(w), "-o", str(tmp / "p.json"),
            "--public", str(tmp / "pub.json")]
    assert main([*base, "--progress"]) == 0
    err = capsys.readouterr().err
    for s in PROVER_STAGES:
        assert f"prove › {s} (" in err, err
    assert "prove › verify (9/9)" in err and "\nprove (9/9)" in err
    assert main(base) == 0  # stderr is not a terminal: no progress
    assert "prove ›" not in capsys.readouterr().err
    assert main([*base, "--progress", "-q"]) == 0  # -q wins
    assert capsys.readouterr().err == ""
    assert main(["--progress", "prove", "--parties", "2", *base[1:]]) == 0
    err = capsys.readouterr().err
    assert "prove (2 parties) › deal (1/3)" in err and "parties prove › MSM H" in err


def test_cli_progress_records_as_json_log_lines(files, capsys):
    d, w, tmp = files
    assert main(["prove", "--keys", str(d), "--witness", str(w), "-o", str(tmp / "p.json"),
                 "--public", str(tmp / "pub.json"), "-v", "--log-format", "json"]) == 0
    recs = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    stages = [r for r in recs if r["logger"] == "omnidsl.progress" and "stage" in r]
    assert [r["stage"] for r in stages] == [*PROVER_STAGES, "verify"]
    assert all(r["task"] == "prove" and r["elapsed_s"] >= 0 for r in stages)


def test_servers_report_progress_and_log_json_with_the_session_id(nb, tmp_path):
    d, _, z = nb
    n = 3
    cl = Cluster(tmp_path / "cl", n, {"nb": d}, timeout=20)
    cl.start_all({i: ["--log-format", "json"] for i in range(n)})
    with cl:
        res, events = _capture(lambda: prove(d, z, cl.config_path))
        assert res.verified
        done = [e for e in events if e.kind == "advance"]
        assert sorted(e.stage for e in done) == [f"server {i} done" for i in range(n)]
        top = [e.stage for e in events if e.kind == "stage-end"]
        assert top == ["deal", "servers prove", "verify"]
        assert all(e.task == "prove (servers)" for e in events)
        assert wait_until(lambda: all(any(line.endswith(' done"}') or ' done", ' in line
                                          for line in cl.logs[i]) for i in range(n)))
        sessions = set()
        for i in range(n):
            recs = [json.loads(line) for line in cl.logs[i]]  # every line is JSON
            assert all(r["server"] == i for r in recs if "session" in r)
            mine = [r for r in recs if "session" in r]
            assert mine[0]["message"].endswith("started") and mine[-1]["message"].endswith(" done")
            assert mine[-1]["elapsed_s"] > 0
            stages = [r["stage"] for r in mine if "stage" in r]
            assert all(r["peak_mb"] > 0 for r in mine if "stage" in r)
            assert stages[:2] == ["expand", "evaluate constraints"] and "open C" in stages
            sessions |= {r["session"] for r in mine}
        assert len(sessions) == 1  # the three servers name the same session


def test_compiles_and_setup_report_their_stages(tmp_path, capsys):
    import omnidsl
    from tests.groth16.cases import CIRCUITS

    _, events = _capture(lambda: omnidsl.compile(CIRCUITS / "norm_bound.omni", {"D": 8}))
    ends = [(e.task, e.stage) for e in events if e.kind == "stage-end"]
    rule = f"compile {CIRCUITS / 'norm_bound.omni'}"
    assert ends == [(rule, s) for s in ("parse", "check", "lower", "emit", "optimise -O2")]
    assert main(["setup", "dev", str(CIRCUITS / "norm_bound.omni"), "--param", "D=8",
                 "--no-cache", "-o", str(tmp_path / "k"), "--progress"]) == 0
    err = capsys.readouterr().err
    assert "compile norm_bound › optimise -O2 (5)" in err and "\ncompile norm_bound (5)" in err
    assert "dev setup › query points (2/2)" in err
