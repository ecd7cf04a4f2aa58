"""``AdditiveScheme``: N-out-of-N additive sharing over F_r behind the :class:`Scheme` seam.

Privacy against any N − 1 colluding servers; every server must take part in every step (no
server may fail).  Dealing: ``dealer.py``; material: ``material.py``; wire format and size
checks: ``wire.py``; driver: ``driver.py``; masks: ``shares.py``; Beaver steps: ``beaver.py``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

from omnidsl.errors import ProofError
from omnidsl.mpc.schemes import DealOptions
from omnidsl.mpc.schemes.additive import dealer, shares, wire
from omnidsl.mpc.schemes.additive.driver import AdditiveDriver
from omnidsl.mpc.schemes.additive.material import (
    SCHEME_NAME,
    PartyMaterial,
    expand_material,
    new_session_id,
)


class AdditiveScheme:
    """The additive scheme (no parameters)."""

    name = SCHEME_NAME

    def check_parties(self, n_parties: int) -> None:
        if n_parties < 1:
            raise ProofError(f"the additive scheme needs at least one party, not {n_parties}")

    def quorum(self, n_parties: int, step_kind: str) -> int:
        return n_parties

    def deal(self, pk: Any, witness: bytes, n_parties: int, backend: Any,
             options: DealOptions, timings: dict[str, float] | None = None
             ) -> list[PartyMaterial]:
        from omnidsl.groth16.prover import dealt_msms

        try:
            materials = dealer.deal(
                backend, witness, pk.n_public + 1, pk.domain_size, n_parties, new_session_id(),
                fixed=options.fixed, bind_label=options.bind_label,
                wire_bits=pk.r1cs.wire_bits if options.shares == "bounded" else None)
        except ValueError as exc:
            raise ProofError(f"cannot deal the witness: {exc}") from None
        if options.witness_msm == "split":
            c0 = time.process_time()
            points = dealer.share_dealt_msms(backend, dealt_msms(pk, witness, backend), n_parties)
            if timings is not None:
                timings["dealer_msm_cpu_s"] = time.process_time() - c0
            materials = [dataclasses.replace(m, witness_msm=p)
                         for m, p in zip(materials, points, strict=True)]
        return materials

    def encode_material(self, m: Any) -> dict[str, Any]:
        return wire.material_fields(m)

    def decode_material(self, msg: Mapping[str, Any], pk: Any, n_parties: int,
                        party_id: int) -> PartyMaterial:
        return wire.parse_material(
            msg, check=lambda m: wire.check_material(m, pk, n_parties, party_id))

    def material_frame_limit(self, pk: Any) -> int:
        return wire.material_frame_limit(pk)

    def peer_frame_limit(self, pk: Any, n_parties: int) -> int:
        return wire.peer_frame_limit(pk, n_parties)

    def driver(self, material: Any, pk: Any, network: Any, backend: Any) -> AdditiveDriver:
        m: PartyMaterial = material
        wire_bits = pk.r1cs.wire_bits
        try:
            expanded = expand_material(m, wire_bits)
        except ValueError as exc:
            raise ProofError(f"party {m.party_id}: bad session material: {exc}") from None
        shares.check_masked(expanded.witness, m.n_public,
                            shares.mask_widths(wire_bits, m.n_wires, m.mask_slack)
                            if m.mask_slack else None)
        return AdditiveDriver(m.party_id, m.n_parties, network, expanded, backend)
