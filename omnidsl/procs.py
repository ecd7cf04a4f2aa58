"""Child processes omnidsl starts (anvil, the solc-js server, proving servers): stop them by PID."""

from __future__ import annotations

import subprocess


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
