"""The market's collaborative provers as real processes: N ``omnidsl serve`` servers on 127.0.0.1.

:class:`ServerCluster` writes a servers.toml (fresh X25519 keys, free ports, the rule's proving
key under ``[circuits]``), starts one ``omnidsl serve --bind-dir`` process per server and stops
exactly those processes (by PID) when closed — also on errors and Ctrl-C (use it as a context
manager).  Each server's bind directory is where its operator (the market ``Server`` role) pins
the aggregation shares it committed to; the process proves nothing else.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

from omnidsl.mpc.cluster import ServerCluster as _Cluster


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


class ServerCluster(_Cluster):
    """The market's proving servers: each gets a bind directory for its operator's pins."""

    def __init__(self, directory: Path, n: int, circuits: dict[str, Path],
                 timeout: float = 60.0):
        super().__init__(directory, n, circuits, timeout, bind=True)
