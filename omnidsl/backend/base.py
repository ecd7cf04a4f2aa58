"""The one interface for BN254 maths.  All curve/FFT arithmetic in omnidsl goes through it.

Implementations: ``native`` (Rust/arkworks, ``omnidsl._native``) and ``reference`` (py-ecc and a
pure-Python NTT; slow, the oracle in tests).  ``get_backend()`` in ``omnidsl.backend`` picks one.

Encodings (identical for both backends; see docs/formats.md):

* **Fr vector**: ``bytes`` of n*32, each element little-endian, standard form, < r.
* **G1 point** (Python side): affine ``(x, y)`` ints < q, or ``None`` for the point at infinity.
* **G2 point**: ``((x_c0, x_c1), (y_c0, y_c1))`` with x = x_c0 + x_c1·u over F_q[u]/(u²+1), or None.
* **G1 point array**: ``bytes`` of n*64 = x‖y (32 LE each); infinity = 64 zero bytes.
* **G2 point array**: ``bytes`` of n*128 = x_c0‖x_c1‖y_c0‖y_c1 (32 LE each); infinity = zeros.

Domains: size n = 2^k ≤ 2^28, generator ω_n = ω^(2^(28−k)) with ω = 5^((r−1)/2^28)
(= arkworks' ``Fr::TWO_ADIC_ROOT_OF_UNITY``).  Coset FFTs evaluate on g·⟨ω_n⟩ with g = 5
(arkworks' ``Fr::GENERATOR``).  ``fft`` maps coefficients → evaluations at ω_n^0..ω_n^(n−1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

G1 = tuple[int, int] | None
G2 = tuple[tuple[int, int], tuple[int, int]] | None

#: FFT coset shift (multiplicative generator of F_r).
COSET_SHIFT = 5
#: Primitive 2^28-th root of unity of F_r.
TWO_ADIC_ROOT = 19103219067921713944291392827692070036145651957329286315305642004821462161904
TWO_ADICITY = 28


@runtime_checkable
class Backend(Protocol):
    """BN254 operations.  Methods raise ValueError on malformed input (never crash)."""

    name: str

    # ---- scalar field vectors (elementwise, equal lengths)
    def fr_add(self, a: bytes, b: bytes) -> bytes: ...
    def fr_sub(self, a: bytes, b: bytes) -> bytes: ...
    def fr_mul(self, a: bytes, b: bytes) -> bytes: ...
    def fr_scale(self, a: bytes, k: int) -> bytes: ...  # every element times the scalar k
    def fr_random(self, n: int) -> bytes: ...  # uniform, from the OS CSPRNG

    # ---- radix-2 FFTs (len(values)/32 must be a power of two)
    def fft(self, values: bytes) -> bytes: ...
    def ifft(self, values: bytes) -> bytes: ...
    def coset_fft(self, values: bytes) -> bytes: ...  # coefficients → evals on g·⟨ω⟩
    def coset_ifft(self, values: bytes) -> bytes: ...  # evals on g·⟨ω⟩ → coefficients

    # ---- sparse matrix × vector (R1CS evaluation): out[k] = Σ coeff·z[wire] over row k
    def sparse_matvec(self, row_ptr: Any, wire: Any, coeff_limbs: Any, z: bytes) -> bytes: ...
    # the same with coefficient e = table[coeff_id[e]] (table: T*32 bytes of distinct values)
    def sparse_matvec_table(self, row_ptr: Any, wire: Any, coeff_id: Any, table: bytes,
                            z: bytes) -> bytes: ...

    # ---- bases kept in backend memory (the proving key is loaded once)
    def load_g1(self, points: bytes) -> Any: ...  # → opaque handle usable by g1_msm
    def load_g2(self, points: bytes) -> Any: ...

    # ---- multi-scalar multiplication: Σ scalars[i]·bases[i] (bases: handle or point-array bytes)
    def g1_msm(self, bases: Any, scalars: bytes) -> G1: ...
    def g2_msm(self, bases: Any, scalars: bytes) -> G2: ...

    # ---- fixed-base batch: [k_i · P] for all i (setup); returns a point array
    def g1_batch_mul(self, base: G1, scalars: bytes) -> bytes: ...
    def g2_batch_mul(self, base: G2, scalars: bytes) -> bytes: ...
    # every point of an array times one scalar (phase-2 δ updates)
    def g1_array_scale(self, points: bytes, k: int) -> bytes: ...
    # sparse combination of points: out[j] = Σ coeff·points[wire] over row j (Lagrange → wires)
    def g1_sparse_combine(self, row_ptr: Any, idx: Any, coeff_limbs: Any, points: bytes) -> bytes: ...
    def g2_sparse_combine(self, row_ptr: Any, idx: Any, coeff_limbs: Any, points: bytes) -> bytes: ...

    # ---- single point arithmetic
    def g1_add(self, p: G1, q: G1) -> G1: ...
    def g1_neg(self, p: G1) -> G1: ...
    def g1_mul(self, p: G1, k: int) -> G1: ...
    def g2_add(self, p: G2, q: G2) -> G2: ...
    def g2_neg(self, p: G2) -> G2: ...
    def g2_mul(self, p: G2, k: int) -> G2: ...
    def g1_generator(self) -> G1: ...
    def g2_generator(self) -> G2: ...

    # ---- validation (verifiers call these on untrusted input)
    def g1_is_valid(self, p: G1) -> bool: ...  # coordinates < q and on curve
    def g2_is_valid(self, p: G2) -> bool: ...  # coordinates < q, on twist, in the r-torsion

    # ---- Π e(P_i, Q_i) == 1 in GT
    def pairing_check(self, pairs: Sequence[tuple[G1, G2]]) -> bool: ...
