"""Poseidon over BN254 with circomlib's parameters (reference implementation, pure Python).

``poseidon(inputs)`` equals circomlibjs's ``poseidon`` for 1..16 inputs: state width
t = len(inputs) + 1, state = [0, *inputs], 8 full rounds and ``PARTIAL_ROUNDS[t]`` partial ones,
S-box x^5; every round adds t round constants, applies the S-box (to every element in the first
and last 4 rounds, to element 0 only in between), then multiplies by the t×t MDS matrix; the hash
is element 0 of the final state.  The constants are generated, not copied: a Grain LFSR seeded
with (prime field, x^α S-box, n = 254, t, R_F, R_P) as in the Poseidon paper (eprint 2019/458,
appendix F) gives the round constants (254-bit samples, rejected when ≥ r), then the 2t
elements x, y of the Cauchy MDS matrix M[i][j] = 1 / (x_i + y_j).

The commitment to a vector (docs/dsl.md, "committed inputs") packs entries into field elements
and hashes them with a Poseidon tree of arity 16: :func:`commit_vector`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from omnidsl.field import R, bytes_to_limbs, ints_to_limbs, limbs_to_bytes, limbs_to_ints

FULL_ROUNDS = 8
#: partial rounds per state width t (circomlib: the paper's table rounded up, t = 2..17)
PARTIAL_ROUNDS = {t: p for t, p in zip(range(2, 18), (
    56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68), strict=True)}
MAX_ARITY = 16
FIELD_BITS = 254


@dataclass(frozen=True)
class Params:
    """Constants of one width: ``C[r][i]`` round constants, ``M[i][j]`` the MDS matrix."""

    t: int
    full: int
    partial: int
    C: tuple[tuple[int, ...], ...]
    M: tuple[tuple[int, ...], ...]

    @property
    def rounds(self) -> int:
        return self.full + self.partial

    def is_full(self, r: int) -> bool:
        half = self.full // 2
        return r < half or r >= half + self.partial

    @property
    def sboxes(self) -> int:
        """S-boxes of one permutation (3 constraints each in the gadget)."""
        return self.full * self.t + self.partial


def _shrink_table() -> list[tuple[int, int]]:
    """Self-shrinking of 8 LFSR bits (4 pairs (a, b), a first): (emitted bits, how many)."""
    out = []
    for byte in range(256):
        v = k = 0
        for pair in range(4):
            if (byte >> (2 * pair)) & 1:
                v, k = (v << 1) | ((byte >> (2 * pair + 1)) & 1), k + 1
        out.append((v, k))
    return out


_SHRINK = _shrink_table()


class Grain:
    """The Poseidon paper's Grain LFSR in self-shrinking mode (80-bit state).

    State bit j is s_j (s_0 the oldest); s_{80+i} = s_{62+i} ⊕ s_{51+i} ⊕ s_{38+i} ⊕ s_{23+i}
    ⊕ s_{13+i} ⊕ s_i.  The nearest tap is 18 bits back, so 16 new bits are computed at once."""

    def __init__(self, t: int, full: int, partial: int) -> None:
        seed = ((1, 2), (0, 4), (FIELD_BITS, 12), (t, 12), (full, 10), (partial, 10),
                ((1 << 30) - 1, 30))
        bits: list[int] = []
        for value, n in seed:
            bits += [(value >> (n - 1 - j)) & 1 for j in range(n)]
        self.state = sum(b << j for j, b in enumerate(bits))
        for _ in range(10):  # 160 clocks discarded
            self._clock16()
        self.buf = self.nbuf = 0

    def _clock16(self) -> int:
        """16 clocks; bit k of the result is the k-th new bit."""
        s = self.state
        new = ((s >> 62) ^ (s >> 51) ^ (s >> 38) ^ (s >> 23) ^ (s >> 13) ^ s) & 0xFFFF
        self.state = (s >> 16) | (new << 64)
        return new

    def number(self, n: int = FIELD_BITS) -> int:
        """The next n output bits as an integer, the first bit most significant."""
        while self.nbuf < n:
            new = self._clock16()
            for byte in (new & 0xFF, new >> 8):
                v, k = _SHRINK[byte]
                self.buf, self.nbuf = (self.buf << k) | v, self.nbuf + k
        self.nbuf -= n
        out = self.buf >> self.nbuf
        self.buf &= (1 << self.nbuf) - 1
        return out

    def field(self) -> int:
        """A uniform field element: 254-bit samples below r (rejection)."""
        while True:
            v = self.number()
            if v < R:
                return v


@cache
def params(t: int) -> Params:
    """circomlib's constants for state width ``t`` (2..17)."""
    if t not in PARTIAL_ROUNDS:
        raise ValueError(f"Poseidon width {t} outside 2..17 (1 to 16 inputs)")
    full, partial = FULL_ROUNDS, PARTIAL_ROUNDS[t]
    g = Grain(t, full, partial)
    flat = [g.field() for _ in range((full + partial) * t)]
    xy = [g.number() % R for _ in range(2 * t)]
    if len(set(xy)) != 2 * t or any((x + y) % R == 0 for x in xy[:t] for y in xy[t:]):
        raise ValueError(f"degenerate Cauchy matrix for t={t}")  # never for circomlib's widths
    M = tuple(tuple(pow(xy[i] + xy[t + j], -1, R) for j in range(t)) for i in range(t))
    C = tuple(tuple(flat[r * t:(r + 1) * t]) for r in range(full + partial))
    return Params(t, full, partial, C, M)


def pow5(x: int) -> int:
    return pow(x, 5, R)


def permute(state: list[int], p: Params) -> list[int]:
    """The Poseidon permutation of one state (t field elements)."""
    s = [v % R for v in state]
    for r in range(p.rounds):
        s = [(v + c) % R for v, c in zip(s, p.C[r], strict=True)]
        if p.is_full(r):
            s = [pow5(v) for v in s]
        else:
            s[0] = pow5(s[0])
        s = [sum(m * v for m, v in zip(row, s, strict=True)) % R for row in p.M]
    return s


def poseidon(inputs: list[int]) -> int:
    """circomlibjs ``poseidon(inputs)`` for 1..16 field elements (integers, reduced mod r)."""
    n = len(inputs)
    if not 1 <= n <= MAX_ARITY:
        raise ValueError(f"Poseidon takes 1 to {MAX_ARITY} inputs, not {n}")
    return permute([0, *inputs], params(n + 1))[0]


# ---------------------------------------------------------------- vector commitments


def per_element(bits: int) -> int:
    """Entries packed into one field element: k with k·bits ≤ 253 (so a packed value < r)."""
    if not 1 <= bits <= 253:
        raise ValueError(f"cannot pack {bits}-bit entries")
    return 253 // bits


def pack(values: list[int], bits: int) -> list[int]:
    """Signed ``bits``-bit integers → field elements: entry i goes to element i // k at bit
    offset bits·(i mod k), as the unsigned value v + 2^(bits-1)."""
    k, off = per_element(bits), 1 << (bits - 1)
    out = []
    for start in range(0, len(values), k):
        acc = 0
        for j, v in enumerate(values[start:start + k]):
            if not -off <= v < off:
                raise ValueError(f"entry {start + j} = {v} outside the signed {bits}-bit range")
            acc |= (v + off) << (bits * j)
        out.append(acc)
    return out


def encode(values: list[int]) -> bytes:
    """Field elements (reduced mod r) as 32-byte little-endian words, the native encoding."""
    return limbs_to_bytes(ints_to_limbs([v % R for v in values]))


def decode(data: bytes) -> list[int]:
    return limbs_to_ints(bytes_to_limbs(data))


def hash_many(arity: int, flat: list[int]) -> list[int]:
    """Poseidon of len(flat) / arity instances (instance-major inputs), native (Rust)."""
    from omnidsl import _native

    return decode(_native.poseidon_hash(arity, encode(flat)))


def tree_levels(n: int) -> list[list[int]]:
    """Arity of every node, level by level from the leaves, for n packed elements: each level
    groups the previous one in runs of 16 (the last run shorter); a level of one element that
    is a node output ends the tree (a single packed element is still hashed once)."""
    if n < 1:
        raise ValueError("a committed vector needs at least one entry")
    levels = []
    while True:
        arities = [min(MAX_ARITY, n - s) for s in range(0, n, MAX_ARITY)]
        levels.append(arities)
        n = len(arities)
        if n == 1:
            return levels


def tree_hash(elements: list[int], native: bool = True) -> int:
    """Root of the arity-16 tree (``native=False``: the pure-Python reference, slow)."""
    level = list(elements)
    for arities in tree_levels(len(elements)):
        q = sum(1 for a in arities if a == MAX_ARITY)
        nxt = []
        if q and native:
            nxt = hash_many(MAX_ARITY, level[:q * MAX_ARITY])
        elif q:
            nxt = [poseidon(level[i:i + MAX_ARITY]) for i in range(0, q * MAX_ARITY, MAX_ARITY)]
        if len(arities) > q:
            rest = level[q * MAX_ARITY:]
            nxt.append(hash_many(len(rest), rest)[0] if native else poseidon(rest))
        level = nxt
    return level[0]


def commit_vector(values: list[int], bits: int, native: bool = True) -> int:
    """The commitment of a committed input: Poseidon tree over the packed entries."""
    return tree_hash(pack(values, bits), native)

