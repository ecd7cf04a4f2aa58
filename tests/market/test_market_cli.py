"""`omnidsl market demo`: user errors are one clean line and a non-zero exit."""

from __future__ import annotations

from omnidsl.cli import main
from omnidsl.procs import free_ports


def test_unreachable_rpc_is_a_clean_error(capsys):
    url = f"http://127.0.0.1:{free_ports(1)[0]}"
    assert main(["market", "demo", "--chain", url, "--rounds", "1"]) == 1
    err = capsys.readouterr().err
    assert "cannot reach an Ethereum node" in err and "Traceback" not in err


def test_bad_counts_are_rejected(capsys):
    assert main(["market", "demo", "--owners", "2", "--malicious", "3"]) == 1
    assert "malicious" in capsys.readouterr().err


def test_market_without_subcommand_prints_help(capsys):
    assert main(["market"]) == 2
    assert "demo" in capsys.readouterr().out
