"""R1CS → QAP reduction (swappable, as arkworks' ``R1CSToQAP``).

:class:`LibsnarkReduction` (the default, and the only one the key format records today):

* **Input-consistency rows** (as snarkjs/libsnark): the QAP has m + ℓ + 1 rows; row m + i has
  A = z_i (i = 0..ℓ, wire 0 and the public signals), B = C = 0.  They make the public wires' u_i
  linearly independent, which Groth16's soundness needs for the IC points.
* **Domain**: n = next power of two ≥ m + ℓ + 1; polynomials interpolate over ⟨ω_n⟩.
* **h**: a, b, c are interpolated (iFFT), evaluated on the coset g·⟨ω_n⟩ where Z(x) = xⁿ − 1 is the
  constant gⁿ − 1, so h = (a·b − c)/(gⁿ − 1) there and a coset iFFT gives h's coefficients
  (degree ≤ n − 2, so n − 1 of them).
* **H query**: [τ^j · Z(τ)/δ]₁ for j = 0..n − 2 (from a .ptau: τ^(n+j)·G − τ^j·G).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from omnidsl.backend.base import COSET_SHIFT, Backend
from omnidsl.field import R
from omnidsl.r1cs.system import R1CS, SparseMatrix


@dataclass(frozen=True)
class Matrix:
    """CSR with coefficient limbs — the form ``Backend.sparse_matvec`` takes."""

    row_ptr: np.ndarray  # int64 (rows + 1,)
    idx: np.ndarray  # int64 (nnz,)
    coeff: np.ndarray  # uint64 (nnz, 4)

    @property
    def n_rows(self) -> int:
        return int(self.row_ptr.shape[0] - 1)

    def transpose(self, n_cols: int) -> Matrix:
        """The same terms grouped by column (wire → QAP rows), for setup."""
        rows = np.repeat(np.arange(self.n_rows, dtype=np.int64), np.diff(self.row_ptr))
        order = np.argsort(self.idx, kind="stable")
        counts = np.bincount(self.idx, minlength=n_cols).astype(np.int64)
        row_ptr = np.zeros(n_cols + 1, np.int64)
        np.cumsum(counts, out=row_ptr[1:])
        return Matrix(row_ptr, np.ascontiguousarray(rows[order]),
                      np.ascontiguousarray(self.coeff[order]))


@dataclass(frozen=True)
class QAP:
    """The augmented matrices and the domain of one circuit."""

    A: Matrix
    B: Matrix
    C: Matrix
    domain_size: int
    n_wires: int
    n_public: int


class Reduction(Protocol):
    name: str

    def domain_size(self, r1cs: R1CS) -> int: ...
    def qap(self, r1cs: R1CS) -> QAP: ...
    def matrix(self, r1cs: R1CS, which: str) -> Matrix:
        """One of the QAP's matrices ("A", "B" or "C"), built alone."""
        ...
    def evaluate(self, backend: Backend, r1cs: R1CS, which: str, z: bytes) -> bytes:
        """That matrix times z (one element per QAP row), from the R1CS's coefficient ids: no
        per-entry coefficient array is built (the prover's path)."""
        ...
    def h_coefficients(self, backend: Backend, n: int, ab: bytes, c: bytes) -> bytes:
        """h's coefficients from a·b on the coset and c's coefficients."""
        ...
    def h_query_scalars(self, tau: int, delta_inv: int, n: int) -> list[int]: ...


def _mat(r1cs: R1CS, which: str) -> Matrix:
    row_ptr, wire, limbs = r1cs.matrix_limbs(which)
    return Matrix(np.ascontiguousarray(row_ptr, np.int64), np.ascontiguousarray(wire, np.int64),
                  np.ascontiguousarray(limbs, np.uint64).reshape(-1, 4))


def _append_rows(m: Matrix, wires: np.ndarray) -> Matrix:
    """Append one row per entry of ``wires`` with the single term 1·z_wire (empty if len 0)."""
    k = wires.shape[0]
    last = int(m.row_ptr[-1])
    row_ptr = np.concatenate([m.row_ptr, last + np.arange(1, k + 1, dtype=np.int64)])
    one = np.zeros((k, 4), np.uint64)
    one[:, 0] = 1
    return Matrix(row_ptr, np.concatenate([m.idx, wires.astype(np.int64)]),
                  np.ascontiguousarray(np.concatenate([m.coeff, one])))


def _append_empty(m: Matrix, k: int) -> Matrix:
    row_ptr = np.concatenate([m.row_ptr, np.full(k, m.row_ptr[-1], np.int64)])
    return Matrix(row_ptr, m.idx, m.coeff)


class LibsnarkReduction:
    """See the module docstring."""

    name = "libsnark"

    def domain_size(self, r1cs: R1CS) -> int:
        rows = r1cs.n_constraints + r1cs.n_public + 1
        n = 1
        while n < rows:
            n *= 2
        return max(n, 2)

    def matrix(self, r1cs: R1CS, which: str) -> Matrix:
        k = r1cs.n_public + 1
        if which == "A":
            return _append_rows(_mat(r1cs, "A"), np.arange(k, dtype=np.int64))
        return _append_empty(_mat(r1cs, which), k)

    def evaluate(self, backend: Backend, r1cs: R1CS, which: str, z: bytes) -> bytes:
        m: SparseMatrix = getattr(r1cs, which)
        k = r1cs.n_public + 1
        table = r1cs.coeff_bytes().tobytes()
        row_ptr, wire, ids = m.row_ptr, m.wire, m.coeff_id
        last = int(row_ptr[-1])
        if which == "A":  # rows 1·z_i for the public wires, coefficient 1 appended to the table
            row_ptr = np.concatenate([row_ptr, last + np.arange(1, k + 1, dtype=np.int64)])
            wire = np.concatenate([wire, np.arange(k, dtype=np.int64)])
            ids = np.concatenate([ids.astype(np.int64),
                                  np.full(k, len(table) // 32, np.int64)])
            table += (1).to_bytes(32, "little")
        else:
            row_ptr = np.concatenate([row_ptr, np.full(k, last, np.int64)])
        return backend.sparse_matvec_table(row_ptr, wire, ids, table, z)

    def qap(self, r1cs: R1CS) -> QAP:
        return QAP(
            A=self.matrix(r1cs, "A"),
            B=self.matrix(r1cs, "B"),
            C=self.matrix(r1cs, "C"),
            domain_size=self.domain_size(r1cs),
            n_wires=r1cs.n_wires,
            n_public=r1cs.n_public,
        )

    def h_coefficients(self, backend: Backend, n: int, ab: bytes, c: bytes) -> bytes:
        """h's n − 1 coefficients (shares) from a·b's evaluations on the coset g·⟨ω_n⟩ and c's
        coefficients: h = (coset_ifft(a·b) − c)/(gⁿ − 1).  coset_ifft is linear and c has
        degree < n, so coset_ifft(c on the coset) would give c back: c needs no coset FFT."""
        z_inv = pow(pow(COSET_SHIFT, n, R) - 1, -1, R)
        h = backend.fr_scale(backend.fr_sub(backend.coset_ifft(ab), c), z_inv)
        return h[: (n - 1) * 32]

    def h_query_scalars(self, tau: int, delta_inv: int, n: int) -> list[int]:
        """τ^j · Z(τ)/δ for j = 0..n − 2 (dev setup)."""
        t = (pow(tau, n, R) - 1) * delta_inv % R
        out = []
        for _ in range(n - 1):
            out.append(t)
            t = t * tau % R
        return out


DEFAULT_REDUCTION = LibsnarkReduction()


def pad(values: bytes, n: int) -> bytes:
    """Zero-pad an Fr vector to n elements."""
    return values + bytes(n * 32 - len(values))
