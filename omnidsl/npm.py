"""Locate (and if needed install) the project's pinned npm tools: solc, anvil, snarkjs, circom2.

The tools come from the project's own ``package.json``/``package-lock.json``; a missing
``node_modules`` is installed with ``npm ci``.  Failure is an :class:`OmniDSLError`, never a skip.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

from omnidsl.errors import OmniDSLError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

log = logging.getLogger(__name__)


class ToolError(OmniDSLError):
    """An external tool (node, npm, solc-js, anvil, snarkjs, circom2) is missing or failed."""


def node_modules() -> Path:
    """The project's node_modules, installed with ``npm ci`` on first use."""
    nm = PROJECT_ROOT / "node_modules"
    if not (nm / ".bin").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            raise ToolError("npm not found; install Node.js 20 to use solc-js, anvil and snarkjs")
        log.info("installing the pinned npm tools: npm ci in %s", PROJECT_ROOT)
        proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                              cwd=PROJECT_ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ToolError(f"`npm ci` failed in {PROJECT_ROOT}: {proc.stderr.strip()[-500:]}")
    return nm


def npm_bin(name: str) -> Path:
    """Path of ``node_modules/.bin/<name>`` (e.g. 'anvil', 'snarkjs', 'circom2', 'solcjs')."""
    path = node_modules() / ".bin" / name
    if not path.exists():
        raise ToolError(f"npm tool {name!r} is not installed (expected {path}); run `npm ci`",
                        hint="the project's package.json pins solc, @foundry-rs/anvil, snarkjs, circom2")
    return path


def node_package(name: str) -> Path:
    """Directory of an installed npm package (e.g. 'solc')."""
    path = node_modules() / name
    if not path.is_dir():
        raise ToolError(f"npm package {name!r} is not installed (expected {path}); run `npm ci`")
    return path
