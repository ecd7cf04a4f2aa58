"""Linear-constraint elimination (circom's ``--O1`` / ``--O2``), vectorised and batched.

A constraint whose A or B side is a constant is linear: ``ℓ(z) = k·⟨B,z⟩ − ⟨C,z⟩ = 0``.  Such a
row can define one *internal* wire ``p`` (``z_p = −Σ_{w≠p} c_w z_w / c_p``) which is then
substituted everywhere and the row removed.  Wire 0, public outputs/inputs and private inputs are
never eliminated.

Batched rounds: every linear row proposes the eliminable wire of its ℓ with the fewest occurrences
(least fill-in); rows get a pseudo-random priority and a row is accepted when it has the best
priority on every wire of its ℓ, so accepted rows have disjoint supports and all their
substitutions can be applied at once, exactly.  Rounds repeat until nothing is accepted (about
log(n) rounds for chains).  Eliminations that would blow up the system (a long ℓ substituted into
many places) are skipped.  Field arithmetic works on coefficient ids
(:class:`omnidsl.r1cs.coeffs.CoeffTable`), one big-int operation per distinct pair of values.

Soundness: an assignment of the kept wires satisfies the optimised system iff extending it by the
recorded substitutions (:meth:`Optimised.extend`) satisfies the original; a full witness of the
original restricted to ``kept`` always satisfies the optimised system.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from omnidsl.errors import InternalError
from omnidsl.r1cs.coeffs import CoeffTable
from omnidsl.r1cs.system import R1CS, SparseMatrix

#: an elimination is skipped if it adds more than this many terms (beyond 4·|ℓ|)
FILL_SLACK = 64
FILL_FACTOR = 4


@dataclass
class Round:
    """The substitutions of one batch: ``z[pivot[k]] = Σ coeff·z[wire]`` over ``ptr[k]:ptr[k+1]``."""

    pivot: np.ndarray
    ptr: np.ndarray
    wire: np.ndarray
    cid: np.ndarray


@dataclass
class Optimised:
    """Result of :func:`optimise_full`: the system, the kept wires and how to recover the rest."""

    r1cs: R1CS
    kept: np.ndarray
    rounds: list[Round] = field(default_factory=list)
    coeffs: list[int] = field(default_factory=list)

    def extend(self, z_kept: list[int], n_wires: int) -> list[int]:
        """Full assignment (Python ints) of the original wires from one of the kept wires."""
        p = self.r1cs.prime
        z = [0] * n_wires
        for j, w in enumerate(self.kept.tolist()):
            z[w] = z_kept[j] % p
        for rnd in reversed(self.rounds):
            for k, piv in enumerate(rnd.pivot.tolist()):
                lo, hi = int(rnd.ptr[k]), int(rnd.ptr[k + 1])
                z[piv] = sum(self.coeffs[int(c)] * z[int(w)]
                             for w, c in zip(rnd.wire[lo:hi], rnd.cid[lo:hi], strict=True)) % p
        return z


def _ranges(start: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated ``arange(start[k], start[k] + length[k])``: (indices, k of each index)."""
    length = np.asarray(length, np.int64)
    total = int(length.sum())
    k = np.repeat(np.arange(length.shape[0], dtype=np.int64), length)
    first = np.cumsum(length) - length
    return np.asarray(start, np.int64)[k] + (np.arange(total, dtype=np.int64) - first[k]), k


class _Pool:
    """The system as a term pool plus one segment per (row, side) linear combination.

    Segment ``3·row + side`` is ``pool[seg_start : seg_start + seg_len]`` (wires strictly
    increasing, no zero coefficient).  A rewritten segment is appended to the pool and its old
    terms are marked dead, so a round costs O(pool) cheap masks plus O(touched) sorting.
    """

    def __init__(self, r1cs: R1CS, table: CoeffTable):
        self.table = table
        self.nw = max(r1cs.n_wires, 1)
        self.m = m = r1cs.n_constraints
        mats = (r1cs.A, r1cs.B, r1cs.C)
        total = sum(x.nnz for x in mats)
        cap = max(16, 3 * total)  # untouched capacity costs no memory (pages are lazy)
        self.wire = np.empty(cap, np.int64)
        self.cid = np.empty(cap, np.int32)
        self.owner = np.empty(cap, np.int64)
        self.live = np.empty(cap, bool)
        self.size = total
        self.seg_start = np.empty(3 * m, np.int64)
        self.seg_len = np.empty(3 * m, np.int64)
        base = 0
        for side, mat in enumerate(mats):
            n = mat.nnz
            self.wire[base:base + n] = mat.wire
            self.cid[base:base + n] = table.canonical_ids(np.asarray(mat.coeff_id, np.int64))
            self.owner[base:base + n] = mat.row_of_term() * 3 + side
            self.seg_start[side::3] = base + mat.row_ptr[:-1]
            self.seg_len[side::3] = np.diff(mat.row_ptr)
            base += n
        self.live[:total] = True
        self.row_alive = np.ones(m, bool)

    def _reserve(self, extra: int) -> None:
        need = self.size + extra
        if need <= self.wire.shape[0]:
            return
        cap = max(need, self.wire.shape[0] * 3 // 2)
        for name in ("wire", "cid", "owner", "live"):
            old = getattr(self, name)
            new = np.empty(cap, old.dtype)
            new[: self.size] = old[: self.size]
            setattr(self, name, new)

    def gather(self, segs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pool indices of the terms of ``segs`` (in order) and the position in ``segs`` of each."""
        return _ranges(self.seg_start[segs], self.seg_len[segs])

    def kill_rows(self, rows: np.ndarray) -> None:
        self.row_alive[rows] = False
        segs = (rows[:, None] * 3 + np.arange(3)).reshape(-1)
        idx, _ = self.gather(segs)
        self.live[idx] = False
        self.seg_len[segs] = 0

    def merge(self, key: np.ndarray, cid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sort by key, merge equal keys (sum coefficients), drop zero coefficients."""
        order = np.argsort(key, kind="stable")
        key, cid = key[order], cid[order]
        if key.size:
            start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
            if start.size != key.size:
                cid = self.table.sum_runs(cid, start)
                key = key[start]
            cid = self.table.canonical_ids(cid)
            nz = ~self.table.zero_mask()[cid]
            if not nz.all():
                key, cid = key[nz], cid[nz]
        return key, cid.astype(np.int32)

    def linear_forms(self):
        """Linear rows (mask) and their forms ℓ as (row, wire, cid) term arrays (each row's terms
        contiguous with distinct wires; rows in no particular order)."""
        m = self.m
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
        pidx, pk = self.gather(3 * L[~use] + 2)
        prow, pwire = L[~use][pk], self.wire[pidx]
        pcid = self.table.neg(self.cid[pidx])
        # the others: ℓ = k·(other side) − C, merged per row
        Lu = L[use]
        midx, mk = self.gather(other_seg[use])
        mcid = self.table.mul(self.cid[midx], const_id[use][mk])
        cidx, ck = self.gather(3 * Lu + 2)
        ccid = self.table.neg(self.cid[cidx])
        key = np.concatenate([Lu[mk] * self.nw + self.wire[midx],
                              Lu[ck] * self.nw + self.wire[cidx]])
        key, ucid = self.merge(key, np.concatenate([mcid, ccid]))
        lrow = np.concatenate([prow, key // self.nw])
        lwire = np.concatenate([pwire, key % self.nw])
        return lin, lrow, lwire, np.concatenate([pcid, ucid])

    def occurrences(self) -> np.ndarray:
        live = self.live[: self.size]
        return np.bincount(self.wire[: self.size][live], minlength=self.nw)

    def substitute(self, pivots: np.ndarray, ptr: np.ndarray, ewire: np.ndarray,
                   ecid: np.ndarray) -> None:
        """Replace every live occurrence of ``pivots`` by its expression (rewrites segments)."""
        n = self.size
        piv_idx = np.full(self.nw, -1, np.int64)
        piv_idx[pivots] = np.arange(pivots.shape[0])
        hit = self.live[:n] & (piv_idx[self.wire[:n]] >= 0)
        segs = np.unique(self.owner[:n][hit])
        if segs.size == 0:
            return
        idx, k = self.gather(segs)
        w, c = self.wire[idx], self.cid[idx]
        pk = piv_idx[w]
        h = pk >= 0
        # expansion of the hit terms
        hk = pk[h]
        cnt = ptr[hk + 1] - ptr[hk]
        src_pos, rep = _ranges(ptr[hk], cnt)
        nkey = k[h][rep] * self.nw + ewire[src_pos]
        ncid = self.table.mul(c[h][rep], ecid[src_pos])
        key = np.concatenate([k[~h] * self.nw + w[~h], nkey])
        key, cid = self.merge(key, np.concatenate([c[~h], ncid]))
        new_k = key // self.nw
        new_len = np.bincount(new_k, minlength=segs.shape[0])
        self.live[idx] = False
        self._reserve(key.shape[0])
        lo, hi = self.size, self.size + key.shape[0]
        self.wire[lo:hi] = key % self.nw
        self.cid[lo:hi] = cid
        self.owner[lo:hi] = segs[new_k]
        self.live[lo:hi] = True
        self.seg_start[segs] = lo + np.cumsum(new_len) - new_len
        self.seg_len[segs] = new_len
        self.size = hi

    def matrices(self, rows_kept: np.ndarray, wire_map: np.ndarray) -> list[SparseMatrix]:
        out = []
        for s in range(3):
            segs = rows_kept * 3 + s
            idx, _ = self.gather(segs)
            ptr = np.zeros(rows_kept.shape[0] + 1, np.int64)
            np.cumsum(self.seg_len[segs], out=ptr[1:])
            w = wire_map[self.wire[idx]]
            if (w < 0).any():
                raise InternalError("optimiser: an eliminated wire is still referenced")
            out.append(SparseMatrix(ptr, w, self.cid[idx].astype(np.int32)))
        return out


def _pick(lin_rows: np.ndarray, lrow: np.ndarray, lwire: np.ndarray, lcid: np.ndarray,
          occ: np.ndarray, protected: int, level: int, rnd: int):
    """Choose independent (row, pivot) pairs among the linear rows: returns accepted rows,
    their pivots and the pivot coefficient ids."""
    if lrow.size == 0:
        return (np.zeros(0, np.int64),) * 2 + (np.zeros(0, np.int32),)
    m = lin_rows.shape[0]
    length = np.bincount(lrow, minlength=m)
    n_var = np.bincount(lrow[lwire != 0], minlength=m)
    cand_row = lin_rows & (n_var > 0)
    if level == 1:  # only x = const, or k1·x + k2·y = 0
        has_const = np.zeros(m, bool)
        has_const[lrow[lwire == 0]] = True
        cand_row &= (n_var == 1) | ((n_var == 2) & ~has_const)
    elim = (lwire >= protected) & cand_row[lrow]
    if not elim.any():
        return (np.zeros(0, np.int64),) * 2 + (np.zeros(0, np.int32),)
    # per row: eliminable term with the fewest occurrences (ties: the lowest wire)
    er, ew = lrow[elim], lwire[elim]
    eidx = np.flatnonzero(elim)
    order = np.lexsort((ew, occ[ew], er))
    first = order[np.r_[True, er[order][1:] != er[order][:-1]]]
    prow, pwire, pterm = er[first], ew[first], eidx[first]
    ln = length[prow]
    fill = (occ[pwire] - 1) * np.maximum(ln - 2, 0)
    ok = fill <= FILL_FACTOR * ln + FILL_SLACK
    prow, pwire, pterm = prow[ok], pwire[ok], pterm[ok]
    if prow.size == 0:
        return (np.zeros(0, np.int64),) * 2 + (np.zeros(0, np.int32),)
    # independence: a row wins if its priority is the best on every wire of its ℓ
    rng = np.random.default_rng(0x5EED + rnd)
    prio = np.full(m, np.iinfo(np.int64).max, np.int64)
    prio[prow] = rng.permutation(prow.shape[0]).astype(np.int64)
    var = (lwire != 0) & (prio[lrow] < np.iinfo(np.int64).max)
    best = np.full(occ.shape[0], np.iinfo(np.int64).max, np.int64)
    np.minimum.at(best, lwire[var], prio[lrow[var]])
    lose = (lwire != 0) & (best[lwire] != prio[lrow])
    lost = np.zeros(m, bool)
    lost[lrow[lose]] = True
    win = ~lost[prow]
    return prow[win], pwire[win], lcid[pterm[win]]


def optimise_full(r1cs: R1CS, level: int = 2) -> Optimised:
    """Eliminate linear constraints (``level`` 0, 1 or 2) and record how to undo it."""
    if level not in (0, 1, 2):
        raise ValueError(f"optimisation level must be 0, 1 or 2, not {level}")
    if level == 0:
        return Optimised(r1cs, np.arange(r1cs.n_wires, dtype=np.int64), [], list(r1cs.coeffs))
    protected = r1cs.n_protected
    if not r1cs.is_canonical():
        r1cs = r1cs.canonicalise()
    table = CoeffTable(r1cs.coeffs, r1cs.prime)
    pool = _Pool(r1cs, table)
    rounds: list[Round] = []
    eliminated = np.zeros(pool.nw, bool)
    for rnd in range(10_000):
        lin, lrow, lwire, lcid = pool.linear_forms()
        # a linear row whose ℓ is identically zero holds for every assignment: drop it
        trivial = lin.copy()
        trivial[lrow] = False
        if trivial.any():
            pool.kill_rows(np.flatnonzero(trivial))
            lin &= ~trivial
        rows, piv, pcid = _pick(lin, lrow, lwire, lcid, pool.occurrences(), protected, level,
                                rnd)
        if rows.size == 0:
            break
        # expressions z_p = Σ_{w≠p} (−c_w/c_p)·z_w from the accepted rows' ℓ, in ``rows`` order
        rank = np.full(pool.m, -1, np.int64)
        rank[rows] = np.arange(rows.shape[0])
        piv_of_row = np.full(pool.m, -1, np.int64)
        piv_of_row[rows] = piv
        scale = table.neg(table.inv(pcid)).astype(np.int64)
        sel = (rank[lrow] >= 0) & (lwire != piv_of_row[lrow])
        er, ewire = rank[lrow[sel]], lwire[sel]
        ecid = table.mul(lcid[sel], scale[er])
        order = np.argsort(er, kind="stable")
        er, ewire, ecid = er[order], ewire[order], ecid[order]
        ptr = np.zeros(rows.shape[0] + 1, np.int64)
        np.cumsum(np.bincount(er, minlength=rows.shape[0]), out=ptr[1:])
        rounds.append(Round(piv.astype(np.int64), ptr, ewire.astype(np.int64),
                            ecid.astype(np.int32)))
        eliminated[piv] = True
        pool.kill_rows(rows)
        pool.substitute(piv, ptr, ewire, ecid)
    # drop rows with nothing left in them
    nonempty = pool.seg_len.reshape(-1, 3).sum(axis=1) > 0
    rows_kept = np.flatnonzero(pool.row_alive & nonempty)
    kept = np.flatnonzero(~eliminated[: r1cs.n_wires]).astype(np.int64)
    wire_map = np.full(pool.nw, -1, np.int64)
    wire_map[kept] = np.arange(kept.shape[0])
    A, B, C = pool.matrices(rows_kept, wire_map)
    w2l = (kept.copy() if r1cs.wire_to_label is None
           else np.asarray(r1cs.wire_to_label, np.int64)[kept])
    n_labels = r1cs.n_labels if r1cs.n_labels is not None else r1cs.n_wires
    line = (None if r1cs.constraint_line is None
            else np.asarray(r1cs.constraint_line)[rows_kept].copy())
    # compact the coefficient table to the entries still referenced
    used = np.zeros(len(table), bool)
    for mat in (A, B, C):
        used[mat.coeff_id] = True
    remap = np.cumsum(used) - 1
    for mat in (A, B, C):
        mat.coeff_id = remap[mat.coeff_id].astype(np.int32)
    coeffs = [v for v, u in zip(table.values, used.tolist(), strict=True) if u]
    bits = None if r1cs.wire_bits is None else np.asarray(r1cs.wire_bits, np.uint8)[kept]
    out = replace(r1cs, n_wires=int(kept.shape[0]), A=A, B=B, C=C, coeffs=coeffs,
                  wire_to_label=w2l, n_labels=n_labels, constraint_line=line,
                  labels=dict(r1cs.labels), wire_bits=bits)
    return Optimised(out, kept, rounds, list(table.values))


def optimise(r1cs: R1CS, level: int) -> tuple[R1CS, np.ndarray]:
    """Optimised system and ``kept`` (new wire j = old wire ``kept[j]``, order preserved)."""
    res = optimise_full(r1cs, level)
    return res.r1cs, res.kept
