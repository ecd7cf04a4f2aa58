"""iden3 binary ``.wtns`` (version 2) reader and writer.

Section 1 (header): u32 n8 = 32, the prime r (32 bytes LE), u32 nWitness.
Section 2 (values): nWitness × 32-byte little-endian canonical field elements.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from omnidsl.errors import FormatError
from omnidsl.field import FR_BYTES, R, limbs_lt_r
from omnidsl.r1cs.binfile import container_bytes, read_container, write_chunks

HEADER, VALUES = 1, 2


def write_wtns(path: str | Path, witness_limbs: np.ndarray) -> None:
    """Write a witness given as (n, 4) uint64 limbs (every value must be < r)."""
    w = np.ascontiguousarray(witness_limbs, dtype="<u8")
    if w.ndim != 2 or w.shape[1] != 4:
        raise FormatError(f"{path}: witness must have shape (n, 4) uint64 limbs, got {w.shape}")
    bad = ~limbs_lt_r(w)
    if bad.any():
        i = int(np.argmax(bad))
        raise FormatError(f"{path}: witness value #{i} is not a canonical field element (≥ r)")
    header = struct.pack("<I", FR_BYTES) + R.to_bytes(FR_BYTES, "little") + struct.pack(
        "<I", w.shape[0])
    write_chunks(path, container_bytes(b"wtns", 2, [(HEADER, [header]), (VALUES, [w])]))


def read_wtns(path: str | Path) -> np.ndarray:
    """Read a ``.wtns`` v2 file → (n, 4) uint64 limbs; FormatError on damage or values ≥ r."""
    c = read_container(path, b"wtns", (2,))
    hoff, hsize = c.unique("header", HEADER)
    if hsize != 4 + FR_BYTES + 4:
        raise FormatError(f"{c.path}: header section at offset {hoff} has size {hsize}, "
                          f"expected {4 + FR_BYTES + 4}")
    (n8,) = struct.unpack_from("<I", c.data, hoff)
    if n8 != FR_BYTES:
        raise FormatError(f"{c.path}: header section at offset {hoff}: field size {n8} bytes, "
                          f"only {FR_BYTES} is supported")
    prime = int.from_bytes(c.data[hoff + 4: hoff + 4 + n8], "little")
    if prime != R:
        raise FormatError(f"{c.path}: header section at offset {hoff + 4}: prime {prime} is "
                          "not the BN254 scalar field order r")
    (n,) = struct.unpack_from("<I", c.data, hoff + 4 + n8)
    voff, vsize = c.unique("values", VALUES)
    if vsize != n * FR_BYTES:
        raise FormatError(f"{c.path}: values section at offset {voff} has {vsize} bytes, the "
                          f"header declares {n} values ({n * FR_BYTES} bytes)")
    w = np.frombuffer(c.data, "<u8", count=4 * n, offset=voff).reshape(n, 4).copy()
    bad = ~limbs_lt_r(w)
    if bad.any():
        i = int(np.argmax(bad))
        raise FormatError(f"{c.path}: values section: value #{i} at offset "
                          f"{voff + FR_BYTES * i} is not < r")
    return w
