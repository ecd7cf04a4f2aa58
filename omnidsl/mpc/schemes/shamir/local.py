"""The Shamir scheme with N parties as threads of this process (``LocalHub``): tests, benchmarks
and the reference for what the TCP servers do."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from omnidsl.backend.base import Backend
from omnidsl.errors import ProofError
from omnidsl.groth16.keys import Proof, ProvingKey
from omnidsl.groth16.prover import dealt_msms, prove
from omnidsl.mpc.network import LocalHub, Network
from omnidsl.mpc.schemes.shamir.dealer import ShamirMaterial, deal, expand
from omnidsl.mpc.schemes.shamir.driver import ShamirDriver

#: ``wrap(party_id, network) -> network``: e.g. a test's crashing network
NetWrap = Callable[[int, Network], Network]


@dataclass
class LocalRun:
    """Per party: the opened proof or the error, and its driver (quorums, opened values)."""

    proofs: dict[int, Proof] = field(default_factory=dict)
    errors: dict[int, BaseException] = field(default_factory=dict)
    drivers: dict[int, ShamirDriver] = field(default_factory=dict)
    hub: LocalHub | None = None

    def proof(self) -> Proof:
        """The proof every finishing party opened; ProofError if none finished or they differ."""
        if not self.proofs:
            first = min(self.errors)
            raise ProofError(f"no party finished the proof; party {first}: {self.errors[first]}")
        if len(set(self.proofs.values())) != 1:
            raise ProofError("the parties opened different proofs")
        return next(iter(self.proofs.values()))


def deal_for(pk: ProvingKey, witness: bytes, n_parties: int, threshold: int, backend: Backend,
             witness_msm: str = "split", shares: str = "bounded") -> list[ShamirMaterial]:
    """The data owner's dealing for ``pk`` (mode split: with P_A and P_B2 point shares;
    ``shares="bounded"``: bounded integer shares when the key has wire widths)."""
    dealt = dealt_msms(pk, witness, backend) if witness_msm == "split" else None
    bits = pk.r1cs.wire_bits if shares == "bounded" else None
    return deal(backend, witness, pk.n_public + 1, n_parties, threshold, dealt=dealt,
                wire_bits=bits)


def run_parties(pk: ProvingKey, materials: list[ShamirMaterial], backend: Backend,
                wait_s: float = 10.0, wrap: NetWrap | None = None,
                hub: LocalHub | None = None) -> LocalRun:
    """Run every party of ``materials`` in its own thread; never raises for a party's failure
    (see :class:`LocalRun`)."""
    n = len(materials)
    hub = hub or LocalHub(n, timeout=wait_s)
    run = LocalRun(hub=hub)

    def party(i: int) -> None:
        net: Network = hub.network(i)
        if wrap is not None:
            net = wrap(i, net)
        m = materials[i]
        try:
            d = ShamirDriver(i, n, m.threshold, net, expand(m, backend), backend, wait_s=wait_s)
            run.drivers[i] = d
            d.check_consistency()
            run.proofs[i] = prove(pk, d, backend)
        except BaseException as exc:  # reported per party
            run.errors[i] = exc

    threads = [threading.Thread(target=party, args=(i,), daemon=True) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return run
