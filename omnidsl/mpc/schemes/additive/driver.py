"""AdditiveDriver: the Groth16Driver for N parties holding additive shares over F_r.

* ``mul_vec`` is Beaver multiplication with dealt triples (x, y, z = x∘y): the parties open
  d‖e = (a − x)‖(b − y) and compute [a∘b] = [z] + d∘[y] + e∘[x] (+ d∘e, added by the leader
  only).  N = 2: one round, each party sends its whole d‖e share.  N ≥ 3: sliced, two rounds —
  party k receives everyone's share of the k-th 1/N slice of d‖e, sums it, and broadcasts the
  opened slice (step ``mul_vec#i.open``), so a party sends ≈ 4(N−1)/N instead of 2(N−1) vectors.
* ``open_g1``/``open_g2``: one round, every party broadcasts its point share; opened = Σ shares
  (each received point is checked to be a valid curve point first).
* ``blinding``: the dealt shares of r, s, r·s (handed out once per session; never reused).
* ``dealt_msm_shares``: in mode split, the dealt point shares of the A and B (G2) witness MSMs
  (checked to be valid curve points); None otherwise (the prover then computes those MSMs).

Steps are named ``mul_vec#k`` / ``open_g1#k`` / ``open_g2#k``; the network binds frames to them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools

from omnidsl.backend.base import G1, G2, Backend
from omnidsl.errors import NetworkError, ProofError
from omnidsl.field import FR_BYTES
from omnidsl.groth16.driver import BlindingShares, DealtMsmShares
from omnidsl.groth16.points import (
    G1_BYTES,
    G2_BYTES,
    g1_from_bytes,
    g1_to_bytes,
    g2_from_bytes,
    g2_to_bytes,
)
from omnidsl.mpc.network import Network, broadcast_exchange
from omnidsl.mpc.schemes.additive import beaver
from omnidsl.mpc.schemes.additive.material import ExpandedMaterial, decode_dealt_msms

#: from this many parties on, openings of vectors are sliced (2 rounds, ≈ 4(N−1)/N vectors of
#: traffic per party instead of 2(N−1) for one broadcast round)
SLICED_MIN_PARTIES = 3
#: elements of a and b per opening (one ``mul_vec#k`` step each): d‖e and its shares are held
#: one chunk at a time (8 MB per vector) instead of for the whole domain (268 MB at 2^23)
MUL_CHUNK = 1 << 18


def slice_bounds(length: int, n_parties: int) -> list[tuple[int, int]]:
    """Party k's slice [lo, hi) of a vector of ``length`` elements: lo = ⌊k·length/N⌋."""
    cut = [k * length // n_parties for k in range(n_parties + 1)]
    return list(itertools.pairwise(cut))


def chunk_bounds(m: int) -> list[tuple[int, int]]:
    """The chunks [i, j) of ``MUL_CHUNK`` elements that ``mul_vec`` opens one round each (one
    empty chunk for m = 0)."""
    return [(i, min(m, i + MUL_CHUNK)) for i in range(0, m, MUL_CHUNK)] or [(0, 0)]


class AdditiveDriver:
    """This party's side of the additive N-party Groth16 prover."""

    def __init__(
        self,
        party_id: int,
        n_parties: int,
        network: Network,
        material: ExpandedMaterial,
        backend: Backend,
    ):
        if network.party_id != party_id or network.n_parties != n_parties:
            raise ValueError("network does not match this party")
        self.party_id = party_id
        self.n_parties = n_parties
        self.net = network
        self.material = material
        self.backend = backend
        self._triple_pos = 0
        self._triples_spent = False
        self._blinding_used = False
        self._counters: dict[str, int] = {}
        #: every opened value in order, for tests (an opened d‖e chunk by its SHA-256: keeping
        #: the vectors would hold two domain-size vectors, 537 MB at 2^23, for the session)
        self.opened: list[tuple[str, object]] = []

    @property
    def is_leader(self) -> bool:
        return self.party_id == 0

    def _step(self, kind: str) -> str:
        k = self._counters.get(kind, 0)
        self._counters[kind] = k + 1
        self.net.step = f"{kind}#{k}"
        return self.net.step

    def witness_share(self) -> bytes:
        return self.material.witness

    def mul_vec(self, a: bytes, b: bytes) -> bytes:
        if len(a) != len(b) or len(a) % FR_BYTES:
            raise ValueError("mul_vec needs two Fr vectors of equal length")
        m = len(a) // FR_BYTES
        lo, hi = self._triple_pos * FR_BYTES, (self._triple_pos + m) * FR_BYTES
        if self._triples_spent or hi > len(self.material.x):
            have = "all used" if self._triples_spent else \
                f"{len(self.material.x) // FR_BYTES} dealt, {self._triple_pos + m} needed"
            raise ProofError(
                f"party {self.party_id}: out of Beaver triples ({have})",
                hint="the data owner must deal one triple per domain point",
            )
        self._triple_pos += m
        mat = self.material
        out = []
        for i, j in chunk_bounds(m):
            lo_i, lo_j, t_i, t_j = i * FR_BYTES, j * FR_BYTES, lo + i * FR_BYTES, lo + j * FR_BYTES
            out.append(self._mul_chunk(a[lo_i:lo_j], b[lo_i:lo_j], mat.x[t_i:t_j],
                                       mat.y[t_i:t_j], mat.z[t_i:t_j]))
        del mat
        if self._triple_pos * FR_BYTES == len(self.material.x):  # every triple used: free them
            self.material = dataclasses.replace(self.material, x=b"", y=b"", z=b"")
            self._triple_pos = 0
            self._triples_spent = True
        return out[0] if len(out) == 1 else b"".join(out)

    def _mul_chunk(self, a: bytes, b: bytes, x: bytes, y: bytes, z: bytes) -> bytes:
        """One opening round (step ``mul_vec#k``): this party's share of a∘b on one chunk."""
        m = len(a) // FR_BYTES
        fr = self.backend
        de_share = beaver.mask(fr, a, b, x, y)
        step = self._step("mul_vec")
        if self.n_parties >= SLICED_MIN_PARTIES:
            de = self._open_sliced(de_share, step)
            parts = [de]
        else:
            parts = broadcast_exchange(self.net, de_share)
            for j, part in enumerate(parts):
                if len(part) != 2 * m * FR_BYTES:
                    raise NetworkError(f"party {j} sent {len(part)} bytes at step {step!r}, "
                                       f"expected {2 * m * 32}")
        try:
            de, c = beaver.open_product(fr, parts, x, y, z, self.is_leader)
        except ValueError as exc:
            raise NetworkError(f"non-canonical share at {step!r}: {exc}") from None
        self.opened.append((step, hashlib.sha256(de).digest()))
        return c

    def _open_sliced(self, share: bytes, step: str) -> bytes:
        """Open a shared vector in two rounds: party k sums everyone's share of slice k
        (step ``mul_vec#i``), then broadcasts the opened slice (step ``mul_vec#i.open``)."""
        n, me, net = self.n_parties, self.party_id, self.net
        bounds = slice_bounds(len(share) // FR_BYTES, n)
        piece = [share[lo * FR_BYTES:hi * FR_BYTES] for lo, hi in bounds]
        for j in range(n):
            if j != me:
                net.send(j, piece[j])
        net.flush()
        mine = [piece[me] if j == me else net.recv(j) for j in range(n)]
        for j, part in enumerate(mine):
            if len(part) != len(piece[me]):
                raise NetworkError(f"party {j} sent {len(part)} bytes at step {step!r}, "
                                   f"expected {len(piece[me])}")
        try:
            opened = beaver.fr_sum(self.backend, mine)
        except ValueError as exc:
            raise NetworkError(f"non-canonical share at {step!r}: {exc}") from None
        net.step = f"{step}.open"
        slices = broadcast_exchange(net, opened)
        for j, part in enumerate(slices):
            if len(part) != len(piece[j]):
                raise NetworkError(f"party {j} sent {len(part)} bytes at step {net.step!r}, "
                                   f"expected {len(piece[j])}")
        return b"".join(slices)

    def blinding(self) -> BlindingShares:
        if self._blinding_used:
            raise ProofError("the blinding shares of this session were already used")
        self._blinding_used = True
        m = self.material
        return BlindingShares(r=m.r, s=m.s, rs=m.rs)

    def dealt_msm_shares(self) -> DealtMsmShares | None:
        if self.material.witness_msm is None:
            return None
        try:
            return decode_dealt_msms(self.material.witness_msm, self.backend)
        except ValueError as exc:
            raise ProofError(f"party {self.party_id}: bad dealt witness MSM shares: {exc}",
                             hint="the data owner dealt malformed point shares") from None

    def _open(self, kind: str, encoded: bytes, size: int, decode, valid, add):
        step = self._step(kind)
        parts = broadcast_exchange(self.net, encoded)
        total = None
        for j, part in enumerate(parts):
            if len(part) != size:
                raise NetworkError(f"party {j} sent {len(part)} bytes at step {step!r}")
            p = decode(part)
            if not valid(p):
                raise NetworkError(f"party {j} sent an invalid curve point at step {step!r}")
            total = p if total is None else add(total, p)
        self.opened.append((step, total))
        return total

    def open_g1(self, share: G1) -> G1:
        b = self.backend
        return self._open(
            "open_g1", g1_to_bytes(share), G1_BYTES, g1_from_bytes,
            lambda p: p is None or b.g1_is_valid(p), b.g1_add,
        )

    def witness_msm_scalars(self) -> None:
        return None  # the bounded masks are small already

    def open_g1_product(self, share: G1) -> G1:
        return self.open_g1(share)  # additive shares have no degree: same opening

    def open_g2(self, share: G2) -> G2:
        b = self.backend
        return self._open(
            "open_g2", g2_to_bytes(share), G2_BYTES, g2_from_bytes,
            lambda p: p is None or b.g2_is_valid(p), b.g2_add,
        )
