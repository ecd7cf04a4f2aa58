"""Where the node tools come from (omnidsl/npm.py): an explicit folder or executable, the
checkout's node_modules, else the per-user cache, installed on first use; every failure is a
ToolError that says what to do."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from omnidsl import npm
from omnidsl.npm import ToolError, node_modules, node_package, npm_bin

ROOT = Path(__file__).resolve().parents[2]


def test_the_pins_ship_in_the_package_and_the_root_links_to_them() -> None:
    for name in npm.PINS:
        assert (ROOT / name).resolve() == (ROOT / "omnidsl" / "node" / name).resolve()
        assert npm._pin_bytes(name) == (ROOT / name).read_bytes()
    assert b'"snarkjs"' in npm._pin_bytes("package.json")


def test_an_explicit_node_modules_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    checkout = node_modules()
    assert (checkout / ".bin" / "snarkjs").exists()
    monkeypatch.setenv(npm.ENV_NODE_MODULES, str(checkout.resolve()))
    assert node_modules() == checkout.resolve()
    assert npm_bin("snarkjs") == checkout.resolve() / ".bin" / "snarkjs"
    assert node_package("solc") == checkout.resolve() / "solc"


def test_an_explicit_folder_that_is_missing_is_a_located_error(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(npm.ENV_NODE_MODULES, str(tmp_path / "nowhere"))
    with pytest.raises(ToolError, match=r"\$OMNIDSL_NODE_MODULES is .*nowhere, which is not a"):
        npm_bin("anvil")


def test_one_tool_can_be_given_by_its_executable(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    anvil = npm_bin("anvil")
    monkeypatch.setenv("OMNIDSL_ANVIL", str(anvil))
    assert npm_bin("anvil") == anvil
    text = tmp_path / "anvil.txt"
    text.write_text("not a program")
    monkeypatch.setenv("OMNIDSL_ANVIL", str(text))
    with pytest.raises(ToolError, match=r"\$OMNIDSL_ANVIL is .*anvil.txt, which is not an exec"):
        npm_bin("anvil")
    assert npm.tool_env("solc-js") == "OMNIDSL_SOLC_JS"


def test_outside_a_checkout_the_tools_live_in_the_user_cache(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As from a wheel: no checkout beside the package, and the cache already holds the tools
    (a node_modules put there, as a finished first-use install leaves it)."""
    monkeypatch.setattr(npm, "PROJECT_ROOT", tmp_path / "site-packages")
    monkeypatch.setenv(npm.ENV_CACHE, str(tmp_path / "cache"))
    target = npm.cache_dir()
    assert target.parent == tmp_path / "cache" / "omnidsl"
    assert target.name.startswith("node-") and len(target.name) == 17
    target.mkdir(parents=True)
    os.symlink((ROOT / "node_modules").resolve(), target / "node_modules")
    assert npm_bin("snarkjs") == target / "node_modules" / ".bin" / "snarkjs"


def test_without_npm_the_first_use_is_a_located_error(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No checkout, an empty cache and no npm on PATH: one message with what to install."""
    monkeypatch.setattr(npm, "PROJECT_ROOT", tmp_path / "site-packages")
    monkeypatch.setenv(npm.ENV_CACHE, str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(ToolError) as info:
        npm_bin("snarkjs")
    assert info.value.message.startswith("npm not found")
    assert "OMNIDSL_NODE_MODULES" in (info.value.hint or "")
    assert not (tmp_path / "cache").exists()  # nothing half-installed
