"""N ``omnidsl serve`` processes on 127.0.0.1, started and stopped (by PID) together.

:class:`ServerCluster` writes a servers.toml (fresh X25519 keys, free ports, the proving keys
under ``[circuits]``), starts one server process per id, waits until each prints ``ready I``, and
stops exactly the processes it started — on ``stop()``, on leaving the ``with`` block, and (Linux)
when the parent dies.  The market demo, the tests and ``benchmarks/mpc_bench.py`` share it.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from omnidsl.errors import NetworkError
from omnidsl.mpc import frames
from omnidsl.mpc.config import Limits, ServersConfig, load_config, write_config
from omnidsl.mpc.schemes import DEFAULT_SCHEME
from omnidsl.procs import free_ports, stop_process

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0
LOG_LINES = 200


def _die_with_parent() -> Callable[[], None] | None:
    """Linux: the server gets SIGTERM if its parent dies without cleaning up (SIGKILL)."""
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


class ServerCluster:
    """N server processes for one run (see the module docstring)."""

    def __init__(self, directory: Path, n: int, circuits: dict[str, Path], timeout: float = 60.0,
                 *, record: bool = False, max_frame: int | None = None, bind: bool = False,
                 threads: int | None = None, limits: Limits | None = None,
                 scheme: str = DEFAULT_SCHEME, scheme_params: dict[str, int | str] | None = None):
        self.dir = Path(directory)
        self.n = n
        #: worker threads per server: the N servers share this host's cores, so by default each
        #: gets cores // N (at least 1) instead of oversubscribing them N times
        self.threads = threads or max(1, (os.cpu_count() or 1) // n)
        self.config_path = write_config(self.dir, n, 0,
                                        circuits={k: str(v) for k, v in circuits.items()},
                                        timeout=timeout, ports=free_ports(n), limits=limits,
                                        force=True, scheme=scheme,
                                        scheme_params=scheme_params,
                                        max_frame=(frames.DEFAULT_MAX_FRAME if max_frame is None
                                                   else max_frame))
        self.cfg: ServersConfig = load_config(self.config_path)
        self.record_dir = self.dir / "records" if record else None
        if self.record_dir:
            self.record_dir.mkdir(parents=True, exist_ok=True)
        self.bind = bind
        self.procs: dict[int, subprocess.Popen[str]] = {}
        self.logs: dict[int, list[str]] = {}

    def bind_dir(self, i: int) -> Path:
        """Where server i's operator pins the shares it committed to (``--bind-dir``)."""
        return self.dir / "pins" / f"server{i}"

    def start_server(self, i: int, *extra: str,
                     entry: Sequence[str] = ("omnidsl.cli", "serve")) -> None:
        """Start server i (extra CLI arguments appended) and wait until it listens; ``entry``:
        the module run with ``python -m`` and its leading arguments (tests start a faulty
        server module with the same options)."""
        # -v: the servers' INFO lines (listening, each session done) land in ``self.logs``
        cmd = [sys.executable, "-m", *entry, "-v", "--id", str(i), "--config",
               str(self.config_path), "--threads", str(self.threads), *extra]
        if self.record_dir:
            cmd += ["--record-dir", str(self.record_dir)]
        if self.bind:
            self.bind_dir(i).mkdir(parents=True, exist_ok=True)
            cmd += ["--bind-dir", str(self.bind_dir(i))]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
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
                del self.logs[i][:-LOG_LINES]

        threading.Thread(target=pump_out, daemon=True).start()
        threading.Thread(target=pump_err, daemon=True).start()
        if not ready.wait(START_TIMEOUT_S) or p.poll() is not None:
            tail = " | ".join(self.logs[i][-3:])
            raise NetworkError(f"server {i} did not start: {tail or 'no output'}",
                               hint="is the port free? run `omnidsl serve` by hand to see why")
        log.info("server %d started (pid %d, %s)", i, p.pid, self.config_path)

    def start_all(self, extra: dict[int, list[str]] | None = None) -> ServerCluster:
        """Start every server not already running (all are stopped again if one fails)."""
        try:
            for i in range(self.n):
                if i not in self.alive():
                    self.start_server(i, *(extra or {}).get(i, []))
        except BaseException:
            self.stop()
            raise
        return self

    def kill(self, i: int) -> None:
        """SIGKILL server i (fault tests)."""
        p = self.procs.pop(i, None)
        if p is not None:
            if p.poll() is None:
                p.kill()
            p.wait(10)

    def wait_exit(self, i: int, timeout: float = 30) -> int:
        return self.procs[i].wait(timeout)

    def alive(self) -> list[int]:
        return [i for i, p in self.procs.items() if p.poll() is None]

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs.values()]

    def log_tail(self, i: int, n: int = 5) -> list[str]:
        return list(self.logs.get(i, [])[-n:])

    def stop(self) -> None:
        """Stop the processes this cluster started (by PID), killing any that hang."""
        for i in list(self.procs):
            stop_process(self.procs.pop(i))

    def __enter__(self) -> ServerCluster:
        return self.start_all()

    def __exit__(self, *exc: object) -> None:
        self.stop()
