"""Vectorised R1CS satisfaction check: which constraints does a witness violate?

Rows whose terms are all small (signed values and coefficients below 2^31, row sums below 2^62)
are checked exactly in int64; the remaining rows (big values, field inverses) exactly with Python
integers modulo r.
"""

from __future__ import annotations

import numpy as np

from omnidsl.field import R, limbs_to_ints, signed
from omnidsl.r1cs.system import R1CS, SparseMatrix

_R_LIMBS = [(R >> (64 * i)) & ((1 << 64) - 1) for i in range(4)]
_LIM = 1 << 31
_CHUNK = 1 << 21  # terms per chunk of rows in _row_values


def _signed_small(witness: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int64 signed values, mask of wires whose signed value is below 2^31 in magnitude)."""
    w = np.ascontiguousarray(witness, dtype=np.uint64)
    hi_zero = (w[:, 1] == 0) & (w[:, 2] == 0) & (w[:, 3] == 0)
    pos = hi_zero & (w[:, 0] < np.uint64(_LIM))
    near_r = ((w[:, 1] == np.uint64(_R_LIMBS[1])) & (w[:, 2] == np.uint64(_R_LIMBS[2]))
              & (w[:, 3] == np.uint64(_R_LIMBS[3])) & (w[:, 0] < np.uint64(_R_LIMBS[0]))
              & (w[:, 0] >= np.uint64(_R_LIMBS[0] - _LIM + 1)))
    vals = np.zeros(w.shape[0], np.int64)
    vals[pos] = w[pos, 0].astype(np.int64)
    vals[near_r] = (w[near_r, 0] - np.uint64(_R_LIMBS[0])).astype(np.int64)  # wraps to negative
    return vals, pos | near_r


def _row_values(m: SparseMatrix, z: np.ndarray, zok: np.ndarray, c64: np.ndarray,
                cok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row int64 values and a mask of rows where they are exact (no per-row loops; rows
    taken in chunks of about ``_CHUNK`` terms to bound the temporaries)."""
    n = m.n_rows
    vals = np.zeros(n, np.int64)
    ok = np.zeros(n, bool)
    cuts = np.searchsorted(m.row_ptr, np.arange(0, m.nnz, _CHUNK), "right") - 1
    bounds = np.unique(np.r_[0, cuts, n])
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        lo, hi = int(m.row_ptr[a]), int(m.row_ptr[b])
        ptr0 = m.row_ptr[a:b] - lo
        ptr1 = m.row_ptr[a + 1:b + 1] - lo
        wire, cid = m.wire[lo:hi], m.coeff_id[lo:hi]
        prod = c64[cid] * z[wire]
        bad = np.zeros(prod.shape[0] + 1, np.int64)
        np.cumsum(~(zok[wire] & cok[cid]), out=bad[1:])
        est = np.zeros(prod.shape[0] + 1, np.float64)
        np.cumsum(np.abs(prod), out=est[1:], dtype=np.float64)
        cs = np.zeros(prod.shape[0] + 1, np.int64)
        np.cumsum(prod, out=cs[1:])  # wraps mod 2^64; differences are exact where rows fit
        ok[a:b] = (bad[ptr1] == bad[ptr0]) & (est[ptr1] - est[ptr0] < 2.0**61)
        vals[a:b] = cs[ptr1] - cs[ptr0]
    return vals, ok


def violated(r1cs: R1CS, witness: np.ndarray) -> np.ndarray:
    """Indices (int64, increasing) of the constraints that ``witness`` ((n,4) limbs) violates."""
    if witness.shape[0] != r1cs.n_wires:
        raise ValueError(f"witness has {witness.shape[0]} wires, the R1CS {r1cs.n_wires}")
    z, zok = _signed_small(witness)
    cs = [signed(c) for c in r1cs.coeffs]
    cok = np.array([abs(c) < _LIM for c in cs], bool)
    c64 = np.array([c if abs(c) < _LIM else 0 for c in cs], np.int64)
    a, aok = _row_values(r1cs.A, z, zok, c64, cok)
    b, bok = _row_values(r1cs.B, z, zok, c64, cok)
    c, cok_r = _row_values(r1cs.C, z, zok, c64, cok)
    fast = aok & bok & cok_r & (np.abs(a) < _LIM) & (np.abs(b) < _LIM)
    bad = fast & (a * b != c)
    slow = np.flatnonzero(~fast)
    if slow.size:
        coeffs = r1cs.coeffs
        mats = (r1cs.A, r1cs.B, r1cs.C)
        need = np.unique(np.concatenate([m.wire[_terms(m, slow)] for m in mats]))
        zint = dict(zip(need.tolist(), limbs_to_ints(witness[need]), strict=True))
        for k in slow.tolist():
            s = []
            for m in mats:
                lo, hi = int(m.row_ptr[k]), int(m.row_ptr[k + 1])
                s.append(sum(coeffs[int(ci)] * zint[int(wi)]
                             for wi, ci in zip(m.wire[lo:hi], m.coeff_id[lo:hi], strict=True)) % R)
            if (s[0] * s[1] - s[2]) % R:
                bad[k] = True
    return np.flatnonzero(bad).astype(np.int64)


def _terms(m: SparseMatrix, rows: np.ndarray) -> np.ndarray:
    """Term positions of the given rows (vectorised)."""
    starts, ends = m.row_ptr[rows], m.row_ptr[rows + 1]
    counts = ends - starts
    if counts.sum() == 0:
        return np.zeros(0, np.int64)
    offs = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    return np.arange(int(counts.sum()), dtype=np.int64) + offs
