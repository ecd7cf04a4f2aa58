"""BN254 constants and vectorised conversions between integers and field-element encodings.

Canonical encoding used across module boundaries (Python ↔ Rust, files): a field element is 32
bytes little-endian in standard (non-Montgomery) form, value in [0, r).  A vector of n elements is
``n*32`` bytes, or equivalently a numpy array of shape (n, 4) dtype ``<u8`` (little-endian limbs).
Signed integers are embedded as x mod r (negatives become r − |x|).
"""

from __future__ import annotations

import numpy as np

#: BN254 (alt_bn128) scalar field order r.
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
#: BN254 base field order q.
Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583
#: Bytes of one encoded element (both fields).
FR_BYTES = 32

_R_LIMBS = np.array([(R >> (64 * i)) & ((1 << 64) - 1) for i in range(4)], dtype=np.uint64)


def int_to_bytes(x: int) -> bytes:
    """Encode an integer (any sign) as its canonical 32-byte little-endian residue mod r."""
    return (x % R).to_bytes(FR_BYTES, "little")


def signed(x: int) -> int:
    """The representative of x mod r in (−r/2, r/2]: field value → signed integer."""
    x %= R
    return x - R if x > R // 2 else x


def ints_to_limbs(values: list[int] | np.ndarray) -> np.ndarray:
    """Python ints (any sign, any size) → (n, 4) uint64 canonical limbs. Not for hot paths."""
    out = np.zeros((len(values), 4), dtype=np.uint64)
    buf = b"".join(int_to_bytes(int(v)) for v in values)
    if buf:
        out[:] = np.frombuffer(buf, dtype="<u8").reshape(-1, 4)
    return out


def limbs_to_ints(limbs: np.ndarray) -> list[int]:
    """(n, 4) uint64 limbs → Python ints in [0, r)."""
    raw = np.ascontiguousarray(limbs, dtype="<u8").tobytes()
    return [int.from_bytes(raw[i : i + 32], "little") for i in range(0, len(raw), 32)]


def int64_to_limbs(values: np.ndarray) -> np.ndarray:
    """Vectorised: int64 array (any sign) → (n, 4) uint64 canonical limbs of x mod r."""
    v = np.asarray(values, dtype=np.int64)
    out = np.zeros((v.shape[0], 4), dtype=np.uint64)
    neg = v < 0
    mag = np.abs(v).astype(np.uint64)  # |INT64_MIN| wraps to 2^63 as uint64, which is exact
    out[~neg, 0] = mag[~neg]
    if neg.any():
        # r − |x| with borrow propagation across the four limbs.
        m = mag[neg]
        low = _R_LIMBS[0] - m
        borrow = (m > _R_LIMBS[0]).astype(np.uint64)
        sub = np.empty((m.shape[0], 4), dtype=np.uint64)
        sub[:, 0] = low
        for i in range(1, 4):
            sub[:, i] = _R_LIMBS[i] - borrow
            borrow = ((_R_LIMBS[i] == 0) & (borrow == 1)).astype(np.uint64)
        out[neg] = sub
    return out


def limbs_to_bytes(limbs: np.ndarray) -> bytes:
    """(n, 4) limbs → n*32 bytes (the cross-boundary vector encoding)."""
    return np.ascontiguousarray(limbs, dtype="<u8").tobytes()


def bytes_to_limbs(buf: bytes, check: bool = True) -> np.ndarray:
    """n*32 bytes → (n, 4) limbs; with ``check`` every element must be < r (ValueError otherwise)."""
    if len(buf) % FR_BYTES:
        raise ValueError(f"field vector length {len(buf)} is not a multiple of 32")
    limbs = np.frombuffer(buf, dtype="<u8").reshape(-1, 4).copy()
    if check and limbs.size:
        bad = ~limbs_lt_r(limbs)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"field element #{i} is not < r")
    return limbs


def limbs_lt_r(limbs: np.ndarray) -> np.ndarray:
    """Vectorised x < r for (n, 4) limbs (lexicographic from the top limb)."""
    lt = np.zeros(limbs.shape[0], dtype=bool)
    eq = np.ones(limbs.shape[0], dtype=bool)
    for i in (3, 2, 1, 0):
        lt |= eq & (limbs[:, i] < _R_LIMBS[i])
        eq &= limbs[:, i] == _R_LIMBS[i]
    return lt
