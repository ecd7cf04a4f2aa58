"""A small, strict message codec: a flat dict of str → int | str | bytes | None | bool.

Encoding: ``u32 BE len(header) ‖ header JSON ‖ blobs``; in the JSON, bytes values are
``{"b": [offset, length]}`` into the blob area, ints are ``{"i": "decimal"}`` (any size).
No pickle: decoding untrusted input can only produce these types (or raise FormatError).
"""

from __future__ import annotations

import json
import struct
from typing import TypeVar

from omnidsl.errors import FormatError

Value = int | str | bytes | bool | None
T = TypeVar("T")


def encode(msg: dict[str, Value]) -> bytes:
    header: dict[str, object] = {}
    blobs: list[bytes] = []
    offset = 0
    for k, v in msg.items():
        if isinstance(v, bytes | bytearray | memoryview):
            v = bytes(v)
            header[k] = {"b": [offset, len(v)]}
            blobs.append(v)
            offset += len(v)
        elif isinstance(v, bool) or v is None or isinstance(v, str):
            header[k] = {"v": v}
        elif isinstance(v, int):
            header[k] = {"i": str(v)}
        else:
            raise TypeError(f"cannot encode {type(v).__name__} for key {k!r}")
    h = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack(">I", len(h)) + h + b"".join(blobs)


def decode(buf: bytes, max_header: int | None = None) -> dict[str, Value]:
    """Decode a message; ``max_header`` bounds the JSON header (untrusted input: the header is
    the only part whose decoded form can be much larger than its bytes)."""
    try:
        (hlen,) = struct.unpack_from(">I", buf)
        if max_header is not None and hlen > max_header:
            raise ValueError(f"header of {hlen} bytes (limit {max_header})")
        header = json.loads(buf[4 : 4 + hlen].decode())
        if not isinstance(header, dict) or 4 + hlen > len(buf):
            raise ValueError("bad header")
        blob = memoryview(buf)[4 + hlen :]
        out: dict[str, Value] = {}
        for k, spec in header.items():
            if not isinstance(spec, dict) or len(spec) != 1:
                raise ValueError(f"bad field {k!r}")
            ((tag, v),) = spec.items()
            if tag == "b":
                off, n = int(v[0]), int(v[1])
                if off < 0 or n < 0 or off + n > len(blob):
                    raise ValueError(f"field {k!r} out of range")
                out[k] = bytes(blob[off : off + n])
            elif tag == "i":
                out[k] = int(v)
            elif tag == "v" and (v is None or isinstance(v, bool | str)):
                out[k] = v
            else:
                raise ValueError(f"bad field {k!r}")
        return out
    except (ValueError, struct.error, UnicodeDecodeError, TypeError, IndexError,
            RecursionError) as exc:
        raise FormatError(f"malformed message: {exc}") from None


def need(msg: dict[str, Value], key: str, typ: type[T]) -> T:
    """msg[key] checked to be of ``typ`` (FormatError otherwise)."""
    v = msg.get(key)
    if not isinstance(v, typ) or (typ is int and isinstance(v, bool)):
        raise FormatError(f"message field {key!r} missing or not {typ.__name__}")
    return v
