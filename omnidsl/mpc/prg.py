"""The seed-expanding PRG used to compress additive shares.

Definition (normative; every implementation must reproduce it bit for bit):

    stream(seed, label) = SHAKE-256(b"omnidsl-mpc-prg/v1" ‖ u8(len(label)) ‖ label ‖ seed)

read as consecutive 32-byte little-endian candidates c_0, c_1, ...  Each candidate has its top two
bits cleared (c & (2^254 − 1)) and is *accepted* iff it is < r (acceptance ≈ 0.756).  The k-th
field element of ``expand(seed, label, n)`` is the k-th accepted candidate.  Rejection sampling
makes every output exactly uniform on F_r (no modular bias); SHAKE's output is prefix-consistent,
so asking for a longer stream never changes earlier elements.

Bounded masks (normative too): ``expand_masked(seed, label, widths)`` takes candidate i of
``stream(seed, label)`` and clears every bit from bit widths[i] up (uniform on [0, 2^w)); entries
of width 254 come instead, in order, from ``expand(seed, label ‖ b"/uniform", count)``.

``seed`` is 32 bytes from the OS CSPRNG (:func:`new_seed`); ``label`` separates the streams derived
from one seed (``b"witness"``, ``b"triple/x/0"``, ...).  Vectorised with numpy: no Python object
per element.
"""

from __future__ import annotations

import hashlib
import secrets

import numpy as np

from omnidsl.field import FR_BYTES, R, bytes_to_limbs, limbs_lt_r

SEED_BYTES = 32
#: a mask width meaning "uniform on F_r" (see :func:`expand_masked`)
MASK_UNIFORM = 254
_DOMAIN = b"omnidsl-mpc-prg/v1"
_TOP_MASK = np.uint64((1 << 62) - 1)  # clears bits 254, 255 of the top limb


def new_seed() -> bytes:
    """A fresh 32-byte seed from the OS CSPRNG."""
    return secrets.token_bytes(SEED_BYTES)


def _xof(seed: bytes, label: bytes) -> hashlib._Hash:  # type: ignore[name-defined]
    if len(seed) != SEED_BYTES:
        raise ValueError(f"PRG seed must be {SEED_BYTES} bytes, got {len(seed)}")
    if len(label) > 255:
        raise ValueError("PRG label longer than 255 bytes")
    h = hashlib.shake_256()
    h.update(_DOMAIN + bytes([len(label)]) + label + seed)
    return h


def expand(seed: bytes, label: bytes, n: int) -> bytes:
    """n uniform field elements (n*32 bytes, canonical LE) derived from (seed, label)."""
    if n < 0:
        raise ValueError("negative length")
    if n == 0:
        _xof(seed, label)  # still validates the arguments
        return b""
    xof = _xof(seed, label)
    # Expected need n/0.756 candidates; over-ask so that a second squeeze is very rare.
    want = n + n // 3 + 64
    while True:
        raw = xof.digest(want * FR_BYTES)
        limbs = np.frombuffer(raw, dtype="<u8").reshape(-1, 4).copy()
        limbs[:, 3] &= _TOP_MASK
        ok = limbs_lt_r(limbs)
        accepted = limbs[ok]
        if accepted.shape[0] >= n:
            return np.ascontiguousarray(accepted[:n], dtype="<u8").tobytes()
        want *= 2


def expand_masked(seed: bytes, label: bytes, widths: np.ndarray) -> bytes:
    """One field element per entry of ``widths`` (uint16, each ≤ 253 or = 254), n*32 bytes.

    Entry i with widths[i] = w ≤ 253 is candidate i of ``stream(seed, label)`` (32 bytes LE) with
    every bit from bit w up cleared: exactly uniform on [0, 2^w).  Entries with widths[i] = 254
    are, in order, the elements of ``expand(seed, label ‖ b"/uniform", count)`` (uniform on F_r).
    """
    widths = np.asarray(widths, dtype=np.int64).reshape(-1)
    n = widths.size
    if n and (widths.min() < 0 or widths.max() > MASK_UNIFORM):
        raise ValueError(f"mask widths must be in 0..{MASK_UNIFORM}")
    if n and widths.min() == MASK_UNIFORM:
        return expand(seed, label + b"/uniform", n)
    limbs = np.frombuffer(_xof(seed, label).digest(n * FR_BYTES), dtype="<u8").reshape(n, 4).copy()
    for k in range(4):  # keep bits [64k, 64k+64) ∩ [0, w)
        keep = np.clip(widths - 64 * k, 0, 64)
        mask = np.where(keep >= 64, np.uint64(2**64 - 1),
                        (np.uint64(1) << keep.astype(np.uint64)) - np.uint64(1))
        limbs[:, k] &= mask
    uniform = np.nonzero(widths == MASK_UNIFORM)[0]
    if uniform.size:
        full = expand(seed, label + b"/uniform", int(uniform.size))
        limbs[uniform] = np.frombuffer(full, dtype="<u8").reshape(-1, 4)
    return np.ascontiguousarray(limbs, dtype="<u8").tobytes()


def expand_scalar(seed: bytes, label: bytes) -> int:
    """One uniform field element from (seed, label), as an int."""
    return int.from_bytes(expand(seed, label, 1), "little")


def check_elements(buf: bytes) -> None:
    """Raise ValueError unless ``buf`` is a vector of canonical field elements."""
    bytes_to_limbs(buf, check=True)


assert R < (1 << 254)
