"""Additive secret sharing over F_r, with N−1 shares compressed to 32-byte PRG seeds.

A value v ∈ F_r^n is shared among N parties as v = Σ_i v_i.  Parties 0..N−2 derive their share
from a seed (``prg.expand(seed_i, label, n)``, uniform), the last party gets the explicit
remainder v − Σ_{i<N−1} v_i.  Any N−1 shares are independent and uniform, whatever v is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from omnidsl import _native
from omnidsl.backend.base import Backend
from omnidsl.errors import ProofError
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


def split_ints(values: Sequence[int], n: int) -> list[list[int]]:
    """Additive shares over F_r of a vector of Python ints for ``n`` parties: N−1 uniform
    vectors (fresh CSPRNG seeds), the last the remainder (the market's aggregation shares)."""
    if n < 1:
        raise ValueError("need at least one share")
    vals = [int(v) % R for v in values]
    seeds = [prg.new_seed() for _ in range(n - 1)]
    streams = [prg.expand(s, b"ints", len(vals)) for s in seeds]  # once per seed, not per entry
    seeded = [[int.from_bytes(buf[32 * i:32 * i + 32], "little") for i in range(len(vals))]
              for buf in streams]
    last = [(v - sum(col)) % R for v, col in zip(vals, zip(*seeded, strict=True), strict=True)] \
        if seeded else vals
    return [*seeded, last]


# ---------------------------------------------------------------- bounded (statistical) masks
#
# A wire whose honest values satisfy |v| < 2^b (the compiler's width bound, R1CS.wire_bits) is
# shared with masks m_i uniform on [0, 2^(b+σ)) for the seeded parties; the last party gets
# v − Σ m_i.  Any N−1 parties miss one share: either a mask (then they see v − m_k + const,
# within statistical distance |v − v'|/2^(b+σ) ≤ 2^(1−σ) of the same view for any other value
# v'), or the last share (then they see masks only, independent of v).  With
# σ = STAT_SECURITY + 1 + ⌈log2 n_wires⌉ the whole view is within 2^−STAT_SECURITY of the view
# for any other witness.  Shares stay < 2^(b+σ+⌈log2 N⌉), so the servers' MSMs on them run
# over ≈ 64- or 128-bit scalars instead of 254-bit ones.  Wires with b + σ > 253 (or no bound)
# get uniform masks on F_r.

#: statistical security (bits) of bounded shares: views differ by at most 2^-STAT_SECURITY
STAT_SECURITY = 40


def mask_slack(n_wires: int) -> int:
    """σ: the extra bits of a bounded mask above the wire's width, for ``n_wires`` wires."""
    return STAT_SECURITY + 1 + max(1, n_wires - 1).bit_length()


def mask_widths(wire_bits: np.ndarray | None, n_wires: int, slack: int) -> np.ndarray:
    """The mask width of every wire (uint16): width + slack, or prg.MASK_UNIFORM (254) where
    that exceeds 253 or the wire has no bound (or ``wire_bits`` is None, or slack is 0)."""
    out = np.full(n_wires, prg.MASK_UNIFORM, dtype=np.uint16)
    if wire_bits is None or slack <= 0:
        return out
    b = np.asarray(wire_bits, dtype=np.int64).reshape(-1)
    if b.size != n_wires:
        raise ValueError(f"{b.size} wire widths for {n_wires} wires")
    w = b + slack
    ok = (b < prg.MASK_UNIFORM) & (w <= prg.MASK_UNIFORM - 1)
    out[ok] = w[ok]
    return out


def below_pow2(buf: bytes, bits: np.ndarray) -> np.ndarray:
    """Per element of the Fr vector ``buf``: is min(v, r − v) < 2^bits[i]? (bool array;
    bits ≥ 254 → always True).  ValueError for a non-canonical element."""
    b = np.clip(np.asarray(bits, dtype=np.int64).reshape(-1), 0, 256).astype("<u2")
    return np.frombuffer(_native.fr_below_pow2(buf, b.tobytes()), dtype=np.uint8).astype(bool)


def check_masked(witness_share: bytes, n_public_wires: int,
                 mask_bits: np.ndarray | None = None) -> None:
    """Refuse a witness "share" whose private wires are not masked (a server's guard).

    ``mask_bits``: the session's mask width per wire (:func:`mask_widths`; None = uniform
    masks everywhere).  A share of a wire with mask width w ≥ 40 has magnitude min(v, r − v) below
    2^(w−20) with probability about 2^−20 (uniform masks: below 2^128 with probability 2^−126),
    while a clear witness is full of bits and small fixed-point values.  More than
    4 + n/65536 such entries (expected: < 1) means the data owner sent (part of) its witness in
    the clear, which this server must never hold.
    """
    priv = witness_share[n_public_wires * 32:]
    n = len(priv) // 32
    if mask_bits is None:
        thresholds = np.full(n, 128, dtype=np.int64)
    else:
        w = np.asarray(mask_bits, dtype=np.int64)[n_public_wires:]
        thresholds = np.where(w >= 254, 128, np.maximum(w - 20, 0))
    small = below_pow2(priv, thresholds)
    if int(small.sum()) > 4 + n // 65536:
        raise ProofError(
            f"refusing the session: {int(small.sum())} private witness entries are not masked",
            hint="the data owner must send additive shares, never the clear witness",
        )
