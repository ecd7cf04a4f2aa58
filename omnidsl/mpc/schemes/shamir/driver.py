"""ShamirDriver: the Groth16Driver for N parties holding degree-t Shamir shares (2t + 1 ≤ N).

* Public constants: a constant c is the constant polynomial, so *every* party adds it to its
  share (``is_leader`` is True for all) and Lagrange interpolation at 0 returns secret + c.
* ``mul_vec`` is local: the elementwise product of two degree-t shares is a degree-2t share of
  the product.  Everything the prover derives from it (h, the H MSM, π_C) is linear, so it stays
  degree 2t; ``blinding`` returns r_i·s_i + ζ_i, likewise a degree-2t share of r·s, where ζ
  is the dealt degree-2t sharing of 0 that makes the opened π_C polynomial uniformly random apart
  from π_C itself.  No round, no triples.
* Openings (``open_g1``, ``open_g2``: degree t, need t + 1 parties; ``open_g1_product``:
  degree 2t, needs 2t + 1) are one quorum round (``network.quorum_exchange``): every live party
  broadcasts its point share, waits for the others up to ``wait_s``, drops (and names) the ones
  that failed, decodes the shares as a Reed–Solomon codeword (``poly.decode``: with m shares of
  degree d, up to ⌊(m − d − 1)/2⌋ shares off the polynomial are found, their senders dropped and
  named; more, or this party's own share off it, abort) and interpolates at 0.
* ``check_consistency`` (step ``consistency#0``, run at the prover's first call, before
  anything is computed or opened): every party
  opens v = Σ ρ_k·z_k + ρ_r·r + ρ_s·s + m over its private witness shares, with ρ expanded from
  the commitment root (dealer.py) and m the dealt check mask, together with the root itself; it
  needs 2t + 1 parties, equal roots, and the values on one degree-t polynomial — otherwise the
  data owner dealt inconsistent shares (or equivocated the digests) and nothing is opened.
"""

from __future__ import annotations

import logging

from omnidsl.backend.base import G1, G2, Backend
from omnidsl.errors import NetworkError, ProofError
from omnidsl.field import FR_BYTES, R
from omnidsl.groth16.driver import BlindingShares, DealtMsmShares
from omnidsl.groth16.points import (
    G1_BYTES,
    G2_BYTES,
    g1_from_bytes,
    g1_to_bytes,
    g2_from_bytes,
    g2_to_bytes,
)
from omnidsl.mpc import prg
from omnidsl.mpc.network import Liveness, Network, quorum_exchange
from omnidsl.mpc.schemes.shamir import poly
from omnidsl.mpc.schemes.shamir.dealer import L_CHECK, ShamirShares, decode_points

log = logging.getLogger(__name__)
#: default wait for the live parties of one exchange (seconds)
WAIT_S = 30.0


def _plural(ids: list[int]) -> str:
    return f"party {ids[0]}" if len(ids) == 1 else \
        "parties " + ", ".join(map(str, ids[:-1])) + f" and {ids[-1]}"


class ShamirDriver:
    """This party's side of the Shamir (N, t) Groth16 prover."""

    def __init__(self, party_id: int, n_parties: int, threshold: int, network: Network,
                 shares: ShamirShares, backend: Backend, wait_s: float = WAIT_S):
        if network.party_id != party_id or network.n_parties != n_parties:
            raise ValueError("network does not match this party")
        self.party_id = party_id
        self.n_parties = n_parties
        self.t = threshold
        self.net = network
        self.shares = shares
        self.backend = backend
        self.wait_s = wait_s
        self.alive = Liveness.everyone(n_parties)
        self._checked = False
        self._blinding_used = False
        self._counters: dict[str, int] = {}
        self.opened: list[tuple[str, object]] = []  # every opened value, in order (for tests)
        self.quorums: list[tuple[str, list[int]]] = []  # which parties each opening used

    @property
    def is_leader(self) -> bool:
        return True  # every party adds public constants (the constant polynomial)

    def _step(self, kind: str) -> str:
        k = self._counters.get(kind, 0)
        self._counters[kind] = k + 1
        self.net.step = f"{kind}#{k}"
        return self.net.step

    # ---- local operations
    def witness_share(self) -> bytes:
        self.check_consistency()  # the prover's first call: check before computing anything
        return self.shares.witness

    def mul_vec(self, a: bytes, b: bytes) -> bytes:
        if len(a) != len(b) or len(a) % FR_BYTES:
            raise ValueError("mul_vec needs two Fr vectors of equal length")
        return self.backend.fr_mul(a, b)  # degree 2t

    def blinding(self) -> BlindingShares:
        if self._blinding_used:
            raise ProofError("the blinding shares of this session were already used")
        self._blinding_used = True
        sh = self.shares
        # r_i·s_i is a degree-2t share of r·s; + ζ_i (a degree-2t sharing of 0) re-randomises
        # it, and with it the polynomial of the π_C shares every party broadcasts
        return BlindingShares(r=sh.r, s=sh.s, rs=(sh.r * sh.s + sh.zero) % R)

    def witness_msm_scalars(self) -> tuple[bytes, int] | None:
        """Bounded shares: (shares of Δ·z — small scalars —, Δ^−1); the prover runs the witness
        MSMs on the former and multiplies the points by the latter.  None for uniform shares."""
        sh = self.shares
        return None if sh.msm_witness is None else (sh.msm_witness, pow(sh.scale, -1, R))

    def dealt_msm_shares(self) -> DealtMsmShares | None:
        try:
            return decode_points(self.shares.witness_msm, self.backend)
        except ValueError as exc:
            raise ProofError(f"party {self.party_id}: bad dealt witness MSM shares: {exc}",
                             hint="the data owner dealt malformed point shares") from None

    # ---- exchanges
    def _exchange(self, payload: bytes, need: int) -> dict[int, bytes]:
        got = quorum_exchange(self.net, payload, need, self.alive, self.wait_s)
        self.quorums.append((self.net.step, sorted(got)))
        return got

    def _drop(self, party: int, why: str) -> None:
        """Stop exchanging with a party that sent something wrong (named in ``alive.dead``)."""
        log.warning("party %d: dropping party %d: %s", self.party_id, party, why)
        self.alive.drop(party, f"party {party} {why}")

    def check_consistency(self) -> None:
        """Step ``consistency#0`` (see the module docstring); ProofError on inconsistency."""
        if self._checked:
            return
        sh, be = self.shares, self.backend
        step = self._step("consistency")
        priv = sh.witness[sh.n_public * FR_BYTES:]
        n_priv = len(priv) // FR_BYTES
        rho = prg.expand(sh.root, L_CHECK, n_priv + 2)
        v = poly.total(be, be.fr_mul(rho[: n_priv * FR_BYTES], priv)) if n_priv else 0
        rho_r = int.from_bytes(rho[n_priv * FR_BYTES:(n_priv + 1) * FR_BYTES], "little")
        rho_s = int.from_bytes(rho[(n_priv + 1) * FR_BYTES:], "little")
        v = (v + rho_r * sh.r + rho_s * sh.s + sh.mask) % R
        got = self._exchange(sh.root + v.to_bytes(32, "little"), 2 * self.t + 1)
        values = {}
        for j, part in got.items():
            if len(part) != 64:
                raise NetworkError(f"party {j} sent {len(part)} bytes at step {step!r}")
            if part[:32] != sh.root:
                raise ProofError(
                    f"party {self.party_id}: party {j} was dealt another list of material "
                    f"digests (step {step!r}); the data owner equivocated",
                    hint="the data owner must deal every server the same commitments")
            values[j] = int.from_bytes(part[32:], "little")
            if values[j] >= R:
                raise NetworkError(f"party {j} sent a non-canonical value at step {step!r}")
        off = poly.decode(values, self.t, poly.scalar_combiner())
        if off:
            raise ProofError(
                f"party {self.party_id}: the shares dealt to {_plural(off)} are off the "
                f"polynomial of degree {self.t} through the others' ({_plural(sorted(values))} "
                f"answered); nothing was opened",
                hint="the data owner dealt inconsistent Shamir shares")
        if off is None:
            raise ProofError(
                f"party {self.party_id}: the shares dealt to {_plural(sorted(values))} do not "
                f"lie on one polynomial of degree {self.t} (no polynomial fits all but a few); "
                f"nothing was opened", hint="the data owner dealt inconsistent Shamir shares")
        self._checked = True

    def _open(self, kind: str, encoded: bytes, size: int, degree: int, decode, valid, combine):
        self.check_consistency()
        step = self._step(kind)
        got = self._exchange(encoded, degree + 1)
        points = {}
        for j, part in got.items():
            p = decode(part) if len(part) == size else None
            if len(part) != size or not valid(p):
                self._drop(j, f"sent a malformed share ({len(part)} bytes) at step {step!r}")
            else:
                points[j] = p
        off = poly.decode(points, degree, combine)
        if off is None:
            raise ProofError(
                f"party {self.party_id}: the shares of {_plural(sorted(points))} at step "
                f"{step!r} do not lie on one polynomial of degree {degree}, nor do all but a "
                f"correctable few", hint="servers sent wrong shares, or the data owner dealt "
                "inconsistent points")
        if self.party_id in off:
            raise ProofError(
                f"party {self.party_id}: its own share at step {step!r} is off the polynomial "
                f"of degree {degree} through the shares of {_plural(sorted(set(points) - set(off)))}",
                hint="the data owner dealt this server inconsistent points, or it is faulty")
        for j in off:
            self._drop(j, f"sent a share off the polynomial of degree {degree} at step {step!r}")
            del points[j]
        if len(points) < degree + 1:
            raise ProofError(f"party {self.party_id}: step {step!r} needs {degree + 1} valid "
                             f"shares, only {_plural(sorted(points))} sent one")
        total = poly.interpolate(points, degree, combine)
        self.opened.append((step, total))
        return total

    def open_g1(self, share: G1) -> G1:
        b = self.backend
        return self._open("open_g1", g1_to_bytes(share), G1_BYTES, self.t, g1_from_bytes,
                          lambda p: p is None or b.g1_is_valid(p), poly.g1_combiner(b))

    def open_g1_product(self, share: G1) -> G1:
        b = self.backend
        return self._open("open_g1", g1_to_bytes(share), G1_BYTES, 2 * self.t, g1_from_bytes,
                          lambda p: p is None or b.g1_is_valid(p), poly.g1_combiner(b))

    def open_g2(self, share: G2) -> G2:
        b = self.backend
        return self._open("open_g2", g2_to_bytes(share), G2_BYTES, self.t, g2_from_bytes,
                          lambda p: p is None or b.g2_is_valid(p), poly.g2_combiner(b))
