"""``ShamirScheme``: (N, t) Shamir sharing behind the :class:`~omnidsl.mpc.schemes.Scheme` seam.

servers.toml: ``[scheme]`` with ``name = "shamir"``, ``threshold = t`` (default 1; 2t + 1 ≤ N)
and optionally ``wait_s`` (how long an exchange waits for a live server, default 30).  Privacy
against any t colluding servers; the proof completes while 2t + 1 servers stay up (π_C has
degree 2t; π_A and π_B open with t + 1).  docs/mpc.md, "Shamir scheme".
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from omnidsl.errors import ProofError
from omnidsl.mpc.schemes.shamir import dealer, wire
from omnidsl.mpc.schemes.shamir.driver import WAIT_S, ShamirDriver


class ShamirScheme:
    """The Shamir scheme with threshold ``threshold``."""

    name = dealer.SCHEME

    def __init__(self, threshold: int = 1, wait_s: int | float = WAIT_S):
        if not isinstance(threshold, int) or threshold < 1:
            raise ProofError(f"the Shamir threshold must be an integer ≥ 1, not {threshold!r}")
        if not isinstance(wait_s, int | float) or not 0 < wait_s <= 3600:
            raise ProofError(f"the Shamir wait_s must be in (0, 3600] seconds, not {wait_s!r}")
        self.threshold = threshold
        self.wait_s = float(wait_s)

    def check_parties(self, n_parties: int) -> None:
        try:
            dealer.check_params(n_parties, self.threshold)
        except ValueError as exc:
            raise ProofError(str(exc), hint=f"with {n_parties} servers t can be at most "
                             f"{dealer.max_threshold(n_parties)}") from None

    def quorum(self, n_parties: int, step_kind: str) -> int:
        # products (π_C) have degree 2t; π_A and π_B (open_g2) have degree t
        return self.threshold + 1 if step_kind == "open_g2" else 2 * self.threshold + 1

    def deal(self, pk: Any, witness: bytes, n_parties: int, backend: Any, options: Any,
             timings: dict[str, float] | None = None) -> list[dealer.ShamirMaterial]:
        from omnidsl.groth16.prover import dealt_msms

        self.check_parties(n_parties)
        if getattr(options, "fixed", None) is not None:
            raise ProofError("the Shamir scheme takes no fixed shares",
                             hint="bound (market) sessions use the additive scheme")
        points = None
        if options.witness_msm == "split":
            c0 = time.process_time()
            points = dealt_msms(pk, witness, backend)
            if timings is not None:
                timings["dealer_msm_cpu_s"] = time.process_time() - c0
        try:
            bits = pk.r1cs.wire_bits if options.shares == "bounded" else None
            return dealer.deal(backend, witness, pk.n_public + 1, n_parties, self.threshold,
                               dealt=points, wire_bits=bits)
        except ValueError as exc:
            raise ProofError(f"cannot deal the witness: {exc}") from None

    def encode_material(self, m: Any) -> dict[str, Any]:
        return wire.material_fields(m)

    def decode_material(self, msg: Mapping[str, Any], pk: Any, n_parties: int,
                        party_id: int) -> dealer.ShamirMaterial:
        return wire.parse_material(msg, pk, n_parties, self.threshold, party_id)

    def material_frame_limit(self, pk: Any) -> int:
        return wire.material_frame_limit(pk)

    def peer_frame_limit(self, pk: Any, n_parties: int) -> int:
        return wire.peer_frame_limit(pk, n_parties)

    def driver(self, material: Any, pk: Any, network: Any, backend: Any) -> ShamirDriver:
        m: dealer.ShamirMaterial = material
        try:
            shares = dealer.expand(m, backend)
        except ValueError as exc:
            raise ProofError(f"party {m.party_id}: bad session material: {exc}") from None
        return ShamirDriver(m.party_id, m.n_parties, m.threshold, network, shares, backend,
                            wait_s=self.wait_s)
