"""Binding a batch session's slots to the servers' committed aggregation shares (docs/market.md,
"One proof per batch").

The committed aggregation shares are additive (server s holds v^(s), Σ_s v^(s) = v, fixed before
ρ); the batch session holds Shamir shares of each slot's gradient and mask wires, dealt by the
DO.  Before proving, the servers check that the two are the same vector, without opening either:

1. every server Shamir-reshares its committed share vector of every slot (degree t) and one
   sharing of 0 per slot, sends party p its shares, and commits to a fresh seed (SHA-256);
2. every server reveals its seed; ρ = SHA-256(root ‖ seeds) expands to one weight per bound
   wire — fixed after every DO dealt (the root) and every server reshared (the seed commitments),
   unpredictable while one server is honest;
3. each server sums what it received (a Shamir sharing of v, since the sum of the resharings of
   the v^(s) is a sharing of Σ v^(s)), subtracts its share of the slot's wires, takes the
   ρ-combination over every slot and entry, adds the sum of the zero sharings, and broadcasts it;
4. the N values must lie on one polynomial of degree t whose value at 0 is 0.

If a slot's dealt vector differs from the committed v, its opened value is a non-zero
polynomial in ρ evaluated at a fresh ρ: non-zero except with probability 1/r.  When the vectors
agree, the opened polynomial is uniform apart from its value 0 at 0 (the slot's zero sharings),
so it tells t servers nothing; an honest slot's opening is independent of the others'.  Every party must answer (no quorum tolerance in this check).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

from omnidsl.errors import NetworkError, ProofError
from omnidsl.field import R
from omnidsl.mpc.network import Network
from omnidsl.mpc.schemes.shamir import poly

DOMAIN = b"omnidsl-market-batch-binding/v1"


def _share(secret: int, n: int, t: int) -> list[int]:
    """Degree-t Shamir shares of ``secret`` for parties 0..n−1."""
    coeffs = [secret % R] + [secrets.randbelow(R) for _ in range(t)]
    out = []
    for j in range(n):
        x, acc = poly.point(j), 0
        for c in reversed(coeffs):
            acc = (acc * x + c) % R
        out.append(acc)
    return out


def _enc(vals: Sequence[int]) -> bytes:
    return b"".join(int(v).to_bytes(32, "big") for v in vals)


def _dec(buf: bytes, n: int, who: int) -> list[int]:
    if len(buf) != 32 * n:
        raise NetworkError(f"party {who} sent {len(buf)} bytes, expected {32 * n}")
    vals = [int.from_bytes(buf[32 * i:32 * i + 32], "big") for i in range(n)]
    if any(v >= R for v in vals):
        raise NetworkError(f"party {who} sent a non-canonical element")
    return vals


def _all_to_all(net: Network, payloads: Sequence[bytes]) -> list[bytes]:
    me = net.party_id
    for p in range(net.n_parties):
        if p != me:
            net.send(p, payloads[p])
    net.flush()
    return [payloads[me] if p == me else net.recv(p) for p in range(net.n_parties)]


def weights(root: bytes, seeds: Sequence[bytes], count: int) -> list[int]:
    """ρ_0..ρ_{count−1} from the session root and every server's revealed seed."""
    base = hashlib.sha256(DOMAIN + root + b"".join(seeds)).digest()
    return [int.from_bytes(hashlib.sha256(base + i.to_bytes(8, "big")).digest(), "big") % R
            for i in range(count)]


class BindingFailed(ProofError):
    """Some slots' dealt vectors are not the committed ones; ``slots``: their indices (in the
    ``committed``/``dealt`` order)."""

    def __init__(self, message: str, slots: Sequence[int], hint: str | None = None):
        super().__init__(message, hint=hint)
        self.slots = list(slots)


def check(net: Network, threshold: int, committed: Sequence[Sequence[int]],
          dealt: Sequence[Sequence[int]], root: bytes) -> None:
    """This party's side: ``committed[j]`` its additive committed share vector of real slot j,
    ``dealt[j]`` its Shamir shares of slot j's bound wires (same length).
    :class:`BindingFailed` naming every slot whose dealt vector is not the committed one."""
    n, me, t = net.n_parties, net.party_id, threshold
    if len(committed) != len(dealt) or any(len(a) != len(b) for a, b in
                                           zip(committed, dealt, strict=True)):
        raise ProofError("the committed and dealt vectors of the batch do not match in shape")
    flat = [int(v) % R for vec in committed for v in vec]
    m, k = len(flat), len(committed)
    per_party: list[list[int]] = [[] for _ in range(n)]
    for v in [*flat, *([0] * k)]:  # the last k: this party's zero sharing of each slot
        for p, s in enumerate(_share(v, n, t)):
            per_party[p].append(s)
    seed = secrets.token_bytes(32)
    commit = hashlib.sha256(DOMAIN + b"seed" + seed).digest()
    net.step = "binding#0"
    got = _all_to_all(net, [_enc(per_party[p]) + commit for p in range(n)])
    received = [_dec(g[:-32], m + k, p) for p, g in enumerate(got)]
    commits = [g[-32:] for g in got]
    net.step = "binding#1"
    seeds = _all_to_all(net, [seed] * n)
    for p, (sd, c) in enumerate(zip(seeds, commits, strict=True)):
        if len(sd) != 32 or hashlib.sha256(DOMAIN + b"seed" + sd).digest() != c:
            raise ProofError(f"party {me}: party {p}'s seed does not match its commitment")
    rho = weights(root, seeds, m)
    mine = [int(v) % R for vec in dealt for v in vec]
    totals, i = [], 0
    for j, vec in enumerate(committed):
        total = sum(r[m + j] for r in received) % R
        for _ in vec:
            reshared = sum(r[i] for r in received) % R
            total = (total + rho[i] * (reshared - mine[i])) % R
            i += 1
        totals.append(total)
    net.step = "binding#2"
    opened = [_dec(b, k, p) for p, b in enumerate(_all_to_all(net, [_enc(totals)] * n))]
    comb = poly.scalar_combiner()
    bad = []
    for j in range(k):
        col = {p: opened[p][j] for p in range(n)}
        if poly.decode(col, t, comb) != [] or poly.interpolate(col, t, comb) != 0:
            bad.append(j)
    if bad:
        raise BindingFailed(f"party {me}: slot(s) {bad}: the dealt gradient and mask are not the "
                            "vector the servers committed to (binding check failed); nothing "
                            "was proved", bad,
                            hint="the data owner must deal the vector it shared for aggregation")
