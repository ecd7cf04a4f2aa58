"""Groth16 key and proof dataclasses, and the proving-key binary format.

Names follow the Groth16 paper with the group as suffix (arkworks style):
``alpha_g1`` = [α]₁, ``beta_g2`` = [β]₂, ``gamma_g2`` = [γ]₂, ``delta_g2`` = [δ]₂,
``ic`` = [(β·u_i(τ) + α·v_i(τ) + w_i(τ))/γ]₁ for the public wires i = 0..ℓ (arkworks'
``gamma_abc_g1``), ``a_query`` = [u_i(τ)]₁, ``b_g1_query``/``b_g2_query`` = [v_i(τ)],
``l_query`` = [(β·u_i + α·v_i + w_i)(τ)/δ]₁ for private wires, ``h_query`` = [τ^j·Z(τ)/δ]₁.

Proving-key file layout (all integers little-endian; points as in backend/base.py; see
docs/groth16.md): magic ``OMNIGPK\\0``, u32 version, header, points, the R1CS matrices, the phase-2
contributions, (version 2) the optional per-wire width bounds and a SHA-256 of everything before
it.  Version-1 files still load (their R1CS has ``wire_bits = None``).
"""

from __future__ import annotations

import hashlib
import inspect
import os
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from omnidsl.backend.base import G1, G2, Backend
from omnidsl.errors import FormatError, InternalError
from omnidsl.groth16.points import (
    G1_BYTES,
    G2_BYTES,
    g1_array,
    g1_from_bytes,
    g1_list,
    g1_to_bytes,
    g2_from_bytes,
    g2_to_bytes,
)
from omnidsl.r1cs.system import R1CS, WIRE_BITS_FULL, SparseMatrix

MAGIC = b"OMNIGPK\0"
VERSION = 2  # written; 2 added the wire-width section
READABLE = (1, 2)
_HEADER = struct.Struct("<IIIIQIIQQQI")  # n_wires, pub_out, pub_in, prv_in, m, log2 n,
#                                         n_coeffs, nnz A, nnz B, nnz C, n_contributions


def trusted_call(fn: Callable[..., Any], *args: Any) -> Any:
    """Call a backend point-array method with ``unchecked=True`` when it offers that option.

    Used only for points omnidsl produced itself (a checksummed proving key): the native backend
    then skips per-point curve/subgroup checks, which dominate loading time at 2^17 points.
    A bad point could only make the proof invalid, which every verifier rejects.
    """
    if "unchecked" in inspect.signature(fn).parameters:
        return fn(*args, unchecked=True)
    return fn(*args)


@dataclass(frozen=True)
class VerifyingKey:
    alpha_g1: G1
    beta_g2: G2
    gamma_g2: G2
    delta_g2: G2
    ic: list[G1]  # ℓ + 1 points (wire 0 and the public signals)

    @property
    def n_public(self) -> int:
        return len(self.ic) - 1

    def __repr__(self) -> str:
        return f"VerifyingKey({self.n_public} public signals, alpha_g1={_short(self.alpha_g1)})"


@dataclass(frozen=True)
class Proof:
    a: G1
    b: G2
    c: G1

    def __repr__(self) -> str:
        return f"Proof(a={_short(self.a)}, b={_short(self.b)}, c={_short(self.c)})"


def _short(p: Any) -> str:
    """A point in a repr: the first hex digits of its first coordinate."""
    while isinstance(p, tuple | list) and p:
        p = p[0]
    return f"0x{int(p):064x}"[:12] + "…" if isinstance(p, int) else repr(p)


@dataclass(frozen=True)
class Contribution:
    """One phase-2 contribution: δ ← x·δ, with a Schnorr proof of knowledge of x.

    ``pok_r`` = k·δ_prev (G1), ``pok_z`` = k + c·x mod r where c is the transcript challenge.
    """

    delta_g1: G1
    delta_g2: G2
    pok_r: G1
    pok_z: int
    name: str = ""


@dataclass
class ProvingKey:
    vk: VerifyingKey
    beta_g1: G1
    delta_g1: G1
    a_query: bytes  # G1 array, one per wire
    b_g1_query: bytes  # G1 array, one per wire
    b_g2_query: bytes  # G2 array, one per wire
    h_query: bytes  # G1 array, domain_size − 1 points
    l_query: bytes  # G1 array, one per private wire (wires ℓ+1 .. n_wires−1)
    r1cs: R1CS
    domain_size: int
    contributions: list[Contribution] = field(default_factory=list)
    _handles: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)
    _released: bool = field(default=False, repr=False, compare=False)  # keep_bases_only
    #: arrays a streamed load left in the file (``read_proving_key(..., defer=)``): key →
    #: (path, offset, length, SHA-256 of those bytes), loaded at their first use
    _deferred: dict[str, tuple[str, int, int, bytes]] = field(default_factory=dict, repr=False,
                                                              compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    # -- convenience views
    @property
    def alpha_g1(self) -> G1:
        return self.vk.alpha_g1

    @property
    def beta_g2(self) -> G2:
        return self.vk.beta_g2

    @property
    def delta_g2(self) -> G2:
        return self.vk.delta_g2

    @property
    def n_wires(self) -> int:
        return self.r1cs.n_wires

    @property
    def n_public(self) -> int:
        return self.r1cs.n_public

    def __repr__(self) -> str:
        return (f"ProvingKey({self.r1cs.n_constraints} constraints, {self.n_wires} wires, "
                f"{self.n_public} public signals, domain {self.domain_size}, "
                f"{len(self.contributions)} contributions)")

    def bases(self, backend: Backend) -> dict[str, Any]:
        """The MSM bases loaded into ``backend`` memory (once per backend); an array a streamed
        load deferred is read from the key file now (checked against the digest taken when the
        key was loaded: a file changed since is refused)."""
        h = self._load_bases(backend, release=False)
        if self._deferred:
            with self._lock:
                for key in list(self._deferred):
                    h[key] = self._load_deferred(backend, key)
        return h

    def bases_for(self, backend: Backend, keys: tuple[str, ...]) -> dict[str, Any]:
        """Only the named bases (``a``, ``b1``, ``b2``, ``h``, ``l``), loading a deferred one now."""
        h = self._load_bases(backend, release=False)
        with self._lock:
            return {k: h[k] if k in h else self._load_deferred(backend, k) for k in keys}

    def _load_deferred(self, backend: Backend, key: str) -> Any:
        path, offset, length, digest = self._deferred[key]
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                data = f.read(length)
        except OSError as exc:
            raise FormatError(f"{path}: cannot read the deferred {key} bases ({exc.strerror})") \
                from None
        if len(data) != length or hashlib.sha256(data).digest() != digest:
            raise FormatError(f"{path}: the proving key file changed after it was loaded "
                              f"(its {key} bases differ)", hint="reload it (restart the server)")
        load = backend.load_g2 if key == "b2" else backend.load_g1
        handle = trusted_call(load, data)
        self._handles[backend.name][key] = handle
        del self._deferred[key]
        return handle

    def keep_bases_only(self, backend: Backend) -> None:
        """Load the MSM bases into ``backend`` and drop the point arrays' bytes (each right
        after its load): a proving server's key, which only proves, then holds its points once
        (in ``backend`` memory) instead of twice.  Proving with ``backend`` is unchanged;
        serialising the key, checking its shapes or loading it into another backend raise
        InternalError afterwards."""
        self._load_bases(backend, release=True)
        self._released = True

    def _load_bases(self, backend: Backend, release: bool) -> dict[str, Any]:
        h = self._handles.get(backend.name)
        if h is None:
            self._check_points("load MSM bases into another backend")
            h = {}
            for key, name in zip(("a", "b1", "b2", "h", "l"), _POINT_FIELDS, strict=True):
                load = backend.load_g2 if key == "b2" else backend.load_g1
                h[key] = trusted_call(load, getattr(self, name))
                if release:
                    setattr(self, name, b"")
            self._handles[backend.name] = h
        elif release:
            for name in _POINT_FIELDS:
                setattr(self, name, b"")
        return h

    @property
    def points_released(self) -> bool:
        return self._released

    def _check_points(self, what: str) -> None:
        if self.points_released:
            raise InternalError(f"cannot {what}: this proving key kept only its MSM bases "
                                "(keep_bases_only)")

    def check_shapes(self) -> None:
        """Raise FormatError unless every array has the length the circuit implies."""
        self._check_points("check the shapes of the point arrays")
        nw, npub, n = self.n_wires, self.n_public, self.domain_size
        want = {
            "a_query": (self.a_query, nw * G1_BYTES),
            "b_g1_query": (self.b_g1_query, nw * G1_BYTES),
            "b_g2_query": (self.b_g2_query, nw * G2_BYTES),
            "h_query": (self.h_query, (n - 1) * G1_BYTES),
            "l_query": (self.l_query, (nw - npub - 1) * G1_BYTES),
        }
        for name, (buf, size) in want.items():
            if len(buf) != size:
                raise FormatError(f"proving key: {name} has {len(buf)} bytes, expected {size}")
        if len(self.vk.ic) != npub + 1:
            raise FormatError(f"proving key: {len(self.vk.ic)} IC points for {npub} public signals")


_POINT_FIELDS = ("a_query", "b_g1_query", "b_g2_query", "h_query", "l_query")

# ---------------------------------------------------------------- binary (de)serialisation


def _matrix_bytes(m: SparseMatrix) -> bytes:
    return (np.ascontiguousarray(m.row_ptr, "<i8").tobytes()
            + np.ascontiguousarray(m.wire, "<i8").tobytes()
            + np.ascontiguousarray(m.coeff_id, "<i4").tobytes())


def dumps_proving_key(pk: ProvingKey) -> bytes:
    """Serialise a proving key (see the module docstring and docs/groth16.md)."""
    pk._check_points("serialise the proving key")
    r = pk.r1cs
    log_n = pk.domain_size.bit_length() - 1
    parts = [
        MAGIC,
        struct.pack("<I", VERSION),
        _HEADER.pack(r.n_wires, r.n_pub_out, r.n_pub_in, r.n_prv_in, r.n_constraints, log_n,
                     len(r.coeffs), r.A.nnz, r.B.nnz, r.C.nnz, len(pk.contributions)),
        g1_to_bytes(pk.vk.alpha_g1), g1_to_bytes(pk.beta_g1), g1_to_bytes(pk.delta_g1),
        g2_to_bytes(pk.vk.beta_g2), g2_to_bytes(pk.vk.gamma_g2), g2_to_bytes(pk.vk.delta_g2),
        g1_array(pk.vk.ic), pk.a_query, pk.b_g1_query, pk.b_g2_query, pk.h_query, pk.l_query,
        b"".join(c.to_bytes(32, "little") for c in r.coeffs),
        _matrix_bytes(r.A), _matrix_bytes(r.B), _matrix_bytes(r.C),
    ]
    for i, c in enumerate(pk.contributions):
        name = c.name.encode()
        if len(name) > 255:  # contribute() refuses these; never cut (the PoK hashes the name)
            raise FormatError(f"contribution #{i + 1}: name is {len(name)} bytes (at most 255)")
        parts += [g1_to_bytes(c.delta_g1), g2_to_bytes(c.delta_g2), g1_to_bytes(c.pok_r),
                  c.pok_z.to_bytes(32, "little"), bytes([len(name)]), name]
    parts.append(_widths_bytes(r))
    body = b"".join(parts)
    return body + hashlib.sha256(body).digest()


def _widths_bytes(r: R1CS) -> bytes:
    """The version-2 width section: u8 flag, then (flag 1) one u8 per wire."""
    if r.wire_bits is None:
        return b"\0"
    bits = np.asarray(r.wire_bits)
    if bits.shape != (r.n_wires,) or (bits.size and (bits.min() < 0
                                                      or bits.max() > WIRE_BITS_FULL)):
        raise InternalError(f"R1CS.wire_bits must be {r.n_wires} values in 0..{WIRE_BITS_FULL}")
    return b"\1" + bits.astype(np.uint8).tobytes()


def _read_widths(rd: _Reader, n_wires: int) -> np.ndarray | None:
    flag = rd.take(1, "wire widths flag")[0]
    if flag == 0:
        return None
    if flag != 1:
        raise FormatError(f"{rd.what}: bad wire widths flag {flag} (expected 0 or 1)")
    bits = np.frombuffer(rd.take(n_wires, "wire widths"), np.uint8).copy()
    if bits.size and int(bits.max()) > WIRE_BITS_FULL:
        bad = int(np.argmax(bits > WIRE_BITS_FULL))
        raise FormatError(f"{rd.what}: wire {bad} has width {int(bits[bad])} "
                          f"(at most {WIRE_BITS_FULL})")
    if bits.size and bits[0] < 1:
        raise FormatError(f"{rd.what}: wire 0 (the constant 1) has width 0")
    return bits


class _Reader:
    """Fields of a key held in a memoryview (slices are copied one field at a time, so loading
    never holds a second copy of the whole file)."""

    def __init__(self, buf: bytes | memoryview, what: str):
        self.buf, self.pos, self.what = memoryview(buf), 0, what

    def take(self, n: int, field_name: str) -> bytes:
        if n < 0 or self.pos + n > len(self.buf):
            raise FormatError(f"{self.what}: truncated while reading {field_name}",
                              hint="the file is incomplete or not a proving key")
        out = self.buf[self.pos : self.pos + n].tobytes()
        self.pos += n
        return out

    def array(self, n: int, dtype: str, field_name: str) -> np.ndarray:
        size = np.dtype(dtype).itemsize
        return np.frombuffer(self.take(n * size, field_name), dtype=dtype).astype(
            dtype.replace("<", "="))

    @property
    def end(self) -> int:
        return len(self.buf)


class _FileReader(_Reader):
    """Fields read from an open key file one at a time and hashed as they pass: a streamed
    load never holds more of the file than its largest field."""

    def __init__(self, f: BinaryIO, size: int, what: str):
        self.f, self.size, self.pos, self.what = f, size, 0, what
        self.sha = hashlib.sha256()

    def take(self, n: int, field_name: str) -> bytes:
        out = self.f.read(n) if 0 <= n <= self.size - self.pos else b""
        if len(out) != n:
            raise FormatError(f"{self.what}: truncated while reading {field_name}",
                              hint="the file is incomplete or not a proving key")
        self.sha.update(out)
        self.pos += n
        return out

    @property
    def end(self) -> int:
        return self.size


def _read_matrix(rd: _Reader, m: int, nnz: int, n_wires: int, n_coeffs: int,
                 name: str) -> SparseMatrix:
    row_ptr = rd.array(m + 1, "<i8", f"{name}.row_ptr").astype(np.int64)
    wire = rd.array(nnz, "<i8", f"{name}.wire").astype(np.int64)
    coeff_id = rd.array(nnz, "<i4", f"{name}.coeff_id").astype(np.int32)
    if (row_ptr[0] != 0 or row_ptr[-1] != nnz or np.any(np.diff(row_ptr) < 0)
            or (nnz and (wire.min() < 0 or wire.max() >= n_wires
                         or coeff_id.min() < 0 or coeff_id.max() >= n_coeffs))):
        raise FormatError(f"{rd.what}: matrix {name} is inconsistent")
    return SparseMatrix(row_ptr, wire, coeff_id)


def _bad_magic(what: str) -> FormatError:
    return FormatError(f"{what}: not an omnidsl proving key (bad magic)",
                       hint="create one with `omnidsl setup`")


def _version(rd: _Reader) -> int:
    rd.take(len(MAGIC), "magic")
    (version,) = struct.unpack("<I", rd.take(4, "version"))
    if version not in READABLE:
        raise FormatError(f"{rd.what}: unsupported version {version} (this omnidsl reads "
                          f"versions {', '.join(map(str, READABLE))})")
    return version


def _checksum_mismatch(what: str) -> FormatError:
    return FormatError(f"{what}: checksum mismatch (the file is corrupted or was edited)")


def loads_proving_key(buf: bytes, what: str = "proving key") -> ProvingKey:
    """Parse a proving key; FormatError for a wrong magic/version, bad lengths or checksum."""
    if len(buf) < len(MAGIC) + 4 + 32 or buf[: len(MAGIC)] != MAGIC:
        raise _bad_magic(what)
    body, digest = memoryview(buf)[:-32], buf[-32:]
    rd = _Reader(body, what)
    version = _version(rd)
    if hashlib.sha256(body).digest() != digest:
        raise _checksum_mismatch(what)
    pk = _parse(rd, version, None)
    pk.check_shapes()
    return pk


def _parse(rd: _Reader, version: int, lean: Backend | None,
           defer: tuple[str, ...] = ()) -> ProvingKey:
    """The key after its version; ``lean``: load each point array into that backend as it is
    read and keep only the bases (``ProvingKey.keep_bases_only``); ``defer``: arrays of a file
    key left in the file (offset and digest noted) until their first use."""
    what = rd.what
    (nw, p_out, p_in, prv, m, log_n, n_coeffs, nnz_a, nnz_b, nnz_c,
     n_contrib) = _HEADER.unpack(rd.take(_HEADER.size, "header"))
    n = 1 << log_n
    npub = p_out + p_in
    if nw < npub + 1 or log_n > 28 or n < m + npub + 1:
        raise FormatError(f"{what}: inconsistent header (wires={nw}, public={npub}, "
                          f"constraints={m}, domain=2^{log_n})")
    alpha_g1 = g1_from_bytes(rd.take(G1_BYTES, "alpha_g1"))
    beta_g1 = g1_from_bytes(rd.take(G1_BYTES, "beta_g1"))
    delta_g1 = g1_from_bytes(rd.take(G1_BYTES, "delta_g1"))
    beta_g2 = g2_from_bytes(rd.take(G2_BYTES, "beta_g2"))
    gamma_g2 = g2_from_bytes(rd.take(G2_BYTES, "gamma_g2"))
    delta_g2 = g2_from_bytes(rd.take(G2_BYTES, "delta_g2"))
    ic = g1_list(rd.take((npub + 1) * G1_BYTES, "ic"))
    handles: dict[str, Any] = {}
    deferred: dict[str, tuple[str, int, int, bytes]] = {}

    def points(key: str, count: int, size: int, name: str) -> bytes:
        offset = rd.pos
        data = rd.take(count * size, name)
        if lean is None:
            return data
        if key in defer:
            deferred[key] = (rd.what, offset, len(data), hashlib.sha256(data).digest())
            return b""
        load = lean.load_g2 if key == "b2" else lean.load_g1
        handles[key] = trusted_call(load, data)
        return b""

    a_query = points("a", nw, G1_BYTES, "a_query")
    b_g1 = points("b1", nw, G1_BYTES, "b_g1_query")
    b_g2 = points("b2", nw, G2_BYTES, "b_g2_query")
    h_query = points("h", n - 1, G1_BYTES, "h_query")
    l_query = points("l", nw - npub - 1, G1_BYTES, "l_query")
    raw = rd.take(32 * n_coeffs, "coefficients")
    coeffs = [int.from_bytes(raw[i : i + 32], "little") for i in range(0, len(raw), 32)]
    mats = [_read_matrix(rd, m, nnz, nw, n_coeffs, name)
            for name, nnz in (("A", nnz_a), ("B", nnz_b), ("C", nnz_c))]
    contributions = []
    for i in range(n_contrib):
        d1 = g1_from_bytes(rd.take(G1_BYTES, f"contribution[{i}].delta_g1"))
        d2 = g2_from_bytes(rd.take(G2_BYTES, f"contribution[{i}].delta_g2"))
        pr = g1_from_bytes(rd.take(G1_BYTES, f"contribution[{i}].pok_r"))
        pz = int.from_bytes(rd.take(32, f"contribution[{i}].pok_z"), "little")
        ln = rd.take(1, f"contribution[{i}].name")[0]
        name = rd.take(ln, f"contribution[{i}].name").decode(errors="replace")
        contributions.append(Contribution(d1, d2, pr, pz, name))
    wire_bits = _read_widths(rd, nw) if version >= 2 else None
    if rd.pos != rd.end:
        raise FormatError(f"{what}: {rd.end - rd.pos} unexpected trailing bytes")
    r1cs = R1CS(n_wires=nw, n_pub_out=p_out, n_pub_in=p_in, n_prv_in=prv,
                A=mats[0], B=mats[1], C=mats[2], coeffs=coeffs, wire_bits=wire_bits)
    vk = VerifyingKey(alpha_g1, beta_g2, gamma_g2, delta_g2, ic)
    pk = ProvingKey(vk, beta_g1, delta_g1, a_query, b_g1, b_g2, h_query, l_query, r1cs, n,
                    contributions)
    if lean is not None:
        pk._handles[lean.name] = handles
        pk._deferred = deferred
        pk._released = True
    return pk


def write_proving_key(pk: ProvingKey, path: str | Path) -> None:
    Path(path).write_bytes(dumps_proving_key(pk))


def read_proving_key(path: str | Path, *, bases_only: Backend | None = None,
                     defer: tuple[str, ...] = ()) -> ProvingKey:
    """Read a key file.  ``bases_only``: stream it instead — each point array goes straight into
    that backend's memory (the key of ``keep_bases_only``), so the load never holds the file, or
    two copies of it; the checksum is verified at the end, before the key is returned.
    ``defer`` (with ``bases_only``): point arrays (``a``, ``b1``, ``b2``, ``h``, ``l``) not loaded
    now but at their first use, from the file, checked against their digest taken now (a
    proving server defers ``a`` and ``b2``, which only sessions without dealt MSMs need)."""
    p = Path(path)
    try:
        if bases_only is None:
            return loads_proving_key(p.read_bytes(), str(p))
        with p.open("rb") as f:
            size = os.fstat(f.fileno()).st_size - 32
            if size < len(MAGIC) + 4 or f.read(len(MAGIC)) != MAGIC:
                raise _bad_magic(str(p))
            f.seek(0)
            rd = _FileReader(f, size, str(p))
            pk = _parse(rd, _version(rd), bases_only, defer)
            if f.read(32) != rd.sha.digest():
                raise _checksum_mismatch(str(p))
            return pk
    except OSError as exc:
        raise FormatError(f"{p}: cannot read proving key ({exc.strerror})") from None
