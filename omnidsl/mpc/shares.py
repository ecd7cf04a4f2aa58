"""Additive secret sharing over F_r, with N−1 shares compressed to 32-byte PRG seeds.

A value v ∈ F_r^n is shared among N parties as v = Σ_i v_i.  Parties 0..N−2 derive their share
from a seed (``prg.expand(seed_i, label, n)``, uniform), the last party gets the explicit
remainder v − Σ_{i<N−1} v_i.  Any N−1 shares are independent and uniform, whatever v is.
"""

from __future__ import annotations

from collections.abc import Sequence

from omnidsl.backend.base import Backend
from omnidsl.field import FR_BYTES, R
from omnidsl.mpc import prg


def seeded_share(seed: bytes, label: bytes, n: int) -> bytes:
    """A seed-derived share (n field elements)."""
    return prg.expand(seed, label, n)


def last_share(backend: Backend, value: bytes, seeded: Sequence[bytes]) -> bytes:
    """The explicit share that makes the shares sum to ``value``."""
    out = value
    for s in seeded:
        if len(s) != len(value):
            raise ValueError("share lengths differ")
        out = backend.fr_sub(out, s)
    return out


def split(backend: Backend, value: bytes, seeds: Sequence[bytes], label: bytes) -> list[bytes]:
    """All N shares of ``value`` (len(seeds) = N−1 seeds; the last share explicit)."""
    n = len(value) // FR_BYTES
    seeded = [seeded_share(s, label, n) for s in seeds]
    return [*seeded, last_share(backend, value, seeded)]


def reconstruct(backend: Backend, shares: Sequence[bytes]) -> bytes:
    """Σ shares (elementwise)."""
    if not shares:
        raise ValueError("no shares")
    out = shares[0]
    for s in shares[1:]:
        out = backend.fr_add(out, s)
    return out


def split_scalar(value: int, seeds: Sequence[bytes], label: bytes) -> list[int]:
    """Shares of one scalar: seeded for all but the last party."""
    seeded = [prg.expand_scalar(s, label) for s in seeds]
    return [*seeded, (value - sum(seeded)) % R]
