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


def test_model_noise_reaches_the_demo_and_a_bad_one_is_a_clean_error(capsys, monkeypatch):
    import omnidsl.market.demo as demo

    seen: dict = {}

    def fake_run_demo(w3, **kw):
        seen.update(kw)
        return []

    monkeypatch.setattr(demo, "run_demo", fake_run_demo)
    assert main(["market", "demo", "--rounds", "1", "--model-noise", "0.1"]) == 0
    assert seen["model_noise"] == 0.1
    assert "model noise 0.1" in capsys.readouterr().out
    monkeypatch.undo()
    assert main(["market", "demo", "--rounds", "1", "--model-noise", "-0.5"]) == 1
    err = capsys.readouterr().err
    assert "model noise" in err and "Traceback" not in err
