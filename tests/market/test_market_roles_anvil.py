"""The market's role commands run a whole round on anvil from separate processes: the MO's
commands, 3 `omnidsl market server run` processes (each with its own `omnidsl serve` process),
3 data owners' `omnidsl market do contribute`, then close, delivery, the MO's aggregate check,
a withdrawal, `market status` and the MO's reclaim after the delivery deadline."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from role_procs import Daemon, _cmd, _key, _run, _wait, start_contributors

from omnidsl.chain import anvil
from omnidsl.cli import main
from omnidsl.market import dsl_rule
from omnidsl.market.client import MarketClient
from omnidsl.market.status import market_status
from omnidsl.mpc.cluster import ServerCluster
from omnidsl.procs import free_ports, stop_process

pytestmark = [pytest.mark.chain, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
D = 8
REWARD = 10**15


@pytest.fixture
def market_world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """anvil, the rule's keys, 3 serve processes, funded key files."""
    rule = tmp_path / "market_norm.omni"
    rule.write_text(dsl_rule.SOURCE)
    assert main(["setup", "dev", str(rule), "--param", f"D={D}", "-o",
                 str(tmp_path / "keys")]) == 0
    with anvil() as w3, ServerCluster(tmp_path / "srv", 3, {"market": tmp_path / "keys"},
                                      bind=True) as cluster:
        keys = {n: _key(tmp_path, n, w3) for n in
                ["mo", "s0", "s1", "s2", "do0", "do1", "do2"]}
        yield {"w3": w3, "url": str(w3.provider.endpoint_uri), "cluster": cluster,
               "keys": keys, "tmp": tmp_path, "rule": rule}


def test_a_round_of_the_role_commands_from_separate_processes(market_world):
    w = market_world
    tmp, url, keys, cluster = w["tmp"], w["url"], w["keys"], w["cluster"]
    chain = ["--chain", url]
    rule = ["--rule", w["rule"], "--param", f"D={D}", "--keys", tmp / "keys"]
    t0 = time.monotonic()
    market = json.loads(_run("market", "mo", "deploy", "--json", *chain, "--key-file",
                             keys["mo"][0], cwd=tmp))["market"]
    ports = free_ports(3)
    inboxes = [f"http://127.0.0.1:{p}" for p in ports]
    daemons = []
    try:
        for i in range(3):
            peers = [a for u in inboxes if u != inboxes[i] for a in ("--peer", u)]
            daemons.append(Daemon(_cmd(
                "market", "server", "run", "--market", market, *rule, "--config",
                cluster.config_path, "--id", i, "--bind-dir", cluster.bind_dir(i), "--listen",
                f"127.0.0.1:{ports[i]}", *peers, "--expect", 3, "--poll", 0.3, *chain,
                "--key-file", keys[f"s{i}"][0]), tmp))
        for d in daemons:
            assert d.ready.wait(60), d.err[-5:]
        servers = ",".join(keys[f"s{i}"][1] for i in range(3))
        task = json.loads(_run("market", "mo", "open", "--market", market, *rule, "--servers",
                               servers, "--pin", 2.0, "--owners", 4, "--state", tmp / "mo",
                               "--json", *chain, "--key-file", keys["mo"][0], cwd=tmp))["task"]
        assert task == 1
        rng = np.random.default_rng(5)
        grads = [rng.normal(0, 0.2, D) for _ in range(3)]
        dos = start_contributors(tmp, grads, [keys[f"do{j}"][0] for j in range(3)],
                                 "--market", market, "--task", task, *rule, "--config",
                                 cluster.config_path,
                                 *[a for u in inboxes for a in ("--server", u)], "--wait", 40,
                                 *chain)
        for p in dos:
            out, err = p.communicate(timeout=120)
            logs = "\n".join(line for d in daemons for line in d.err[-15:])
            assert p.returncode == 0, f"{err[-2000:]}\nserver logs:\n{logs}"
            assert "proved by the servers" in out

        client = MarketClient(w["w3"], market)

        def status() -> dict[str, Any]:  # polled in process; the command is run at the end
            return market_status(client)

        st = _wait("the batch", lambda: (s := status())["tasks"][0]["accepted"] and s, 60,
                   daemons)
        assert sorted(st["tasks"][0]["accepted"]) == sorted(keys[f"do{j}"][1] for j in range(3))
        assert st["tasks"][0]["refused"] == []
        _run("market", "mo", "close", "--market", market, "--task", task, *chain,
             "--key-file", keys["mo"][0], cwd=tmp)
        _wait("the deliveries", lambda: all(s["delivered"] for s in
                                            status()["tasks"][0]["servers"]), 60, daemons)
        check = json.loads(_run("market", "mo", "check", "--market", market, "--task", task,
                                "-o", tmp / "sum.npy", "--state", tmp / "mo", "--json", *chain,
                                "--key-file", keys["mo"][0], cwd=tmp))
        assert check["aggregate_matches"] is True and len(check["accepted"]) == 3
        # the MO learns the sum of the accepted gradients (fixed point, 2^-12 per entry)
        assert np.allclose(np.load(tmp / "sum.npy"), sum(grads), atol=3 * 2.0**-12)
        out = _run("market", "do", "withdraw", "--market", market, *chain, "--key-file",
                   keys["do0"][0], cwd=tmp)
        assert f"withdrew {REWARD} wei" in out
        st = json.loads(_run("market", "status", "--market", market, "--json", *chain, cwd=tmp))
        t = st["tasks"][0]
        assert t["phase"] == "delivering" and t["aggregate_checked"] is True
        pay = {p["account"]: p for p in st["payments"]}
        assert pay[keys["do0"][1]]["withdrawn"] == REWARD
        assert pay[keys["do1"][1]]["credited"] == REWARD
        assert all(pay[keys[f"s{i}"][1]]["withdrawn"] == 3 * 10**14 + 10**15 for i in range(3))
        table = _run("market", "status", "--market", market, *chain, cwd=tmp)
        assert "delivering" in table and f"accepted {keys['do2'][1]}" in table
        # after the delivery deadline the MO takes back the 4th gradient's reward and fees
        w["w3"].provider.make_request("evm_increaseTime", [2 * 3600 + 1])
        w["w3"].provider.make_request("evm_mine", [])
        out = _run("market", "mo", "reclaim", "--market", market, "--task", task, *chain,
                   "--key-file", keys["mo"][0], cwd=tmp)
        assert f"reclaimed {REWARD + 3 * 10**14} wei" in out
        assert market_status(client, task)["tasks"][0]["phase"] == "settled"
        print(f"round of the role commands: {time.monotonic() - t0:.1f} s")
    finally:
        for d in daemons:
            if d.proc.poll() is None:
                d.proc.terminate()  # SIGTERM: a clean shutdown
        codes = [d.proc.wait(30) if d.proc.poll() is None else d.proc.returncode
                 for d in daemons]
        for d in daemons:
            stop_process(d.proc)
            d.drain()
    for i, d in enumerate(daemons):  # the gas of each step (shown with -s)
        print(f"server {i}: " + "; ".join(line.split(": ", 1)[1] for line in d.err
                                         if "(gas" in line))
    assert codes == [0, 0, 0]
    assert all(any("stopped" in line for line in d.err) for d in daemons)
    assert any("batch of 3 submitted" in line for line in daemons[0].err)
