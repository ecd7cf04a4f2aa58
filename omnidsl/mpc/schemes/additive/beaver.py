"""Beaver multiplication steps of the additive driver, on Fr vectors (n*32 bytes, backend/base.py).

With the native backend these call the fused kernels of ``native/src/beaver.rs``; any other
backend gets the same results from its elementwise ``fr_*`` operations.  Malformed parts raise
ValueError naming the party ("party j: …"), which the driver turns into a located NetworkError.
"""

from __future__ import annotations

from collections.abc import Sequence

from omnidsl import _native
from omnidsl.backend.base import Backend
from omnidsl.field import FR_BYTES, bytes_to_limbs


def _native_backend(backend: Backend) -> bool:
    return getattr(backend, "name", "") == "native"


def _checked(parts: Sequence[bytes], length: int) -> None:
    for j, part in enumerate(parts):
        if len(part) != length:
            raise ValueError(f"party {j}: {len(part)} bytes, expected {length}")
        try:
            bytes_to_limbs(part)
        except ValueError as exc:
            raise ValueError(f"party {j}: {exc}") from None


def fr_sum(backend: Backend, parts: Sequence[bytes]) -> bytes:
    """Σ parts (elementwise); ValueError naming party j for a part of the wrong length or with
    an element ≥ r."""
    if _native_backend(backend):
        return _native.fr_sum([bytes(p) for p in parts])
    if not parts:
        return b""
    _checked(parts, len(parts[0]))
    out = parts[0]
    for p in parts[1:]:
        out = backend.fr_add(out, p)
    return out


def mask(backend: Backend, a: bytes, b: bytes, x: bytes, y: bytes) -> bytes:
    """This party's share of d‖e = (a − x)‖(b − y)."""
    if _native_backend(backend):
        return _native.beaver_mask(a, b, x, y)
    return backend.fr_sub(a, x) + backend.fr_sub(b, y)


def open_product(backend: Backend, parts: Sequence[bytes], x: bytes, y: bytes, z: bytes,
                 leader: bool) -> tuple[bytes, bytes]:
    """Open d‖e = Σ parts (parts[j]: party j's 2n-element share) and return (d‖e, this party's
    share of a∘b = [z] + d∘[y] + e∘[x] (+ d∘e if ``leader``))."""
    if _native_backend(backend):
        return _native.beaver_open([bytes(p) for p in parts], x, y, z, bool(leader))
    n = len(x) // FR_BYTES
    _checked(parts, 2 * n * FR_BYTES)
    de = fr_sum(backend, parts)
    d, e = de[:n * FR_BYTES], de[n * FR_BYTES:]
    c = backend.fr_add(z, backend.fr_add(backend.fr_mul(d, y), backend.fr_mul(e, x)))
    if leader:
        c = backend.fr_add(c, backend.fr_mul(d, e))
    return de, c


__all__ = ["fr_sum", "mask", "open_product"]
