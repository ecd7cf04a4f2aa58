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


class _System:
    """All terms of A, B, C sorted by key = (row·3 + side)·NW + wire, coefficients as ids."""

    def __init__(self, r1cs: R1CS, table: CoeffTable):
        self.nw = max(r1cs.n_wires, 1)
        self.m = r1cs.n_constraints
        keys, cids = [], []
        for side, mat in enumerate((r1cs.A, r1cs.B, r1cs.C)):
            rows = mat.row_of_term()
            keys.append((rows * 3 + side) * self.nw + mat.wire.astype(np.int64))
            cids.append(mat.coeff_id.astype(np.int32))
        key = np.concatenate(keys)
        order = np.argsort(key, kind="stable")
        self.table = table
        self.key, self.cid = self._merge(key[order], np.concatenate(cids)[order])
        self.alive = np.ones(self.m, bool)

    def _merge(self, key: np.ndarray, cid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Merge equal adjacent keys (sum coefficients) and drop zero coefficients."""
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

    def parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rs = self.key // self.nw
        return rs // 3, rs % 3, self.key % self.nw

    def linear_forms(self, protected: int):
        """Linear rows and their forms ℓ: (rows, term row, term wire, term cid) sorted."""
        row, side, wire = self.parts()
        nonconst = np.bincount((row * 3 + side)[wire != 0], minlength=3 * self.m).reshape(-1, 3)
        lin = self.alive & ((nonconst[:, 0] == 0) | (nonconst[:, 1] == 0))
        a_const = nonconst[:, 0] == 0
        # constant of the constant side (id), −1 when that side is empty (zero)
        const_id = np.full(self.m, -1, np.int64)
        const_side = np.where(a_const, 0, 1)
        is_c0 = (wire == 0) & (side == const_side[row]) & lin[row]
        const_id[row[is_c0]] = self.cid[is_c0]
        other_side = np.where(a_const, 1, 0)
        mult = lin[row] & (side == other_side[row]) & (const_id[row] >= 0)
        cterm = lin[row] & (side == 2)
        mrow, mwire = row[mult], wire[mult]
        mcid = self.table.mul(self.cid[mult], const_id[mrow])
        crow, cwire = row[cterm], wire[cterm]
        ccid = self.table.neg(self.cid[cterm])
        lrow = np.concatenate([mrow, crow])
        lwire = np.concatenate([mwire, cwire])
        lkey = lrow * self.nw + lwire
        order = np.argsort(lkey, kind="stable")
        lkey, lcid = self._merge(lkey[order], np.concatenate([mcid, ccid])[order])
        return lin, lkey // self.nw, lkey % self.nw, lcid

    def substitute(self, acc_rows: np.ndarray, pivots: np.ndarray, ptr: np.ndarray,
                   ewire: np.ndarray, ecid: np.ndarray) -> None:
        """Remove ``acc_rows`` and replace every occurrence of ``pivots`` by its expression."""
        self.alive[acc_rows] = False
        row, side, wire = self.parts()
        piv_idx = np.full(self.nw, -1, np.int64)
        piv_idx[pivots] = np.arange(pivots.shape[0])
        dead = ~self.alive[row]
        hit = (piv_idx[wire] >= 0) & ~dead
        keep = ~(hit | dead)
        # expand every hit term into its pivot's expression
        k = piv_idx[wire[hit]]
        cnt = ptr[k + 1] - ptr[k]
        rep_src = np.repeat(np.arange(k.shape[0]), cnt)
        offs = np.arange(rep_src.shape[0]) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        src = ptr[k][rep_src] + offs
        base = (row[hit] * 3 + side[hit]) * self.nw
        nkey = base[rep_src] + ewire[src]
        ncid = self.table.mul(self.cid[hit][rep_src], ecid[src])
        order = np.argsort(nkey, kind="stable")
        key = np.concatenate([self.key[keep], nkey[order]])
        cid = np.concatenate([self.cid[keep], ncid[order]])
        order = np.argsort(key, kind="stable")  # two sorted runs: a linear merge
        self.key, self.cid = self._merge(key[order], cid[order])

    def matrices(self, rows_kept: np.ndarray, wire_map: np.ndarray) -> list[SparseMatrix]:
        row, side, wire = self.parts()
        new_row = np.full(self.m, -1, np.int64)
        new_row[rows_kept] = np.arange(rows_kept.shape[0])
        out = []
        for s in range(3):
            sel = (side == s) & (new_row[row] >= 0)
            r = new_row[row[sel]]
            ptr = np.zeros(rows_kept.shape[0] + 1, np.int64)
            np.cumsum(np.bincount(r, minlength=rows_kept.shape[0]), out=ptr[1:])
            w = wire_map[wire[sel]]
            if (w < 0).any():
                raise InternalError("optimiser: an eliminated wire is still referenced")
            out.append(SparseMatrix(ptr, w, self.cid[sel].astype(np.int32)))
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
    table = CoeffTable(r1cs.coeffs, r1cs.prime)
    sysm = _System(r1cs, table)
    rounds: list[Round] = []
    eliminated = np.zeros(sysm.nw, bool)
    for rnd in range(10_000):
        lin, lrow, lwire, lcid = sysm.linear_forms(protected)
        # a linear row whose ℓ is identically zero holds for every assignment: drop it
        trivial = lin.copy()
        trivial[lrow] = False
        sysm.alive &= ~trivial
        lin &= ~trivial
        occ = np.bincount(sysm.key % sysm.nw, minlength=sysm.nw)
        rows, piv, pcid = _pick(lin, lrow, lwire, lcid, occ, protected, level, rnd)
        if rows.size == 0:
            break
        # expressions z_p = Σ_{w≠p} (−c_w/c_p)·z_w from the accepted rows' ℓ
        is_acc = np.zeros(sysm.m, bool)
        is_acc[rows] = True
        piv_of_row = np.full(sysm.m, -1, np.int64)
        piv_of_row[rows] = piv
        scale_of_row = np.zeros(sysm.m, np.int64)
        scale_of_row[rows] = table.neg(table.inv(pcid))
        sel = is_acc[lrow] & (lwire != piv_of_row[lrow])
        erow, ewire = lrow[sel], lwire[sel]
        ecid = table.mul(lcid[sel], scale_of_row[erow])
        # group the expressions in the order of ``rows``
        rank = np.zeros(sysm.m, np.int64)
        rank[rows] = np.arange(rows.shape[0])
        order = np.argsort(rank[erow], kind="stable")
        ewire, ecid = ewire[order], ecid[order]
        ptr = np.zeros(rows.shape[0] + 1, np.int64)
        np.cumsum(np.bincount(rank[erow], minlength=rows.shape[0]), out=ptr[1:])
        rounds.append(Round(piv.astype(np.int64), ptr, ewire.astype(np.int64),
                            ecid.astype(np.int32)))
        eliminated[piv] = True
        sysm.substitute(rows, piv, ptr, ewire, ecid)
    # drop rows with nothing left in them
    row, _, _ = sysm.parts()
    nonempty = np.zeros(sysm.m, bool)
    nonempty[row] = True
    rows_kept = np.flatnonzero(sysm.alive & nonempty)
    kept = np.flatnonzero(~eliminated[: r1cs.n_wires]).astype(np.int64)
    wire_map = np.full(sysm.nw, -1, np.int64)
    wire_map[kept] = np.arange(kept.shape[0])
    A, B, C = sysm.matrices(rows_kept, wire_map)
    w2l = (kept.copy() if r1cs.wire_to_label is None
           else np.asarray(r1cs.wire_to_label, np.int64)[kept])
    n_labels = r1cs.n_labels if r1cs.n_labels is not None else r1cs.n_wires
    line = (None if r1cs.constraint_line is None
            else np.asarray(r1cs.constraint_line)[rows_kept].copy())
    out = replace(r1cs, n_wires=int(kept.shape[0]), A=A, B=B, C=C, coeffs=list(table.values),
                  wire_to_label=w2l, n_labels=n_labels, constraint_line=line,
                  labels=dict(r1cs.labels))
    return Optimised(out, kept, rounds, list(table.values))


def optimise(r1cs: R1CS, level: int) -> tuple[R1CS, np.ndarray]:
    """Optimised system and ``kept`` (new wire j = old wire ``kept[j]``, order preserved)."""
    res = optimise_full(r1cs, level)
    return res.r1cs, res.kept
