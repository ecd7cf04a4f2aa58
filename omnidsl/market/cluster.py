"""The market's collaborative provers as real processes: N ``omnidsl serve`` servers on 127.0.0.1.

:class:`ServerCluster` writes a servers.toml (fresh X25519 keys, free ports, the rule's proving
key under ``[circuits]``), starts one ``omnidsl serve --bind-dir`` process per server and stops
exactly those processes (by PID) when closed — also on errors and Ctrl-C (use it as a context
manager).  Each server's bind directory is where its operator (the market ``Server`` role) pins
the aggregation shares it committed to; the process proves nothing else.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from omnidsl.errors import NetworkError
from omnidsl.market.chains import free_port
from omnidsl.mpc.config import ServersConfig, load_config, write_config

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0


def _die_with_parent() -> Callable[[], None] | None:
    """Linux: the server gets SIGTERM if the demo process dies without cleaning up (SIGKILL)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    pr_set_pdeathsig = 1

    def setup() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)

    return setup


@contextlib.contextmanager
def terminate_raises() -> Iterator[None]:
    """In the main thread: SIGTERM raises SystemExit, so ``finally`` blocks (stopping the
    servers) run as they do on Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


class ServerCluster:
    """N server processes for one demo run (see the module docstring)."""

    def __init__(self, directory: Path, n: int, circuits: dict[str, Path],
                 timeout: float = 60.0):
        self.dir = Path(directory)
        self.n = n
        ports: list[int] = []
        while len(ports) < n:
            p = free_port()
            if p not in ports:
                ports.append(p)
        self.config_path = write_config(self.dir, n, 0, circuits={k: str(v) for k, v in
                                                                  circuits.items()},
                                        timeout=timeout, ports=ports)
        self.cfg: ServersConfig = load_config(self.config_path)
        self.procs: dict[int, subprocess.Popen[str]] = {}
        self.logs: dict[int, list[str]] = {}

    def bind_dir(self, i: int) -> Path:
        """Where server i's operator pins the shares it committed to."""
        return self.dir / "pins" / f"server{i}"

    def start(self) -> ServerCluster:
        """Start every server and wait until each listens (NetworkError if one does not)."""
        try:
            for i in range(self.n):
                self._start_one(i)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_one(self, i: int) -> None:
        self.bind_dir(i).mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "omnidsl.cli", "serve", "--id", str(i), "--config",
               str(self.config_path), "--bind-dir", str(self.bind_dir(i))]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env,
                             preexec_fn=_die_with_parent())
        self.procs[i] = p
        self.logs[i] = []
        ready = threading.Event()

        def pump_out() -> None:
            for line in p.stdout:  # type: ignore[union-attr]
                if line.startswith(f"ready {i}"):
                    ready.set()

        def pump_err() -> None:
            for line in p.stderr:  # type: ignore[union-attr]
                self.logs[i].append(line.rstrip())
                del self.logs[i][:-200]

        threading.Thread(target=pump_out, daemon=True).start()
        threading.Thread(target=pump_err, daemon=True).start()
        if not ready.wait(START_TIMEOUT_S) or p.poll() is not None:
            tail = " | ".join(self.logs[i][-3:])
            raise NetworkError(f"server {i} did not start: {tail or 'no output'}",
                               hint="is the port free? run `omnidsl serve` by hand to see why")

    def log_tail(self, i: int, n: int = 5) -> list[str]:
        return list(self.logs.get(i, [])[-n:])

    def stop(self) -> None:
        """Terminate the processes this cluster started (by PID), killing any that hang."""
        for i in list(self.procs):
            p = self.procs.pop(i)
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(10)

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs.values()]

    def __enter__(self) -> ServerCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
