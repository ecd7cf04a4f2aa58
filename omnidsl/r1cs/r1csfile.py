"""iden3 binary ``.r1cs`` (version 1) reader and writer, vectorised with numpy.

Sections (see docs/formats.md): 1 header, 2 constraints, 3 wire→label map.  Every linear
combination is ``u32 nTerms`` then ``nTerms × (u32 wireId, 32-byte LE coefficient)``; with 32-byte
field elements every item is a whole number of u32 words, so the constraint section is built and
parsed as one uint32 array (one record = 9 words) instead of per-term Python.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from omnidsl.errors import FormatError
from omnidsl.field import FR_BYTES, R, limbs_lt_r
from omnidsl.r1cs.binfile import container_bytes, read_container, write_chunks
from omnidsl.r1cs.system import R1CS, SparseMatrix

HEADER, CONSTRAINTS, WIRE2LABEL = 1, 2, 3
_TERM_WORDS = 1 + FR_BYTES // 4  # wire id + 8 coefficient words


def _coeff_words(r1cs: R1CS) -> np.ndarray:
    """Coefficient table as (T, 8) little-endian u32 words."""
    if not r1cs.coeffs:
        return np.zeros((0, 8), "<u4")
    return np.ascontiguousarray(r1cs.coeff_bytes()).view("<u4").reshape(-1, 8)


class _ConstraintStream:
    """The constraint section payload, produced in chunks of about ``CHUNK`` terms (a large
    circuit's section is 36 bytes a term: never materialised at once)."""

    CHUNK = 1 << 20

    def __init__(self, r1cs: R1CS):
        self.r1cs = r1cs
        self.mats = (r1cs.A, r1cs.B, r1cs.C)
        n_rec = sum(x.nnz for x in self.mats)
        self.nbytes = 4 * (3 * r1cs.n_constraints + n_rec * _TERM_WORDS)
        self.cw = _coeff_words(r1cs)
        for mat in self.mats:
            if mat.nnz and (int(mat.coeff_id.max()) >= self.cw.shape[0]
                            or int(mat.coeff_id.min()) < 0):
                raise ValueError("coefficient id out of range of the coefficient table")

    def __iter__(self):
        m = self.r1cs.n_constraints
        if m == 0:
            return
        a_, b_, c_ = self.mats
        terms = a_.row_ptr + b_.row_ptr + c_.row_ptr  # terms of rows 0..k-1
        cuts = np.searchsorted(terms, np.arange(0, int(terms[-1]), self.CHUNK), "right") - 1
        bounds = np.unique(np.r_[0, cuts, m])
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            yield self._rows(a, b)

    def _rows(self, a: int, b: int) -> np.ndarray:
        """Payload words of rows a..b-1 (LC order A_a B_a C_a A_a+1 …)."""
        m = b - a
        nt = np.stack([np.diff(x.row_ptr[a:b + 1]) for x in self.mats], axis=1).reshape(-1)
        rec_start = np.zeros(3 * m, np.int64)  # first term record of each LC
        np.cumsum(nt[:-1], out=rec_start[1:])
        n_rec = int(nt.sum())
        records = np.empty((n_rec, _TERM_WORDS), "<u4")
        for s, mat in enumerate(self.mats):
            lo, hi = int(mat.row_ptr[a]), int(mat.row_ptr[b])
            if lo == hi:
                continue
            cnt = np.diff(mat.row_ptr[a:b + 1])
            rows = np.repeat(np.arange(m, dtype=np.int64), cnt)
            idx = rec_start[3 * rows + s] + (np.arange(lo, hi, dtype=np.int64)
                                             - mat.row_ptr[a:b][rows])
            records[idx, 0] = mat.wire[lo:hi]
            records[idx, 1:] = self.cw[mat.coeff_id[lo:hi]]
        # LC headers sit before their records: header of LC l at word rec_start[l]*9 + l
        hdr = rec_start * _TERM_WORDS + np.arange(3 * m, dtype=np.int64)
        out = np.empty(3 * m + n_rec * _TERM_WORDS, "<u4")
        is_hdr = np.zeros(out.shape[0], bool)
        is_hdr[hdr] = True
        out[hdr] = nt
        out[~is_hdr] = records.reshape(-1)
        return out


def _header_bytes(r1cs: R1CS, n_labels: int) -> bytes:
    return (struct.pack("<I", FR_BYTES) + r1cs.prime.to_bytes(FR_BYTES, "little")
            + struct.pack("<IIIIQI", r1cs.n_wires, r1cs.n_pub_out, r1cs.n_pub_in,
                          r1cs.n_prv_in, n_labels, r1cs.n_constraints))


def write_r1cs(path: str | Path, r1cs: R1CS) -> None:
    """Write ``r1cs`` as an iden3 ``.r1cs`` v1 file (sections 1, 2, 3 in that order).

    Rows are written in canonical form (duplicate wires merged, zeros dropped): snarkjs keeps
    only the last term of a repeated wire, so a non-canonical row would change meaning."""
    if r1cs.prime != R:
        raise ValueError("only the BN254 scalar field is supported")
    if not r1cs.is_canonical():  # readers keep one term per wire: merge duplicates first
        r1cs = r1cs.canonicalise()
    w2l = (np.arange(r1cs.n_wires, dtype="<u8") if r1cs.wire_to_label is None
           else np.ascontiguousarray(r1cs.wire_to_label, dtype="<u8"))
    n_labels = r1cs.n_labels if r1cs.n_labels is not None else (
        int(w2l.max()) + 1 if w2l.size else 0)
    chunks = container_bytes(b"r1cs", 1, [
        (HEADER, [_header_bytes(r1cs, n_labels)]),
        (CONSTRAINTS, [_ConstraintStream(r1cs)]),
        (WIRE2LABEL, [w2l]),
    ])
    write_chunks(path, chunks)


def _walk_lcs(words: np.ndarray, n_lcs: int, where: str, base: int) -> np.ndarray:
    """Start word of each of ``n_lcs`` consecutive linear combinations (sequential walk)."""
    starts = np.empty(n_lcs, np.int64)
    flat = np.ascontiguousarray(words, "=u4")
    mv = memoryview(flat).cast("B").cast("I")  # type: ignore[arg-type]
    n_words = words.shape[0]
    p = 0
    try:
        for i in range(n_lcs):
            starts[i] = p
            p += 1 + _TERM_WORDS * mv[p]
    except IndexError:
        raise FormatError(f"{where}: constraint section truncated: linear combination #{i} "
                          f"starts at offset {base + 4 * p} past the section end") from None
    if p != n_words:
        raise FormatError(f"{where}: constraint section size mismatch: constraints end at offset "
                          f"{base + 4 * p}, section ends at offset {base + 4 * n_words}")
    return starts


def _distinct_index(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, index of every key among them) without sorting all keys: the
    distinct values of a sample, then of the few keys the sample missed."""
    uk = np.unique(key[:: max(1, key.shape[0] // 4096)])
    pos = np.minimum(np.searchsorted(uk, key), uk.shape[0] - 1)
    miss = uk[pos] != key
    if miss.any():
        uk = np.union1d(uk, key[miss])
        pos = np.searchsorted(uk, key)
    return uk, pos


def _intern_coeffs(limbs: np.ndarray, where: str) -> tuple[np.ndarray, list[int]]:
    """(nnz, 4) u64 coefficient limbs (may be a strided view) → (coeff_id int32, table of
    Python ints); checks every coefficient is < r."""
    n = limbs.shape[0]
    if n == 0:
        return np.zeros(0, np.int32), []
    # circuits use few distinct coefficients: group by the low limb, then confirm the other
    # limbs agree within each group; otherwise group by a hash of all four limbs
    for key in (limbs[:, 0], None):
        if key is None:
            key = limbs[:, 0] * np.uint64(0x9E3779B97F4A7C15)
            for k in (1, 2, 3):
                key = (key ^ limbs[:, k]) * np.uint64(0xBF58476D1CE4E5B9)
                key ^= key >> np.uint64(29)
        uk, inv = _distinct_index(key)
        first = np.zeros(uk.shape[0], np.int64)
        first[inv[::-1]] = np.arange(n - 1, -1, -1)
        rep = np.ascontiguousarray(limbs[first])
        if all(np.array_equal(rep[inv, k], limbs[:, k]) for k in range(4)):
            break
    else:  # hash collision: exact (slower) path
        voids = np.ascontiguousarray(limbs).view(np.dtype((np.void, 32))).reshape(-1)
        _, first, inv = np.unique(voids, return_index=True, return_inverse=True)
        rep = np.ascontiguousarray(limbs[first])
    if not limbs_lt_r(rep).all():
        raise FormatError(f"{where}: a coefficient is not a canonical field element (≥ r)")
    raw = rep.astype("<u8").tobytes()
    table = [int.from_bytes(raw[i:i + 32], "little") for i in range(0, len(raw), 32)]
    return inv.reshape(-1).astype(np.int32), table


def decode_constraints(buf: bytes, off: int, size: int, m: int, n_wires: int,
                       where: str) -> tuple[SparseMatrix, SparseMatrix, SparseMatrix, list[int]]:
    """Parse a constraint section payload into three CSR matrices sharing one coefficient table."""
    if size % 4:
        raise FormatError(f"{where}: constraint section at offset {off} has size {size}, "
                          "not a multiple of 4")
    words = np.frombuffer(buf, dtype="<u4", count=size // 4, offset=off)
    starts = _walk_lcs(words, 3 * m, where, off)
    nt = words[starts].astype(np.int64)
    body = np.ones(words.shape[0], bool)
    body[starts] = False
    records = words[body].reshape(-1, _TERM_WORDS)  # every term, in file (LC) order
    side = np.repeat(np.tile(np.arange(3, dtype=np.int8), m), nt)
    wires_all = records[:, 0].astype(np.int64)
    if wires_all.size and int(wires_all.max()) >= n_wires:
        k = int(np.argmax(wires_all >= n_wires))
        lc = int(np.searchsorted(np.cumsum(nt), k, side="right"))
        raise FormatError(f"{where}: constraint #{lc // 3} refers to wire {int(wires_all[k])} "
                          f"but the header declares {n_wires} wires")
    # the coefficients as an (nnz, 4) u64 view into the 36-byte records (unaligned, no copy)
    limbs = (np.ndarray((records.shape[0], 4), "<u8", records, offset=4, strides=(36, 8))
             if records.shape[0] else np.zeros((0, 4), "<u8"))
    ids_all, table = _intern_coeffs(limbs, where)
    out = []
    for s in range(3):
        sel = side == s
        row_ptr = np.zeros(m + 1, np.int64)
        np.cumsum(nt[s::3], out=row_ptr[1:])
        out.append(SparseMatrix(row_ptr, wires_all[sel], ids_all[sel]))
    return out[0], out[1], out[2], table


def read_r1cs(path: str | Path, canonical: bool = True) -> R1CS:
    """Read an iden3 ``.r1cs`` v1 file (any section order; unknown sections are skipped).

    With ``canonical`` the rows are brought to canonical form (sorted wires, merged duplicates,
    no zero coefficients) so the result satisfies the :class:`SparseMatrix` invariants.
    """
    c = read_container(path, b"r1cs", (1,))
    where = c.path
    hoff, hsize = c.unique("header", HEADER)
    if hsize < 4:
        raise FormatError(f"{where}: header section at offset {hoff} is truncated ({hsize} bytes)")
    (n8,) = struct.unpack_from("<I", c.data, hoff)
    if n8 != FR_BYTES:
        raise FormatError(f"{where}: header section at offset {hoff}: field size {n8} bytes, "
                          f"only {FR_BYTES} (BN254) is supported")
    if hsize != 4 + n8 + 4 * 4 + 8 + 4:
        raise FormatError(f"{where}: header section at offset {hoff} has size {hsize}, "
                          f"expected {4 + n8 + 28}")
    prime = int.from_bytes(c.data[hoff + 4: hoff + 4 + n8], "little")
    if prime != R:
        raise FormatError(f"{where}: header section at offset {hoff + 4}: prime {prime} is not "
                          "the BN254 scalar field order r",
                          hint="omnidsl works over BN254 (circom's default --prime bn128)")
    n_wires, n_out, n_pin, n_prv, n_labels, m = struct.unpack_from("<IIIIQI", c.data,
                                                                   hoff + 4 + n8)
    if 1 + n_out + n_pin + n_prv > n_wires:
        raise FormatError(f"{where}: header section at offset {hoff}: {n_out} outputs + {n_pin} "
                          f"public + {n_prv} private inputs do not fit in {n_wires} wires")
    coff, csize = c.unique("constraints", CONSTRAINTS)
    if 12 * m > csize:  # every constraint needs at least its three term counts
        raise FormatError(f"{where}: header declares {m} constraints but the constraints "
                          f"section at offset {coff} has only {csize} bytes")
    A, B, C, table = decode_constraints(c.data, coff, csize, m, n_wires,
                                        f"{where}: constraints section")
    w2l = None
    if WIRE2LABEL in c.sections:
        moff, msize = c.unique("wire2label", WIRE2LABEL)
        if msize != 8 * n_wires:
            raise FormatError(f"{where}: wire2label section at offset {moff} has size {msize}, "
                              f"expected {8 * n_wires} (8 bytes × {n_wires} wires)")
        w2l = np.frombuffer(c.data, "<u8", count=n_wires, offset=moff).astype(np.int64)
        if n_wires and (w2l.min() < 0 or w2l.max() >= max(n_labels, 1)):
            raise FormatError(f"{where}: wire2label section at offset {moff}: label id out of "
                              f"range 0..{n_labels - 1}")
    r = R1CS(n_wires=n_wires, n_pub_out=n_out, n_pub_in=n_pin, n_prv_in=n_prv, A=A, B=B, C=C,
             coeffs=table, wire_to_label=w2l, n_labels=n_labels, prime=prime)
    return r.canonicalise() if canonical else r


def read_r1cs_header(path: str | Path) -> dict[str, int]:
    """Only the header of a ``.r1cs`` file (wires, io counts, labels, constraints): cheap."""
    c = read_container(path, b"r1cs", (1,))
    hoff, hsize = c.unique("header", HEADER)
    if hsize != 4 + FR_BYTES + 28:
        raise FormatError(f"{c.path}: header section at offset {hoff} has size {hsize}, "
                          f"expected {4 + FR_BYTES + 28}")
    prime = int.from_bytes(c.data[hoff + 4: hoff + 4 + FR_BYTES], "little")
    vals = struct.unpack_from("<IIIIQI", c.data, hoff + 4 + FR_BYTES)
    keys = ("n_wires", "n_pub_out", "n_pub_in", "n_prv_in", "n_labels", "n_constraints")
    return {"prime": prime, **dict(zip(keys, vals, strict=True))}
