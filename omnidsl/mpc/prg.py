"""The seed-expanding PRG used to compress additive shares.

Definition (normative; every implementation must reproduce it bit for bit):

    key(seed, label)    = SHA-256(b"omnidsl-mpc-prg/v2" ‖ u8(len(label)) ‖ label ‖ seed)
    stream(seed, label) = the ChaCha20 keystream (RFC 8439: 96-bit nonce = 0, block counter
                          from 0) under key(seed, label)

read as consecutive 32-byte little-endian candidates c_0, c_1, ...  ``expand(seed, label, n)``:
each candidate has its top two bits cleared (c & (2^254 − 1)) and is *accepted* iff it is < r
(acceptance ≈ 0.756); the k-th output element is the k-th accepted candidate.  Rejection sampling
makes every output exactly uniform on F_r (no modular bias); the stream is prefix-consistent, so
asking for a longer output never changes earlier elements.

Bounded masks: ``expand_masked(seed, label, widths)`` takes candidate i of ``stream(seed, label)``
and clears every bit from bit widths[i] up (uniform on [0, 2^w)); entries of width 254 come
instead, in order, from ``expand(seed, label ‖ b"/uniform", count)``.

``seed`` is 32 bytes from the OS CSPRNG (:func:`new_seed`); ``label`` separates the streams derived
from one seed (``b"witness"``, ``b"triple/x"``, ...).  The keystream and the sampling run in the
native module (``omnidsl._native.prg_uniform`` / ``prg_masked``, parallel: ChaCha20 is seekable);
tests check them against this definition computed with the ``cryptography`` package.
"""

from __future__ import annotations

import hashlib
import secrets

import numpy as np

from omnidsl import _native
from omnidsl.field import FR_BYTES, R, bytes_to_limbs

SEED_BYTES = 32
#: a mask width meaning "uniform on F_r" (see :func:`expand_masked`)
MASK_UNIFORM = 254
_DOMAIN = b"omnidsl-mpc-prg/v2"


def new_seed() -> bytes:
    """A fresh 32-byte seed from the OS CSPRNG."""
    return secrets.token_bytes(SEED_BYTES)


def stream_key(seed: bytes, label: bytes) -> bytes:
    """key(seed, label) of the definition above (validates the arguments)."""
    if len(seed) != SEED_BYTES:
        raise ValueError(f"PRG seed must be {SEED_BYTES} bytes, got {len(seed)}")
    if len(label) > 255:
        raise ValueError("PRG label longer than 255 bytes")
    return hashlib.sha256(_DOMAIN + bytes([len(label)]) + label + seed).digest()


def expand(seed: bytes, label: bytes, n: int) -> bytes:
    """n uniform field elements (n*32 bytes, canonical LE) derived from (seed, label)."""
    if n < 0:
        raise ValueError("negative length")
    return _native.prg_uniform(stream_key(seed, label), n)


def expand_masked(seed: bytes, label: bytes, widths: np.ndarray) -> bytes:
    """One field element per entry of ``widths`` (each ≤ 253 or = 254), n*32 bytes: candidate i
    of ``stream(seed, label)`` cut to widths[i] bits (uniform on [0, 2^w)); width-254 entries are,
    in order, the elements of ``expand(seed, label ‖ b"/uniform", count)`` (uniform on F_r)."""
    widths = np.asarray(widths, dtype=np.int64).reshape(-1)
    n = widths.size
    if n and (widths.min() < 0 or widths.max() > MASK_UNIFORM):
        raise ValueError(f"mask widths must be in 0..{MASK_UNIFORM}")
    uniform = np.nonzero(widths == MASK_UNIFORM)[0]
    if uniform.size == n:
        return expand(seed, label + b"/uniform", n)
    out = bytearray(_native.prg_masked(stream_key(seed, label), widths.astype("<u2").tobytes()))
    if uniform.size:
        view = np.frombuffer(out, dtype=np.uint8).reshape(n, FR_BYTES)
        full = expand(seed, label + b"/uniform", int(uniform.size))
        view[uniform] = np.frombuffer(full, dtype=np.uint8).reshape(-1, FR_BYTES)
    return bytes(out)


def expand_scalar(seed: bytes, label: bytes) -> int:
    """One uniform field element from (seed, label), as an int."""
    return int.from_bytes(expand(seed, label, 1), "little")


def check_elements(buf: bytes) -> None:
    """Raise ValueError unless ``buf`` is a vector of canonical field elements."""
    bytes_to_limbs(buf, check=True)


assert R < (1 << 254)
