"""What every proving mode returns (``omnidsl.proving.prove``): the proof, its public signals and,
for collaborative runs, what each party spent."""

from __future__ import annotations

from dataclasses import dataclass, field

from omnidsl.groth16.keys import Proof


@dataclass
class PartyReport:
    """One party's (server's) costs in a collaborative run (payload bytes, before framing)."""

    server: int
    cpu_s: float
    wall_s: float
    bytes_sent: int
    bytes_received: int
    wire_bytes_sent: int  # on the wire (framing and sealing included); = bytes_sent in process
    material_bytes: int  # size of the material message the party received (0 in process)
    stage_cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per proving stage


@dataclass
class ProofResult:
    """A proof and its public signals; ``verified`` is set by ``prove`` once it verified."""

    proof: Proof
    public: list[int]
    parties: int = 1  # 1: the plain prover
    reports: list[PartyReport] = field(default_factory=list)
    deal_s: float = 0.0  # the data owner's dealing (wall seconds)
    wall_s: float = 0.0  # the whole run (wall seconds)
    dealer_msm_cpu_s: float = 0.0  # mode split: the data owner's CPU for the dealt MSMs
    failed: dict[int, str] = field(default_factory=dict)  # servers that failed (tolerated)
    verified: bool = False

    def __repr__(self) -> str:
        who = "plain" if self.parties == 1 else f"{self.parties} parties"
        return (f"ProofResult({'verified' if self.verified else 'unverified'}, {who}, "
                f"{len(self.public)} public signals, {self.wall_s:.2f} s)")


__all__ = ["PartyReport", "ProofResult"]
