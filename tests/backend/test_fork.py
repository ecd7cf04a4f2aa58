"""The native module keeps working in a child created by fork() after the parent used it."""

from __future__ import annotations

import multiprocessing as mp
import random

from omnidsl.field import R
from tests.backend.helpers import fr_bytes


def _child(pts: bytes, ks: list[int], logs: list[int], q: mp.Queue) -> None:
    from omnidsl.backend import get_backend

    be = get_backend("native")
    got = be.g1_msm(pts, fr_bytes(ks))
    expect = be.g1_mul(be.g1_generator(), sum(a * b for a, b in zip(logs, ks, strict=True)))
    q.put(got == expect and be.ifft(be.fft(fr_bytes(ks))) == fr_bytes(ks))


def test_parallel_kernels_after_fork(native) -> None:
    rng = random.Random(7)
    n = 4096
    logs = [rng.randrange(R) for _ in range(n)]
    pts = native.g1_batch_mul(native.g1_generator(), fr_bytes(logs))  # parent uses the pool
    ks = [rng.randrange(R) for _ in range(n)]
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    proc = ctx.Process(target=_child, args=(pts, ks, logs, q))
    proc.start()
    proc.join(timeout=120)
    alive = proc.is_alive()
    if alive:
        proc.kill()
    assert not alive, "native call hung in a forked child"
    assert proc.exitcode == 0 and q.get(timeout=5) is True
