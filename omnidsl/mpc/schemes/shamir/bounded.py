"""Bounded Shamir shares of the witness (statistically hiding integer sharing, ``shares="bounded"``).

Uniform Shamir shares are 254-bit field elements, so the servers' witness MSMs ([P_B1], [L]) run
on full-size scalars.  When the proving key records wire widths (|w_i| < 2^b_i, docs/groth16.md),
the data owner instead deals, per private wire, the integer polynomial

    f(x) = Δ·w + Σ_{k=1..t} c_k·x^k,   c_k uniform on [0, 2^M) (integers),

evaluated at x_j = j + 1 and read in F_r (no wrap-around: |f(x_j)| < r/2).  Servers hold shares
of Δ·w: they run the MSMs on them (scalars of ≈ M + log2(t·N^t) bits) and multiply the resulting
point by Δ^−1, and use Δ^−1·f(x_j) (a Shamir share of w) everywhere else.

Privacy against a coalition T of t servers: their view y_T = Δw·1 + V_T·c (V_T[j][k] = x_j^k)
equals the view for w − δ with coefficients c + Δδ·u_T, u_T = V_T^−1·1.  Δ is the least common
multiple of the denominators of u_T over every T, so the shift is integral; with U = the largest
|Δ·u_T[k]| it is at most U·|δ| < U·2^(b+1) per coefficient, and two uniform distributions on
[0, 2^M)^t shifted by it are within t·U·2^(b+1)/2^M.  ``M = b + 1 + σ + ⌈log2(t·U)⌉`` with the
additive scheme's σ = 41 + ⌈log2 n_wires⌉ makes that ≤ 2^−σ per wire, ≤ 2^−40 for the witness.
Wires without a width, or whose shares would not fit below 2^252, get uniform coefficients
(perfectly hiding).  No seed compression: every party receives its shares explicitly.
"""

from __future__ import annotations

import itertools
import math
import secrets
from fractions import Fraction
from functools import lru_cache

import numpy as np

from omnidsl.backend.base import Backend
from omnidsl.field import R
from omnidsl.mpc import prg
from omnidsl.mpc.schemes.shamir import poly

#: statistical security of bounded shares (bits), as in the additive scheme
STAT_SECURITY = 40
#: coefficient label of the dealer's private PRG streams
L_COEFF = b"shamir/coefficient"
#: the largest share bit length before a wire falls back to uniform coefficients
MAX_SHARE_BITS = 252


@lru_cache(maxsize=64)
def integer_scale(n_parties: int, threshold: int) -> tuple[int, int]:
    """(Δ, U) for N parties and threshold t (see the module docstring); (0, 0) when there are
    too many coalitions to enumerate (the bounded mode is then not offered)."""
    if math.comb(n_parties, threshold) > 20_000:
        return 0, 0
    delta, best = 1, []
    for coal in itertools.combinations(range(n_parties), threshold):
        xs = [poly.point(j) for j in coal]
        u = _solve([[Fraction(x) ** (k + 1) for k in range(threshold)] for x in xs],
                   [Fraction(1)] * threshold)
        best.append(u)
        for v in u:
            delta = delta * v.denominator // math.gcd(delta, v.denominator)
    return delta, int(max(abs(v * delta) for u in best for v in u))


def _solve(a: list[list[Fraction]], b: list[Fraction]) -> list[Fraction]:
    """Gaussian elimination over Q (V_T is an invertible scaled Vandermonde matrix)."""
    n = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = next(i for i in range(c, n) if m[i][c] != 0)
        m[c], m[p] = m[p], m[c]
        for i in range(n):
            if i != c and m[i][c] != 0:
                f = m[i][c] / m[c][c]
                m[i] = [x - f * y for x, y in zip(m[i], m[c], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


def slack(n_wires: int) -> int:
    """σ: 41 + ⌈log2 n_wires⌉ (the additive scheme's mask slack)."""
    return STAT_SECURITY + 1 + max(1, n_wires - 1).bit_length()


def coefficient_widths(wire_bits: np.ndarray, n_wires: int, n_parties: int,
                       threshold: int) -> np.ndarray:
    """M per wire (uint16; ``prg.MASK_UNIFORM`` = uniform coefficients)."""
    delta, u = integer_scale(n_parties, threshold)
    out = np.full(n_wires, prg.MASK_UNIFORM, dtype=np.uint16)
    if not delta:
        return out
    b = np.asarray(wire_bits, dtype=np.int64).reshape(-1)
    m = b + 1 + slack(n_wires) + max(1, threshold * u).bit_length()
    growth = (threshold * n_parties ** threshold).bit_length() + 1
    share_bits = np.maximum(m + growth, b + delta.bit_length() + 1)
    ok = (b < prg.MASK_UNIFORM) & (share_bits <= MAX_SHARE_BITS)
    out[ok] = m[ok]
    return out


def share(backend: Backend, secret: bytes, widths: np.ndarray, n_parties: int,
          threshold: int) -> list[bytes]:
    """Every party's share f(x_j) of Δ·``secret`` (an Fr vector; ``widths``: M per element)."""
    delta, _ = integer_scale(n_parties, threshold)
    coeffs = [prg.expand_masked(secrets.token_bytes(prg.SEED_BYTES), L_COEFF, widths)
              for _ in range(threshold)]
    base = backend.fr_scale(secret, delta)
    out = []
    for j in range(n_parties):
        x = poly.point(j)
        s = base
        for k, c in enumerate(coeffs):
            s = backend.fr_add(s, backend.fr_scale(c, pow(x, k + 1, R)))
        out.append(s)
    return out
