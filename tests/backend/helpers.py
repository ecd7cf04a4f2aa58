"""Test-data helpers shared by the backend tests."""

from __future__ import annotations

import random

from omnidsl.field import Q, R


def fr_bytes(vals: list[int]) -> bytes:
    """Ints (any sign) → Fr vector bytes."""
    return b"".join((v % R).to_bytes(32, "little") for v in vals)


def fr_ints(b: bytes) -> list[int]:
    return [int.from_bytes(b[i : i + 32], "little") for i in range(0, len(b), 32)]


def mixed_scalars(rng: random.Random, n: int) -> list[int]:
    """Scalars of every class the MSM treats specially: 0, 1, −1, small, −small, full."""
    out = []
    for i in range(n):
        kind = i % 6 if n > 6 else rng.randrange(6)
        out.append(
            [0, 1, R - 1, rng.randrange(2, 1 << 64), R - rng.randrange(2, 1 << 64), rng.randrange(R)][
                kind
            ]
        )
    rng.shuffle(out)
    return out


# ---- a point on the G2 twist outside the r-torsion subgroup (F_q2 = F_q[u]/(u²+1))

Fq2 = tuple[int, int]


def _m2(a: Fq2, b: Fq2) -> Fq2:
    return (a[0] * b[0] - a[1] * b[1]) % Q, (a[0] * b[1] + a[1] * b[0]) % Q


def _p2(a: Fq2, e: int) -> Fq2:
    out: Fq2 = (1, 0)
    while e:
        if e & 1:
            out = _m2(out, a)
        a = _m2(a, a)
        e >>= 1
    return out


def _sqrt2(a: Fq2) -> Fq2 | None:
    """Square root in F_q2 for q ≡ 3 (mod 4) (Adj–Rodríguez-Henríquez, algorithm 9)."""
    a1 = _p2(a, (Q - 3) // 4)
    alpha = _m2(_m2(a1, a1), a)
    x0 = _m2(a1, a)
    if alpha == (Q - 1, 0):
        x = _m2((0, 1), x0)
    else:
        x = _m2(_p2(((1 + alpha[0]) % Q, alpha[1]), (Q - 1) // 2), x0)
    return x if _m2(x, x) == a else None


def twist_point_outside_subgroup(start: int = 1) -> tuple[Fq2, Fq2]:
    """The first point (x, y) on y² = x³ + 3/(9+u) with x = (k, 1), k ≥ start."""
    inv82 = pow(82, -1, Q)
    b2 = (27 * inv82 % Q, -3 * inv82 % Q)  # 3/(9+u) = 3(9−u)/82
    k = start
    while True:
        x = (k, 1)
        rhs = _m2(_m2(x, x), x)
        rhs = ((rhs[0] + b2[0]) % Q, (rhs[1] + b2[1]) % Q)
        y = _sqrt2(rhs)
        if y is not None:
            return x, y
        k += 1
