"""The iden3 binary container shared by ``.r1cs``, ``.wtns``, ``.zkey`` and ``.ptau``.

Layout: 4-byte magic, u32 version, u32 number of sections, then each section as
u32 type, u64 byte size, payload.  All integers little-endian.  Sections may appear in any order;
readers ignore types they do not know.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from omnidsl.errors import FormatError


@dataclass
class Container:
    """A parsed container: the whole file and where each section's payload lies."""

    path: str
    data: bytes
    version: int
    #: section type → list of (payload offset, payload size), in file order
    sections: dict[int, list[tuple[int, int]]]

    def unique(self, kind: str, stype: int) -> tuple[int, int]:
        """(offset, size) of the one section of type ``stype``; FormatError if absent/repeated."""
        found = self.sections.get(stype, [])
        if len(found) != 1:
            what = "missing" if not found else f"repeated {len(found)} times"
            raise FormatError(f"{self.path}: {kind} section (type {stype}) is {what}")
        return found[0]


def read_container(path: str | Path, magic: bytes, versions: tuple[int, ...]) -> Container:
    """Read and index a container file; FormatError naming the file and offset on any damage."""
    p = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise FormatError(f"cannot read {p}: {exc.strerror or exc}") from None
    if len(data) < 12:
        raise FormatError(f"{p}: truncated file ({len(data)} bytes, the header needs 12)")
    if data[:4] != magic:
        raise FormatError(f"{p}: bad magic {data[:4]!r} at offset 0 (expected {magic!r})",
                          hint=f"is this really a .{magic.decode()} file?")
    version, n_sections = struct.unpack_from("<II", data, 4)
    if version not in versions:
        raise FormatError(f"{p}: unsupported {magic.decode()} version {version} at offset 4 "
                          f"(supported: {', '.join(map(str, versions))})")
    sections: dict[int, list[tuple[int, int]]] = {}
    pos = 12
    for i in range(n_sections):
        if pos + 12 > len(data):
            raise FormatError(f"{p}: truncated file: header of section #{i} at offset {pos} "
                              f"runs past the end ({len(data)} bytes)")
        stype, size = struct.unpack_from("<IQ", data, pos)
        pos += 12
        if pos + size > len(data):
            raise FormatError(f"{p}: truncated file: section #{i} (type {stype}) at offset "
                              f"{pos} declares {size} bytes but only {len(data) - pos} remain")
        sections.setdefault(stype, []).append((pos, size))
        pos += size
    return Container(p, data, version, sections)


def container_bytes(magic: bytes, version: int,
                    sections: list[tuple[int, list[Any]]]) -> list:
    """Chunks of a container file: header then each (type, payload chunks) section."""
    out: list = [magic, struct.pack("<II", version, len(sections))]
    for stype, chunks in sections:
        size = sum(c.nbytes if hasattr(c, "nbytes") else len(c) for c in chunks)
        out.append(struct.pack("<IQ", stype, size))
        out.extend(chunks)
    return out


def write_chunks(path: str | Path, chunks: list) -> None:
    """Write byte-like chunks (bytes, numpy arrays, or streams: iterables of arrays with an
    ``nbytes``) to ``path``."""
    with open(path, "wb") as f:
        for c in chunks:
            for piece in (c,) if isinstance(c, bytes | bytearray | np.ndarray) else c:
                if isinstance(piece, np.ndarray):
                    if piece.size:
                        f.write(np.ascontiguousarray(piece).data)
                else:
                    f.write(piece)
