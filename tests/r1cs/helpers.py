"""Small-system helpers for the r1cs tests (plain Python ints: an independent oracle)."""

from __future__ import annotations

import random

import numpy as np

from omnidsl.field import R
from omnidsl.r1cs.system import R1CS


def lc_value(lc: dict[int, int], z: list[int]) -> int:
    return sum(c * z[w] for w, c in lc.items()) % R


def satisfied(r1cs: R1CS, z: list[int]) -> bool:
    """Does the full assignment ``z`` (z[0] == 1) satisfy every constraint?"""
    assert z[0] == 1 and len(z) == r1cs.n_wires
    return all(lc_value(a, z) * lc_value(b, z) % R == lc_value(c, z)
               for a, b, c in r1cs.to_rows())


def num2bits(n_bits: int, public: bool = True) -> R1CS:
    """x (input wire 1) = Σ 2^i b_i with boolean b_i (wires 2..n+1): a circom Num2Bits."""
    rows = [({2 + i: 1}, {2 + i: 1, 0: -1}, {}) for i in range(n_bits)]
    rows.append(({}, {}, {1: -1, **{2 + i: 1 << i for i in range(n_bits)}}))
    labels = {1: "main.in"} | {2 + i: f"main.out[{i}]" for i in range(n_bits)}
    return R1CS.from_rows(2 + n_bits, 0, int(public), int(not public), rows, labels=labels,
                          n_labels=2 + n_bits)


def num2bits_witness(n_bits: int, x: int) -> list[int]:
    return [1, x] + [(x >> i) & 1 for i in range(n_bits)]


def random_system(rng: random.Random, n_wires: int, m: int, max_terms: int = 3,
                  n_pub_out: int = 0, n_pub_in: int = 1, n_prv_in: int = 1) -> R1CS:
    """Random constraints with a mix of small and full-size coefficients."""
    def coeff() -> int:
        return rng.choice([1, -1, 2, -2, 3, rng.randrange(R)])

    def lc() -> dict[int, int]:
        return {rng.randrange(n_wires): coeff() for _ in range(rng.randint(0, max_terms))}

    rows = [(lc(), lc(), lc()) for _ in range(m)]
    return R1CS.from_rows(n_wires, n_pub_out, n_pub_in, n_prv_in, rows,
                          constraint_line=np.arange(1, m + 1, dtype=np.int32))
