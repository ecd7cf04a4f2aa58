"""Accumulates wires, constraint blocks and witness steps; emits the final R1CS.

A constraint *block* is n constraints ``A_k * B_k = C_k`` given as three :class:`LC` batches
(``A = B = None`` marks linear constraints ``C_k = 0``, circom's form).  A witness *step* is a
callable over :class:`WitnessState` that fills a batch of wires with numpy operations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from omnidsl.errors import InternalError
from omnidsl.field import R, int64_to_limbs, ints_to_limbs
from omnidsl.r1cs.system import R1CS, WIRE_BITS_FULL, SparseMatrix

from .lc import LC, SMALL, SignedCoeffTable, add

#: width of a small (int64) wire when nothing tighter is known: |v| < 2^62 (lc.SMALL)
SMALL_BITS = SMALL.bit_length() - 1


def width(lo: int, hi: int) -> int:
    """Smallest b with |v| < 2^b for every integer v in [lo, hi], capped at WIRE_BITS_FULL."""
    return min(max(abs(lo), abs(hi)).bit_length(), WIRE_BITS_FULL)


class WitnessState:
    """Wire values during witness generation: int64 where small, Python ints where big."""

    def __init__(self, n_wires: int, bigmask: np.ndarray, table: SignedCoeffTable,
                 permissive: bool = False):
        #: tests only: keep going past failed assertions/range checks (to forge witnesses)
        self.permissive = permissive
        #: tests only: wire -> value overriding whatever a step computes (forged decision bits)
        self.force: dict[int, int] = {}
        self.w64 = np.zeros(n_wires, np.int64)
        self.w64[0] = 1
        self.bigmask = bigmask
        self.bigv = np.zeros(n_wires, dtype=object) if bigmask.any() else None
        self.table = table

    def eval(self, lc: LC, big: bool = False) -> np.ndarray:
        """Row values of ``lc``: int64 array, or object array when ``big`` or needed."""
        w, c = lc.wires, lc.cids
        if not big and w.size:
            big = bool(self.bigmask[w].any()) or not self.table.is_small(c)
        if not big:
            if w.shape[1] == 0:
                return np.full(w.shape[0], lc.const, np.int64)
            return (self.table.small()[c] * self.w64[w]).sum(axis=1) + np.int64(lc.const)
        vals = self.w64[w].astype(object)
        if self.bigv is not None:
            m = self.bigmask[w]
            if m.any():
                vals[m] = self.bigv[w[m]]
        if w.shape[1] == 0:
            out = np.zeros(w.shape[0], dtype=object)
        else:
            out = (vals * self.table.obj()[c]).sum(axis=1)
        return out + lc.const

    def set(self, wires: np.ndarray, values: np.ndarray) -> None:
        wires = np.asarray(wires, np.int64).reshape(-1)
        values = np.asarray(values).reshape(-1)
        if wires.size == 0:
            return
        if self.force:
            hit = [j for j, wi in enumerate(wires.tolist()) if wi in self.force]
            if hit:
                values = values.copy()
                for j in hit:
                    values[j] = self.force[int(wires[j])]
        if self.bigmask[wires[0]]:
            assert self.bigv is not None  # allocated whenever bigmask has a wire
            self.bigv[wires] = values.astype(object)
            return
        if values.dtype == object:
            if any(abs(int(v)) >= SMALL for v in values):
                raise InternalError("a small wire received a big value")
            values = values.astype(np.int64)
        self.w64[wires] = values

    def get(self, wires: np.ndarray) -> np.ndarray:
        return self.eval(LC.of_wires(wires, self.table.id(1)), big=bool(self.bigmask[wires].any()))

    def limbs(self, wires: np.ndarray | None = None) -> np.ndarray:
        """Values as (n, 4) uint64 limbs: of every wire, or of ``wires`` (in that order)."""
        if wires is None:
            wires = np.arange(self.w64.shape[0])
        out = int64_to_limbs(self.w64[wires])
        if self.bigv is not None:
            pos = np.flatnonzero(self.bigmask[wires])
            if pos.size:
                out[pos] = ints_to_limbs([int(v) for v in self.bigv[wires[pos]]])
        return out


@dataclass
class Block:
    A: LC | None
    B: LC | None
    C: LC
    line: int


Step = Callable[[WitnessState], None]


class Builder:
    def __init__(self) -> None:
        self.table = SignedCoeffTable()
        self.ONE = self.table.id(1)
        self.ZERO = self.table.id(0)
        self.n_wires = 1
        self._big: list[np.ndarray] = [np.zeros(1, bool)]
        #: per-wire width bounds (see R1CS.wire_bits); wire 0 is the constant 1
        self._bits: list[np.ndarray] = [np.ones(1, np.uint8)]
        self._bits_fix: dict[int, int] = {}
        self.blocks: list[Block] = []
        self.steps: list[Step] = []
        self.line = 0
        self.labels: dict[int, str] = {0: "one"}
        #: gadget records (kind, ...) for tests and debugging: decision bits, range checks
        self.decisions: list[tuple] = []
        #: common-subexpression cache of gadgets (key: operation and operand arrays)
        self.cache: dict[tuple, object] = {}

    # ------------------------------------------------------------ wires
    def alloc(self, n: int, big: bool = False, bits: int | None = None) -> np.ndarray:
        """``n`` fresh wires.  ``bits``: a bound |v| < 2^bits on every value the witness steps
        can give them (for valid inputs); default 254 (big) or 62 (small wires are int64 with
        |v| < 2^62, so a small wire's width never exceeds 62)."""
        w = np.arange(self.n_wires, self.n_wires + n, dtype=np.int64)
        self.n_wires += n
        self._big.append(np.full(n, big, bool))
        cap = WIRE_BITS_FULL if big else SMALL_BITS
        b = cap if bits is None else min(int(bits), cap)
        if b < 0:
            raise InternalError(f"negative wire width {bits}")
        self._bits.append(np.full(n, b, np.uint8))
        return w

    def set_bits(self, wires: np.ndarray, bits: int) -> None:
        """Tighten the width of already allocated wires (never widens past their cap)."""
        for wi in np.asarray(wires, np.int64).reshape(-1).tolist():
            self._bits_fix[wi] = min(int(bits), self._bits_fix.get(wi, WIRE_BITS_FULL))

    def bigmask(self) -> np.ndarray:
        return np.concatenate(self._big)

    def wire_bits(self) -> np.ndarray:
        """Width bound of every wire, uint8 (n_wires,) — R1CS.wire_bits of the -O0 system."""
        out = np.concatenate(self._bits)
        for wi, b in self._bits_fix.items():
            out[wi] = min(int(out[wi]), b)
        return out

    def wires_lc(self, wires: np.ndarray) -> LC:
        return LC.of_wires(wires, self.ONE)

    # ------------------------------------------------------------ constraints
    def constrain(self, A: LC, B: LC, C: LC) -> None:
        n = max(A.n, B.n, C.n)
        self.blocks.append(Block(A.broadcast(n), B.broadcast(n), C.broadcast(n), self.line))

    def linear(self, lc: LC) -> None:
        """Constrain every row of ``lc`` to 0."""
        if lc.is_const:
            if lc.const != 0:
                raise InternalError("a constant linear constraint is unsatisfiable")
            return
        self.blocks.append(Block(None, None, lc, self.line))

    def step(self, fn: Step) -> None:
        self.steps.append(fn)

    def sub(self, a: LC, b: LC) -> LC:
        return add(a, b, self.table, -1)

    # ------------------------------------------------------------ emission
    def n_constraints(self) -> int:
        return sum(b.C.n for b in self.blocks)

    def _emit(self, lc: LC | None, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if lc is None:
            return np.zeros(n, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32)
        w, c = lc.wires, lc.cids
        if lc.const % R:
            w = np.concatenate([np.zeros((n, 1), np.int64), w], axis=1)
            c = np.concatenate([np.full((n, 1), self.table.id(lc.const), np.int32), c], axis=1)
        if w.shape[1] > 1:
            if not (w[:, 1:] >= w[:, :-1]).all():
                order = np.argsort(w, axis=1, kind="stable")
                w = np.take_along_axis(w, order, axis=1)
                c = np.take_along_axis(c, order, axis=1)
            dup_rows = np.nonzero((w[:, 1:] == w[:, :-1]).any(axis=1))[0]
            if dup_rows.size:
                c = c.copy()
                self._merge_duplicates(w, c, dup_rows)
        vals = self.table.values
        zero_ids = [i for i, v in enumerate(vals) if v % R == 0]
        mask = ~np.isin(c, zero_ids) if zero_ids else np.ones(c.shape, bool)
        return mask.sum(axis=1).astype(np.int64), w[mask], c[mask].astype(np.int32)

    def _merge_duplicates(self, w: np.ndarray, c: np.ndarray, rows: np.ndarray) -> None:
        vals = self.table.values
        for r in rows.tolist():
            last = -1
            for j in range(w.shape[1]):
                if j and w[r, j] == w[r, j - 1]:
                    total = vals[int(c[r, last])] + vals[int(c[r, j])]
                    c[r, last] = self.table.id(total)
                    c[r, j] = self.ZERO
                else:
                    last = j

    def to_r1cs(self, n_pub_out: int, n_pub_in: int, n_prv_in: int) -> R1CS:
        """The -O0 system.  Consumes ``self.blocks`` (emitted one by one and dropped, so the
        blocks and the matrices are never both held in full)."""
        mats: dict[str, list] = {"A": [], "B": [], "C": []}
        lines = []
        blocks, self.blocks = self.blocks, []
        blocks.reverse()
        while blocks:
            blk = blocks.pop()
            n = blk.C.n
            for name, lc in (("A", blk.A), ("B", blk.B), ("C", blk.C)):
                mats[name].append(self._emit(lc, n))
            lines.append(np.full(n, blk.line, np.int32))
            del blk
        # final coefficient table: distinct field elements
        field_vals = [v % R for v in self.table.values]
        uniq: dict[int, int] = {}
        remap = np.array([uniq.setdefault(f, len(uniq)) for f in field_vals], np.int32)
        out = {name: _concat_parts(parts, remap) for name, parts in mats.items()}
        line = np.concatenate(lines) if lines else np.zeros(0, np.int32)
        return R1CS(self.n_wires, n_pub_out, n_pub_in, n_prv_in, out["A"], out["B"], out["C"],
                    list(uniq), constraint_line=line, labels=dict(self.labels),
                    wire_bits=self.wire_bits())


def _concat_parts(parts: list, remap: np.ndarray) -> SparseMatrix:
    """One CSR matrix from emitted (counts, wires, cids) parts, freeing each part once copied."""
    n_rows = sum(p[0].shape[0] for p in parts)
    nnz = sum(p[1].shape[0] for p in parts)
    row_ptr = np.zeros(n_rows + 1, np.int64)
    wires = np.empty(nnz, np.int64)
    cids = np.empty(nnz, np.int32)
    r = t = 0
    parts.reverse()
    while parts:
        counts, w, c = parts.pop()
        np.cumsum(counts, out=row_ptr[r + 1:r + 1 + counts.shape[0]])
        row_ptr[r + 1:r + 1 + counts.shape[0]] += t
        wires[t:t + w.shape[0]] = w
        cids[t:t + w.shape[0]] = remap[c]
        r += counts.shape[0]
        t += w.shape[0]
    return SparseMatrix(row_ptr, wires, cids)
