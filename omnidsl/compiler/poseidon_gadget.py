"""Poseidon in R1CS: the permutation over a batch of instances, and vector commitments.

Each S-box y = s^5 costs 3 constraints (x2 = s·s, x4 = x2·x2, y = x4·s); the additions of round
constants and the MDS products are folded into the linear combinations the S-boxes read, so the
permutation emits no linear constraint.  An S-box whose input is a constant (element 0 of the
first round, the zero capacity plus a round constant) is evaluated at compile time.  Costs per
permutation of width t: 3·(8·t + R_P − 1) constraints (docs/gadgets.md).

The symbolic plan of a width (which S-box reads which combination of earlier S-box outputs) is
computed once per t and shared by every instance of the batch: instances are the rows of the
emitted blocks, so the round constants and MDS entries are shared coefficients.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from omnidsl import _native
from omnidsl.errors import InternalError
from omnidsl.field import R

from . import poseidon as P
from .builder import Builder, WitnessState
from .lc import LC, add, scale

Coefs = dict[int, int]


@dataclass(frozen=True)
class Plan:
    """``sboxes[k] = (round, element, coefs, const)``: S-box k reads
    ``const + Σ coefs[c]·basis[c]``; basis columns 0..t-2 are the inputs, column t-1+k the
    output of S-box k.  ``out`` is the final element 0 in the same form."""

    t: int
    sboxes: tuple[tuple[int, int, tuple[tuple[int, int], ...], int], ...]
    out: tuple[tuple[tuple[int, int], ...], int]


@cache
def plan(t: int) -> Plan:
    p = P.params(t)
    state: list[tuple[Coefs, int]] = [({}, 0)] + [({i - 1: 1}, 0) for i in range(1, t)]
    nb = t - 1
    sboxes = []
    for r in range(p.rounds):
        state = [(c, (k + p.C[r][i]) % R) for i, (c, k) in enumerate(state)]
        for i in (range(t) if p.is_full(r) else (0,)):
            c, k = state[i]
            if not c:
                state[i] = ({}, P.pow5(k))
                continue
            sboxes.append((r, i, tuple(sorted(c.items())), k))
            state[i] = ({nb: 1}, 0)
            nb += 1
        new = []
        for row in p.M:
            acc: Coefs = {}
            const = 0
            for m, (c, k) in zip(row, state, strict=True):
                for col, v in c.items():  # reduced once per entry, below
                    acc[col] = acc.get(col, 0) + m * v
                const += m * k
            red = ((col, v % R) for col, v in acc.items())
            new.append(({col: v for col, v in red if v}, const % R))
        state = new
    c0, k0 = state[0]
    return Plan(t, tuple(sboxes), (tuple(sorted(c0.items())), k0))


def _combo(b: Builder, basis: list[LC], coefs: tuple[tuple[int, int], ...], const: int,
           n: int) -> LC:
    """const + Σ coef·basis[col] as an LC of n rows."""
    ws, cs = [], []
    for col, coef in coefs:
        lc = scale(basis[col].broadcast(n), coef, b.table)
        if lc.const % R:
            raise InternalError("a Poseidon basis column carries a constant")
        ws.append(lc.wires)
        cs.append(lc.cids)
    if not ws:
        return LC.constant(const, n)
    return LC(np.concatenate(ws, axis=1), np.concatenate(cs, axis=1), const)


def _strip_const(b: Builder, lc: LC) -> LC:
    """The same rows with the constant moved onto wire 0 (basis columns carry no constant)."""
    if lc.const % R == 0:
        return LC(lc.wires, lc.cids, 0)
    one = LC(np.zeros((lc.n, 1), np.int64), np.full((lc.n, 1), b.table.id(lc.const), np.int32))
    return add(LC(lc.wires, lc.cids, 0), one, b.table)


def permutation(b: Builder, inputs: list[LC]) -> LC:
    """Poseidon of ``len(inputs)`` (1..16) inputs, each an LC batch of n rows (n instances):
    returns the n hashes as an LC over the last round's S-box outputs."""
    t = len(inputs) + 1
    if t not in P.PARTIAL_ROUNDS:
        raise InternalError(f"Poseidon of {len(inputs)} inputs")
    n = max(lc.n for lc in inputs)
    pl = plan(t)
    basis: list[LC] = [_strip_const(b, lc.broadcast(n)) for lc in inputs]
    sbox_wires = []
    for _r, _i, coefs, const in pl.sboxes:
        s = _combo(b, basis, coefs, const, n)
        x2, x4, x5 = (b.alloc(n, big=True) for _ in range(3))
        l2, l4, l5 = b.wires_lc(x2), b.wires_lc(x4), b.wires_lc(x5)
        b.constrain(s, s, l2)
        b.constrain(l2, l2, l4)
        b.constrain(l4, s, l5)
        sbox_wires.append((x2, x4, x5))
        basis.append(l5)
    ins = list(inputs)

    if len(pl.sboxes) != P.params(t).sboxes - 1:
        raise InternalError("the Poseidon plan skips more than the constant S-box")
    wires = np.array(sbox_wires, np.int64)  # (S-boxes, 3, n)

    def step(w: WitnessState) -> None:
        vals = [np.broadcast_to(w.eval(lc, True), (n,)) for lc in ins]
        flat = [int(v[k]) for k in range(n) for v in vals]
        # native: per instance, per S-box in plan order, (s^2, s^4, s^5)
        got = np.array(P.decode(_native.poseidon_sboxes(t - 1, P.encode(flat))), dtype=object)
        got = got.reshape(n, len(sbox_wires), 3).transpose(1, 2, 0)
        w.set(wires.reshape(-1), got.reshape(-1))

    b.step(step)
    coefs, const = pl.out
    return _combo(b, basis, coefs, const, n)


def cost(t: int) -> int:
    """Constraints of one permutation of width t."""
    return 3 * len(plan(t).sboxes)


def _vstack(b: Builder, lcs: list[LC]) -> LC:
    """Rows of several LC batches, one below the other (constants moved onto wire 0)."""
    lcs = [_strip_const(b, lc) for lc in lcs]
    t = max(lc.t for lc in lcs)
    ws = [np.pad(lc.wires, ((0, 0), (0, t - lc.t))) for lc in lcs]
    cs = [np.pad(lc.cids, ((0, 0), (0, t - lc.t)), constant_values=b.ZERO) for lc in lcs]
    return LC(np.concatenate(ws), np.concatenate(cs), 0)


def pack(b: Builder, entries: LC, bits: int) -> LC:
    """Packed field elements of a vector of signed ``bits``-bit values (poseidon.pack):
    element e = Σ_j 2^(bits·j)·(v_{ek+j} + 2^(bits-1)).  Linear: no constraint (the entries'
    range checks make the packing injective and every element < 2^253 < r)."""
    d = entries.n
    k = P.per_element(bits)
    n = -(-d // k)
    off = 1 << (bits - 1)
    pad = n * k - d
    te = entries.t
    w = np.concatenate([entries.wires, np.zeros((pad, te), np.int64)])
    c = np.concatenate([entries.cids, np.full((pad, te), b.ZERO, np.int32)])
    w = w.reshape(n, k, te)
    c = c.reshape(n, k, te).copy()
    for j in range(k):
        c[:, j, :] = b.table.scaled(c[:, j, :], 1 << (bits * j))
    counts = np.minimum(k, d - np.arange(n) * k)
    consts = [(off + entries.const) * ((1 << (bits * int(m))) - 1) // ((1 << bits) - 1)
              for m in counts.tolist()]
    ids = np.array([b.table.id(x) for x in consts], np.int32).reshape(n, 1)
    return LC(np.concatenate([w.reshape(n, k * te), np.zeros((n, 1), np.int64)], axis=1),
              np.concatenate([c.reshape(n, k * te), ids], axis=1), 0)


def tree(b: Builder, elements: LC) -> LC:
    """Root of the arity-16 Poseidon tree over the rows of ``elements`` (poseidon.tree_hash)."""
    level = elements
    for arities in P.tree_levels(elements.n):
        q = sum(1 for a in arities if a == P.MAX_ARITY)
        outs = []
        if q:
            base = np.arange(q, dtype=np.int64) * P.MAX_ARITY
            outs.append(permutation(b, [level.take(base + i) for i in range(P.MAX_ARITY)]))
        if len(arities) > q:
            start, a = q * P.MAX_ARITY, arities[-1]
            outs.append(permutation(b, [level.take(np.array([start + i])) for i in range(a)]))
        level = outs[0] if len(outs) == 1 else _vstack(b, outs)
    return level


def commit(b: Builder, entries: LC, bits: int) -> LC:
    """The commitment of a vector (poseidon.commit_vector) as a one-row LC."""
    return tree(b, pack(b, entries, bits))


def commitment_cost(length: int, bits: int) -> int:
    """Constraints of :func:`commit` for ``length`` entries of ``bits`` bits."""
    n = -(-length // P.per_element(bits))
    return sum(cost(a + 1) for level in P.tree_levels(n) for a in level)
