"""Child processes omnidsl starts (anvil, the solc-js server, proving servers): free ports for
them, stop them by PID, and turn SIGTERM into SystemExit so ``finally`` blocks stop them."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator


def free_ports(n: int) -> list[int]:
    """n distinct TCP ports on 127.0.0.1 that were free a moment ago."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


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


def stop_process(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Terminate ``proc`` (one we started), kill it if it ignores that for ``grace`` seconds,
    and reap it.  A process that already exited is only reaped."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=grace)


def stop_group(proc: subprocess.Popen, grace: float = 10.0, linger: float | None = None) -> None:
    """Stop ``proc`` and every process of the session it leads (it was started with
    ``start_new_session=True`` by us): a launcher such as npm's ``anvil`` shim spawns the real
    binary as a child, and stopping only the shim can leave that child holding its port.
    Members still running ``linger`` seconds (default ``grace``) after the leader are killed."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    stop_process(proc, grace)
    for sig in (signal.SIGTERM, signal.SIGKILL):  # the group outlives its leader until its
        deadline = time.monotonic() + (grace if linger is None else linger)  # last member exits
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except (ProcessLookupError, PermissionError):
                return
            time.sleep(0.02)
        if sig == signal.SIGTERM:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)


#: glibc mallopt parameters
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def tune_allocator(mmap_threshold: int = 1 << 25, trim_threshold: int = 1 << 30) -> bool:
    """Long-running provers (``omnidsl serve``): let glibc serve buffers up to 32 MiB from the
    heap and keep freed memory for the next session, instead of mapping and unmapping every
    multi-MB vector — each fresh mapping costs a page fault per 4 KiB (≈ 0.2 s of system time per
    proof at domain 2^18).  Returns False where there is no glibc (nothing changes)."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold) == 1
        return bool(libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold) == 1 and ok)
    except (OSError, AttributeError):
        return False
