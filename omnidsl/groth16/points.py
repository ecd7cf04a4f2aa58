"""Point ↔ bytes helpers in the backend's array encoding (see backend/base.py)."""

from __future__ import annotations

from omnidsl.backend.base import G1, G2

G1_BYTES = 64
G2_BYTES = 128


def _le(x: int) -> bytes:
    return x.to_bytes(32, "little")


def _int(b: bytes) -> int:
    return int.from_bytes(b, "little")


def g1_to_bytes(p: G1) -> bytes:
    """One G1 point → 64 bytes (x‖y LE; infinity = zeros)."""
    if p is None:
        return bytes(G1_BYTES)
    return _le(p[0]) + _le(p[1])


def g1_from_bytes(b: bytes) -> G1:
    """64 bytes → G1 point (no curve check; callers validate through the backend)."""
    if len(b) != G1_BYTES:
        raise ValueError(f"G1 point needs {G1_BYTES} bytes, got {len(b)}")
    if not any(b):
        return None
    return (_int(b[:32]), _int(b[32:]))


def g2_to_bytes(p: G2) -> bytes:
    """One G2 point → 128 bytes (x_c0‖x_c1‖y_c0‖y_c1; infinity = zeros)."""
    if p is None:
        return bytes(G2_BYTES)
    (x0, x1), (y0, y1) = p
    return _le(x0) + _le(x1) + _le(y0) + _le(y1)


def g2_from_bytes(b: bytes) -> G2:
    """128 bytes → G2 point (no curve check)."""
    if len(b) != G2_BYTES:
        raise ValueError(f"G2 point needs {G2_BYTES} bytes, got {len(b)}")
    if not any(b):
        return None
    return ((_int(b[:32]), _int(b[32:64])), (_int(b[64:96]), _int(b[96:])))


def g1_array(points: list[G1]) -> bytes:
    return b"".join(g1_to_bytes(p) for p in points)


def g1_list(buf: bytes) -> list[G1]:
    return [g1_from_bytes(buf[i : i + G1_BYTES]) for i in range(0, len(buf), G1_BYTES)]


def g2_array(points: list[G2]) -> bytes:
    return b"".join(g2_to_bytes(p) for p in points)
