"""Hand-built R1CS circuits with Python witnesses (no compiler needed)."""

from __future__ import annotations

import numpy as np

from omnidsl.field import R
from omnidsl.r1cs.system import R1CS, SparseMatrix

LC = dict[int, int]


def build_r1cs(n_wires: int, n_pub_out: int, n_pub_in: int, n_prv_in: int,
               constraints: list[tuple[LC, LC, LC]]) -> R1CS:
    """An R1CS from (A, B, C) linear combinations {wire: coefficient}."""
    table: dict[int, int] = {}

    def mat(which: int) -> SparseMatrix:
        row_ptr, wires, ids = [0], [], []
        for cons in constraints:
            lc = {w: c % R for w, c in cons[which].items() if c % R}
            for w in sorted(lc):
                wires.append(w)
                ids.append(table.setdefault(lc[w], len(table)))
            row_ptr.append(len(wires))
        return SparseMatrix(np.array(row_ptr, np.int64), np.array(wires, np.int64),
                            np.array(ids, np.int32))

    a, b, c = mat(0), mat(1), mat(2)
    coeffs = [0] * len(table)
    for v, i in table.items():
        coeffs[i] = v
    return R1CS(n_wires=n_wires, n_pub_out=n_pub_out, n_pub_in=n_pub_in, n_prv_in=n_prv_in,
                A=a, B=b, C=c, coeffs=coeffs)


def chain_circuit(k: int, n_pub_in: int = 2) -> R1CS:
    """out = x_0·(w² + x_1·w + ... ) style chain of k multiplications.

    Wires: 0 = 1, 1 = out, 2..1+n_pub_in = public x_j, then private w, then t_1..t_k.
    t_1 = w·w;  t_{i+1} = t_i·(x_{i mod n} + 3·w + 1) for i < k;  out = t_k·1 (linear row).
    """
    first_x = 2
    w = first_x + n_pub_in
    t0 = w + 1
    cons: list[tuple[LC, LC, LC]] = [({w: 1}, {w: 1}, {t0: 1})]
    for i in range(1, k):
        xj = first_x + (i % n_pub_in)
        cons.append(({t0 + i - 1: 1}, {xj: 1, w: 3, 0: 1}, {t0 + i: 1}))
    cons.append(({t0 + k - 1: 1}, {0: 1}, {1: 1}))
    return build_r1cs(t0 + k, 1, n_pub_in, 1, cons)


def chain_witness(k: int, xs: list[int], w: int) -> list[int]:
    t = [w * w % R]
    for i in range(1, k):
        t.append(t[-1] * (xs[i % len(xs)] + 3 * w + 1) % R)
    return [1, t[-1], *[x % R for x in xs], w % R, *t]


def to_bytes(values: list[int]) -> bytes:
    return b"".join((v % R).to_bytes(32, "little") for v in values)
