"""AdditiveDriver: the Groth16Driver for N parties holding additive shares over F_r.

* ``mul_vec`` is Beaver multiplication with dealt triples (x, y, z = x∘y): every party broadcasts
  its shares of d = a − x and e = b − y for the whole vector in ONE round, all parties open d, e and
  compute [a∘b] = [z] + d∘[y] + e∘[x] (+ d∘e, added by the leader only).
* ``open_g1``/``open_g2``: one round, every party broadcasts its point share; opened = Σ shares
  (each received point is checked to be a valid curve point first).
* ``blinding``: the dealt shares of r, s, r·s (handed out once per session; never reused).
* ``witness_msm_shares``: in dealer mode, the dealt point shares of the four witness MSMs
  (checked to be valid curve points); None otherwise (the prover then computes the MSMs).

Steps are named ``mul_vec#k`` / ``open_g1#k`` / ``open_g2#k``; the network binds frames to them.
"""

from __future__ import annotations

from omnidsl.backend.base import G1, G2, Backend
from omnidsl.errors import NetworkError, ProofError
from omnidsl.field import FR_BYTES, int_to_bytes
from omnidsl.groth16.driver import BlindingShares, WitnessMsmShares
from omnidsl.groth16.points import (
    G1_BYTES,
    G2_BYTES,
    g1_from_bytes,
    g1_to_bytes,
    g2_from_bytes,
    g2_to_bytes,
)
from omnidsl.mpc.dealer import ExpandedMaterial, decode_witness_msms
from omnidsl.mpc.network import Network, broadcast_exchange


class AdditiveDriver:
    """This party's side of the additive N-party Groth16 prover."""

    def __init__(
        self,
        party_id: int,
        n_parties: int,
        network: Network,
        material: ExpandedMaterial,
        backend: Backend,
        corrupt: bool = False,
    ):
        if network.party_id != party_id or network.n_parties != n_parties:
            raise ValueError("network does not match this party")
        self.party_id = party_id
        self.n_parties = n_parties
        self.net = network
        self.material = material
        self.backend = backend
        self.corrupt = corrupt  # test-only: send a wrong share in every mul_vec
        self._triple_pos = 0
        self._blinding_used = False
        self._counters: dict[str, int] = {}
        self.opened: list[tuple[str, object]] = []  # every opened value, in order (for tests)

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
        if hi > len(self.material.x):
            raise ProofError(
                f"party {self.party_id}: out of Beaver triples ({len(self.material.x) // FR_BYTES}"
                f" dealt, {self._triple_pos + m} needed)",
                hint="the data owner must deal one triple per domain point",
            )
        self._triple_pos += m
        x, y, z = self.material.x[lo:hi], self.material.y[lo:hi], self.material.z[lo:hi]
        fr = self.backend
        de_share = fr.beaver_mask(a, b, x, y)
        if self.corrupt and m:
            de_share = fr.fr_add(de_share, int_to_bytes(1) + bytes((2 * m - 1) * FR_BYTES))
        step = self._step("mul_vec")
        parts = broadcast_exchange(self.net, de_share)
        for j, part in enumerate(parts):
            if len(part) != 2 * m * FR_BYTES:
                raise NetworkError(
                    f"party {j} sent {len(part)} bytes at step {step!r}, expected {2 * m * 32}"
                )
        try:
            de, c = fr.beaver_open(parts, x, y, z, self.is_leader)
        except ValueError as exc:
            raise NetworkError(f"non-canonical share at {step!r}: {exc}") from None
        self.opened.append((step, de))
        return c

    def blinding(self) -> BlindingShares:
        if self._blinding_used:
            raise ProofError("the blinding shares of this session were already used")
        self._blinding_used = True
        m = self.material
        return BlindingShares(r=m.r, s=m.s, rs=m.rs)

    def witness_msm_shares(self) -> WitnessMsmShares | None:
        if self.material.witness_msm is None:
            return None
        try:
            return decode_witness_msms(self.material.witness_msm, self.backend)
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

    def open_g2(self, share: G2) -> G2:
        b = self.backend
        return self._open(
            "open_g2", g2_to_bytes(share), G2_BYTES, g2_from_bytes,
            lambda p: p is None or b.g2_is_valid(p), b.g2_add,
        )
