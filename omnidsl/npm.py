"""Locate (and if needed install) the pinned node tools: solc-js, anvil, snarkjs, circom2.

The versions are pinned by ``omnidsl/node/package.json`` and ``package-lock.json`` (package data;
the repository root links to them).  ``node_modules`` is looked for, in order:

1. ``$OMNIDSL_NODE_MODULES``: an existing ``node_modules`` folder (nothing is installed);
2. a checkout's own ``node_modules`` beside ``omnidsl/`` (``make install`` runs ``npm ci`` there);
3. the per-user cache ``$OMNIDSL_CACHE_HOME`` (else ``$XDG_CACHE_HOME``, else ``~/.cache``)
   ``/omnidsl/node-<lock digest>/node_modules``, installed there with ``npm ci`` on first use
   (announced on stderr; all or nothing: a temporary folder renamed when complete).

One executable can also be given directly: ``$OMNIDSL_ANVIL``, ``$OMNIDSL_SNARKJS``,
``$OMNIDSL_CIRCOM2`` (``OMNIDSL_`` + the tool's name in capitals).  Every failure (no npm, a
failed install, a missing tool) is a :class:`ToolError` naming what to do, never a skip.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from importlib.resources import files
from pathlib import Path

from omnidsl.errors import OmniDSLError

#: the folder holding the ``omnidsl`` package (a checkout's root, or site-packages)
PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_NODE_MODULES = "OMNIDSL_NODE_MODULES"
ENV_CACHE = "OMNIDSL_CACHE_HOME"
PINS = ("package.json", "package-lock.json")
HINT = (f"install Node.js 20 with npm, or set ${ENV_NODE_MODULES} to a node_modules holding "
        "solc, @foundry-rs/anvil, snarkjs and circom2 (versions: omnidsl/node/package.json)")

log = logging.getLogger(__name__)


class ToolError(OmniDSLError):
    """An external tool (node, npm, solc-js, anvil, snarkjs, circom2) is missing or failed."""


def _pin_bytes(name: str) -> bytes:
    return files("omnidsl").joinpath("node", name).read_bytes()


def cache_dir() -> Path:
    """The per-user folder of this version's node tools (keyed by the lock file's digest)."""
    base = os.environ.get(ENV_CACHE) or os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    digest = hashlib.sha256(_pin_bytes("package-lock.json")).hexdigest()[:12]
    return Path(base).expanduser() / "omnidsl" / f"node-{digest}"


def _install(target: Path) -> None:
    """``npm ci`` of the pinned tools into ``target`` (created all or nothing)."""
    npm = shutil.which("npm")
    if npm is None:
        raise ToolError("npm not found: solc-js, anvil and snarkjs are node tools", hint=HINT)
    target.parent.mkdir(parents=True, exist_ok=True)
    log.warning("first use of the node tools: installing solc-js, anvil, snarkjs and circom2 "
                "(npm ci, about 300 MB) into %s; set $%s to use an existing node_modules",
                target, ENV_NODE_MODULES)
    tmp = Path(tempfile.mkdtemp(prefix=".install-", dir=target.parent))
    try:
        for name in PINS:
            (tmp / name).write_bytes(_pin_bytes(name))
        proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                              cwd=tmp, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ToolError(f"`npm ci` of the node tools failed in {tmp}: "
                            f"{proc.stderr.strip()[-500:]}", hint=HINT)
        try:
            tmp.rename(target)
        except OSError:
            if not (target / "node_modules" / ".bin").is_dir():  # not another process's install
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def node_modules() -> Path:
    """The ``node_modules`` of the pinned tools (see the module doc for the search order)."""
    given = os.environ.get(ENV_NODE_MODULES)
    if given:
        nm = Path(given).expanduser()
        if not nm.is_dir():
            raise ToolError(f"${ENV_NODE_MODULES} is {given}, which is not a folder",
                            hint="point it at a node_modules folder, or unset it")
        return nm
    checkout = PROJECT_ROOT / "node_modules"
    if (PROJECT_ROOT / "package.json").is_file() and (checkout / ".bin").is_dir():
        return checkout
    target = cache_dir()
    if not (target / "node_modules" / ".bin").is_dir():
        _install(target)
    return target / "node_modules"


def tool_env(name: str) -> str:
    """The variable naming one tool's executable: ``anvil`` → ``OMNIDSL_ANVIL``."""
    return "OMNIDSL_" + "".join(c if c.isalnum() else "_" for c in name).upper()


def npm_bin(name: str) -> Path:
    """The executable of a node tool (e.g. 'anvil', 'snarkjs', 'circom2', 'solcjs')."""
    given = os.environ.get(tool_env(name))
    if given:
        path = Path(given).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise ToolError(f"${tool_env(name)} is {given}, which is not an executable file")
        return path
    path = node_modules() / ".bin" / name
    if not path.exists():
        raise ToolError(f"node tool {name!r} is not installed (expected {path})", hint=HINT)
    return path


def node_package(name: str) -> Path:
    """Directory of an installed npm package (e.g. 'solc')."""
    path = node_modules() / name
    if not path.is_dir():
        raise ToolError(f"npm package {name!r} is not installed (expected {path})", hint=HINT)
    return path
