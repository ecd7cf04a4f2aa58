"""The data owner's side: deal for the scheme servers.toml names, drive the servers, collect the
proof, and explain a failure (attribution).

:func:`run_session` is called by ``omnidsl.proving.prove(pk, witness, parties=cfg)``, which checks
the witness first and verifies the proof after: nothing is returned (and the CLI writes nothing)
unless every server that answered returned the same proof and it verifies.

Defaults (docs/mpc.md): ``witness_msm="split"`` — the data owner computes π_A's and π_B(G2)'s
witness MSMs on its clear witness and deals them as point shares, the servers compute π_B1 and L
on their shares and check the pairing; ``shares="bounded"`` — statistically hiding masks sized by
the proving key's wire widths, so the servers' MSMs run on ~64-bit scalars.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from omnidsl import progress
from omnidsl.errors import NetworkError, OmniDSLError, ProofError
from omnidsl.groth16.result import PartyReport, ProofResult
from omnidsl.mpc import codec, messages
from omnidsl.mpc.config import ServersConfig, cached_file_digest, file_digest
from omnidsl.mpc.handshake import failure_hint, owner_exchange
from omnidsl.mpc.schemes import (
    SHARE_MODES,
    WITNESS_MSM_MODES,
    DealOptions,
    FixedShares,
    Scheme,
    SessionMaterial,
    get_scheme,
    max_failures,
)

#: how long the data owner waits for a whole proof (servers time out per step much sooner).
SESSION_TIMEOUT_FACTOR = 10
#: after one server fails, how long to wait for the others' error reports.
FAILURE_GRACE_S = 2.0

log = logging.getLogger(__name__)


def _stage_cpu(text: str) -> dict[str, float]:
    """Parse a server's ``name=seconds;...`` stage report (ignoring anything malformed)."""
    out = {}
    for item in text.split(";"):
        name, _, secs = item.partition("=")
        with contextlib.suppress(ValueError):
            out[name] = float(secs)
    return out


def scheme_of(cfg: ServersConfig) -> Scheme:
    """The sharing scheme ``cfg`` names (servers.toml ``[scheme]``)."""
    return get_scheme(cfg.scheme, cfg.scheme_params)


async def _one_server(cfg: ServersConfig, scheme: Scheme, m: SessionMaterial, digest: str,
                      timeout: float) -> tuple[dict[str, codec.Value], int]:
    e = cfg.server(m.party_id)
    payload = messages.encode_session(scheme, m, digest)
    try:
        reply = await owner_exchange(e.host, e.port, m.party_id, e.public_key, m.session_id,
                                     messages.encode_open(digest), payload, cfg.max_frame,
                                     cfg.timeout, timeout)
    except NetworkError as exc:
        raise NetworkError(f"server {m.party_id}: {exc.message}", hint=exc.hint) from None
    return codec.decode(reply), len(payload)


class SessionFailed(NetworkError):
    """Some server failed the session; ``replies`` holds every answer that did arrive (None:
    none from that server), with the digests the owner judges the servers by."""

    def __init__(self, message: str, hint: str | None,
                 replies: list[dict[str, codec.Value] | None]):
        super().__init__(message, hint=hint)
        self.replies = replies


async def _run(cfg: ServersConfig, materials: list[SessionMaterial], digest: str,
               timeout: float) -> list[tuple[dict[str, codec.Value], int] | None]:
    """Run the session on every server.  Returns each server's (reply, material bytes), None for
    a server that failed while the scheme tolerates it (``schemes.max_failures``).  Once more
    servers failed than that, give the others a moment to report their view of it (which
    server died, at which step), then cancel them and raise :class:`SessionFailed`.  Once
    N − max_failures servers answered with a proof, the others get the same moment and are then
    cancelled and counted as failed (a hung server must not hold a proof the quorum made)."""
    scheme = scheme_of(cfg)
    tolerated = max_failures(scheme, len(materials))
    tasks = [asyncio.ensure_future(_one_server(cfg, scheme, m, digest, timeout))
             for m in materials]
    watch = progress.current()

    def answered(i: int) -> Callable[[asyncio.Future[Any]], None]:
        return lambda f: watch.advance(0, f"server {i} " + (
            "failed" if f.cancelled() or _failed(f) else "done"))

    for i, t in enumerate(tasks):
        t.add_done_callback(answered(i))
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)

    def enough() -> bool:
        return len(done) - sum(map(_failed, done)) >= len(tasks) - tolerated

    while pending and sum(map(_failed, done)) <= tolerated and not enough():
        more, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        done |= more
    quorum_done = enough()
    if pending:
        more, pending = await asyncio.wait(pending, timeout=FAILURE_GRACE_S)
        done |= more
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    errors: list[str] = []
    replies: list[dict[str, codec.Value] | None] = []
    for i, t in enumerate(tasks):
        replies.append(None if t in pending or t.exception() is not None else t.result()[0])
        if t in pending:
            errors.append(f"server {i}: no answer within {FAILURE_GRACE_S:g} s after "
                          f"{len(tasks) - tolerated} servers returned the proof" if quorum_done
                          else f"server {i}: no answer (cancelled after another server failed)")
            continue
        exc = t.exception()
        if isinstance(exc, OmniDSLError):
            errors.insert(0, exc.message)  # the owner's own view first: who died, where
        elif exc is not None:
            raise exc
        elif not t.result()[0].get("ok"):
            why = t.result()[0].get("error")  # a server's words: shown as text, never as bytes
            errors.append(f"server {i} reports: {why if isinstance(why, str) else repr(why)}")
    if len(errors) > tolerated:
        raise SessionFailed(f"collaborative proof failed: {'; '.join(errors)}",
                            failure_hint(errors), replies)
    if errors:
        log.warning("collaborative proof: tolerated failures: %s", "; ".join(errors))
    return [None if t in pending or _failed(t) else t.result() for t in tasks]


def _failed(t: asyncio.Future) -> bool:
    return t.exception() is not None or not t.result()[0].get("ok")


@dataclass
class _Failure:
    """What the data owner needs to explain a failed session (docs/mpc.md, Attribution)."""

    pk_path: Path
    digest: str
    pk: Any  # the key the owner dealt with and verifies against
    materials: list[SessionMaterial]
    public: list[int]
    backend: Any
    scheme: Scheme
    replies: list[dict[str, codec.Value] | None] = field(default_factory=list)

    def explain(self, error: OmniDSLError,
                replies: list[dict[str, codec.Value] | None] | None = None) -> NoReturn:
        """Raise one line naming the server(s) whose messages were wrong, or ``error`` when the
        servers' reports (``replies``, default: the session's) single nobody out."""
        from omnidsl.groth16.keys import read_proving_key
        from omnidsl.mpc.attribution import attribute

        replies = self.replies if replies is None else replies
        if not any(r and (r.get("ok") or r.get("transcript")) for r in replies):
            raise error  # nobody exchanged or returned anything: nothing to judge
        try:
            # the key the servers proved with: the file whose digest the session named
            pk = read_proving_key(self.pk_path) if file_digest(self.pk_path) == self.digest \
                else None
        except (OSError, OmniDSLError):
            pk = None
        if pk is None:
            log.warning("attribution skipped: %s changed during the session", self.pk_path)
            raise error
        verdict = attribute(pk, self.materials, replies, self.backend, self.public,
                            vk=self.pk.vk, scheme=self.scheme)
        line = verdict.message()
        if line is None:
            raise error
        hint = ("nothing was written; retry without " + _plural(verdict.named)
                if verdict.named else "nothing was written; check the witness and the keys")
        raise ProofError(f"collaborative proof failed: {line}", hint=hint) from None


def _plural(ids: list[int]) -> str:
    return f"server {ids[0]}" if len(ids) == 1 else \
        "servers " + ", ".join(map(str, ids[:-1])) + f" and {ids[-1]}"


def run_session(cfg: ServersConfig, pk_path: str | Path, witness: bytes, backend: Any,
                pk: Any, fixed: FixedShares | None = None, bind_label: str | None = None,
                witness_msm: str = WITNESS_MSM_MODES[0], shares: str = SHARE_MODES[0]
                ) -> tuple[ProofResult, Callable[[OmniDSLError], NoReturn]]:
    """Share ``witness`` (checked by the caller: shape and constraints) among the servers of
    ``cfg`` with the scheme it names and collect the one proof they open.  Returns the
    *unverified* result and ``explain(error)``, which raises the error naming the server(s) to
    blame (attribution) — ``omnidsl.proving.prove`` verifies and calls it on failure.

    ``fixed``/``bind_label``: use given shares for some wires and name what they are bound to
    (servers started with ``--bind-dir`` check them against their pins; see docs/mpc.md).
    ``witness_msm``: "split" (the data owner deals point shares of π_A's and π_B(G2)'s witness
    MSMs, the servers compute [π_B1] and [L] and check e(π_B1, g2) = e(g1, π_B2)) or "servers"
    (every witness MSM on the shares: docs/mpc.md, "Protocol", step 7); both bind the proof to
    the shared witness (docs/mpc.md).  ``shares``: "bounded" (statistically hiding masks of the
    key's wire widths + σ bits; uniform where the key has no widths) or "uniform" (masks uniform
    on F_r)."""
    from omnidsl.groth16.keys import Proof
    from omnidsl.groth16.points import g1_from_bytes, g2_from_bytes
    from omnidsl.groth16.prover import public_signals

    options = DealOptions(witness_msm=witness_msm, shares=shares, fixed=fixed,
                          bind_label=bind_label)
    scheme = scheme_of(cfg)
    pk_path = Path(pk_path)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    with progress.step("deal"):
        materials = scheme.deal(pk, witness, cfg.n, backend, options, timings)
    deal_s = time.perf_counter() - t0
    digest = cached_file_digest(pk_path)
    public = public_signals(pk, witness)
    failed = _Failure(pk_path, digest, pk, materials, public, backend, scheme)
    try:
        with progress.step("servers prove"):
            results = asyncio.run(_run(cfg, materials, digest,
                                       cfg.timeout * SESSION_TIMEOUT_FACTOR))
    except SessionFailed as exc:
        failed.explain(exc, exc.replies)
    failed.replies = [r and r[0] for r in results]
    proofs = set()
    reports = []
    for i, res in enumerate(results):
        if res is None:
            continue
        r, material_bytes = res
        try:
            a = g1_from_bytes(codec.need(r, "a", bytes))
            b = g2_from_bytes(codec.need(r, "b", bytes))
            c = g1_from_bytes(codec.need(r, "c", bytes))
        except (OmniDSLError, ValueError) as exc:
            failed.explain(ProofError(f"server {i} returned a malformed proof: {exc}"))
        proofs.add((a, b, c))
        reports.append(PartyReport(
            i, float(str(r.get("cpu_s", "0"))), float(str(r.get("wall_s", "0"))),
            int(r.get("bytes_sent") or 0), int(r.get("bytes_received") or 0),
            int(r.get("wire_bytes_sent") or 0), material_bytes,
            _stage_cpu(str(r.get("stage_cpu") or ""))))
    if len(proofs) != 1:
        failed.explain(ProofError("the servers returned different proofs; nothing was written",
                                  hint="a server is faulty or malicious"))
    result = ProofResult(Proof(*proofs.pop()), public, cfg.n, reports, deal_s,
                         time.perf_counter() - t0, timings.get("dealer_msm_cpu_s", 0.0),
                         {i: "failed" for i, res in enumerate(results) if res is None})
    return result, failed.explain
