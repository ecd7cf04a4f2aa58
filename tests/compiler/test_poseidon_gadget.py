"""The Poseidon gadget: R1CS values equal the reference, 3 constraints per S-box, forgeries fail."""

from __future__ import annotations

import random

import numpy as np

from omnidsl.compiler import poseidon as P
from omnidsl.compiler import poseidon_gadget as G
from omnidsl.compiler.builder import Builder, WitnessState
from omnidsl.compiler.check import violated
from omnidsl.compiler.lc import LC
from omnidsl.field import R


def _finish(b: Builder, h: LC, n: int):
    """Public output wires equal to the hash rows; returns (output wires, run)."""
    out = b.alloc(n, big=True)
    b.linear(b.sub(b.wires_lc(out), h))
    b.step(lambda w: w.set(out, np.array([int(v) % R for v in w.eval(h, True)], dtype=object)))

    def run(set_inputs, force=None):
        st = WitnessState(b.n_wires, b.bigmask(), b.table)
        set_inputs(st)
        for s in b.steps:
            s(st)
        for wire, v in (force or {}).items():
            st.set(np.array([wire]), np.array([v], dtype=object))
        return st

    return out, run


def _system(b: Builder):
    return b.to_r1cs(0, 0, 0)


def test_permutation_equals_reference_and_costs_three_per_sbox():
    rng = random.Random(3)
    for arity in (1, 2, 5, 15, 16):
        t = arity + 1
        b = Builder()
        n = 3
        ins = [b.alloc(n, big=True) for _ in range(arity)]
        h = G.permutation(b, [b.wires_lc(w) for w in ins])
        perm_constraints = b.n_constraints()
        out, run = _finish(b, h, n)
        vals = [[rng.randrange(R) for _ in range(n)] for _ in range(arity)]

        def set_inputs(st, ins=ins, vals=vals):
            for w, v in zip(ins, vals, strict=True):
                st.set(w, np.array(v, dtype=object))

        st = run(set_inputs)
        got = [int(st.bigv[o]) for o in out]
        assert got == [P.poseidon([vals[i][k] for i in range(arity)]) for k in range(n)]
        # every S-box but the constant one of round 0 (capacity 0 + constant): 3 constraints
        assert perm_constraints == n * G.cost(t)
        assert G.cost(t) == 3 * (8 * t + P.PARTIAL_ROUNDS[t] - 1)
        r1cs = _system(b)
        assert violated(r1cs, st.limbs()).size == 0


def test_forged_sbox_or_output_is_violated():
    b = Builder()
    ins = [b.alloc(1, big=True) for _ in range(2)]
    h = G.permutation(b, [b.wires_lc(w) for w in ins])
    out, run = _finish(b, h, 1)

    def set_inputs(st):
        st.set(ins[0], np.array([5], dtype=object))
        st.set(ins[1], np.array([7], dtype=object))

    r1cs = _system(b)
    honest = run(set_inputs)
    assert violated(r1cs, honest.limbs()).size == 0
    x5 = int(h.wires[0, 0])  # an S-box output of the last round
    forged = run(set_inputs, {x5: (int(honest.bigv[x5]) + 1) % R})
    assert violated(r1cs, forged.limbs()).size > 0
    forged = run(set_inputs, {int(out[0]): (int(honest.bigv[out[0]]) + 1) % R})
    assert violated(r1cs, forged.limbs()).size > 0


def _commit_circuit(d: int, bits: int = 16):
    b = Builder()
    x = b.alloc(d, bits=bits)
    h = G.commit(b, b.wires_lc(x), bits)
    cost = b.n_constraints()
    out, run = _finish(b, h, 1)
    return b, x, out, run, cost


def test_commitment_gadget_equals_reference():
    rng = random.Random(7)
    for d in (1, 15, 16, 241, 7510):
        b, x, out, run, cost = _commit_circuit(d)
        vals = [rng.randrange(-(1 << 15), 1 << 15) for _ in range(d)]
        vals[0] = -(1 << 15)
        vals[-1] = (1 << 15) - 1
        st = run(lambda st, x=x, vals=vals: st.set(x, np.array(vals, np.int64)))
        assert int(st.bigv[out[0]]) == P.commit_vector(vals, 16)
        assert cost == G.commitment_cost(d, 16)
        if d <= 241:
            assert violated(_system(b), st.limbs()).size == 0
    # D = 7510: 501 packed elements, 35 permutations, under 3 constraints per entry
    assert G.commitment_cost(7510, 16) == 31 * G.cost(17) + G.cost(6) + 2 * G.cost(17) + G.cost(3)
    assert G.commitment_cost(7510, 16) / 7510 < 2.8


def test_one_changed_entry_changes_the_commitment():
    rng = random.Random(9)
    b, x, out, run, _ = _commit_circuit(241)
    vals = [rng.randrange(-(1 << 15), 1 << 15) for _ in range(241)]
    base = run(lambda st: st.set(x, np.array(vals, np.int64)))
    r1cs = _system(b)
    for i in (0, 14, 15, 120, 240):
        other = list(vals)
        other[i] = other[i] + 1 if other[i] < (1 << 15) - 1 else other[i] - 1
        st = run(lambda st, other=other: st.set(x, np.array(other, np.int64)))
        assert int(st.bigv[out[0]]) != int(base.bigv[out[0]])
        # the honest commitment of `vals` with the entries of `other`: violated
        forged = run(lambda st, other=other: st.set(x, np.array(other, np.int64)),
                     {int(out[0]): int(base.bigv[out[0]])})
        assert violated(r1cs, forged.limbs()).size > 0
