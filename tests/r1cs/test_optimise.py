"""Soundness and strength of the linear-constraint optimiser (-O0/-O1/-O2)."""

from __future__ import annotations

import itertools
import random
import time

import numpy as np
import pytest

from omnidsl.compiler.optimise import optimise, optimise_full
from omnidsl.field import R
from omnidsl.r1cs.system import R1CS, SparseMatrix

from .helpers import num2bits, num2bits_witness, random_circuit, satisfied


@pytest.mark.parametrize("level", [1, 2])
@pytest.mark.parametrize("seed", range(40))
def test_optimised_equivalent_on_random_circuits(seed, level):
    rng = random.Random(seed * 7 + level)
    r, z = random_circuit(rng, n_in=rng.randint(1, 3), n_gates=rng.randint(3, 16))
    res = optimise_full(r, level)
    o, kept = res.r1cs, res.kept
    # protected wires kept, order preserved, labels carried
    assert kept[: r.n_protected].tolist() == list(range(r.n_protected))
    assert np.all(np.diff(kept) > 0)
    assert o.n_wires == kept.shape[0] and o.n_constraints <= r.n_constraints
    assert o.wire_to_label.tolist() == kept.tolist()
    assert o.constraint_line.shape == (o.n_constraints,)
    # a witness of the original, restricted to kept, satisfies the optimised system
    assert satisfied(o, [z[w] for w in kept])
    # iff: for perturbed assignments of the kept wires, optimised ⇔ original on the extension
    for _ in range(12):
        zk = [z[w] for w in kept]
        for _ in range(rng.randint(1, 2)):
            j = rng.randrange(1, len(zk))
            zk[j] = rng.choice([0, 1, 2, (zk[j] + 1) % R, rng.randrange(R)])
        full = res.extend(zk, r.n_wires)
        assert satisfied(o, zk) == satisfied(r, full)
        if satisfied(o, zk):
            assert [full[w] for w in kept] == zk


@pytest.mark.parametrize("seed", range(8))
def test_brute_force_small_domain(seed):
    """Every assignment of the kept wires over {0,1,2}: optimised ⇔ original (extended)."""
    rng = random.Random(1000 + seed)
    while True:  # draw until the kept wires are few enough to enumerate
        r, _ = random_circuit(rng, n_in=2, n_gates=6)
        res = optimise_full(r, 2)
        n_kept = res.kept.shape[0]
        if n_kept <= 8:
            break
    n_ok = 0
    for vals in itertools.product(range(3), repeat=n_kept - 1):
        zk = [1, *vals]
        ok = satisfied(res.r1cs, zk)
        assert ok == satisfied(r, res.extend(zk, r.n_wires))
        n_ok += ok
    # and the original's own solutions in that domain all survive
    for vals in itertools.product(range(3), repeat=min(r.n_wires - 1, 7)):
        if r.n_wires - 1 > 7:
            break
        z = [1, *vals]
        if satisfied(r, z):
            assert satisfied(res.r1cs, [z[w] for w in res.kept])


def test_levels_on_num2bits():
    r = num2bits(16, public=False)
    assert optimise(r, 0)[0] is r
    o1, kept1 = optimise(r, 1)
    assert o1.n_constraints == 17 and kept1.shape[0] == r.n_wires  # no equalities to remove
    o2, kept2 = optimise(r, 2)
    assert o2.n_constraints == 16  # a b-bit range check of an input costs b constraints
    assert kept2.shape[0] == r.n_wires - 1
    z = num2bits_witness(16, 40000)
    assert satisfied(o2, [z[w] for w in kept2])
    bad = num2bits_witness(16, 40000)
    bad[1] += 1 << 16  # an out-of-range input has no bit decomposition
    for flip in range(3, 18):
        zk = [bad[w] for w in kept2]
        zk[kept2.tolist().index(flip)] ^= 1
        assert not satisfied(o2, zk)


def test_o1_removes_equalities_and_constants_only():
    rows = [
        ({}, {}, {3: 1, 1: -1}),  # w3 = w1 (equality)
        ({0: 1}, {4: 1}, {0: 9}),  # w4 = 9 (constant)
        ({3: 1}, {4: 1}, {5: 1}),  # w5 = w3·w4
        ({0: 1}, {5: 1, 2: 1}, {6: 1}),  # w6 = w5 + w2 (linear, 3 terms: only -O2)
        ({6: 1}, {6: 1}, {7: 1}),
        ({0: 2}, {0: 3}, {0: 6}),  # trivially true
    ]
    r = R1CS.from_rows(8, 0, 1, 1, rows)
    o1, kept1 = optimise(r, 1)
    # w3 := w1, w4 := 9 turn row 3 into the equality 9·w1 = w5, removed too; w6 stays
    assert kept1.tolist() == [0, 1, 2, 6, 7]
    assert o1.n_constraints == 2
    o2, kept2 = optimise(r, 2)
    assert kept2.tolist() == [0, 1, 2, 7]
    assert o2.n_constraints == 1
    z = [1, 4, 3, 4, 9, 36, 39, 39 * 39]
    for o, kept in ((o1, kept1), (o2, kept2)):
        assert satisfied(o, [z[w] for w in kept])


def test_unsatisfiable_linear_row_is_kept():
    rows = [({}, {}, {2: 1, 0: -3}), ({0: 1}, {2: 1}, {0: 4})]  # w2 = 3 and w2 = 4
    r = R1CS.from_rows(3, 0, 1, 0, rows)
    o, _ = optimise(r, 2)
    assert o.n_constraints == 1
    assert not any(satisfied(o, [1, v]) for v in range(5))


def _bit_circuit(n_in: int, bits: int) -> R1CS:
    """n_in private inputs x_j, each with a booleanity-checked bit decomposition."""
    n_wires = 1 + n_in + n_in * bits
    bw = (1 + n_in + np.arange(n_in * bits)).reshape(n_in, bits)
    m_bool, m_lin = n_in * bits, n_in
    # A: bool rows {b:1}; linear rows empty.  B: {0:-1, b:1}; C: linear {x:-1, b_i:2^i}
    a_ptr = np.r_[np.arange(m_bool + 1), np.full(m_lin, m_bool)]
    a = SparseMatrix(a_ptr.astype(np.int64), bw.reshape(-1).astype(np.int64),
                     np.zeros(m_bool, np.int32))
    b_ptr = np.r_[np.arange(0, 2 * m_bool + 1, 2), np.full(m_lin, 2 * m_bool)]
    b_wire = np.stack([np.zeros(m_bool, np.int64), bw.reshape(-1)], 1).reshape(-1)
    b_cid = np.tile(np.array([1, 0], np.int32), m_bool)
    b = SparseMatrix(b_ptr.astype(np.int64), b_wire, b_cid)
    c_ptr = np.r_[np.zeros(m_bool + 1, np.int64), np.arange(1, m_lin + 1) * (bits + 1)]
    c_wire = np.concatenate([np.arange(1, n_in + 1)[:, None], bw], 1).reshape(-1)
    c_cid = np.tile(np.r_[1, 2 + np.arange(bits)], n_in).astype(np.int32)
    c = SparseMatrix(c_ptr.astype(np.int64), c_wire.astype(np.int64), c_cid)
    coeffs = [1, R - 1] + [1 << i for i in range(bits)]
    return R1CS(n_wires, 0, 0, n_in, a, b, c, coeffs)


def test_bit_circuit_fixture_is_right():
    r = _bit_circuit(3, 4)
    z = [1, 5, 9, 15] + [(x >> i) & 1 for x in (5, 9, 15) for i in range(4)]
    assert satisfied(r, z)
    z[1] = 6
    assert not satisfied(r, z)


@pytest.mark.slow
def test_optimiser_fast_on_a_million_constraints():
    """~1.06·10^6 constraints of 16-bit range checks: each costs 16 after -O2, in seconds."""
    n_in, bits = 62_500, 16
    r = _bit_circuit(n_in, bits)
    assert r.n_constraints == n_in * (bits + 1)
    t0 = time.process_time()
    o, kept = optimise(r, 2)
    elapsed = time.process_time() - t0
    assert o.n_constraints == n_in * bits
    assert kept.shape[0] == r.n_wires - n_in
    assert elapsed < 30, elapsed
