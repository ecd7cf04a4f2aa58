"""Audit: linear-constraint elimination on adversarial systems (duplicated, contradictory and
cyclic linear rows, wires used only in removed rows, rows over protected wires only).

Property: for every assignment of the kept wires, the optimised system holds iff the original
holds on the recorded extension, and every solution of the original survives restriction."""

from __future__ import annotations

import itertools
import random

import pytest

from omnidsl.compiler.optimise import optimise_full
from omnidsl.field import R
from omnidsl.r1cs.system import R1CS

DOMAIN = (0, 1, 2, 3, R - 1)


def _val(lc: dict[int, int], z: list[int]) -> int:
    return sum(c * z[w] for w, c in lc.items()) % R


def sat(r: R1CS, z: list[int]) -> bool:
    return all(_val(a, z) * _val(b, z) % R == _val(c, z) for a, b, c in r.to_rows())


def check_equivalent(r: R1CS, level: int, expect_solutions: bool | None = None) -> None:
    res = optimise_full(r, level)
    o, kept = res.r1cs, res.kept
    assert kept[: r.n_protected].tolist() == list(range(r.n_protected))
    n_ok = 0
    for vals in itertools.product(DOMAIN, repeat=len(kept) - 1):
        zk = [1, *vals]
        ok = sat(o, zk)
        assert ok == sat(r, res.extend(zk, r.n_wires)), zk
        n_ok += ok
    for vals in itertools.product(DOMAIN, repeat=r.n_wires - 1):
        z = [1, *vals]
        if sat(r, z):
            assert sat(o, [z[w] for w in kept]), z
    if expect_solutions is not None:
        assert (n_ok > 0) == expect_solutions


# wires: 0 one, 1 public out, 2 public in, 3 private in, 4.. internal
def system(rows, n_wires=7) -> R1CS:
    return R1CS.from_rows(n_wires, 1, 1, 1, rows)


CASES = {
    # y = x (twice), out = y * y
    "duplicate": ([({}, {}, {4: 1, 3: -1}), ({}, {}, {4: 1, 3: -1}), ({4: 1}, {4: 1}, {1: 1})],
                  True),
    # the same equality, once scaled by 5 and once written as A = const
    "scaled duplicate": ([({}, {}, {4: 5, 3: -5}), ({0: 2}, {4: 1}, {3: 2}),
                          ({4: 1}, {3: 1}, {1: 1})], True),
    # t = 1 and t = 2: unsatisfiable, must stay unsatisfiable
    "contradiction": ([({}, {}, {4: 1, 0: -1}), ({}, {}, {4: 1, 0: -2}),
                       ({4: 1}, {4: 1}, {1: 1})], False),
    # y = x, z = y, x = z + 1: a cycle of equalities that is inconsistent
    "inconsistent cycle": ([({}, {}, {4: 1, 3: -1}), ({}, {}, {5: 1, 4: -1}),
                            ({}, {}, {3: 1, 5: -1, 0: 1}), ({5: 1}, {5: 1}, {1: 1})], False),
    # a consistent cycle (one row is implied by the other two)
    "consistent cycle": ([({}, {}, {4: 1, 3: -1}), ({}, {}, {5: 1, 4: -1}),
                          ({}, {}, {3: 1, 5: -1}), ({5: 1}, {2: 1}, {1: 1})], True),
    # t = 3·x only appears in its defining row; out = x·in
    "dangling": ([({0: 3}, {3: 1}, {4: 1}), ({3: 1}, {2: 1}, {1: 1})], True),
    # a linear relation among protected wires only: out = in + x (must stay)
    "protected only": ([({}, {}, {1: 1, 2: -1, 3: -1}), ({4: 1}, {4: 1}, {4: 1})], True),
    # internal y defined twice, differently; forces x = in
    "two definitions": ([({}, {}, {4: 1, 3: -1}), ({}, {}, {4: 1, 2: -1}),
                         ({4: 1}, {4: 1}, {1: 1})], True),
    # constant-only sides: 2·3 = y, then y·x = out
    "const product": ([({0: 2}, {0: 3}, {4: 1}), ({4: 1}, {3: 1}, {1: 1})], True),
    # a pivot that also occurs in A and B of a product row
    "pivot in A and B": ([({}, {}, {4: 1, 3: -1, 2: -1}), ({4: 1, 0: 1}, {4: 1, 3: 1},
                                                           {1: 1})], True),
}


@pytest.mark.parametrize("level", [1, 2])
@pytest.mark.parametrize("name", sorted(CASES))
def test_adversarial_linear_rows(name, level):
    rows, has_solutions = CASES[name]
    check_equivalent(system(rows, 6), level, has_solutions)


@pytest.mark.parametrize("seed", range(6))
def test_random_linear_heavy_systems(seed):
    """Mostly-linear random systems with repeated and implied rows over few wires."""
    rng = random.Random(seed)
    while True:
        rows = []
        for _ in range(rng.randint(3, 6)):
            lc = {rng.randrange(6): rng.choice([1, -1, 2, R - 3]) for _ in range(rng.randint(1, 3))}
            if rng.random() < 0.25:
                rows.append(({rng.randrange(6): 1}, {rng.randrange(6): 1}, lc))
            else:
                rows.append(({}, {}, lc))
            if rng.random() < 0.3:
                rows.append(rows[-1])
        r = system(rows, 6)
        res = optimise_full(r, 2)
        if len(res.kept) <= 5:
            break
    check_equivalent(r, 2)
