"""PlainDriver: the one-party Groth16 driver ("shares" are the values; the reference run)."""

from __future__ import annotations

import secrets

from omnidsl.backend.base import G1, G2, Backend
from omnidsl.field import R
from omnidsl.groth16.driver import BlindingShares


class PlainDriver:
    """One party, no network: ``mul_vec`` multiplies, ``open_*`` return their input."""

    party_id = 0
    n_parties = 1

    def __init__(self, witness: bytes, backend: Backend):
        if len(witness) % 32:
            raise ValueError("witness length is not a multiple of 32 bytes")
        self._witness = witness
        self._backend = backend

    @property
    def is_leader(self) -> bool:
        return True

    def witness_share(self) -> bytes:
        return self._witness

    def mul_vec(self, a: bytes, b: bytes) -> bytes:
        return self._backend.fr_mul(a, b)

    def blinding(self) -> BlindingShares:
        r = secrets.randbelow(R - 1) + 1
        s = secrets.randbelow(R - 1) + 1
        return BlindingShares(r, s, r * s % R)

    def open_g1(self, share: G1) -> G1:
        return share

    def open_g2(self, share: G2) -> G2:
        return share

    def dealt_msm_shares(self) -> None:
        return None  # the plain prover computes every MSM itself

    def witness_msm_scalars(self) -> None:
        return None

    def open_g1_product(self, share: G1) -> G1:
        return self.open_g1(share)
