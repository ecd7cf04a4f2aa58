"""Shamir sharing over F_r: evaluation points, Lagrange coefficients, dealing, opening.

Party i holds f(x_i) with x_i = i + 1 of a polynomial f of degree ≤ d whose constant term f(0)
is the secret.  Any d + 1 shares determine f (Lagrange interpolation at 0); any d of a
degree-d sharing with uniformly random coefficients are uniform and independent of f(0).
The same formulas hold for curve points (shares P_i = f(x_i)·G "in the exponent").

Vectors are Fr vectors in the backend encoding (n·32 bytes, little-endian, canonical); every
linear combination runs in the native backend (``fr_scale``/``fr_add``, ``g1_mul``/``g1_add``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from omnidsl.backend.base import G1, G2, Backend
from omnidsl.field import FR_BYTES, R

P = TypeVar("P")


def point(party: int) -> int:
    """Party ``party``'s evaluation point x = party + 1 (never 0, the secret's point)."""
    return party + 1


def lagrange(xs: Sequence[int], at: int) -> list[int]:
    """λ_k with f(at) = Σ_k λ_k·f(xs[k]) for every f of degree < len(xs) (xs distinct)."""
    out = []
    for k, xk in enumerate(xs):
        num = den = 1
        for m, xm in enumerate(xs):
            if m != k:
                num = num * (at - xm) % R
                den = den * (xk - xm) % R
        out.append(num * pow(den, -1, R) % R)
    return out


def combine_vec(backend: Backend, vectors: Sequence[bytes], coeffs: Sequence[int]) -> bytes:
    """Σ_k coeffs[k]·vectors[k] (elementwise, native)."""
    out = backend.fr_scale(vectors[0], coeffs[0])
    for v, c in zip(vectors[1:], coeffs[1:], strict=True):
        out = backend.fr_add(out, backend.fr_scale(v, c))
    return out


def extend(backend: Backend, secret: bytes, first: Sequence[bytes], n_parties: int) -> list[bytes]:
    """The shares of parties len(first)..n−1 of the degree-t polynomial (t = len(first)) with
    f(0) = ``secret`` and f(x_k) = ``first[k]`` for the parties k < t (elementwise vectors)."""
    nodes = [0] + [point(k) for k in range(len(first))]
    values = [secret, *first]
    return [combine_vec(backend, values, lagrange(nodes, point(j)))
            for j in range(len(first), n_parties)]


def extend_scalars(secret: int, first: Sequence[int], n_parties: int) -> list[int]:
    """:func:`extend` for one scalar."""
    nodes = [0] + [point(k) for k in range(len(first))]
    values = [secret, *first]
    return [sum(c * v for c, v in zip(lagrange(nodes, point(j)), values, strict=True)) % R
            for j in range(len(first), n_parties)]


def total(backend: Backend, vec: bytes) -> int:
    """Σ of the elements of an Fr vector (halving folds, native adds)."""
    if not vec:
        return 0
    n = len(vec) // FR_BYTES
    while n > 1:
        if n % 2:
            vec += bytes(FR_BYTES)
            n += 1
        half = n // 2 * FR_BYTES
        vec = backend.fr_add(vec[:half], vec[half:])
        n //= 2
    return int.from_bytes(vec, "little")


def mismatches(shares: Mapping[int, P], degree: int, combine: Callable[[list[P], list[int]], P],
               ) -> list[int]:
    """Parties whose share is off the degree-``degree`` polynomial through the shares of the
    first degree + 1 parties (by id); [] when they all lie on one (or there is no extra share)."""
    ids = sorted(shares)
    base = ids[: degree + 1]
    xs = [point(k) for k in base]
    vals = [shares[k] for k in base]
    return [j for j in ids[degree + 1:] if combine(vals, lagrange(xs, point(j))) != shares[j]]


def decode(shares: Mapping[int, P], degree: int, combine: Callable[[list[P], list[int]], P],
           ) -> list[int] | None:
    """Unique decoding of a Reed–Solomon codeword with few errors: the parties off the one
    polynomial of degree ≤ ``degree`` that all but at most e = ⌊(m − degree − 1)/2⌋ of the m
    shares lie on ([] when all agree), or None when no polynomial is that close.  (Two such
    polynomials would agree on ≥ m − 2e ≥ degree + 1 points, so the answer is unique.)"""
    off = mismatches(shares, degree, combine)
    if not off:
        return []
    ids = sorted(shares)
    budget = (len(ids) - degree - 1) // 2
    if budget == 0:
        return None
    for base in itertools.combinations(ids, degree + 1):
        xs = [point(k) for k in base]
        vals = [shares[k] for k in base]
        bad = []
        for j in ids:
            if j not in base and combine(vals, lagrange(xs, point(j))) != shares[j]:
                bad.append(j)
                if len(bad) > budget:
                    break
        if len(bad) <= budget:
            return bad
    return None


def interpolate(shares: Mapping[int, P], degree: int,
                combine: Callable[[list[P], list[int]], P]) -> P:
    """f(0) from the shares of the first degree + 1 parties (by id)."""
    ids = sorted(shares)[: degree + 1]
    if len(ids) < degree + 1:
        raise ValueError(f"{len(ids)} shares cannot open a polynomial of degree {degree}")
    return combine([shares[k] for k in ids], lagrange([point(k) for k in ids], 0))


def scalar_combiner() -> Callable[[list[int], list[int]], int]:
    return lambda vals, coeffs: sum(v * c for v, c in zip(vals, coeffs, strict=True)) % R


def g1_combiner(backend: Backend) -> Callable[[list[G1], list[int]], G1]:
    def comb(vals: list[G1], coeffs: list[int]) -> G1:
        out: G1 = None
        for v, c in zip(vals, coeffs, strict=True):
            out = backend.g1_add(out, backend.g1_mul(v, c)) if out is not None \
                else backend.g1_mul(v, c)
        return out
    return comb


def g2_combiner(backend: Backend) -> Callable[[list[G2], list[int]], G2]:
    def comb(vals: list[G2], coeffs: list[int]) -> G2:
        out: G2 = None
        for v, c in zip(vals, coeffs, strict=True):
            out = backend.g2_add(out, backend.g2_mul(v, c)) if out is not None \
                else backend.g2_mul(v, c)
        return out
    return comb
