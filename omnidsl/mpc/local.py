"""N parties of the collaborative prover in this process (threads over a :class:`LocalHub`).

The oracle of the N-server run: the same dealing, the same scheme driver and the same prover,
without sockets.  Every party must open the same proof; the caller (``omnidsl.proving.prove``)
verifies it.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from omnidsl import progress
from omnidsl.errors import OmniDSLError, ProofError
from omnidsl.groth16.result import PartyReport, ProofResult
from omnidsl.mpc.network import LocalHub
from omnidsl.mpc.schemes import DealOptions, Scheme

#: seconds a party waits for a message before the run fails (no network delay in process)
LOCAL_TIMEOUT_S = 600.0


def prove_local(pk: Any, witness: bytes, n_parties: int, backend: Any, scheme: Scheme,
                options: DealOptions | None = None,
                timeout: float = LOCAL_TIMEOUT_S) -> ProofResult:
    """Deal ``witness`` (checked by the caller) for ``n_parties`` with ``scheme`` and run every
    party in a thread.  ProofError when the parties fail or disagree (the first party's own
    error is reported, not the "party j failed" its failure caused in the others)."""
    from omnidsl.groth16.prover import no_stage, prove, public_signals

    if n_parties < 2:
        raise ProofError(f"an in-process collaborative run needs at least 2 parties, not "
                         f"{n_parties}")
    scheme.check_parties(n_parties)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    with progress.step("deal"):
        materials = scheme.deal(pk, witness, n_parties, backend, options or DealOptions(),
                                timings)
    deal_s = time.perf_counter() - t0
    hub = LocalHub(n_parties, timeout)
    nets = [hub.network(i) for i in range(n_parties)]
    proofs: list[Any] = [None] * n_parties
    errors: list[BaseException | None] = [None] * n_parties
    cpu = [0.0] * n_parties
    first: list[int] = []  # the party that failed first (the others fail because it stopped)
    lock = threading.Lock()
    stage = progress.current().stage  # party 0's prover stages are the run's progress

    def party(i: int) -> None:
        c0 = time.thread_time()
        try:
            proofs[i] = prove(pk, scheme.driver(materials[i], pk, nets[i], backend), backend,
                              stage=stage if i == 0 else no_stage)
        except BaseException as exc:  # reported below; the other parties must not hang
            errors[i] = exc
            with lock:
                if not first:
                    first.append(i)
                    hub.abort(f"party {i} failed")
        finally:
            cpu[i] = time.thread_time() - c0

    threads = [threading.Thread(target=party, args=(i,), daemon=True) for i in range(n_parties)]
    with progress.step("parties prove"):
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if first:
        exc = errors[first[0]]
        if isinstance(exc, OmniDSLError):
            raise exc
        raise ProofError(f"party {first[0]} failed: {type(exc).__name__}: {exc}") from exc
    if len({(p.a, p.b, p.c) for p in proofs}) != 1:
        raise ProofError("the parties opened different proofs (a driver fault)")
    reports = [PartyReport(i, cpu[i], 0.0, n.stats.bytes_sent, n.stats.bytes_received,
                           n.stats.bytes_sent, 0) for i, n in enumerate(nets)]
    return ProofResult(proofs[0], public_signals(pk, witness), parties=n_parties,
                       reports=reports, deal_s=deal_s, wall_s=time.perf_counter() - t0,
                       dealer_msm_cpu_s=timings.get("dealer_msm_cpu_s", 0.0))
