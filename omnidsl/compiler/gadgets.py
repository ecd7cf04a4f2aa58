"""Constraint gadgets over batches of bounded integer values (costs: docs/gadgets.md).

Every gadget takes and returns :class:`V` (a batch of linear combinations with an integer bound
``[lo, hi]`` valid for every row) and emits vectorised constraint blocks plus one witness step.
Soundness rests on the bounds: all inputs are range-checked, and every gadget output is either a
linear function of bounded values or constrained to be the unique correct value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from omnidsl.errors import InternalError
from omnidsl.field import R

from .builder import Builder, WitnessState, width
from .lc import LC, SMALL, add, scale
from .poseidon_gadget import commit, permutation

FailFn = Callable[[WitnessState, np.ndarray], None]


@dataclass
class V:
    """A batch of values: ``lc`` rows, every row's integer value in [lo, hi]."""

    lc: LC
    lo: int
    hi: int

    @property
    def big(self) -> bool:
        return max(abs(self.lo), abs(self.hi)) >= SMALL

    @property
    def n(self) -> int:
        return self.lc.n

    @property
    def const(self) -> int | None:
        return self.lc.const if self.lc.is_const else None


def _key(*lcs: LC) -> tuple:
    return tuple((lc.wires.shape, lc.wires.tobytes(), lc.cids.tobytes(), lc.const) for lc in lcs)


def _cached(b: Builder, key: tuple, make: Callable[[], V]) -> V:
    """Common-subexpression elimination for gadgets with identical operands."""
    hit = b.cache.get(key)
    if not isinstance(hit, V):  # the cache holds the V of each key
        hit = make()
        b.cache[key] = hit
    return hit


def const(c: int) -> V:
    return V(LC.constant(c), c, c)


def lin(b: Builder, x: V, kx: int, y: V, ky: int) -> V:
    """kx*x + ky*y (bounds by interval arithmetic)."""
    lc = add(scale(x.lc, kx, b.table), y.lc, b.table, ky)
    xs = sorted((x.lo * kx, x.hi * kx))
    ys = sorted((y.lo * ky, y.hi * ky))
    return V(lc, xs[0] + ys[0], xs[1] + ys[1])


def shift(b: Builder, x: V, k: int) -> V:
    """x * 2^k (scale alignment)."""
    if k == 0:
        return x
    m = 1 << k
    return V(scale(x.lc, m, b.table), x.lo * m, x.hi * m)


def mul_const(b: Builder, x: V, c: int) -> V:
    lo, hi = sorted((x.lo * c, x.hi * c))
    return V(scale(x.lc, c, b.table), lo, hi)


# ---------------------------------------------------------------- bits and ranges


def range_bits(b: Builder, x: V, k: int, offset: int = 0, on_fail: FailFn | None = None
               ) -> np.ndarray:
    """Constrain x + offset ∈ [0, 2^k) by decomposing it into k bits; returns bit wires (n, k).

    Cost: k booleanity constraints + 1 recomposition (linear) per row."""
    n = x.n
    big = x.big or abs(offset) >= SMALL or k > 62
    b.decisions.append(("range", x, k, offset))
    if k == 0:
        bits = np.zeros((n, 0), np.int64)
    else:
        if k > 252:  # 2^252 < r: a 252-bit decomposition is still unique
            raise InternalError(f"range check of {k} bits would wrap the field")
        bits = b.alloc(n * k, bits=1).reshape(n, k)
        flat = b.wires_lc(bits.reshape(-1))
        b.constrain(flat, add(flat, LC.constant(-1), b.table), LC.constant(0))
    pow_ids = np.array([b.table.id(1 << j) for j in range(k)], np.int32)
    recomposed = LC(bits, np.broadcast_to(pow_ids, (n, k)).copy(), 0)
    b.linear(add(recomposed, x.lc, b.table, -1) if offset == 0 else
             add(add(recomposed, x.lc, b.table, -1), LC.constant(-offset), b.table))

    def step(w: WitnessState) -> None:
        v = w.eval(x.lc, big) + offset
        bad = (v < 0) | (v >= (1 << k)) if not big else np.array(
            [not (0 <= int(t) < (1 << k)) for t in v], bool)
        if bad.any():
            if w.permissive:  # forging for soundness tests: wrap into range
                v = v % (1 << k) if not big else np.array([int(t) % (1 << k) for t in v],
                                                            dtype=object)
            else:
                if on_fail is not None:
                    on_fail(w, bad)
                raise InternalError(f"value out of its {k}-bit range at line {b.line}")
        if k == 0:
            return
        if not big:
            vals = (v.astype(np.int64)[:, None] >> np.arange(k, dtype=np.int64)) & 1
        else:
            vals = np.array([[(int(t) >> j) & 1 for j in range(k)] for t in v], np.int64)
        w.set(bits.reshape(-1), vals.reshape(-1))

    b.step(step)
    return bits


def interval(b: Builder, x: V, lo: int, hi: int, on_fail: FailFn | None = None) -> None:
    """Constrain lo <= x <= hi (an input's fused range check, omnidsl/compiler/fuse.py).

    x − lo is decomposed into k = bitlen(hi − lo) bits, which proves 0 <= x − lo < 2^k; when
    hi − lo = 2^(k−1) the top bit times the lower bits' sum must be 0 (1 product: the lower
    sum is < 2^(k−1) < r, so it is 0 only when they all are); otherwise hi − x is decomposed
    too.  Cost k, k + 1 or 2k (+ linear recompositions)."""
    w = hi - lo
    k = w.bit_length()
    big = x.big

    def check(st: WitnessState) -> None:
        v = st.eval(x.lc, big)
        bad = np.array([not lo <= int(t) <= hi for t in v], bool) if big else (v < lo) | (v > hi)
        if bad.any() and not st.permissive and on_fail is not None:
            on_fail(st, bad)

    b.step(check)
    bits = range_bits(b, x, k, -lo, on_fail)
    if w == (1 << k) - 1:
        return
    if w == 1 << (k - 1):
        pow_ids = np.array([b.table.id(1 << j) for j in range(k - 1)], np.int32)
        low = LC(bits[:, : k - 1].copy(), np.broadcast_to(pow_ids, (x.n, k - 1)).copy(), 0)
        b.constrain(b.wires_lc(bits[:, k - 1]), low, LC.constant(0))
        return
    range_bits(b, lin(b, const(hi), 1, x, -1), k, 0, on_fail)


def assert_nonneg(b: Builder, x: V, on_fail: FailFn | None = None) -> None:
    """Constrain x >= 0 (x ∈ [0, 2^k) with 2^k > hi). Cost k + 1 (0 if lo >= 0)."""
    if x.lo >= 0:
        if on_fail is not None:  # statically true: nothing to constrain, nothing can fail
            return
        return
    k = max(x.hi, 0).bit_length()
    range_bits(b, x, k, 0, on_fail)


def ge0(b: Builder, x: V) -> V:
    """Boolean (x >= 0). Cost k + 2 with 2^k > max(hi, -lo - 1)."""
    if x.lo >= 0:
        return const(1)
    if x.hi < 0:
        return const(0)
    return _cached(b, ("ge0", x.lo, x.hi, *_key(x.lc)), lambda: _ge0(b, x))


def _ge0(b: Builder, x: V) -> V:
    k = max(x.hi.bit_length(), (-x.lo - 1).bit_length())
    bits = range_bits(b, x, k + 1, 1 << k)
    b.decisions.append(("ge0", bits[:, k]))
    return V(b.wires_lc(bits[:, k]), 0, 1)


def is_zero(b: Builder, d: V) -> V:
    """Boolean (d == 0) via an inverse witness. Cost 2."""
    if d.const is not None:
        return const(int(d.const % R == 0))
    if d.lo > 0 or d.hi < 0:
        return const(0)
    return _cached(b, ("is_zero", *_key(d.lc)), lambda: _is_zero(b, d))


def _is_zero(b: Builder, d: V) -> V:
    n = d.n
    inv = b.alloc(n, big=True)  # a field inverse: no bound
    out = b.alloc(n, bits=1)
    b.decisions.append(("is_zero", out))
    inv_lc, out_lc = b.wires_lc(inv), b.wires_lc(out)
    b.constrain(d.lc, inv_lc, add(LC.constant(1), out_lc, b.table, -1))
    b.constrain(d.lc, out_lc, LC.constant(0))
    big = d.big

    def step(w: WitnessState) -> None:
        v = w.eval(d.lc, big)
        zero = np.array([int(t) % R == 0 for t in v], bool) if v.dtype == object else v == 0
        w.set(out, zero.astype(np.int64))
        inv_v = np.zeros(n, dtype=object)
        for j in np.nonzero(~zero)[0].tolist():
            inv_v[j] = pow(int(v[j]) % R, -1, R)
        w.set(inv, inv_v)

    b.step(step)
    return V(out_lc, 0, 1)


# ---------------------------------------------------------------- products and selections


def mul(b: Builder, x: V, y: V) -> V:
    """x * y; one constraint per row unless a factor is constant."""
    prods = (x.lo * y.lo, x.lo * y.hi, x.hi * y.lo, x.hi * y.hi)
    lo, hi = min(prods), max(prods)
    if x.const is not None:
        return V(scale(y.lc, x.const, b.table).broadcast(max(x.n, y.n)), lo, hi)
    if y.const is not None:
        return V(scale(x.lc, y.const, b.table).broadcast(max(x.n, y.n)), lo, hi)
    kx, ky = _key(x.lc), _key(y.lc)
    return _cached(b, ("mul", *sorted((kx, ky))), lambda: _mul(b, x, y, lo, hi))


def _mul(b: Builder, x: V, y: V, lo: int, hi: int) -> V:
    n = max(x.n, y.n)
    res = V(LC.constant(0), lo, hi)
    out = b.alloc(n, big=res.big, bits=width(lo, hi))
    b.constrain(x.lc, y.lc, b.wires_lc(out))
    big = res.big

    def step(w: WitnessState) -> None:
        xv = w.eval(x.lc, big or x.big)
        yv = w.eval(y.lc, big or y.big)
        w.set(out, np.broadcast_to(xv * yv, (n,)))

    b.step(step)
    res.lc = b.wires_lc(out)
    return res


def select(b: Builder, c: V, x: V, y: V) -> V:
    """x if c else y, c boolean: y + c*(x - y). Cost 1 (0 if c is constant)."""
    lo, hi = min(x.lo, y.lo), max(x.hi, y.hi)
    if c.const is not None:
        r = x if c.const else y
        return V(r.lc, lo, hi)
    diff = lin(b, x, 1, y, -1)
    t = mul(b, c, diff)
    out = lin(b, y, 1, t, 1)
    return V(out.lc, lo, hi)


def b_and(b: Builder, x: V, y: V) -> V:
    r = mul(b, x, y)
    return V(r.lc, 0, 1)


def b_not(b: Builder, x: V) -> V:
    return V(add(LC.constant(1), x.lc, b.table, -1), 0, 1)


def b_or(b: Builder, x: V, y: V) -> V:
    if x.const is not None:
        return const(1) if x.const else y
    if y.const is not None:
        return const(1) if y.const else x
    xy = mul(b, x, y)
    return V(add(add(x.lc, y.lc, b.table), xy.lc, b.table, -1), 0, 1)


def materialise(b: Builder, x: V) -> V:
    """Copy a wide linear combination into one fresh wire per row (cost 1 linear)."""
    if x.lc.t <= 1:
        return x
    out = b.alloc(x.n, big=x.big, bits=width(x.lo, x.hi))
    b.linear(add(b.wires_lc(out), x.lc, b.table, -1))
    big = x.big
    b.step(lambda w: w.set(out, w.eval(x.lc, big)))
    return V(b.wires_lc(out), x.lo, x.hi)


# ---------------------------------------------------------------- division


def div_floor(b: Builder, x: V, p: int, q: int) -> V:
    """floor(x*q / p) for a constant p > 0: x*q = p*y + rem, 0 <= rem < p, y range-checked.

    Cost: rem check (log2 p + 1 if p is a power of two, else 2*(bitlen(p-1) + 1)),
    y check (bitlen(yhi - ylo) + 1) and 1 linear recomposition."""
    if p == 1:
        return mul_const(b, x, q)
    xq = mul_const(b, x, q)
    ylo, yhi = xq.lo // p, xq.hi // p
    n = x.n
    big = xq.big or p >= SMALL
    y = b.alloc(n, big=max(abs(ylo), abs(yhi)) >= SMALL, bits=width(ylo, yhi))
    rem = b.alloc(n, big=p >= SMALL, bits=width(0, p - 1))
    yv, rv = V(b.wires_lc(y), ylo, yhi), V(b.wires_lc(rem), 0, p - 1)
    b.decisions.append(("div", y, rem, p))

    def step(w: WitnessState) -> None:
        v = w.eval(xq.lc, big)
        quo = v // p
        w.set(y, quo)
        w.set(rem, v - quo * p)

    b.step(step)
    b.linear(add(add(xq.lc, yv.lc, b.table, -p), rv.lc, b.table, -1))
    if p & (p - 1) == 0:
        range_bits(b, rv, p.bit_length() - 1)
    else:
        k = (p - 1).bit_length()
        range_bits(b, rv, k)
        range_bits(b, lin(b, const(p - 1), 1, rv, -1), k)
    range_bits(b, yv, (yhi - ylo).bit_length(), -ylo)
    return yv


def fingerprint(b: Builder, v: V, rho: V, out: int | None = None, mask: V | None = None) -> V:
    """``Σ_i v_i·ρ^(i+1) (+ mask·ρ^(D+1)) mod r`` by Horner: acc_D = mask·ρ (0 without a mask),
    acc_i = (acc_{i+1} + v_i)·ρ, result acc_0.

    Exactly D = v.n multiplication constraints (D + 1 with a mask), emitted as one block; ``out``
    (a wire, e.g. a public output) receives acc_0 directly.  The v_i are integers embedded in F_r
    (negatives as r − |v_i|); ρ and the mask are raw field elements.  The result is a field
    value, not a bounded integer."""
    d = v.n
    if d < 1 or rho.n != 1 or (mask is not None and mask.n != 1):
        raise InternalError("fingerprint needs a vector and a scalar challenge")
    top = None
    if mask is not None:  # top = mask·ρ, the innermost accumulator
        top = b.alloc(1, big=True)
        b.constrain(mask.lc, rho.lc, b.wires_lc(top))
    acc = np.empty(d, np.int64)
    rest = b.alloc(d - 1, big=True)  # Horner accumulators are full field elements
    acc[1:] = rest
    acc[0] = b.alloc(1, big=True)[0] if out is None else out
    # A_i = acc_{i+1} + v_i  (acc_D = top, or wire 0 with a zero coefficient, dropped on emission)
    nxt = np.zeros((d, 1), np.int64)
    nxt[:-1, 0] = acc[1:]
    nxt_c = np.full((d, 1), b.ONE, np.int32)
    if top is None:
        nxt_c[-1, 0] = b.ZERO
    else:
        nxt[-1, 0] = top[0]
    a_lc = add(LC(nxt, nxt_c, 0), v.lc, b.table)
    b.constrain(a_lc, rho.lc.broadcast(d), b.wires_lc(acc))
    vlc, rlc = v.lc, rho.lc
    mlc = None if mask is None else mask.lc

    def step(st: WitnessState) -> None:
        vals = st.eval(vlc, True)
        r = int(st.eval(rlc, True)[0]) % R
        forced = st.force
        out_vals = np.empty(d, dtype=object)
        x = 0
        if top is not None and mlc is not None:
            x = int(st.eval(mlc, True)[0]) % R * r % R
            st.set(top, np.array([x], dtype=object))
        for i in range(d - 1, -1, -1):
            x = (x + int(vals[i])) * r % R
            if forced:
                x = forced.get(int(acc[i]), x)  # tests: a forged accumulator, propagated
            out_vals[i] = x
        st.set(acc, out_vals)

    b.step(step)
    return V(b.wires_lc(acc[:1]), 0, R - 1)


# ---------------------------------------------------------------- reductions and built-ins


def sum_rows(x: V) -> V:
    """Σ of a batch's rows (one row; linear, no constraint)."""
    return V(x.lc.sum_rows(), x.lo * x.n, x.hi * x.n)


def dot(b: Builder, u: V, w: V, square: bool = False) -> V:
    """Σ u_i·w_i: n products summed (``square``: u is w, the sum is non-negative)."""
    p = mul(b, u, w)
    lo, hi = (0, p.hi * p.n) if square else (p.lo * p.n, p.hi * p.n)
    return V(p.lc.sum_rows(), lo, hi)


def abs_value(b: Builder, x: V, sign: V | None = None) -> V:
    """|x|: free when the sign is known from the bounds; else ``(2s − 1)·x`` with s the decision
    ``x >= 0`` (or ``sign``, a known sign bit such as an input's range-check top bit)."""
    lo, hi = (x.lo, x.hi) if x.lo >= 0 else (-x.hi, -x.lo) if x.hi <= 0 else (
        0, max(-x.lo, x.hi))
    if x.lo >= 0:
        return V(x.lc, lo, hi)
    if x.hi <= 0:
        return V(mul_const(b, x, -1).lc, lo, hi)
    s = sign if sign is not None else ge0(b, x)
    two_s_minus_1 = V(lin(b, s, 2, const(1), -1).lc, -1, 1)
    r = mul(b, two_s_minus_1, x)
    return V(r.lc, lo, hi)


def minmax(b: Builder, f: str, x: V, y: V) -> V:
    """min(x, y) (``f == "min"``) or max(x, y): decision ``x <= y`` and a select."""
    le = ge0(b, lin(b, y, 1, x, -1))  # x <= y
    r = select(b, le, x, y) if f == "min" else select(b, le, y, x)
    # exact min/max (le is a sound decision): as tight as the checker's bound, so a rule it
    # accepts never needs a range check wider than the field
    pick = min if f == "min" else max
    return V(r.lc, pick(x.lo, y.lo), pick(x.hi, y.hi))


def reduce_minmax(b: Builder, f: str, v: V) -> V:
    """min/max of a batch's rows: a pairwise tree, n − 1 gadgets in ⌈log2 n⌉ levels."""
    while v.n > 1:
        half = v.n // 2
        ev = np.arange(0, 2 * half, 2)
        x = V(v.lc.take(ev), v.lo, v.hi)
        y = V(v.lc.take(ev + 1), v.lo, v.hi)
        m = minmax(b, f, x, y)
        if v.n % 2:
            last = V(v.lc.take(np.array([v.n - 1])), v.lo, v.hi)
            m = V(_concat(b, m.lc, last.lc), m.lo, m.hi)
        v = m
    return v


def _concat(b: Builder, a: LC, c: LC) -> LC:
    t = max(a.t, c.t)

    def pad(lc: LC) -> LC:
        return LC(np.pad(lc.wires, ((0, 0), (0, t - lc.t))),
                  np.pad(lc.cids, ((0, 0), (0, t - lc.t)), constant_values=b.ZERO), lc.const)

    a2, c2 = pad(a), pad(c)
    if a2.const != c2.const:
        raise InternalError("concatenating rows with different constants")
    return LC(np.concatenate([a2.wires, c2.wires]), np.concatenate([a2.cids, c2.cids]),
              a2.const)


def reduce_bool(b: Builder, f: str, v: V) -> V:
    """all (``f == "all"``) / any of a batch of conditions: is-zero of n − Σc / of Σc."""
    if v.n == 1:
        return v
    total = V(v.lc.sum_rows(), 0, v.n)
    if f == "all":
        return is_zero(b, lin(b, const(v.n), 1, total, -1))
    return b_not(b, is_zero(b, total))


def _field_wire(b: Builder, h: LC) -> V:
    """A one-row field LC copied into one fresh wire holding its reduced value (1 linear)."""
    out = b.alloc(1, big=True)
    b.linear(b.sub(b.wires_lc(out), h))
    b.step(lambda w: w.set(out, np.array([int(w.eval(h, True)[0]) % R], dtype=object)))
    return V(b.wires_lc(out), 0, R - 1)


def commitment(b: Builder, v: V, bits: int) -> V:
    """The committed-input commitment of the rows of v (signed ``bits``-bit values, which v's
    proven bound guarantees), in one wire.  Cost: poseidon_gadget.commitment_cost + 1."""
    if v.lo < -(1 << (bits - 1)) or v.hi >= 1 << (bits - 1):
        raise InternalError(f"commitment entries outside {bits} bits")
    return _field_wire(b, commit(b, v.lc, bits))


def poseidon(b: Builder, xs: list[V]) -> V:
    """circomlib's Poseidon of 1..16 scalars (integers embedded in F_r, field values as they
    are) in one fresh wire holding the reduced hash.  Cost 3·(8t + R_P − 1) + 1 linear."""
    return _field_wire(b, permutation(b, [x.lc for x in xs]))
