"""A batch proof in which every data owner deals only its own slot (Shamir; docs/market.md,
"One proof per batch").

No party ever holds the batch witness: DO j Shamir-shares the private wires of its own slot
(its rule witness, :func:`deal_slot`: an ordinary Shamir dealing of wire 0 and those wires), and
each server composes its share of the batch witness (:func:`compose`):

* the public wires (fingerprints, owners, ρ, pins) hold their public values (the constant
  polynomial, as in every Shamir session);
* slot j's private wires are DO j's shares — a position is dealt by exactly one DO, so the
  composed vector is a degree-t sharing of the batch witness;
* a padding slot's private wires are the clear values of a *public* padding witness (a constant
  polynomial is a degree-t sharing too), so padding needs no dealer and hides nothing;
* the blinding r, s, the check mask m and the degree-2t zero sharing ζ are the sums of every
  DO's: uniform while one DO is honest, ζ still a sharing of 0;
* the commitment root is SHA-256 over the batch's public values and every DO's root, so the
  consistency check's challenge is fixed only after every DO fixed its shares: a DO whose shares
  are not on one degree-t polynomial makes every server abort before anything is opened.

Then the ordinary :class:`~omnidsl.mpc.schemes.shamir.driver.ShamirDriver` proves (products are
local degree-2t shares: no dealer of cross-slot products).  Uniform shares, the servers compute
every MSM themselves (mode ``servers``).  Here the N servers run as threads of this process
(:func:`prove_local`: the benchmark's and the demo's prover); the same session between
``omnidsl serve`` processes over TCP is ``omnidsl.mpc.batch_session``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from omnidsl.errors import InputError, ProofError
from omnidsl.mpc import batch_binding
from omnidsl.mpc.batch_session import compose_shares as compose
from omnidsl.mpc.batch_session import deal_slot
from omnidsl.mpc.schemes.shamir.dealer import ShamirMaterial, expand

#: (the slot dealing and the servers' composition are the batch session's: mpc/batch_session.py)
__all__ = ["compose", "deal_slot", "prove_local"]


def prove_local(batch: Any, inputs: Sequence[dict[str, Any] | None], padding_input: dict[str, Any],
                n_parties: int = 3, threshold: int = 1, wait_s: float = 600.0,
                tamper: Any = None,
                committed: Sequence[Sequence[Sequence[int]]] | None = None) -> Any:
    """Every DO of ``inputs`` deals its slot, N server threads compose and prove; the proof is
    verified.  ``padding_input``: the public input of padding slots (owner 0).  ``committed``:
    per real slot, every server's committed additive share of that DO's aggregation vector
    (gradient, mask) — the servers then check that each slot deals exactly that vector
    (``batch_binding.check``) before proving.  ``tamper(j, materials) -> materials``: tests play
    a malicious DO.  Returns ``batch_rule.BatchProof``."""
    import time

    from omnidsl.field import limbs_to_ints
    from omnidsl.groth16.prover import prove
    from omnidsl.groth16.verifier import verify
    from omnidsl.market.batch_rule import BatchProof, proof_words
    from omnidsl.mpc.network import LocalHub
    from omnidsl.mpc.schemes.shamir.driver import ShamirDriver

    rule, system = batch.rule, batch.system
    lay = system.layout
    slots = [*inputs, *([None] * (lay.k - len(inputs)))]
    pad = rule.circuit.witness(dict(padding_input))
    wits = [pad if inp is None else rule.circuit.witness(dict(inp)) for inp in slots]
    clear = system.witness(wits)  # the public values (and each slot's own check)
    public = [int(v) for v in limbs_to_ints(clear[1:1 + lay.n_public])]
    backend = rule.backend
    t0 = time.perf_counter()
    dealings: list[list[ShamirMaterial] | None] = []
    for j, (inp, w) in enumerate(zip(slots, wits, strict=True)):
        if inp is None:
            dealings.append(None)
            continue
        mats = deal_slot(w, lay.rule_public, n_parties, threshold, backend)
        dealings.append(tamper(j, mats) if tamper is not None else mats)
    if committed is not None and (len(committed) != len(inputs) or any(
            len(c) != n_parties for c in committed)):
        raise InputError("committed shares: one vector per server for every real slot")
    real = [j for j, inp in enumerate(slots) if inp is not None]
    bound = [system.maps[j][rule.gradient_wires()] for j in real]
    hub = LocalHub(n_parties, timeout=wait_s)
    proofs: dict[int, Any] = {}
    errors: dict[int, BaseException] = {}

    def party(i: int) -> None:
        try:
            mine = [None if d is None else expand(d[i], backend) for d in dealings]
            shares = compose(system, public, mine, pad)
            if committed is not None:
                w = shares.witness
                dealt = [[int.from_bytes(w[32 * int(x):32 * int(x) + 32], "little") for x in b]
                         for b in bound]
                batch_binding.check(hub.network(i), threshold,
                                    [committed[j][i] for j in real], dealt, shares.root)
            drv = ShamirDriver(i, n_parties, threshold, hub.network(i), shares, backend, wait_s)
            drv.check_consistency()
            proofs[i] = prove(batch.pk, drv, backend)
        except BaseException as exc:  # reported below
            errors[i] = exc

    threads = [threading.Thread(target=party, args=(i,), daemon=True) for i in range(n_parties)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors or len(set(proofs.values())) != 1:
        first = min(errors) if errors else 0
        raise ProofError(f"the batch session failed; party {first}: {errors.get(first)}")
    proof = next(iter(proofs.values()))
    if not verify(batch.pk.vk, public, proof, backend):
        raise ProofError("the batch proof does not verify")
    return BatchProof(proof_words(proof), public[lay.k:2 * lay.k], public[:lay.k], public,
                      time.perf_counter() - t0)
