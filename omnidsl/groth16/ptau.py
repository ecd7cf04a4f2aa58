"""Reader for snarkjs ``.ptau`` (powers of tau, phase 1) files.

Container (iden3 binfile): magic ``ptau``, u32 version, u32 n_sections, then sections
(u32 id, u64 size, payload).  Section 1 (header): u32 n8, q (n8 bytes LE), u32 power,
u32 ceremonyPower.  Points are affine, each coordinate n8 = 32 bytes little-endian in Montgomery
form (x·2²⁵⁶ mod q); the point at infinity is all zeros.  Sections used here:

* 2 tauG1 — τ^i·G1, i < 2^(power+1) − 1      * 4 alphaTauG1, 5 betaTauG1 — α·τ^i, β·τ^i in G1
* 3 tauG2 — τ^i·G2, i < 2^power              * 6 betaG2 — β·G2
* 12/13/14/15 (after ``prepare phase2``) — Lagrange bases L_k(τ)·G1, ·G2, α·L_k(τ)·G1,
  β·L_k(τ)·G1 for every domain 2^p, p = 0..power, concatenated (domain 2^p starts at point 2^p − 1).
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omnidsl.errors import FormatError
from omnidsl.field import Q

_RINV = pow(1 << 256, -1, Q)

TAU_G1, TAU_G2, ALPHA_TAU_G1, BETA_TAU_G1, BETA_G2 = 2, 3, 4, 5, 6
LAGRANGE_G1, LAGRANGE_G2, ALPHA_LAGRANGE_G1, BETA_LAGRANGE_G1 = 12, 13, 14, 15


def _from_montgomery(buf: bytes) -> bytes:
    """Convert a run of 32-byte LE Montgomery coordinates to standard form (zeros stay zero)."""
    n = len(buf) // 32
    out = bytearray(len(buf))
    words = np.frombuffer(buf, dtype="<u8").reshape(n, 4)
    nonzero = np.flatnonzero(words.any(axis=1))
    for i in nonzero.tolist():
        v = int.from_bytes(buf[32 * i : 32 * i + 32], "little")
        if v >= Q:
            raise FormatError(f"ptau: coordinate #{i} is not reduced mod q")
        out[32 * i : 32 * i + 32] = (v * _RINV % Q).to_bytes(32, "little")
    return bytes(out)


@dataclass
class Ptau:
    """An open .ptau file; point reads return our point-array encoding (backend/base.py)."""

    path: Path
    power: int
    ceremony_power: int
    sections: dict[int, tuple[int, int]]  # id → (offset, size)
    _map: mmap.mmap

    def _section(self, sid: int, start: int, count: int, size: int, label: str) -> bytes:
        if sid not in self.sections:
            hint = ("run `snarkjs powersoftau prepare phase2` on it first"
                    if sid >= LAGRANGE_G1 else None)
            raise FormatError(f"{self.path}: section {sid} ({label}) is missing", hint=hint)
        off, total = self.sections[sid]
        if (start + count) * size > total:
            raise FormatError(f"{self.path}: section {sid} ({label}) is too short "
                              f"for {start + count} points")
        return _from_montgomery(self._map[off + start * size : off + (start + count) * size])

    def g1(self, sid: int, start: int, count: int) -> bytes:
        return self._section(sid, start, count, 64, "G1 points")

    def g2(self, sid: int, start: int, count: int) -> bytes:
        return self._section(sid, start, count, 128, "G2 points")

    def lagrange_g1(self, sid: int, n: int) -> bytes:
        """The Lagrange-basis section ``sid`` for the domain of size n (a power of two)."""
        return self.g1(sid, n - 1, n)

    def close(self) -> None:
        self._map.close()


def read_ptau(path: str | Path) -> Ptau:
    """Open a .ptau file and check its container and header (FormatError otherwise)."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as exc:
        raise FormatError(f"{p}: cannot open .ptau file ({exc})") from None
    if len(mm) < 12 or mm[:4] != b"ptau":
        raise FormatError(f"{p}: not a .ptau file (bad magic)")
    version, n_sections = struct.unpack("<II", mm[4:12])
    if version != 1:
        raise FormatError(f"{p}: unsupported .ptau version {version}")
    sections: dict[int, tuple[int, int]] = {}
    pos = 12
    for _ in range(n_sections):
        if pos + 12 > len(mm):
            raise FormatError(f"{p}: truncated section table")
        sid, size = struct.unpack("<IQ", mm[pos : pos + 12])
        pos += 12
        if pos + size > len(mm):
            raise FormatError(f"{p}: section {sid} runs past the end of the file")
        sections.setdefault(sid, (pos, size))
        pos += size
    if 1 not in sections:
        raise FormatError(f"{p}: header section missing")
    off, size = sections[1]
    n8 = struct.unpack("<I", mm[off : off + 4])[0]
    if n8 != 32 or size < 4 + n8 + 8:
        raise FormatError(f"{p}: unsupported field size {n8} (only bn128 is supported)")
    q = int.from_bytes(mm[off + 4 : off + 4 + n8], "little")
    if q != Q:
        raise FormatError(f"{p}: the curve is not bn128/BN254")
    power, ceremony = struct.unpack("<II", mm[off + 4 + n8 : off + 12 + n8])
    return Ptau(p, power, ceremony, sections, mm)
