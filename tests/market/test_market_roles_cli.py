"""The market role commands' usage errors (exit 2), a missing key file and a reverted
transaction (exit 1): one clean line each, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3

from omnidsl.chain import anvil
from omnidsl.cli import main
from omnidsl.errors import NetworkError
from omnidsl.market.client import MarketClient, TaskSpec
from omnidsl.procs import free_ports

#: anvil's first dev account (its well-known test key): the MO of the revert test
ANVIL_KEY0 = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
MARKET = "0x" + "11" * 20


def _url() -> str:
    return f"http://127.0.0.1:{free_ports(1)[0]}"


def _clean(err: str) -> None:
    assert "Traceback" not in err and err.strip()


@pytest.mark.parametrize("argv, says", [
    (["market", "mo", "deploy"], "need a running node"),  # --chain embedded by default
    (["market", "mo", "deploy", "--chain", "anvil"], "need a running node"),
    (["market", "mo", "deploy", "--chain", "URL"], "signer"),
    (["market", "mo", "close", "--market", "0x1234", "--task", "1", "--chain", "URL",
      "--key-env", "NOPE"], "not an Ethereum address"),
    (["market", "server", "run", "--market", MARKET, "--rule", "r.omni", "--keys", "k",
      "--config", "s.toml", "--id", "0", "--bind-dir", "p", "--listen", "nowhere", "--chain",
      "URL", "--key-env", "NOPE"], "HOST:PORT"),
    (["market", "do", "contribute", "--market", MARKET, "--task", "1", "--gradient", "g.npy",
      "--rule", "r.omni", "--keys", "k", "--config", "s.toml", "--chain", "URL",
      "--key-env", "NOPE"], "--server URL"),
    (["market", "mo", "open", "--market", MARKET, "--rule", "r.omni", "--keys", "k",
      "--servers", "0x" + "22" * 20, "--pin", "1", "--chain", "URL", "--key-env", "NOPE"],
     "at least 2 distinct"),
    (["market", "mo", "open", "--market", MARKET, "--rule", "r.omni", "--keys", "k"],
     "required"),  # argparse: --servers/--pin missing
    (["market", "mo"], ""),  # a role without its verb prints its help
])
def test_usage_errors_exit_2(argv, says, capsys):
    argv = [_url() if a == "URL" else a for a in argv]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    assert code == 2
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    assert says in out.err + out.out


def test_a_missing_key_file_is_one_line(tmp_path: Path, capsys):
    code = main(["market", "mo", "deploy", "--chain", _url(), "--key-file",
                 str(tmp_path / "absent.key")])
    err = capsys.readouterr().err
    assert code == 1 and "no such key file" in err and str(tmp_path / "absent.key") in err
    _clean(err)


def test_a_readable_key_file_is_refused(tmp_path: Path, capsys):
    key = tmp_path / "k.key"
    key.write_text(ANVIL_KEY0)
    os.chmod(key, 0o644)
    assert main(["market", "status", "--market", MARKET, "--chain", _url(),
                 "--key-file", str(key)]) == 1
    err = capsys.readouterr().err
    assert "accessible by other users" in err and "chmod 600" in err
    _clean(err)


@pytest.mark.chain
def test_a_reverted_transaction_is_one_located_line(tmp_path: Path, capsys):
    key = tmp_path / "mo.key"
    fd = os.open(key, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(ANVIL_KEY0)
    with anvil() as w3:
        url = str(w3.provider.endpoint_uri)
        market = MarketClient.deploy(w3)  # from dev account 0, whose key the CLI signs with
        now = int(w3.eth.get_block("latest")["timestamp"])
        spec = TaskSpec(verifier=market.address, n_public=4, owner_index=1, deadline=now + 600,
                        reward_per_gradient=1, server_fee=0, servers=[w3.eth.accounts[1]],
                        owner_key=b"\x22" * 32)
        task, _ = market.create_task(spec, 10, str(w3.eth.accounts[0]))
        args = ["--market", market.address, "--task", str(task), "--chain", url,
                "--key-file", str(key)]
        assert main(["market", "mo", "close", *args]) == 0
        assert main(["market", "mo", "close", *args]) == 1  # already closed: the contract reverts
        err = capsys.readouterr().err
        assert "Market.closeSubmissions reverted: Market: task closed" in err
        _clean(err)
        assert main(["market", "mo", "reclaim", *args]) == 1  # before the delivery deadline
        err = capsys.readouterr().err
        assert "Market.reclaim reverted" in err
        _clean(err)
        other = tmp_path / "other.key"
        fd = os.open(other, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("11" * 32)
        w3.provider.make_request("anvil_setBalance", [Account.from_key("11" * 32).address,
                                                      hex(10**18)])
        assert main(["market", "mo", "close", *args[:-1], str(other)]) == 1
        err = capsys.readouterr().err
        assert f"task {task} belongs to" in err and "not to the signer" in err
        _clean(err)


def test_a_server_whose_node_is_down_logs_and_keeps_running(tmp_path: Path, caplog):
    """The daemon's poll with an unreachable node is one log line, not a crash; its inbox
    answers a share with an error instead of a traceback."""
    import logging

    from omnidsl.market import inbox
    from omnidsl.market.daemon import ServerDaemon, start_inbox
    from omnidsl.market.roles import Server
    from omnidsl.market.rulefile import LoadedRule

    caplog.set_level(logging.WARNING, logger="omnidsl.market")
    w3 = Web3(Web3.HTTPProvider(_url(), request_kwargs={"timeout": 2}))
    market = MarketClient(w3, MARKET)
    acct = Account.from_key(ANVIL_KEY0)
    rule = LoadedRule(None, tmp_path, tmp_path / "pk")  # type: ignore[arg-type]
    d = ServerDaemon(Server(market, acct.address, signer=acct), acct, rule, 0)
    d.step()
    d.step()
    assert "did not answer" in caplog.text or "failed" in caplog.text
    box = start_inbox(d, "127.0.0.1", 0)
    try:
        with pytest.raises(NetworkError, match=r"market server http://127\.0\.0\.1:\d+/share"):
            inbox.request(box.url, "/share", {"task": 1, "owner": acct.address,
                                              "sealed": "00" * 80, "signature": "00" * 65})
    finally:
        box.stop()
    assert "Traceback" not in caplog.text
