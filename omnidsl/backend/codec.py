"""The byte encodings of ``omnidsl.backend.base`` in pure Python: points (G1 x‖y, G2
x_c0‖x_c1‖y_c0‖y_c1, 32-byte LE coordinates < q, infinity = zeros), Fr vectors, int64 arrays,
coefficient limbs and CSR matrices.  One implementation for both backends and for the proving
code (``omnidsl.groth16.points`` re-exports the point helpers).

``g1_array``/``g2_array`` turn points into a point array, ``g1_list``/``g2_list`` a point array
into points.  Encoding checks coordinates < q (not the curve equation: the backends do that).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from omnidsl.backend.base import G1, G2
from omnidsl.field import Q, R

G1_BYTES = 64
G2_BYTES = 128


def _coord(v: Any, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"{what} must be an int, got {type(v).__name__}")
    if not 0 <= v < Q:
        raise ValueError(f"{what} is not < q")
    return v


def g1_to_bytes(p: G1) -> bytes:
    """G1 point (x, y) or None → 64 bytes (checks coordinates < q, not the curve equation)."""
    if p is None:
        return bytes(64)
    try:
        x, y = p
    except (TypeError, ValueError):
        raise ValueError("a G1 point is a pair (x, y) of ints or None") from None
    x, y = _coord(x, "G1 x coordinate"), _coord(y, "G1 y coordinate")
    if x == 0 and y == 0:
        raise ValueError("(0, 0) is not a G1 point (the point at infinity is None)")
    return x.to_bytes(32, "little") + y.to_bytes(32, "little")


def g1_from_bytes(b: bytes) -> G1:
    """64 bytes → (x, y) or None."""
    if len(b) != 64:
        raise ValueError(f"a G1 point is 64 bytes, got {len(b)}")
    if not any(b):
        return None
    return int.from_bytes(b[:32], "little"), int.from_bytes(b[32:], "little")


def g2_to_bytes(p: G2) -> bytes:
    """G2 point ((x_c0, x_c1), (y_c0, y_c1)) or None → 128 bytes (coordinates < q checked)."""
    if p is None:
        return bytes(128)
    try:
        (a, b), (c, d) = p
    except (TypeError, ValueError):
        raise ValueError("a G2 point is ((x_c0, x_c1), (y_c0, y_c1)) of ints or None") from None
    cs = [_coord(v, "G2 coordinate") for v in (a, b, c, d)]
    if not any(cs):
        raise ValueError("all-zero coordinates are not a G2 point (infinity is None)")
    return b"".join(v.to_bytes(32, "little") for v in cs)


def g2_from_bytes(b: bytes) -> G2:
    """128 bytes → ((x_c0, x_c1), (y_c0, y_c1)) or None."""
    if len(b) != 128:
        raise ValueError(f"a G2 point is 128 bytes, got {len(b)}")
    if not any(b):
        return None
    v = [int.from_bytes(b[i : i + 32], "little") for i in range(0, 128, 32)]
    return (v[0], v[1]), (v[2], v[3])


def g1_list(b: bytes) -> list[G1]:
    """G1 point array bytes → list of points (no curve check)."""
    if len(b) % 64:
        raise ValueError(f"G1 point array length {len(b)} is not a multiple of 64")
    return [g1_from_bytes(b[i : i + 64]) for i in range(0, len(b), 64)]


def g1_array(points: Sequence[G1]) -> bytes:
    """G1 points → a G1 point array (each encoded by :func:`g1_to_bytes`)."""
    return b"".join(g1_to_bytes(p) for p in points)


def g2_list(b: bytes) -> list[G2]:
    """G2 point array bytes → list of points (no curve check)."""
    if len(b) % 128:
        raise ValueError(f"G2 point array length {len(b)} is not a multiple of 128")
    return [g2_from_bytes(b[i : i + 128]) for i in range(0, len(b), 128)]


def g2_array(points: Sequence[G2]) -> bytes:
    """G2 points → a G2 point array."""
    return b"".join(g2_to_bytes(p) for p in points)


def fr_list(b: bytes, what: str = "field vector") -> list[int]:
    """n*32 bytes → ints, each checked < r."""
    if len(b) % 32:
        raise ValueError(f"{what}: length {len(b)} is not a multiple of 32")
    out = [int.from_bytes(b[i : i + 32], "little") for i in range(0, len(b), 32)]
    for i, v in enumerate(out):
        if v >= R:
            raise ValueError(f"{what}: element #{i} is not < r")
    return out


def fr_bytes(vals: Sequence[int]) -> bytes:
    return b"".join((v % R).to_bytes(32, "little") for v in vals)


def i64_bytes(a: Any, what: str) -> bytes:
    """A 1-D integer array (numpy or sequence) → little-endian int64 bytes."""
    arr = np.asarray(a)
    if arr.ndim != 1 or not (arr.size == 0 or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{what} must be a 1-D integer array")
    return np.ascontiguousarray(arr, dtype="<i8").tobytes()


def u32_bytes(a: Any) -> bytes:
    """A 1-D array of non-negative integers < 2^32 → little-endian uint32 bytes."""
    arr = np.asarray(a)
    if arr.ndim != 1 or not (arr.size == 0 or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError("coefficient ids must be a 1-D integer array")
    if arr.size and (arr.min() < 0 or int(arr.max()) >= 1 << 32):
        raise ValueError("coefficient ids must be in 0..2^32 - 1")
    return np.ascontiguousarray(arr, dtype="<u4").tobytes()


def coeff_bytes(c: Any) -> bytes:
    """Coefficients as (nnz, 4) uint64 limbs (or already nnz*32 bytes) → bytes."""
    if isinstance(c, bytes | bytearray | memoryview):
        return bytes(c)
    arr = np.asarray(c)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"coefficient limbs must have shape (nnz, 4), got {arr.shape}")
    return np.ascontiguousarray(arr, dtype="<u8").tobytes()


def csr_arrays(
    row_ptr: Any, idx: Any, coeff_limbs: Any, ncols: int
) -> tuple[list[int], list[int], list[int]]:
    """Validate a CSR matrix (same rules as the native kernel) → (row_ptr, idx, coeffs) lists."""
    rp = np.frombuffer(i64_bytes(row_ptr, "row_ptr"), dtype="<i8").tolist()
    ix = np.frombuffer(i64_bytes(idx, "idx"), dtype="<i8").tolist()
    cs = fr_list(coeff_bytes(coeff_limbs), "coefficients")
    if not rp:
        raise ValueError("row_ptr must have at least one entry (0)")
    if rp[0] != 0:
        raise ValueError(f"row_ptr[0] must be 0, got {rp[0]}")
    for i in range(len(rp) - 1):
        if rp[i + 1] < rp[i]:
            raise ValueError(f"row_ptr decreases at row {i}")
    if rp[-1] != len(ix):
        raise ValueError(f"row_ptr ends at {rp[-1]} but there are {len(ix)} column indices")
    if len(cs) != len(ix):
        raise ValueError(f"{len(cs)} coefficients for {len(ix)} column indices")
    for k, c in enumerate(ix):
        if not 0 <= c < ncols:
            raise ValueError(f"column index {c} at entry {k} is out of range 0..{ncols}")
    return rp, ix, cs
