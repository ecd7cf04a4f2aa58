"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CIRCUITS = ROOT / "circuits"


@pytest.fixture(scope="session", autouse=True)
def _compile_cache(tmp_path_factory):
    """The CLI's compile cache in a folder of this test session (not the user's ~/.cache)."""
    old = os.environ.get("OMNIDSL_CACHE")
    os.environ["OMNIDSL_CACHE"] = str(tmp_path_factory.mktemp("compile_cache"))
    yield
    if old is None:
        os.environ.pop("OMNIDSL_CACHE", None)
    else:
        os.environ["OMNIDSL_CACHE"] = old


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def snarkjs() -> Path:
    """Path of the project's snarkjs (installed from package.json; fails loudly if it cannot)."""
    from omnidsl.npm import npm_bin

    return npm_bin("snarkjs")
