"""A small exact LLL (integral version, Cohen's Algorithm 2.6.7) and the fingerprint-collision
attack of issue 10: given ρ, find a SHORT vector with a prescribed fingerprint
Σ g_i·ρ^(i+1) ≡ T (mod r).  Test-only: this is the adversary's tool."""

from __future__ import annotations

from omnidsl.field import R


def lll(basis: list[list[int]]) -> list[list[int]]:
    """LLL-reduce the rows of ``basis`` (δ = 3/4) with exact integer arithmetic."""
    b = [list(map(int, row)) for row in basis]
    n = len(b)

    def dot(u: list[int], v: list[int]) -> int:
        return sum(x * y for x, y in zip(u, v, strict=True))

    d = [1, dot(b[0], b[0])] + [0] * (n - 1)
    lam = [[0] * n for _ in range(n)]

    def reduce(k: int, j: int) -> None:
        if 2 * abs(lam[k][j]) > d[j + 1]:
            q = (2 * lam[k][j] + d[j + 1]) // (2 * d[j + 1])
            b[k] = [x - q * y for x, y in zip(b[k], b[j], strict=True)]
            lam[k][j] -= q * d[j + 1]
            for i in range(j):
                lam[k][i] -= q * lam[j][i]

    def swap(k: int, kmax: int) -> None:
        b[k], b[k - 1] = b[k - 1], b[k]
        for j in range(k - 1):
            lam[k][j], lam[k - 1][j] = lam[k - 1][j], lam[k][j]
        m = lam[k][k - 1]
        new = (d[k - 1] * d[k + 1] + m * m) // d[k]
        for i in range(k + 1, kmax + 1):
            t = lam[i][k]
            lam[i][k] = (d[k + 1] * lam[i][k - 1] - m * t) // d[k]
            lam[i][k - 1] = (new * t + m * lam[i][k]) // d[k + 1]
        d[k] = new

    k, kmax = 1, 0
    while k < n:
        if k > kmax:
            kmax = k
            for j in range(k + 1):
                u = dot(b[k], b[j])
                for i in range(j):
                    u = (d[i + 1] * u - lam[k][i] * lam[j][i]) // d[i]
                if j < k:
                    lam[k][j] = u
                else:
                    d[k + 1] = u
        reduce(k, k - 1)
        if 4 * d[k + 1] * d[k - 1] < 3 * d[k] * d[k] - 4 * lam[k][k - 1] ** 2:
            swap(k, kmax)
            k = max(1, k - 1)
        else:
            for j in range(k - 2, -1, -1):
                reduce(k, j)
            k += 1
    return b


def short_preimage(target: int, rho: int, dim: int) -> list[int] | None:
    """A short integer vector g (|g_i| small) with Σ g_i·ρ^(i+1) ≡ target (mod r), by Kannan's
    embedding; None if the reduced basis holds none."""
    c = [pow(rho, i + 1, R) for i in range(dim)]
    weight, embed = 1 << 300, 1 << 12
    rows = [[int(i == j) for j in range(dim)] + [weight * c[i], 0] for i in range(dim)]
    rows.append([0] * dim + [weight * R, 0])
    rows.append([0] * dim + [-weight * (target % R), embed])
    for v in lll(rows):
        if v[dim] == 0 and abs(v[dim + 1]) == embed:
            g = v[:dim] if v[dim + 1] == embed else [-x for x in v[:dim]]
            if sum(x * y for x, y in zip(g, c, strict=True)) % R == target % R:
                return g
    return None
