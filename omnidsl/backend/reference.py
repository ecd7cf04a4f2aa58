"""Reference backend: py-ecc (``optimized_bn128``) and a pure-Python NTT.

Slow but simple; it is the oracle the native backend is tested against.  Encodings are those of
``omnidsl.backend.base`` (``omnidsl.backend.codec``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from py_ecc.optimized_bn128 import FQ, FQ2, FQ12
from py_ecc.optimized_bn128 import optimized_curve as oc
from py_ecc.optimized_bn128 import optimized_pairing as op

from omnidsl.backend.base import COSET_SHIFT, G1, G2, TWO_ADIC_ROOT, TWO_ADICITY
from omnidsl.backend.codec import (
    csr_arrays,
    fr_bytes,
    fr_list,
    g1_list,
    g1_to_bytes,
    g2_list,
    g2_to_bytes,
)
from omnidsl.field import R

__all__ = ["ReferenceBackend"]

def _scalar(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise ValueError(f"scalar must be an int, got {type(k).__name__}")
    return int(k) % R


# ------------------------------------------------------------------ py-ecc conversions

_Pt = tuple[Any, Any, Any]


def _j1(p: G1, check: bool = True) -> _Pt:
    g1_to_bytes(p)  # type/range validation
    if p is None:
        return oc.Z1
    pt = (FQ(p[0]), FQ(p[1]), FQ.one())
    if check and not oc.is_on_curve(pt, oc.b):
        raise ValueError("G1 point is not on the curve")
    return pt


def _j2(p: G2, check: bool = True) -> _Pt:
    g2_to_bytes(p)
    if p is None:
        return oc.Z2
    pt = (FQ2(list(p[0])), FQ2(list(p[1])), FQ2.one())
    if check:
        if not oc.is_on_curve(pt, oc.b2):
            raise ValueError("G2 point is not on the twist curve")
        if not oc.is_inf(oc.multiply(pt, R)):
            raise ValueError("G2 point is not in the r-torsion subgroup")
    return pt


def _a1(pt: _Pt) -> G1:
    if oc.is_inf(pt):
        return None
    x, y = oc.normalize(pt)
    return int(x.n), int(y.n)


def _a2(pt: _Pt) -> G2:
    if oc.is_inf(pt):
        return None
    x, y = oc.normalize(pt)
    return (int(x.coeffs[0]), int(x.coeffs[1])), (int(y.coeffs[0]), int(y.coeffs[1]))


def _pow2_len(vals: list[int]) -> int:
    n = len(vals)
    if n == 0 or n & (n - 1):
        raise ValueError(f"FFT size {n} is not a power of two")
    if n.bit_length() - 1 > TWO_ADICITY:
        raise ValueError(f"FFT size {n} exceeds 2^{TWO_ADICITY}")
    return n


def _ntt(vals: list[int], w: int) -> list[int]:
    """Iterative radix-2 NTT: out[i] = Σ_j vals[j]·w^(ij)."""
    n = len(vals)
    a = list(vals)
    j = 0
    for i in range(1, n):  # bit reversal permutation
        bit = n >> 1
        while j & bit:
            j ^= bit
            bit >>= 1
        j |= bit
        if i < j:
            a[i], a[j] = a[j], a[i]
    size = 2
    while size <= n:
        wm = pow(w, n // size, R)
        half = size // 2
        for start in range(0, n, size):
            t = 1
            for k in range(start, start + half):
                u, v = a[k], a[k + half] * t % R
                a[k], a[k + half] = (u + v) % R, (u - v) % R
                t = t * wm % R
        size *= 2
    return a


def _root(n: int) -> int:
    return pow(TWO_ADIC_ROOT, 1 << (TWO_ADICITY - (n.bit_length() - 1)), R)


class ReferenceBackend:
    """The Backend protocol on py-ecc; exact and slow (the oracle)."""

    name = "reference"

    # ---- Fr vectors
    def _pair(self, a: bytes, b: bytes) -> tuple[list[int], list[int]]:
        if len(a) != len(b):
            raise ValueError(f"vector lengths differ: {len(a)} and {len(b)} bytes")
        return fr_list(a, "a"), fr_list(b, "b")

    def fr_add(self, a: bytes, b: bytes) -> bytes:
        x, y = self._pair(a, b)
        return fr_bytes([p + q for p, q in zip(x, y, strict=True)])

    def fr_sub(self, a: bytes, b: bytes) -> bytes:
        x, y = self._pair(a, b)
        return fr_bytes([p - q for p, q in zip(x, y, strict=True)])

    def fr_mul(self, a: bytes, b: bytes) -> bytes:
        x, y = self._pair(a, b)
        return fr_bytes([p * q for p, q in zip(x, y, strict=True)])

    def fr_scale(self, a: bytes, k: int) -> bytes:
        k = _scalar(k)
        return fr_bytes([p * k for p in fr_list(a, "a")])

    def fr_inv(self, a: bytes) -> bytes:
        """Elementwise inverse (ValueError on a zero element)."""
        x = fr_list(a, "a")
        for i, v in enumerate(x):
            if v == 0:
                raise ValueError(f"element #{i} is zero and has no inverse")
        return fr_bytes([pow(v, -1, R) for v in x])

    def fr_random(self, n: int) -> bytes:
        if n < 0:
            raise ValueError("negative length")
        raw = os.urandom(64 * n)
        return fr_bytes([int.from_bytes(raw[i : i + 64], "little") for i in range(0, len(raw), 64)])

    # ---- FFTs
    def fft(self, values: bytes) -> bytes:
        v = fr_list(values, "values")
        return fr_bytes(_ntt(v, _root(_pow2_len(v))))

    def ifft(self, values: bytes) -> bytes:
        v = fr_list(values, "values")
        n = _pow2_len(v)
        ninv = pow(n, -1, R)
        return fr_bytes([x * ninv for x in _ntt(v, pow(_root(n), -1, R))])

    def coset_fft(self, values: bytes) -> bytes:
        v = fr_list(values, "values")
        n = _pow2_len(v)
        g, s = 1, []
        for x in v:
            s.append(x * g % R)
            g = g * COSET_SHIFT % R
        return fr_bytes(_ntt(s, _root(n)))

    def coset_ifft(self, values: bytes) -> bytes:
        c = fr_list(self.ifft(values))
        ginv, g, out = pow(COSET_SHIFT, -1, R), 1, []
        for x in c:
            out.append(x * g)
            g = g * ginv % R
        return fr_bytes(out)

    # ---- sparse
    def sparse_matvec(self, row_ptr: Any, wire: Any, coeff_limbs: Any, z: bytes) -> bytes:
        zs = fr_list(z, "z")
        rp, ix, cs = csr_arrays(row_ptr, wire, coeff_limbs, len(zs))
        return fr_bytes(
            [sum(cs[k] * zs[ix[k]] for k in range(rp[r], rp[r + 1])) for r in range(len(rp) - 1)]
        )

    def sparse_matvec_table(self, row_ptr: Any, wire: Any, coeff_id: Any, table: bytes,
                            z: bytes) -> bytes:
        limbs = np.frombuffer(table, "<u8").reshape(-1, 4)
        ids = np.asarray(coeff_id, np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= limbs.shape[0]):
            raise ValueError(f"coefficient ids must be in 0..{limbs.shape[0] - 1}")
        return self.sparse_matvec(row_ptr, wire, limbs[ids], z)

    def _combine(self, row_ptr: Any, idx: Any, coeff_limbs: Any, pts: list[_Pt], zero: _Pt) -> list[_Pt]:
        rp, ix, cs = csr_arrays(row_ptr, idx, coeff_limbs, len(pts))
        out = []
        for r in range(len(rp) - 1):
            acc = zero
            for k in range(rp[r], rp[r + 1]):
                acc = oc.add(acc, oc.multiply(pts[ix[k]], cs[k]))
            out.append(acc)
        return out

    def g1_sparse_combine(
        self, row_ptr: Any, idx: Any, coeff_limbs: Any, points: bytes, *, unchecked: bool = False
    ) -> bytes:
        pts = [_j1(p, not unchecked) for p in g1_list(points)]
        out = self._combine(row_ptr, idx, coeff_limbs, pts, oc.Z1)
        return b"".join(g1_to_bytes(_a1(p)) for p in out)

    def g2_sparse_combine(
        self, row_ptr: Any, idx: Any, coeff_limbs: Any, points: bytes, *, unchecked: bool = False
    ) -> bytes:
        pts = [_j2(p, not unchecked) for p in g2_list(points)]
        out = self._combine(row_ptr, idx, coeff_limbs, pts, oc.Z2)
        return b"".join(g2_to_bytes(_a2(p)) for p in out)

    # ---- bases
    def load_g1(self, points: bytes, *, unchecked: bool = False) -> list[_Pt]:
        return [_j1(p, not unchecked) for p in g1_list(points)]

    def load_g2(self, points: bytes, *, unchecked: bool = False) -> list[_Pt]:
        return [_j2(p, not unchecked) for p in g2_list(points)]

    def _msm(self, bases: list[_Pt], scalars: bytes, zero: _Pt) -> _Pt:
        ks = fr_list(scalars, "scalars")
        if len(ks) > len(bases):
            raise ValueError(f"MSM: {len(ks)} scalars for only {len(bases)} bases")
        acc = zero
        for b, k in zip(bases, ks, strict=False):
            if k:
                acc = oc.add(acc, oc.multiply(b, k))
        return acc

    def g1_msm(self, bases: Any, scalars: bytes) -> G1:
        if isinstance(bases, bytes | bytearray | memoryview):
            bases = self.load_g1(bytes(bases))
        return _a1(self._msm(bases, scalars, oc.Z1))

    def g2_msm(self, bases: Any, scalars: bytes) -> G2:
        if isinstance(bases, bytes | bytearray | memoryview):
            bases = self.load_g2(bytes(bases))
        return _a2(self._msm(bases, scalars, oc.Z2))

    # ---- batches
    def g1_batch_mul(self, base: G1, scalars: bytes) -> bytes:
        b = _j1(base)
        return b"".join(g1_to_bytes(_a1(oc.multiply(b, k))) for k in fr_list(scalars, "scalars"))

    def g2_batch_mul(self, base: G2, scalars: bytes) -> bytes:
        b = _j2(base)
        return b"".join(g2_to_bytes(_a2(oc.multiply(b, k))) for k in fr_list(scalars, "scalars"))

    def g1_array_scale(self, points: bytes, k: int, *, unchecked: bool = False) -> bytes:
        k = _scalar(k)
        pts = [_j1(p, not unchecked) for p in g1_list(points)]
        return b"".join(g1_to_bytes(_a1(oc.multiply(p, k))) for p in pts)

    def g2_array_scale(self, points: bytes, k: int, *, unchecked: bool = False) -> bytes:
        """Every point of a G2 point array times k."""
        k = _scalar(k)
        pts = [_j2(p, not unchecked) for p in g2_list(points)]
        return b"".join(g2_to_bytes(_a2(oc.multiply(p, k))) for p in pts)

    # ---- single points
    def g1_add(self, p: G1, q: G1) -> G1:
        return _a1(oc.add(_j1(p), _j1(q)))

    def g1_neg(self, p: G1) -> G1:
        return _a1(oc.neg(_j1(p)))

    def g1_mul(self, p: G1, k: int) -> G1:
        return _a1(oc.multiply(_j1(p), _scalar(k)))

    def g2_add(self, p: G2, q: G2) -> G2:
        return _a2(oc.add(_j2(p), _j2(q)))

    def g2_neg(self, p: G2) -> G2:
        return _a2(oc.neg(_j2(p)))

    def g2_mul(self, p: G2, k: int) -> G2:
        return _a2(oc.multiply(_j2(p), _scalar(k)))

    def g1_generator(self) -> G1:
        return _a1(oc.G1)

    def g2_generator(self) -> G2:
        return _a2(oc.G2)

    # ---- validation
    def g1_is_valid(self, p: G1) -> bool:
        try:
            _j1(p)
        except ValueError:
            return False
        return True

    def g2_is_valid(self, p: G2) -> bool:
        try:
            _j2(p)
        except ValueError:
            return False
        return True

    # ---- pairing
    def pairing_check(self, pairs: Sequence[tuple[G1, G2]]) -> bool:
        acc = FQ12.one()
        for p, q in pairs:
            a, b = _j1(p), _j2(q)
            if oc.is_inf(a) or oc.is_inf(b):
                continue
            acc = acc * op.pairing(b, a, final_exponentiate=False)
        return bool(op.final_exponentiate(acc) == FQ12.one())
