"""Helpers of the role-command tests: funded key files on anvil, the CLI as a subprocess, a
`market server run` process with its logs kept, waiting on a condition."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from web3 import Web3

ROOT = Path(__file__).resolve().parents[2]


def _key(tmp: Path, name: str, w3: Web3) -> tuple[Path, str]:
    """A fresh private key in a mode-600 file, its address funded on anvil."""
    from eth_account import Account

    acct = Account.from_key(secrets.token_bytes(32))
    path = tmp / f"{name}.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(acct.key.hex())
    w3.provider.make_request("anvil_setBalance", [acct.address, hex(10**20)])
    return path, acct.address


def _cmd(*args: Any) -> list[str]:
    return [sys.executable, "-m", "omnidsl.cli", *[str(a) for a in args]]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def start_contributors(tmp: Path, grads: list[Any], key_files: list[Path], *args: Any
                       ) -> list[subprocess.Popen[str]]:
    """One `market do contribute ARGS --gradient gJ.npy --key-file KEY_J` process per gradient
    (saved as tmp/gJ.npy), output captured."""
    import numpy as np

    procs = []
    for j, g in enumerate(grads):
        np.save(tmp / f"g{j}.npy", g)
        procs.append(subprocess.Popen(
            _cmd("market", "do", "contribute", *args, "--gradient", tmp / f"g{j}.npy",
                 "--key-file", key_files[j]), cwd=tmp, env=_env(), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True))
    return procs


def _run(*args: Any, cwd: Path) -> str:
    p = subprocess.run(_cmd(*args), cwd=cwd, env=_env(), capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, f"{args[:3]} exited {p.returncode}: {p.stderr[-2000:]}"
    return p.stdout


class Daemon:
    """One `market server run` process; its stderr is kept."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.proc = subprocess.Popen(args, cwd=cwd, env=_env(), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.err: list[str] = []
        self.ready = threading.Event()
        self._pumps = [threading.Thread(target=self._pump_err, daemon=True),
                       threading.Thread(target=self._pump_out, daemon=True)]
        for t in self._pumps:
            t.start()

    def drain(self, timeout: float = 10.0) -> None:
        """After the process ended: wait until every line it wrote has been read."""
        for t in self._pumps:
            t.join(timeout)

    def _pump_out(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            if line.startswith("ready "):
                self.ready.set()

    def _pump_err(self) -> None:
        for line in self.proc.stderr:  # type: ignore[union-attr]
            self.err.append(line.rstrip())


def _wait(what: str, cond: Any, timeout: float, daemons: list[Daemon]) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = cond()
        if got:
            return got
        time.sleep(0.3)
    logs = "\n".join(line for d in daemons for line in d.err[-15:])
    raise AssertionError(f"timed out waiting for {what}; server logs:\n{logs}")
