"""Compact sparse R1CS: the contract between the compiler, the file formats and the prover.

Constraint k says ⟨A_k, z⟩ · ⟨B_k, z⟩ = ⟨C_k, z⟩ over F_r.  Wires follow circom's order:
wire 0 is the constant 1, then ``n_pub_out`` public outputs, then ``n_pub_in`` public inputs,
then private inputs, then internal wires.

Each of A, B, C is a :class:`SparseMatrix` in CSR form whose coefficients are *indices into a
shared table* of distinct field elements (``R1CS.coeffs``).  Real circuits use few distinct
coefficients (±1, ±2^k, a handful of constants), so a 10^6-constraint system is a few numpy
arrays plus a short list of Python ints — never one Python object per coefficient.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from omnidsl.field import R, int_to_bytes

#: ``R1CS.wire_bits`` value meaning "no bound known": a full field element
WIRE_BITS_FULL = 254


@dataclass
class SparseMatrix:
    """CSR matrix: row k's terms are ``wire[row_ptr[k]:row_ptr[k+1]]`` with coefficient
    ``coeffs[coeff_id[...]]``.  Within a row, wires are strictly increasing and no coefficient is
    zero (``canonicalise`` enforces both)."""

    row_ptr: np.ndarray  # int64, shape (m + 1,)
    wire: np.ndarray  # int64, shape (nnz,)
    coeff_id: np.ndarray  # int32, shape (nnz,) → index into R1CS.coeffs

    @property
    def n_rows(self) -> int:
        return int(self.row_ptr.shape[0] - 1)

    @property
    def nnz(self) -> int:
        return int(self.wire.shape[0])

    def row_of_term(self) -> np.ndarray:
        """Row index of every term (shape (nnz,))."""
        return np.repeat(np.arange(self.n_rows, dtype=np.int64), np.diff(self.row_ptr))

    @staticmethod
    def empty(n_rows: int) -> SparseMatrix:
        return SparseMatrix(np.zeros(n_rows + 1, np.int64), np.zeros(0, np.int64),
                            np.zeros(0, np.int32))


@dataclass
class R1CS:
    """A rank-1 constraint system over the BN254 scalar field."""

    def __repr__(self) -> str:
        return (f"R1CS({self.n_constraints} constraints, {self.n_wires} wires: "
                f"{self.n_pub_out} public outputs, {self.n_pub_in} public inputs, "
                f"{self.n_prv_in} private inputs)")

    n_wires: int  # including wire 0
    n_pub_out: int
    n_pub_in: int
    n_prv_in: int
    A: SparseMatrix
    B: SparseMatrix
    C: SparseMatrix
    coeffs: list[int]  # distinct field elements in [0, r), referenced by coeff_id
    #: label id of every wire (circom's wireId → labelId map); identity if None
    wire_to_label: np.ndarray | None = None
    n_labels: int | None = None
    prime: int = R
    #: optional per-constraint DSL line (for --report and error messages); int32 (m,), 0 = unknown
    constraint_line: np.ndarray | None = None
    #: optional wire names for .sym output: label id → dotted name
    labels: dict[int, str] = field(default_factory=dict)
    #: optional per-wire width bound, uint8 (n_wires,): b <= 253 means every witness the compiler
    #: generates for valid inputs has |v| < 2^b (v read as a signed integer in (-r/2, r/2));
    #: 254 (WIRE_BITS_FULL) means no bound known.  None (circom .r1cs files, version-1 keys):
    #: treat every wire as 254 — :meth:`widths` does that.
    wire_bits: np.ndarray | None = None

    @property
    def n_constraints(self) -> int:
        return self.A.n_rows

    @property
    def n_public(self) -> int:
        """Public signals as snarkjs counts them (outputs + public inputs), excluding wire 0."""
        return self.n_pub_out + self.n_pub_in

    def widths(self) -> np.ndarray:
        """Per-wire width bounds as uint8 (n_wires,); all WIRE_BITS_FULL when unknown."""
        if self.wire_bits is None:
            return np.full(self.n_wires, WIRE_BITS_FULL, np.uint8)
        return np.asarray(self.wire_bits, np.uint8)

    def coeff_bytes(self) -> np.ndarray:
        """The coefficient table as a (T, 32) uint8 array of canonical little-endian elements."""
        raw = b"".join(int_to_bytes(c) for c in self.coeffs)
        return np.frombuffer(raw, dtype=np.uint8).reshape(len(self.coeffs), 32)

    def matrix_limbs(self, which: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row_ptr, wire, coefficient limbs (nnz, 4) uint64) for A, B or C — the prover's input."""
        m: SparseMatrix = getattr(self, which)
        table = self.coeff_bytes().view("<u8").reshape(-1, 4)
        return m.row_ptr, m.wire, table[m.coeff_id]

    # ----- helpers added by the r1cs stage (construction, canonical form, small-system views) -----

    @property
    def n_protected(self) -> int:
        """Wires the optimiser never eliminates: wire 0, public outputs/inputs, private inputs."""
        return 1 + self.n_pub_out + self.n_pub_in + self.n_prv_in

    @staticmethod
    def from_rows(n_wires: int, n_pub_out: int, n_pub_in: int, n_prv_in: int,
                  rows: list[tuple[dict[int, int], dict[int, int], dict[int, int]]],
                  **extra) -> R1CS:
        """Build (and canonicalise) a system from ``[(A, B, C), ...]`` dicts wire → int coeff.

        For tests and small hand-made systems; big circuits build the CSR arrays directly.
        """
        table: dict[int, int] = {}
        coeffs: list[int] = []
        mats = []
        for side in range(3):
            ptr = [0]
            wires: list[int] = []
            ids: list[int] = []
            for row in rows:
                for w, c in row[side].items():
                    v = c % R
                    if v not in table:
                        table[v] = len(coeffs)
                        coeffs.append(v)
                    wires.append(w)
                    ids.append(table[v])
                ptr.append(len(wires))
            mats.append(SparseMatrix(np.array(ptr, np.int64), np.array(wires, np.int64),
                                     np.array(ids, np.int32)))
        r = R1CS(n_wires, n_pub_out, n_pub_in, n_prv_in, mats[0], mats[1], mats[2], coeffs,
                 **extra)
        return r.canonicalise()

    def to_rows(self) -> list[tuple[dict[int, int], dict[int, int], dict[int, int]]]:
        """The constraints as ``[(A, B, C), ...]`` dicts wire → coefficient (small systems)."""
        out = []
        for k in range(self.n_constraints):
            a, b, c = ({int(w): self.coeffs[int(i)]
                        for w, i in zip(m.wire[m.row_ptr[k]:m.row_ptr[k + 1]],
                                        m.coeff_id[m.row_ptr[k]:m.row_ptr[k + 1]], strict=True)}
                       for m in (self.A, self.B, self.C))
            out.append((a, b, c))
        return out

    def is_canonical(self) -> bool:
        """Wires strictly increasing within every row and no zero coefficient (vectorised)."""
        zero = np.array([v % self.prime == 0 for v in self.coeffs] or [False])
        for mat in (self.A, self.B, self.C):
            if mat.nnz == 0:
                continue
            if zero[mat.coeff_id].any():
                return False
            first = np.zeros(mat.nnz, bool)
            first[mat.row_ptr[:-1][np.diff(mat.row_ptr) > 0]] = True
            if not np.all((np.diff(mat.wire) > 0) | first[1:]):
                return False
        return True

    def canonicalise(self) -> R1CS:
        """A copy whose rows have strictly increasing wires, merged duplicates and no zero terms.

        Duplicate wires in a row are merged by adding their coefficients mod r (new sums are
        appended to the coefficient table).  Vectorised; rows are never dropped.
        """
        from omnidsl.r1cs.coeffs import CoeffTable

        table = CoeffTable(self.coeffs, self.prime)
        mats = [canonicalise_matrix(m, table, self.n_wires) for m in (self.A, self.B, self.C)]
        return _replace(self, A=mats[0], B=mats[1], C=mats[2], coeffs=list(table.values))


def canonicalise_matrix(m: SparseMatrix, table, n_wires: int) -> SparseMatrix:
    """Canonical form of one matrix; ``table`` is a :class:`~omnidsl.r1cs.coeffs.CoeffTable`."""
    rows = m.row_of_term()
    wire = np.asarray(m.wire, np.int64)
    cid = table.canonical_ids(np.asarray(m.coeff_id, np.int64))
    zero = table.zero_mask()
    key = rows * max(n_wires, 1) + wire
    if key.size == 0 or (np.all(key[1:] > key[:-1]) and not zero[cid].any()):
        return SparseMatrix(m.row_ptr.astype(np.int64), wire, cid.astype(np.int32))
    order = np.argsort(key, kind="stable")
    key, wire, cid, rows = key[order], wire[order], cid[order], rows[order]
    start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    cid = table.sum_runs(cid, start)
    wire, rows = wire[start], rows[start]
    keep = ~table.zero_mask()[cid]
    wire, rows, cid = wire[keep], rows[keep], cid[keep]
    row_ptr = np.zeros(m.n_rows + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=m.n_rows), out=row_ptr[1:])
    return SparseMatrix(row_ptr, wire, cid.astype(np.int32))


def _replace(r: R1CS, **changes) -> R1CS:
    from dataclasses import replace

    return replace(r, **changes)
