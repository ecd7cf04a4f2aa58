"""Native backend: a thin layer over the Rust module ``omnidsl._native`` (arkworks).

Whole vectors cross the boundary as bytes.  Point arrays given as bytes are always validated
(on the curve; G2 also in the r-torsion subgroup); ``load_g1``/``load_g2``/``*_sparse_combine``/
``*_array_scale`` accept ``unchecked=True`` for data omnidsl produced itself (its proving key),
which skips the curve/subgroup checks (coordinates are still checked < q).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from omnidsl import _native
from omnidsl.backend.base import G1, G2
from omnidsl.backend.codec import (
    coeff_bytes,
    g1_from_bytes,
    g1_to_bytes,
    g2_from_bytes,
    g2_to_bytes,
    i64_bytes,
    u32_bytes,
)
from omnidsl.field import R

__all__ = ["G1Bases", "G2Bases", "NativeBackend"]

G1Bases = _native.G1Bases
G2Bases = _native.G2Bases

_BYTES = bytes | bytearray | memoryview


def _k(k: int) -> bytes:
    """Any Python int → its residue mod r as 32 bytes LE."""
    if isinstance(k, bool) or not hasattr(k, "__index__"):
        raise ValueError(f"scalar must be an int, got {type(k).__name__}")
    return (int(k) % R).to_bytes(32, "little")


class NativeBackend:
    """The Backend protocol on ``omnidsl._native``."""

    name = "native"

    # ---- Fr vectors
    def fr_add(self, a: bytes, b: bytes) -> bytes:
        return _native.fr_add(a, b)

    def fr_sub(self, a: bytes, b: bytes) -> bytes:
        return _native.fr_sub(a, b)

    def fr_mul(self, a: bytes, b: bytes) -> bytes:
        return _native.fr_mul(a, b)

    def fr_scale(self, a: bytes, k: int) -> bytes:
        return _native.fr_scale(a, _k(k))

    def fr_inv(self, a: bytes) -> bytes:
        """Elementwise inverse (batch inversion; ValueError on a zero element)."""
        return _native.fr_inv(a)

    def fr_random(self, n: int) -> bytes:
        if n < 0:
            raise ValueError("negative length")
        return _native.fr_from_wide(os.urandom(64 * n))

    # ---- FFTs
    def fft(self, values: bytes) -> bytes:
        return _native.fft(values)

    def ifft(self, values: bytes) -> bytes:
        return _native.ifft(values)

    def coset_fft(self, values: bytes) -> bytes:
        return _native.coset_fft(values)

    def coset_ifft(self, values: bytes) -> bytes:
        return _native.coset_ifft(values)

    # ---- sparse
    def sparse_matvec(self, row_ptr: Any, wire: Any, coeff_limbs: Any, z: bytes) -> bytes:
        return _native.sparse_matvec(
            i64_bytes(row_ptr, "row_ptr"), i64_bytes(wire, "wire"), coeff_bytes(coeff_limbs), z
        )

    def sparse_matvec_table(self, row_ptr: Any, wire: Any, coeff_id: Any, table: bytes,
                            z: bytes) -> bytes:
        return _native.sparse_matvec_table(
            i64_bytes(row_ptr, "row_ptr"), i64_bytes(wire, "wire"), u32_bytes(coeff_id), table, z
        )

    def g1_sparse_combine(
        self, row_ptr: Any, idx: Any, coeff_limbs: Any, points: bytes, *, unchecked: bool = False
    ) -> bytes:
        return _native.g1_sparse_combine(
            i64_bytes(row_ptr, "row_ptr"), i64_bytes(idx, "idx"), coeff_bytes(coeff_limbs),
            points, unchecked,
        )  # fmt: skip

    def g2_sparse_combine(
        self, row_ptr: Any, idx: Any, coeff_limbs: Any, points: bytes, *, unchecked: bool = False
    ) -> bytes:
        return _native.g2_sparse_combine(
            i64_bytes(row_ptr, "row_ptr"), i64_bytes(idx, "idx"), coeff_bytes(coeff_limbs),
            points, unchecked,
        )  # fmt: skip

    # ---- bases kept in Rust memory
    def load_g1(self, points: bytes, *, unchecked: bool = False) -> _native.G1Bases:
        return _native.G1Bases(points, unchecked)

    def load_g2(self, points: bytes, *, unchecked: bool = False) -> _native.G2Bases:
        return _native.G2Bases(points, unchecked)

    # ---- MSM (len(scalars) ≤ len(bases); the first len(scalars) bases are used)
    def g1_msm(self, bases: Any, scalars: bytes) -> G1:
        if isinstance(bases, _BYTES):
            bases = _native.G1Bases(bytes(bases))
        if not isinstance(bases, _native.G1Bases):
            raise ValueError("g1_msm: bases must be point-array bytes or a load_g1 handle")
        return g1_from_bytes(_native.g1_msm(bases, scalars))

    def g2_msm(self, bases: Any, scalars: bytes) -> G2:
        if isinstance(bases, _BYTES):
            bases = _native.G2Bases(bytes(bases))
        if not isinstance(bases, _native.G2Bases):
            raise ValueError("g2_msm: bases must be point-array bytes or a load_g2 handle")
        return g2_from_bytes(_native.g2_msm(bases, scalars))

    # ---- batches
    def g1_batch_mul(self, base: G1, scalars: bytes) -> bytes:
        return _native.g1_batch_mul(g1_to_bytes(base), scalars)

    def g2_batch_mul(self, base: G2, scalars: bytes) -> bytes:
        return _native.g2_batch_mul(g2_to_bytes(base), scalars)

    def g1_array_scale(self, points: bytes, k: int, *, unchecked: bool = False) -> bytes:
        return _native.g1_array_scale(points, _k(k), unchecked)

    def g2_array_scale(self, points: bytes, k: int, *, unchecked: bool = False) -> bytes:
        """Every point of a G2 point array times k."""
        return _native.g2_array_scale(points, _k(k), unchecked)

    # ---- single points
    def g1_add(self, p: G1, q: G1) -> G1:
        return g1_from_bytes(_native.g1_add(g1_to_bytes(p), g1_to_bytes(q)))

    def g1_neg(self, p: G1) -> G1:
        return g1_from_bytes(_native.g1_neg(g1_to_bytes(p)))

    def g1_mul(self, p: G1, k: int) -> G1:
        return g1_from_bytes(_native.g1_mul(g1_to_bytes(p), _k(k)))

    def g2_add(self, p: G2, q: G2) -> G2:
        return g2_from_bytes(_native.g2_add(g2_to_bytes(p), g2_to_bytes(q)))

    def g2_neg(self, p: G2) -> G2:
        return g2_from_bytes(_native.g2_neg(g2_to_bytes(p)))

    def g2_mul(self, p: G2, k: int) -> G2:
        return g2_from_bytes(_native.g2_mul(g2_to_bytes(p), _k(k)))

    def g1_generator(self) -> G1:
        return g1_from_bytes(_native.g1_generator())

    def g2_generator(self) -> G2:
        return g2_from_bytes(_native.g2_generator())

    # ---- validation (never raises)
    def g1_is_valid(self, p: G1) -> bool:
        try:
            return _native.g1_is_valid(g1_to_bytes(p))
        except ValueError:
            return False

    def g2_is_valid(self, p: G2) -> bool:
        try:
            return _native.g2_is_valid(g2_to_bytes(p))
        except ValueError:
            return False

    # ---- pairing
    def pairing_check(self, pairs: Sequence[tuple[G1, G2]]) -> bool:
        g1 = b"".join(g1_to_bytes(p) for p, _ in pairs)
        g2 = b"".join(g2_to_bytes(q) for _, q in pairs)
        return _native.pairing_check(g1, g2)
