"""Small-system helpers for the r1cs tests (plain Python ints: an independent oracle)."""

from __future__ import annotations

import random
import struct

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


def random_circuit(rng: random.Random, n_in: int = 2, n_gates: int = 12, domain: int = 3):
    """A random circuit and a satisfying witness: wires are computed gate by gate.

    Returns (r1cs, witness).  Inputs (wire 1.. n_in) are public/private inputs; gates mix
    products, linear definitions, equalities, constants, booleanity and linear checks.
    """
    z = [1] + [rng.randrange(domain) for _ in range(n_in)]
    rows = []

    def lc(k: int) -> dict[int, int]:
        out: dict[int, int] = {}
        for _ in range(k):
            out[rng.randrange(len(z))] = rng.choice([1, -1, 2, 3, -5, rng.randrange(R)])
        return out

    def val(d: dict[int, int]) -> int:
        return sum(c * z[w] for w, c in d.items()) % R

    for _ in range(n_gates):
        kind = rng.choice(["mul", "lin", "linB", "eq", "const", "bool", "check", "check"])
        new = len(z)
        if kind == "mul":
            a, b = lc(rng.randint(1, 2)), lc(rng.randint(1, 2))
            z.append(val(a) * val(b) % R)
            rows.append((a, b, {new: 1}))
        elif kind == "lin":
            b = lc(rng.randint(1, 4))
            z.append(3 * val(b) % R)
            rows.append(({0: 3}, b, {new: 1}))
        elif kind == "linB":
            a = lc(rng.randint(1, 3))
            z.append(val(a) % R)
            rows.append((a, {0: 7}, {new: 7}))
        elif kind == "eq":
            src = rng.randrange(1, len(z))
            z.append(z[src] * 5 % R)
            rows.append(({}, {}, {new: 1, src: -5}))
        elif kind == "const":
            z.append(11)
            rows.append(({0: 1}, {new: 1}, {0: 11}))
        elif kind == "bool":
            z.append(rng.randrange(2))
            rows.append(({new: 1}, {new: 1, 0: -1}, {}))
        else:  # a linear relation among existing wires that holds (constant term adjusts it)
            c = lc(rng.randint(1, 4))
            c[0] = (c.get(0, 0) - val(c)) % R
            rows.append(({}, {0: 1}, c) if rng.random() < 0.5 else ({0: 2}, {}, c))
    n_pub = rng.randint(0, n_in)
    r = R1CS.from_rows(len(z), 0, n_pub, n_in - n_pub, rows,
                       constraint_line=np.arange(1, len(rows) + 1, dtype=np.int32),
                       labels={w: f"main.w[{w}]" for w in range(1, len(z))})
    assert satisfied(r, z)
    return r, z


def sections(data: bytes) -> list[tuple[int, bytes]]:
    """(type, body) of every section of an iden3 binary file, in file order."""
    n = struct.unpack_from("<I", data, 8)[0]
    pos, out = 12, []
    for _ in range(n):
        t, size = struct.unpack_from("<IQ", data, pos)
        out.append((t, data[pos + 12: pos + 12 + size]))
        pos += 12 + size
    return out
