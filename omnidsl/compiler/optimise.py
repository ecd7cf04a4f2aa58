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

from omnidsl.r1cs.coeffs import CoeffTable
from omnidsl.r1cs.system import R1CS

from .termpool import TermPool

#: an elimination is skipped if it adds more than this many terms (beyond 4·|ℓ|)
FILL_SLACK = 64
FILL_FACTOR = 4
#: priority classes by how close an elimination is to its fill limit
FILL_CLASSES = 4


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
    #: terms gathered, scanned or written (:attr:`TermPool.work`): linear in the system's size
    work: int = 0

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


@dataclass
class _Choice:
    """Accepted eliminations of one round: ℓ group, row, pivot wire and pivot term of each."""

    group: np.ndarray
    row: np.ndarray
    pivot: np.ndarray
    term: np.ndarray


def _groups(lrow: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of equal ``lrow``: their starts, lengths and the run of every term."""
    gstart = np.flatnonzero(np.r_[True, lrow[1:] != lrow[:-1]]) if lrow.size else lrow[:0]
    length = np.diff(np.r_[gstart, lrow.shape[0]])
    return gstart, length, np.repeat(np.arange(gstart.shape[0]), length)


def _pick(lrow: np.ndarray, lwire: np.ndarray, groups: tuple[np.ndarray, np.ndarray, np.ndarray],
          occ: np.ndarray, protected: int, level: int, rnd: int) -> _Choice:
    """Choose independent (row, pivot) pairs among the linear forms (``lrow`` grouped: each
    row's terms contiguous, distinct wires, increasing)."""
    none = np.zeros(0, np.int64)
    if lrow.size == 0:
        return _Choice(none, none, none, none)
    nw = occ.shape[0]
    gstart, length, gid = groups
    n_g = gstart.shape[0]
    var = lwire != 0
    n_var = np.add.reduceat(var, gstart)
    cand = n_var > 0
    if level == 1:  # only x = const, or k1·x + k2·y = 0
        has_const = ~var[gstart]  # wires increase within a group: wire 0 comes first
        cand &= (n_var == 1) | ((n_var == 2) & ~has_const)
    elim = (lwire >= protected) & cand[gid]
    if not elim.any():
        return _Choice(none, none, none, none)
    # per row: eliminable term with the fewest occurrences (ties: the lowest wire)
    big = np.iinfo(np.int64).max
    key = np.where(elim, occ[lwire] * nw + lwire, big)
    best = np.minimum.reduceat(key, gstart)
    g = np.flatnonzero(best < big)
    pterm = np.flatnonzero(elim & (key == best[gid]))  # one per group in g, in order
    pwire = lwire[pterm]
    ln = length[g]
    fill = (occ[pwire] - 1) * np.maximum(ln - 2, 0)
    ok = fill <= FILL_FACTOR * ln + FILL_SLACK
    g, pwire, pterm, fill, ln = g[ok], pwire[ok], pterm[ok], fill[ok], ln[ok]
    if g.size == 0:
        return _Choice(none, none, none, none)
    # independence: a row wins if it beats (lower priority) every row it conflicts with, where
    # r and s conflict when the pivot of one occurs in the ℓ of the other.  Winners' pivots occur
    # in no other winner's ℓ, so all their substitutions commute.  Shared wires that nobody
    # pivots on (public inputs, wire 0, long sums) create no conflict.
    # Eliminations close to their fill limit go first (they become unaffordable as the
    # occurrences of their wires grow), random within a class (few classes: few rounds).
    rng = np.random.default_rng(0x5EED + rnd)
    tight = (FILL_CLASSES * fill) // (FILL_FACTOR * ln + FILL_SLACK + 1)
    prio = np.full(n_g, big, np.int64)
    prio[g] = (FILL_CLASSES - tight) * g.shape[0] + rng.permutation(g.shape[0])
    tp = prio[gid]
    var &= tp < big
    vw, vp = lwire[var], tp[var]
    row_min = np.full(nw, big, np.int64)  # best row containing each wire
    np.minimum.at(row_min, vw, vp)
    piv_min = np.full(nw, big, np.int64)  # best row pivoting on each wire
    np.minimum.at(piv_min, pwire, prio[g])
    lost = np.zeros(n_g, bool)
    lost[gid[var][piv_min[vw] < vp]] = True  # another row pivots on a wire of my ℓ
    win = ~lost[g] & (row_min[pwire] == prio[g])  # no better row contains my pivot
    g = g[win]
    return _Choice(g, lrow[gstart[g]], pwire[win], pterm[win])


def optimise_full(r1cs: R1CS, level: int = 2, consume: bool = False) -> Optimised:
    """Eliminate linear constraints (``level`` 0, 1 or 2) and record how to undo it.

    ``consume=True`` lets the optimiser release ``r1cs``'s term arrays as soon as it has copied
    them (peak memory of large compiles); ``r1cs`` is unusable afterwards."""
    if level not in (0, 1, 2):
        raise ValueError(f"optimisation level must be 0, 1 or 2, not {level}")
    if level == 0:
        return Optimised(r1cs, np.arange(r1cs.n_wires, dtype=np.int64), [], list(r1cs.coeffs))
    protected = r1cs.n_protected
    if not r1cs.is_canonical():
        r1cs = r1cs.canonicalise()
        consume = True  # our own copy
    table = CoeffTable(r1cs.coeffs, r1cs.prime)
    pool = TermPool(r1cs, table, consume)
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
        groups = _groups(lrow)
        ch = _pick(lrow, lwire, groups, pool.occ, protected, level, rnd)
        if ch.row.size == 0:
            break
        rows, piv = ch.row, ch.pivot
        # expressions z_p = Σ_{w≠p} (−c_w/c_p)·z_w from the accepted rows' ℓ (groups in order)
        n_acc = rows.shape[0]
        scale = table.neg(table.inv(lcid[ch.term]))
        gstart, glen, gid = groups
        g_rank = np.full(gstart.shape[0], -1, np.int64)
        g_rank[ch.group] = np.arange(n_acc)
        rank = g_rank[gid]
        sel = rank >= 0
        sel[ch.term] = False
        er = rank[sel]
        ewire = lwire[sel].astype(np.int64)
        ecid = table.mul(lcid[sel], scale[er])
        ptr = np.zeros(n_acc + 1, np.int64)
        np.cumsum(glen[ch.group] - 1, out=ptr[1:])
        rounds.append(Round(piv.astype(np.int64), ptr, ewire, ecid.astype(np.int32)))
        eliminated[piv] = True
        del lin, lrow, lwire, lcid, groups, gid, rank, sel, er  # peak memory: before rewriting
        pool.kill_rows(rows)
        pool.substitute(piv, ptr, ewire, ecid)
    # drop rows with nothing left in them
    nonempty = pool.seg_len.reshape(-1, 3).sum(axis=1) > 0
    rows_kept = np.flatnonzero(pool.row_alive & nonempty)
    kept = np.flatnonzero(~eliminated[: r1cs.n_wires]).astype(np.int64)
    wire_map = np.full(pool.nw, -1, np.int64)
    wire_map[kept] = np.arange(kept.shape[0])
    A, B, C = pool.matrices(rows_kept, wire_map)
    work = pool.work
    del pool, wire_map
    w2l = (kept.copy() if r1cs.wire_to_label is None
           else np.asarray(r1cs.wire_to_label, np.int64)[kept])
    n_labels = r1cs.n_labels if r1cs.n_labels is not None else r1cs.n_wires
    line = (None if r1cs.constraint_line is None
            else np.asarray(r1cs.constraint_line)[rows_kept].copy())
    # compact the coefficient table to the entries still referenced
    used = np.zeros(len(table), bool)
    for mat in (A, B, C):
        used[mat.coeff_id] = True
    if not used.all():
        remap = (np.cumsum(used) - 1).astype(np.int32)
        for mat in (A, B, C):
            for lo in range(0, mat.nnz, 1 << 22):
                part = mat.coeff_id[lo:lo + (1 << 22)]
                part[...] = remap[part]
    coeffs = [v for v, u in zip(table.values, used.tolist(), strict=True) if u]
    bits = None if r1cs.wire_bits is None else np.asarray(r1cs.wire_bits, np.uint8)[kept]
    out = replace(r1cs, n_wires=int(kept.shape[0]), A=A, B=B, C=C, coeffs=coeffs,
                  wire_to_label=w2l, n_labels=n_labels, constraint_line=line,
                  labels=dict(r1cs.labels), wire_bits=bits)
    return Optimised(out, kept, rounds, list(table.values), work)


def optimise(r1cs: R1CS, level: int, consume: bool = False) -> tuple[R1CS, np.ndarray]:
    """Optimised system and ``kept`` (new wire j = old wire ``kept[j]``, order preserved)."""
    res = optimise_full(r1cs, level, consume)
    return res.r1cs, res.kept
