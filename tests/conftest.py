"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CIRCUITS = ROOT / "circuits"


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def snarkjs() -> Path:
    """Path of the project's snarkjs (installed from package.json; fails loudly if it cannot)."""
    from omnidsl.npm import npm_bin

    return npm_bin("snarkjs")
