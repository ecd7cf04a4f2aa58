"""The share arithmetic a Groth16 prover needs, as a protocol (TACEO co-snarks style).

The prover (``groth16/prover.py``) is written once against :class:`Groth16Driver`.  With
``PlainDriver`` (one party, no network) "shares" are the values themselves, so the plain run is
the oracle; ``omnidsl.mpc`` supplies ``AdditiveDriver`` (N parties, additive shares over F_r and
of curve points, Beaver triples dealt by the data owner).

Share encodings: a shared Fr vector is this party's ``bytes`` (n*32, see backend/base.py); a
shared point is this party's point (the opened point is the sum of all parties' points).
Public values enter the sharing through the *leader* (party 0): it alone adds public constants,
so that the sum of the shares is right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from omnidsl.backend.base import G1, G2


@dataclass(frozen=True)
class BlindingShares:
    """This party's additive shares of the Groth16 blinding scalars r, s and of r·s."""

    r: int
    s: int
    rs: int


@runtime_checkable
class Groth16Driver(Protocol):
    party_id: int
    n_parties: int

    @property
    def is_leader(self) -> bool:
        """True for the one party (id 0) that adds public constants to its shares."""
        ...

    def witness_share(self) -> bytes:
        """This party's share of the full witness z (n_wires*32 bytes; public wires: the leader
        holds the value, other parties hold 0)."""
        ...

    def mul_vec(self, a: bytes, b: bytes) -> bytes:
        """Shares of the elementwise product of two shared Fr vectors (one round with triples)."""
        ...

    def blinding(self) -> BlindingShares:
        """Shares of fresh r, s (never reused) and of r·s."""
        ...

    def open_g1(self, share: G1) -> G1:
        """Reveal a shared G1 point to all parties (sum of shares)."""
        ...

    def open_g2(self, share: G2) -> G2:
        """Reveal a shared G2 point to all parties (sum of shares)."""
        ...

    def dealt_msm_shares(self) -> DealtMsmShares | None:
        """This party's shares of the witness MSMs of π_A and π_B(G2) when the input owner
        dealt them (mode split, see :class:`DealtMsmShares`), else None (the prover computes
        every MSM from the witness share)."""
        ...

    def witness_msm_scalars(self) -> tuple[bytes, int] | None:
        """What the witness MSMs run on instead of ``witness_share()``: (scalars s, factor f)
        with f·Σ s_i·P_i this party's share of Σ z_i·P_i (the Shamir scheme's bounded shares:
        s = small shares of Δ·z, f = Δ^−1), or None (run them on ``witness_share()``)."""
        ...

    def open_g1_product(self, share: G1) -> G1:
        """Reveal a shared G1 point computed (linearly) from a ``mul_vec`` output or the r·s
        share — π_C.  Additive drivers open it like any point; in the Shamir scheme such shares
        have degree 2t and need 2t + 1 parties instead of t + 1."""
        ...


@dataclass(frozen=True)
class DealtMsmShares:
    """This party's additive shares of the two witness MSMs the input owner may deal (no
    blinding, no α/β): ``a`` = Σ z_i·A_i (G1) and ``b2`` = Σ z_i·B_i (G2).

    ``Groth16Driver.dealt_msm_shares()``: a driver whose input owner computed these points on its
    clear witness and dealt them returns them; the prover then skips those two MSMs, still
    computes [π_B] in G1 and [L] from its witness share, and after opening checks
    e(π_B1, g2) = e(g1, π_B2) (docs/mpc.md, "mode split").  Drivers returning None get every MSM
    computed from their witness share."""

    a: G1
    b2: G2
