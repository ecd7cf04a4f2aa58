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
