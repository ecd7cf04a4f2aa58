"""The optimiser's term store: an R1CS as one segment of terms per (row, side).

Segment ``3·row + side`` (side 0, 1, 2 = A, B, C) is ``wire/cid[seg_start : seg_start +
seg_len]``, wires strictly increasing, no zero coefficient.  The pool starts as the three CSR
matrices laid end to end (the *base*); a rewritten segment is appended after everything else and
its old terms are simply left behind.  A term at position ``p`` is live iff ``p`` lies inside the
current slice of the segment that owns it; owners are found with a binary search (the base
matrices' ``row_ptr`` and a sorted table of appended slices), so no per-term owner or liveness
array is stored.  Occurrence counts of every wire are kept up to date incrementally.

``work`` counts the terms the pool has gathered, scanned for a pivot or written: the optimiser's
cost measure (tests check that it grows linearly with the rule size).
"""

from __future__ import annotations

import numpy as np

from omnidsl.errors import InternalError
from omnidsl.r1cs.coeffs import CoeffTable
from omnidsl.r1cs.system import R1CS, SparseMatrix

#: terms rewritten per batch in :meth:`TermPool.substitute` (bounds its temporaries)
CHUNK = 1 << 20


def ranges(start: np.ndarray, length: np.ndarray,
           with_k: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Concatenated ``arange(start[k], start[k] + length[k])`` and (``with_k``) each index's k."""
    length = np.asarray(length, np.int64)
    total = int(length.sum())
    first = np.cumsum(length) - length
    idx = np.repeat(np.asarray(start, np.int64) - first, length)
    idx += np.arange(total, dtype=np.int64)
    k = np.repeat(np.arange(length.shape[0], dtype=np.int64), length) if with_k else None
    return idx, k


class TermPool:
    """Segments of the system being optimised (see the module docstring)."""

    def __init__(self, r1cs: R1CS, table: CoeffTable, consume: bool = False):
        """``consume``: release ``r1cs``'s term arrays once copied (its matrices keep their
        ``row_ptr`` but no terms: the caller must not use it again)."""
        self.table = table
        self._source = r1cs if consume else None
        self.nw = max(r1cs.n_wires, 1)
        self.m = m = r1cs.n_constraints
        mats = (r1cs.A, r1cs.B, r1cs.C)
        total = sum(x.nnz for x in mats)
        cap = 2 * total + (1 << 12)  # pages are touched only when written: no cost up front
        self.wdt: type[np.signedinteger] = np.int32 if self.nw < 2**31 else np.int64
        #: positions and lengths
        self.pdt: type[np.signedinteger] = np.int32 if cap < 2**31 else np.int64
        self.wire: np.ndarray = np.empty(cap, self.wdt)
        self.cid = np.empty(cap, np.int32)
        self.seg_start: np.ndarray = np.empty(3 * m, self.pdt)
        self.seg_len: np.ndarray = np.empty(3 * m, self.pdt)
        self.base = np.zeros(4, np.int64)  # side s occupies [base[s], base[s + 1])
        self.ptrs = []
        for side, mat in enumerate(mats):
            lo, n = int(self.base[side]), mat.nnz
            self.base[side + 1] = lo + n
            self.wire[lo:lo + n] = mat.wire
            self.cid[lo:lo + n] = table.canonical_ids(mat.coeff_id)
            ptr = np.asarray(mat.row_ptr, np.int64)
            self.ptrs.append(ptr)
            self.seg_start[side::3] = lo + ptr[:-1]
            self.seg_len[side::3] = np.diff(ptr)
            if consume:
                mat.wire = np.zeros(0, np.int64)
                mat.coeff_id = np.zeros(0, np.int32)
        self.size = total
        #: (start, segment) of every non-empty appended slice, in pool order
        self._app: list[tuple[np.ndarray, np.ndarray]] = []
        self._app_cache: tuple[np.ndarray, np.ndarray] | None = None
        self.row_alive = np.ones(m, bool)
        self.occ = np.bincount(self.wire[:total], minlength=self.nw).astype(np.int64)
        self.work = total

    # ------------------------------------------------------------ storage
    def _reserve(self, extra: int) -> None:
        need = self.size + extra
        if need <= self.wire.shape[0]:
            return
        cap = max(need, self.wire.shape[0] * 3 // 2)
        if cap >= 2**31 and self.pdt == np.int32:
            self.pdt = np.int64
            self.seg_start = self.seg_start.astype(np.int64)
            self.seg_len = self.seg_len.astype(np.int64)
        for name in ("wire", "cid"):
            old = getattr(self, name)
            new = np.empty(cap, old.dtype)
            new[: self.size] = old[: self.size]
            setattr(self, name, new)

    def gather(self, segs: np.ndarray, with_k: bool = False):
        """Pool positions of the terms of ``segs`` (in order) and, with ``with_k``, the index in
        ``segs`` of each."""
        idx, k = ranges(self.seg_start[segs], self.seg_len[segs], with_k)
        self.work += idx.shape[0]
        return idx, k

    def owners(self, pos: np.ndarray) -> np.ndarray:
        """Segment owning each position (``pos`` increasing); -1 where the term is dead."""
        seg = np.full(pos.shape[0], -1, np.int64)
        cut = np.searchsorted(pos, self.base)
        for side in range(3):
            a, b = int(cut[side]), int(cut[side + 1])
            if a < b:
                rows = np.searchsorted(self.ptrs[side], pos[a:b] - self.base[side], "right") - 1
                seg[a:b] = 3 * rows + side
        a = int(cut[3])
        if a < pos.shape[0]:
            if self._app_cache is None:
                self._app_cache = (np.concatenate([x for x, _ in self._app]),
                                   np.concatenate([y for _, y in self._app]))
            app_pos, app_seg = self._app_cache
            j = np.searchsorted(app_pos, pos[a:], "right") - 1
            seg[a:] = app_seg[j]
        start = self.seg_start[seg]
        dead = (pos < start) | (pos >= start + self.seg_len[seg])
        seg[dead] = -1
        return seg

    def zero_id(self) -> int:
        return self.table.index.get(0, -1)

    def merge(self, key: np.ndarray, cid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sort by key, merge equal keys (sum coefficients), drop zero coefficients."""
        order = np.argsort(key, kind="stable")  # fast on the presorted runs it gets
        key, cid = key[order], cid[order]
        del order
        if key.size > 1:
            same = key[1:] == key[:-1]
            if same.any():
                first = np.r_[True, ~same]
                # runs of two or more: start where a term is followed by an equal one
                run_start = np.flatnonzero(first[:-1] & same)
                ends = np.flatnonzero(same[:-1] & ~same[1:]) + 1  # last term of each run
                if same[-1]:
                    ends = np.r_[ends, key.shape[0] - 1]
                cid = cid.copy()
                cid[run_start] = self.table.sum_long_runs(cid, run_start, ends - run_start + 1)
                key, cid = key[first], cid[first]
        if key.size:
            cid = self.table.canonical_ids(cid)
            nz = cid != self.zero_id()
            if not nz.all():
                key, cid = key[nz], cid[nz]
        return key, cid.astype(np.int32)

    # ------------------------------------------------------------ the system
    def kill_rows(self, rows: np.ndarray) -> None:
        """Remove rows (their terms stop counting as occurrences)."""
        self.row_alive[rows] = False
        segs = (rows[:, None] * 3 + np.arange(3)).reshape(-1)
        idx, _ = self.gather(segs)
        np.subtract.at(self.occ, self.wire[idx], 1)
        self.seg_len[segs] = 0

    def linear_forms(self):
        """Linear rows (mask) and their forms ℓ as (row, wire, cid) term arrays (each row's terms
        contiguous with distinct wires; rows in no particular order)."""
        m, nw = self.m, self.nw
        st = np.minimum(self.seg_start, max(self.size - 1, 0))
        has0 = (self.seg_len > 0) & (self.wire[st] == 0)
        nonconst = (self.seg_len - has0).reshape(m, 3)
        lin = self.row_alive & ((nonconst[:, 0] == 0) | (nonconst[:, 1] == 0))
        L = np.flatnonzero(lin)
        a_const = nonconst[L, 0] == 0
        const_seg = 3 * L + np.where(a_const, 0, 1)
        other_seg = 3 * L + np.where(a_const, 1, 0)
        const_id = np.where(self.seg_len[const_seg] > 0,
                            self.cid[self.seg_start[const_seg]], -1).astype(np.int64)
        use = const_id >= 0
        # rows whose non-constant side is multiplied by zero: ℓ = −C, already canonical
        pidx, pk = self.gather(3 * L[~use] + 2, True)
        prow, pwire = L[~use][pk], self.wire[pidx].astype(np.int64)
        pcid = self.table.neg(self.cid[pidx])
        # the others: ℓ = k·(other side) − C, merged per row
        Lu = L[use]
        midx, mk = self.gather(other_seg[use], True)
        mcid = self.table.mul(self.cid[midx], const_id[use][mk])
        cidx, ck = self.gather(3 * Lu + 2, True)
        ccid = self.table.neg(self.cid[cidx])
        key = np.concatenate([Lu[mk] * nw + self.wire[midx], Lu[ck] * nw + self.wire[cidx]])
        key, ucid = self.merge(key, np.concatenate([mcid, ccid]))
        lrow = np.concatenate([prow, key // nw])
        lwire = np.concatenate([pwire, key % nw])
        return lin, lrow, lwire, np.concatenate([pcid, ucid])

    def substitute(self, pivots: np.ndarray, ptr: np.ndarray, ewire: np.ndarray,
                   ecid: np.ndarray) -> None:
        """Replace every live occurrence of ``pivots`` by its expression (rewrites segments)."""
        nw = self.nw
        is_piv = np.zeros(nw, bool)
        is_piv[pivots] = True
        pos = np.flatnonzero(is_piv[self.wire[: self.size]])
        self.work += self.size
        del is_piv
        seg = self.owners(pos)
        mark = np.zeros(3 * self.m, bool)
        mark[seg[seg >= 0]] = True
        segs = np.flatnonzero(mark)
        del mark
        if segs.size == 0:
            return
        order = np.argsort(pivots)
        sorted_piv = pivots[order]
        # rewrite in chunks of about CHUNK terms: bounded temporaries, cache-sized work
        csum = np.cumsum(self.seg_len[segs])
        cuts = np.searchsorted(csum, np.arange(CHUNK, int(csum[-1]), CHUNK), "right")
        for part in np.split(segs, np.unique(cuts)):
            if part.size:
                self._rewrite(part, order, sorted_piv, ptr, ewire, ecid)
        self._app_cache = None

    def _rewrite(self, segs: np.ndarray, order: np.ndarray, sorted_piv: np.ndarray,
                 ptr: np.ndarray, ewire: np.ndarray, ecid: np.ndarray) -> None:
        """Rewrite ``segs`` with the pivots (``sorted_piv``, ``order`` into ``ptr``) expanded."""
        nw = self.nw
        idx, k = self.gather(segs, True)
        w, c = self.wire[idx].astype(np.int64), self.cid[idx]
        del idx
        j = np.minimum(np.searchsorted(sorted_piv, w), sorted_piv.shape[0] - 1)
        h = sorted_piv[j] == w
        # expansion of the hit terms
        hk = order[j[h]]
        del j
        cnt = ptr[hk + 1] - ptr[hk]
        src_pos, rep = ranges(ptr[hk], cnt, True)
        nkey = k[h][rep] * nw + ewire[src_pos]
        ncid = self.table.mul(c[h][rep], ecid[src_pos])
        del src_pos, rep
        key = np.concatenate([k[~h] * nw + w[~h], nkey])
        del nkey, k
        key, cid = self.merge(key, np.concatenate([c[~h], ncid]))
        del ncid, c, h
        new_k = key // nw
        new_w = key - new_k * nw
        del key
        new_len = np.bincount(new_k, minlength=segs.shape[0])
        del new_k
        np.subtract.at(self.occ, w, 1)
        np.add.at(self.occ, new_w, 1)
        self._reserve(new_w.shape[0])
        lo, hi = self.size, self.size + new_w.shape[0]
        self.wire[lo:hi] = new_w
        self.cid[lo:hi] = cid
        starts = lo + np.cumsum(new_len) - new_len
        self.seg_start[segs] = starts
        self.seg_len[segs] = new_len
        ne = new_len > 0
        self._app.append((starts[ne], segs[ne]))
        self.size = hi
        self.work += new_w.shape[0]

    def matrices(self, rows_kept: np.ndarray, wire_map: np.ndarray) -> list[SparseMatrix]:
        """The kept rows as CSR matrices over the renumbered wires (built in chunks of rows).
        Ends the pool's rewriting (the base matrices' row pointers are released)."""
        self.ptrs, self._app, self._app_cache = [], [], None
        self.occ = np.zeros(0, np.int64)
        if self._source is not None:  # consumed: its row pointers go too
            for name in ("A", "B", "C"):
                setattr(self._source, name, SparseMatrix.empty(0))
            self._source = None
        out = []
        for s in range(3):
            segs = rows_kept * 3 + s
            lens = self.seg_len[segs]
            ptr = np.zeros(rows_kept.shape[0] + 1, np.int64)
            np.cumsum(lens, out=ptr[1:])
            wire = np.empty(int(ptr[-1]), np.int64)
            cid = np.empty(int(ptr[-1]), np.int32)
            cuts = np.searchsorted(ptr, np.arange(0, int(ptr[-1]), CHUNK), "right") - 1
            bounds = np.unique(np.r_[0, cuts, rows_kept.shape[0]])
            for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
                idx, _ = ranges(self.seg_start[segs[a:b]], lens[a:b])
                lo, hi = int(ptr[a]), int(ptr[b])
                w = wire_map[self.wire[idx]]
                if w.size and int(w.min()) < 0:
                    raise InternalError("optimiser: an eliminated wire is still referenced")
                wire[lo:hi] = w
                cid[lo:hi] = self.cid[idx]
            out.append(SparseMatrix(ptr, wire, cid))
        return out
