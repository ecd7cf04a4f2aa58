"""The additive scheme's session material: what one server receives for one proving session
(:class:`PartyMaterial`), and its expansion into shares (:func:`expand_material`).

How the data owner produces it (seeds, explicit shares, bounded masks, fixed wires, dealt MSM
points): ``dealer.py``.  Its wire encoding and size checks: ``wire.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from omnidsl.field import FR_BYTES, R
from omnidsl.mpc import prg
from omnidsl.mpc.schemes.additive import shares
from omnidsl.mpc.schemes.session import (
    SESSION_ID_BYTES,
    WITNESS_MSM_BYTES,
    decode_dealt_msms,
    encode_dealt_msms,
    new_session_id,
)

SCHEME_NAME = "additive"

L_WITNESS = b"witness"
L_X = b"triple/x"
L_Y = b"triple/y"
L_Z = b"triple/z"
L_R = b"blind/r"
L_S = b"blind/s"
L_RS = b"blind/rs"
#: largest accepted mask slack σ (bits above a wire's width)
MAX_MASK_SLACK = 128


@dataclass(frozen=True)
class PartyMaterial:
    """Everything one server receives from the data owner for one proving session."""

    scheme: ClassVar[str] = SCHEME_NAME

    session_id: bytes
    party_id: int
    n_parties: int
    seed: bytes
    n_wires: int
    public: bytes  # values of public wires 0..n_public−1 (wire 0 = 1), n_public*32 bytes
    n_triples: int
    witness: bytes | None = None  # explicit witness share (last party only)
    triple_z: bytes | None = None  # explicit share of x∘y (last party only)
    rs: int | None = None  # explicit share of r·s (last party only)
    fixed_wires: bytes | None = None  # u32 LE indices of the fixed wires (strictly increasing)
    fixed_share: bytes | None = None  # this party's share of those wires (32 bytes each)
    bind_label: str | None = None  # what the share is bound to (the market: task and owner)
    witness_msm: bytes | None = None  # dealt shares of the A and B2 witness MSMs (mode split)
    mask_slack: int = 0  # σ of the bounded witness masks (0: uniform masks on F_r)

    @property
    def is_last(self) -> bool:
        return self.party_id == self.n_parties - 1

    @property
    def n_public(self) -> int:
        return len(self.public) // FR_BYTES

    def validate(self) -> None:
        """Raise ValueError if the fields are inconsistent (sizes, ranges, who gets what)."""
        if not 0 <= self.party_id < self.n_parties:
            raise ValueError(f"party id {self.party_id} not in 0..{self.n_parties - 1}")
        if len(self.seed) != prg.SEED_BYTES or len(self.session_id) != SESSION_ID_BYTES:
            raise ValueError("bad seed or session id length")
        if len(self.public) % FR_BYTES or not 1 <= self.n_public <= self.n_wires:
            raise ValueError("bad public values")
        prg.check_elements(self.public)
        explicit = (self.witness, self.triple_z, self.rs)
        if self.is_last:
            if any(e is None for e in explicit):
                raise ValueError("the last party needs explicit witness, triple and rs shares")
            assert self.witness is not None and self.triple_z is not None and self.rs is not None
            if len(self.witness) != self.n_wires * FR_BYTES:
                raise ValueError("explicit witness share has the wrong length")
            if len(self.triple_z) != self.n_triples * FR_BYTES:
                raise ValueError("explicit triple share has the wrong length")
            prg.check_elements(self.witness)
            prg.check_elements(self.triple_z)
            if self.party_id > 0 and any(self.witness[: len(self.public)]):
                raise ValueError("the last party's explicit share must be 0 on the public wires "
                                 "(only the leader carries public values)")
            if not 0 <= self.rs < R:
                raise ValueError("rs share is not < r")
        elif any(e is not None for e in explicit):
            raise ValueError("only the last party receives explicit shares")
        if (self.fixed_wires is None) != (self.fixed_share is None):
            raise ValueError("fixed wires and their share come together")
        if self.fixed_wires is not None and self.fixed_share is not None:
            w = self.fixed_indices()
            if w.size == 0 or np.any(np.diff(w) <= 0) or int(w[0]) < self.n_public \
                    or int(w[-1]) >= self.n_wires:
                raise ValueError("fixed wires must be increasing private wire indices")
            if len(self.fixed_share) != w.size * FR_BYTES:
                raise ValueError("fixed share has the wrong length")
            prg.check_elements(self.fixed_share)
        if self.bind_label is not None and not (0 < len(self.bind_label) <= 128
                                                and all(c.isalnum() or c in "-_."
                                                        for c in self.bind_label)):
            raise ValueError("bind label must be 1..128 characters of [A-Za-z0-9._-]")
        if self.mask_slack and not shares.mask_slack(self.n_wires) <= self.mask_slack \
                <= MAX_MASK_SLACK:
            raise ValueError(f"mask slack {self.mask_slack} is neither 0 (uniform masks) nor in "
                             f"{shares.mask_slack(self.n_wires)}..{MAX_MASK_SLACK} (a smaller "
                             f"slack would not hide the witness)")
        if self.witness_msm is not None and len(self.witness_msm) != WITNESS_MSM_BYTES:
            raise ValueError(f"witness MSM shares need {WITNESS_MSM_BYTES} bytes")

    def fixed_indices(self) -> np.ndarray:
        """The fixed wire indices (empty if none)."""
        if self.fixed_wires is None or len(self.fixed_wires) % 4:
            if self.fixed_wires is not None:
                raise ValueError("fixed wire list is not a u32 array")
            return np.zeros(0, dtype=np.int64)
        return np.frombuffer(self.fixed_wires, dtype="<u4").astype(np.int64)



def overwrite(buf: bytes, wires: np.ndarray, values: bytes) -> bytes:
    arr = bytearray(buf)
    view = np.frombuffer(arr, dtype=np.uint8).reshape(-1, FR_BYTES)
    view[wires] = np.frombuffer(values, dtype=np.uint8).reshape(-1, FR_BYTES)
    return bytes(arr)


@dataclass(frozen=True)
class ExpandedMaterial:
    """A party's material with every seed expanded (what the driver computes with)."""

    witness: bytes
    x: bytes
    y: bytes
    z: bytes
    r: int
    s: int
    rs: int
    witness_msm: bytes | None = None  # mode split: encoded DealtMsmShares (unchecked)


def seeded_witness_share(seed: bytes, widths: np.ndarray, public: bytes,
                         is_leader: bool) -> bytes:
    """A seed-derived witness share (masks of the given widths) with the public-wire convention
    applied."""
    share = bytearray(prg.expand_masked(seed, L_WITNESS, widths))
    share[: len(public)] = public if is_leader else bytes(len(public))
    return bytes(share)



def expand_material(m: PartyMaterial, wire_bits: np.ndarray | None = None) -> ExpandedMaterial:
    """Expand a party's seed into its shares (the server side of :func:`deal`); ``wire_bits``:
    the proving key's wire widths (needed when the session uses bounded masks)."""
    m.validate()
    if m.mask_slack and wire_bits is None:
        raise ValueError("this session uses bounded masks but the proving key has no wire widths")
    if m.is_last:
        assert m.witness is not None and m.triple_z is not None and m.rs is not None
        witness, z, rs = m.witness, m.triple_z, m.rs
    else:
        widths = shares.mask_widths(wire_bits, m.n_wires, m.mask_slack)
        witness = seeded_witness_share(m.seed, widths, m.public, m.party_id == 0)
        z = prg.expand(m.seed, L_Z, m.n_triples)
        rs = prg.expand_scalar(m.seed, L_RS)
    if m.fixed_share is not None:
        witness = overwrite(witness, m.fixed_indices(), m.fixed_share)
    return ExpandedMaterial(
        witness=witness,
        x=prg.expand(m.seed, L_X, m.n_triples),
        y=prg.expand(m.seed, L_Y, m.n_triples),
        z=z,
        r=prg.expand_scalar(m.seed, L_R),
        s=prg.expand_scalar(m.seed, L_S),
        rs=rs,
        witness_msm=m.witness_msm,
    )


#: re-exported: the additive modules and their tests name them from here
__all__ = ["L_R", "L_RS", "L_S", "L_WITNESS", "L_X", "L_Y", "L_Z", "MAX_MASK_SLACK", "SCHEME_NAME",
           "SESSION_ID_BYTES", "WITNESS_MSM_BYTES", "ExpandedMaterial", "PartyMaterial",
           "decode_dealt_msms", "encode_dealt_msms", "expand_material", "new_session_id",
           "overwrite", "seeded_witness_share"]
