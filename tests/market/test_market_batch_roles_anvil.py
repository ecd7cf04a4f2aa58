"""One proof per batch from separate processes on anvil: the MO's commands (deploy, open,
batch-verifier), 3 `omnidsl market server run --batch-keys` processes each with its own
`omnidsl serve --bind-dir` process, 3 honest DOs' `market do contribute --batch`, and one
malicious DO that shares a gradient the rule forbids and deals a slot the rule allows whose
mask gives it the same fingerprint.  Every honest server's process refuses that slot (the
binding check against its committed share), the coordinator proves the batch without it and
submits it with `submitBatchProof`; the DOs claim with `market do claim`; nothing is credited to
the malicious DO; every payment is checked to the wei."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from eth_account import Account
from role_procs import Daemon, _cmd, _env, _key, _run, _wait, start_contributors

from omnidsl.chain import anvil
from omnidsl.cli import main
from omnidsl.field import R
from omnidsl.groth16.keydir import params
from omnidsl.groth16.keys import write_proving_key
from omnidsl.market import dsl_rule
from omnidsl.market.aggregate import fingerprint
from omnidsl.market.batch_rule import setup_batch
from omnidsl.market.batch_serve import pin_digests
from omnidsl.market.client import MarketClient
from omnidsl.market.contribute import task_servers, wait_for_challenge
from omnidsl.market.roles import DataOwner, bind_label
from omnidsl.market.rulefile import load_rule
from omnidsl.market.status import market_status
from omnidsl.mpc.batch_client import deal_slot_to_servers
from omnidsl.mpc.cluster import ServerCluster

pytestmark = [pytest.mark.chain, pytest.mark.slow]

D, K = 4, 4
REWARD, FEE, BOND = 10**15, 10**14, 10**15
MAX_NORM = 2.0


def _malicious(w3: Any, market: str, task: int, key: Path, rule: Any, cfg: Any,
               inboxes: list[str]) -> tuple[str, int]:
    """Share g_bad (|g_0| = 5 > the bound), then deal an allowed slot with a matching mask."""
    acct = Account.from_key(key.read_text().strip())
    client = MarketClient(w3, market)
    servers = task_servers(client, task, inboxes, acct, 3)
    do = DataOwner(acct.address)
    bad = [5 << dsl_rule.FRAC, 0, 0, 0]
    do.share(task, bad, servers)  # type: ignore[arg-type]
    v = do.vectors[task]
    rho = wait_for_challenge(client, task, 60)
    fp_bad = fingerprint(v, rho)
    fake = [1, 2, 3, 4]
    mask = (fp_bad - fingerprint([*fake, 0], rho)) * pow(pow(rho, D + 1, R), -1, R) % R
    terms = int(MAX_NORM * (1 << dsl_rule.FRAC))
    wit = rule.rule.circuit.witness(rule.rule.witness_input([*fake, mask], acct.address, rho,
                                                            terms))
    deal_slot_to_servers(cfg, rule.rule.pk, rule.pk_path, wit, bind_label(task, acct.address),
                         pin_digests(rule.rule, do.dealt[task]), rule.rule.backend)
    public = [fp_bad, int(acct.address, 16), rho, terms]
    for s in servers:
        s.announce_slot(task, acct.address, public)
    return acct.address, fp_bad


def test_one_proof_per_batch_from_separate_processes(tmp_path: Path):
    rule_file = tmp_path / "market_norm.omni"
    rule_file.write_text(dsl_rule.SOURCE)
    assert main(["setup", "dev", str(rule_file), "--param", f"D={D}", "-o",
                 str(tmp_path / "keys")]) == 0
    loaded = load_rule(rule_file, params([f"D={D}"]), tmp_path / "keys")
    batch = setup_batch(loaded.rule, K)  # dev setup of the batch statement (a ceremony in prod)
    (tmp_path / "bkeys").mkdir()
    write_proving_key(batch.pk, tmp_path / "bkeys" / "proving_key.bin")
    rule = ["--rule", rule_file, "--param", f"D={D}", "--keys", tmp_path / "keys"]
    bkeys = ["--batch-keys", tmp_path / "bkeys", "--batch-size", K]
    with anvil() as w3, ServerCluster(tmp_path / "srv", 3, {"market": tmp_path / "keys",
                                                            "batch": tmp_path / "bkeys"},
                                      bind=True) as cluster:
        keys = {n: _key(tmp_path, n, w3) for n in
                ["mo", "s0", "s1", "s2", "do0", "do1", "do2", "evil"]}
        url = str(w3.provider.endpoint_uri)
        chain = ["--chain", url]
        market = json.loads(_run("market", "mo", "deploy", "--json", *chain, "--key-file",
                                 keys["mo"][0], cwd=tmp_path))["market"]
        from omnidsl.procs import free_ports

        ports = free_ports(3)
        inboxes = [f"http://127.0.0.1:{p}" for p in ports]
        daemons: list[Daemon] = []
        try:
            for i in range(3):
                peers = [a for u in inboxes if u != inboxes[i] for a in ("--peer", u)]
                daemons.append(Daemon(_cmd(
                    "market", "server", "run", "--market", market, *rule, *bkeys, "--config",
                    cluster.config_path, "--id", i, "--bind-dir", cluster.bind_dir(i),
                    "--listen", f"127.0.0.1:{ports[i]}", *peers, "--expect", 4,
                    "--prove-window", 60, "--poll", 0.3, *chain, "--key-file",
                    keys[f"s{i}"][0]), tmp_path))
            for d in daemons:
                assert d.ready.wait(60), d.err[-5:]
            servers = ",".join(keys[f"s{i}"][1] for i in range(3))
            task = json.loads(_run("market", "mo", "open", "--market", market, *rule,
                                   "--servers", servers, "--pin", MAX_NORM, "--owners", 4,
                                   "--state", tmp_path / "mo", "--json", *chain, "--key-file",
                                   keys["mo"][0], cwd=tmp_path))["task"]
            out = json.loads(_run("market", "mo", "batch-verifier", "--market", market, "--task",
                                  task, *rule, *bkeys, "--json", *chain, "--key-file",
                                  keys["mo"][0], cwd=tmp_path))
            assert out["k"] == K
            client = MarketClient(w3, market)
            assert client.batch_verifier(task, K) == out["verifier"]
            rng = np.random.default_rng(7)
            grads = [rng.normal(0, 0.2, D) for _ in range(3)]
            dos = start_contributors(tmp_path, grads, [keys[f"do{j}"][0] for j in range(3)],
                                     "--batch", "--market", market, "--task", task, *rule,
                                     "--config", cluster.config_path,
                                     *[a for u in inboxes for a in ("--server", u)], "--wait",
                                     60, *chain)
            evil, _ = _malicious(w3, market, task, keys["evil"][0], loaded, cluster.cfg,
                                 inboxes)
            for p in dos:
                out_, err = p.communicate(timeout=120)
                logs = "\n".join(line for d in daemons for line in d.err[-15:])
                assert p.returncode == 0, f"{err[-2000:]}\nserver logs:\n{logs}"
                assert "batch slot dealt" in out_
            honest = sorted(keys[f"do{j}"][1] for j in range(3))
            st = _wait("the batch proof",
                       lambda: (s := market_status(client))["tasks"][0]["accepted"] and s, 120,
                       daemons)
            assert sorted(st["tasks"][0]["accepted"]) == honest
            assert client.paid_state(task, evil) == 0  # nothing credited to the forger
            assert all(client.paid_state(task, a) == 2 for a in honest)
            # every server's own process refused the forged slot (the binding check)
            logs = "\n".join(cluster.logs[i][j] for i in range(3)
                             for j in range(len(cluster.logs[i])))
            assert logs.count("binding check failed") >= 3, logs[-3000:]
            # the chain shows the batch before the coordinator has logged its submission
            coord = _wait("the coordinator's submission log line",
                          lambda: (c := "\n".join(daemons[0].err))
                          and "batch proof of 4 slots submitted" in c and c, 30, daemons)
            assert f"{evil} left out of the batch" in coord
            # the DOs claim, to the wei
            for j in range(3):
                held = client.total_held()
                out_ = _run("market", "do", "claim", "--market", market, "--task", task, *chain,
                            "--key-file", keys[f"do{j}"][0], cwd=tmp_path)
                assert f"claimed {REWARD} wei" in out_
                assert held - client.total_held() == REWARD
                assert client.paid_state(task, keys[f"do{j}"][1]) == 3
            again = subprocess.run(_cmd("market", "do", "claim", "--market", market, "--task",
                                        task, *chain, "--key-file", keys["do0"][0]),
                                   cwd=tmp_path, env=_env(), capture_output=True, text=True)
            assert again.returncode != 0 and "already claimed" in again.stderr
            bad = subprocess.run(_cmd("market", "do", "claim", "--market", market, "--task",
                                      task, *chain, "--key-file", keys["evil"][0]),
                                 cwd=tmp_path, env=_env(), capture_output=True, text=True)
            assert bad.returncode != 0 and "not credited" in bad.stderr
            # close, deliver: the aggregate is the honest DOs' (the forged vector is not in it)
            _run("market", "mo", "close", "--market", market, "--task", task, *chain,
                 "--key-file", keys["mo"][0], cwd=tmp_path)
            _wait("the deliveries", lambda: all(
                s["delivered"] for s in market_status(client)["tasks"][0]["servers"]), 60,
                daemons)
            check = json.loads(_run("market", "mo", "check", "--market", market, "--task", task,
                                    "-o", tmp_path / "sum.npy", "--state", tmp_path / "mo",
                                    "--json", *chain, "--key-file", keys["mo"][0],
                                    cwd=tmp_path))
            assert check["aggregate_matches"] is True and len(check["accepted"]) == 3
            assert np.allclose(np.load(tmp_path / "sum.npy"), sum(grads), atol=3 * 2.0**-12)
            st = json.loads(_run("market", "status", "--market", market, "--json", *chain,
                                 cwd=tmp_path))
            pay = {p["account"]: p for p in st["payments"]}
            assert all(pay[keys[f"s{i}"][1]]["withdrawn"] == 3 * FEE + BOND for i in range(3))
            # after the delivery deadline the MO takes back the 4th reward and its fees
            w3.provider.make_request("evm_increaseTime", [2 * 3600 + 1])
            w3.provider.make_request("evm_mine", [])
            out_ = _run("market", "mo", "reclaim", "--market", market, "--task", task, *chain,
                        "--key-file", keys["mo"][0], cwd=tmp_path)
            assert f"reclaimed {REWARD + 3 * FEE} wei" in out_
            assert client.total_held() == 0
        finally:
            for d in daemons:
                if d.proc.poll() is None:
                    d.proc.terminate()
