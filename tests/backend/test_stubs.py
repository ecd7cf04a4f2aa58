"""The typed stubs omnidsl/_native.pyi match the compiled module (mypy.stubtest)."""

from __future__ import annotations

import subprocess
import sys

import omnidsl._native as native_module


def test_stubtest() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "omnidsl._native"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_module_exports_everything_in_all() -> None:
    for name in native_module.__all__:
        assert hasattr(native_module, name), name
