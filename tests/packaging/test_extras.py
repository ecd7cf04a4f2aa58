"""The optional parts (omnidsl/extras.py) agree with pyproject.toml, and a missing one is one
line naming the extra to install."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from omnidsl import extras

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_every_extra_named_in_the_code_is_declared() -> None:
    declared = set(PROJECT["optional-dependencies"])
    assert set(extras.MODULE_EXTRA.values()) <= declared
    assert set(extras.SENTINEL) <= declared
    assert {"chain", "tester", "ml", "plot", "dashboard", "test", "all"} <= declared
    everything = " ".join(PROJECT["optional-dependencies"]["all"])
    for name in declared - {"all"}:
        assert name in everything


def test_the_core_stays_small() -> None:
    core = " ".join(PROJECT["dependencies"]).lower()
    for heavy in ("web3", "scikit-learn", "matplotlib", "eth-tester", "playwright"):
        assert heavy not in core


def test_a_missing_optional_module_names_its_extra() -> None:
    err = extras.missing_extra(ModuleNotFoundError("No module named 'web3.eth'", name="web3.eth"))
    assert err is not None and err.hint == "pip install 'omnidsl[chain]'"
    assert "'web3'" in err.message
    sk = extras.missing_extra(ModuleNotFoundError("x", name="sklearn.datasets"))
    assert sk is not None and sk.hint == "pip install 'omnidsl[ml]'"
    assert extras.missing_extra(ModuleNotFoundError("x", name="omnidsl.nothing")) is None


def test_require_checks_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    extras.require("chain")  # the development install has every extra
    monkeypatch.setitem(extras.SENTINEL, "chain", "no_such_module_omnidsl")
    with pytest.raises(extras.MissingExtra) as info:
        extras.require("chain")
    assert info.value.hint == "pip install 'omnidsl[chain]'"
