"""The dashboard's parts without a browser: on-chain rejection reasons from the events, the
model owner's round reports checked as untrusted input, the round log read line by line, and
the HTTP server's hardening (foreign Host, CSP, methods)."""

from __future__ import annotations

import http.client
import json
import secrets

import pytest
from market_helpers import make_spec, now, submit
from web3 import Web3

from omnidsl.market.dashboard import DashboardServer, MarketView, RoundLogReader
from omnidsl.market.dashboard.rounds import MAX_LINE
from omnidsl.market.dashboard.view import MAX_REASON_CHARS

pytestmark = pytest.mark.chain


def _addr() -> str:
    return Web3.to_checksum_address("0x" + secrets.token_hex(20))


def test_on_chain_refusals_carry_the_contracts_reason(market, allow_list, accounts) -> None:
    view = MarketView(market.w3, market.address)
    spec = make_spec(allow_list.contract.address, accounts["servers"], now(market.w3) + 3600)
    tid, _ = market.create_task(spec, 10_000, accounts["mo"])
    dos = [_addr() for _ in range(3)]
    items = [allow_list.proof(d, valid=(i != 1)) for i, d in enumerate(dos)]
    proofs = [w for words, _ in items for w in words]
    inputs = [x for _, inp in items for x in inp]
    submit(market, tid, proofs, inputs, accounts["servers"][0])
    assert view.refresh()
    task = next(t for t in view.snapshot()["tasks"] if t["id"] == tid)
    assert sorted(task["accepted"]) == sorted([dos[0], dos[2]])
    assert task["refused"] == [{"account": dos[1], "reason": "InvalidProof", "where": "on-chain"}]
    assert task["batches"] == 1 and task["batch_gas"] > 21_000
    assert task["remaining"] == str(10_000 - 2 * (1000 + 3 * 10))
    v = view.version
    assert not view.refresh() and view.version == v  # nothing new: no new version
    # the MO's off-chain report adds its accuracy and its refusals, never over the chain's
    assert view.add_round({"market": market.address.lower(), "task": tid, "round": 7,
                           "accuracy": 0.5, "refused": {dos[1]: "MO says", _addr(): "x" * 999}})
    task = next(t for t in view.snapshot()["tasks"] if t["id"] == tid)
    assert (task["round"], task["accuracy"]) == (7, 0.5)
    assert [r["where"] for r in task["refused"]] == ["on-chain", "off-chain"]
    assert len(task["refused"][1]["reason"]) == MAX_REASON_CHARS


@pytest.mark.parametrize("entry", [
    {"market": "0x" + "11" * 20, "task": 1, "round": 1, "accuracy": 0.9},  # another market
    {"task": 1, "round": 1, "accuracy": 0.9},
    {"market": None, "task": "1", "round": 1, "accuracy": 0.9},
    {"market": None, "task": 1, "round": 1, "accuracy": float("nan")},
    {"market": None, "task": 1, "round": True, "accuracy": 0.9},
    {"market": None, "task": 1, "refused": {"not an address": "x"}},
    {"market": None, "task": 1, "refused": {"0x" + "22" * 20: 5}},
    {"market": None, "task": 1, "refused": {_addr(): "x" for _ in range(300)}},
    ["not", "an", "object"],
])
def test_malformed_round_reports_are_ignored(w3, entry) -> None:
    view = MarketView(w3, _addr())
    if isinstance(entry, dict) and "market" in entry and entry["market"] is None:
        entry = {**entry, "market": view.market}
    assert view.add_round(entry) is False
    assert view.snapshot()["tasks"] == []


def test_the_round_log_is_read_in_whole_lines(tmp_path) -> None:
    log = tmp_path / "rounds.jsonl"
    reader = RoundLogReader(log)
    assert reader.read() == []  # not there yet
    log.write_bytes(b'{"task": 1}\nnot json\n{"task": 2')
    assert reader.read() == [{"task": 1}]  # the bad line is skipped, the half one waits
    with log.open("ab") as f:
        f.write(b', "round": 2}\n')
    assert reader.read() == [{"task": 2, "round": 2}]
    assert reader.read() == []
    with log.open("ab") as f:  # an endless line is skipped, what follows it is read
        f.write(b"x" * (MAX_LINE + 10))
    assert reader.read() == []
    with log.open("ab") as f:
        f.write(b'tail of the long line\n{"task": 3}\n')
    assert reader.read() == [{"task": 3}]


def _get(port: int, path: str, host: str | None = None, method: str = "GET"
         ) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.putrequest(method, path, skip_host=True)
    conn.putheader("Host", host or f"127.0.0.1:{port}")
    conn.endheaders()
    res = conn.getresponse()
    out = res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
    conn.close()
    return out


def test_the_server_answers_only_its_own_host_with_a_strict_policy(w3) -> None:
    view = MarketView(w3)
    with DashboardServer(view) as srv:
        assert srv.httpd.server_address[0] == "127.0.0.1"
        status, headers, body = _get(srv.port, "/")
        assert status == 200 and b'<script src="/app.js"' in body and b"<script>" not in body
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        status, _, body = _get(srv.port, "/api/state", host=f"localhost:{srv.port}")
        state = json.loads(body)
        assert status == 200 and state["market"] is None and state["tasks"] == []
        assert _get(srv.port, "/api/state", host=f"evil.example:{srv.port}")[0] == 421
        assert _get(srv.port, "/", host="127.0.0.1")[0] == 421  # wrong port: not ours
        assert _get(srv.port, "/../pyproject.toml")[0] == 404
        assert _get(srv.port, "/api/state", method="POST")[0] == 501
        assert _get(srv.port, "/app.js")[1]["content-type"].startswith("text/javascript")


def test_a_node_that_goes_away_is_shown_not_raised() -> None:
    from omnidsl.procs import free_ports

    port = free_ports(1)[0]  # nothing listens there
    w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}", request_kwargs={"timeout": 2}))
    view = MarketView(w3, _addr())
    assert view.refresh() is True  # the error is news
    state = view.snapshot()
    assert state["error"] and "Connection" in state["error"] and state["tasks"] == []
    assert view.refresh() is False  # the same error again: nothing new
