"""Attribution: name the server(s) whose messages deviated from the protocol (docs/mpc.md).

* Every server wraps its network in :class:`DigestNetwork`, which keeps one running SHA-256 per
  (direction, peer, step) over the payloads it sent and received, and returns the digests
  (``transcript``, :func:`encode_transcript`) with its result or its error.
* On a failed session the data owner, who dealt every seed and share, re-runs the very same prover
  in process for all N parties on that material (:func:`attribute`, over a :class:`LocalHub`): an
  honest party's messages are a deterministic function of its material and of what it received
  at earlier steps, so the re-run gives the expected digest of every (sender, receiver, step).
* Steps are judged in protocol order (:func:`judge_step`); the first step with a discrepancy
  decides.  A sender whose own report differs from the expected digest is named
  (``culprits``); a receiver reporting something other than the expected digest while the sender
  reports the expected one (or nothing) is a *dispute*: the channels are authenticated with a key
  the two share, so one of them lies, and both are named.  Later steps are not judged: honest
  parties' messages after a deviation differ from the re-run too.
* No discrepancy: a server whose returned proof is not the re-run's is named; if the re-run's
  proof itself does not verify (or the re-run fails), the cause is the data owner's witness,
  keys or dealing, and no server is blamed.

The re-run stops as soon as a step is decided, or when every step any server reported has been
judged and no returned proof needs checking.
"""

from __future__ import annotations

import hashlib
import logging
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from omnidsl.errors import NetworkError, OmniDSLError
from omnidsl.mpc import codec
from omnidsl.mpc.network import LocalHub, Network

log = logging.getLogger(__name__)

SENT = 0
RECEIVED = 1
#: (direction, peer, step) → SHA-256 over u64 len ‖ payload of every such payload, in order
Transcript = dict[tuple[int, int, str], bytes]
#: a transcript with more records than this is treated as no report (a server has ~2·N·8)
MAX_RECORDS = 4096
#: steps that are not the prover's (checked by the servers themselves, never re-run)
UNJUDGED_STEPS = frozenset({"start", "handshake"})


class DigestNetwork:
    """A :class:`Network` that records digests of every payload it sends and receives.

    Costs one SHA-256 pass over the traffic; everything else is delegated to ``inner`` (so
    ``peers``, ``stats`` of a TcpNetwork stay reachable).  ``on_step`` is called whenever the
    protocol code sets ``step`` (used by the in-process re-run)."""

    def __init__(self, inner: Network, on_step: Callable[[str], None] | None = None):
        self.inner = inner
        self.party_id = inner.party_id
        self.n_parties = inner.n_parties
        self._on_step = on_step
        self._hashes: dict[tuple[int, int, str], Any] = {}

    @property
    def step(self) -> str:
        return self.inner.step

    @step.setter
    def step(self, value: str) -> None:
        self.inner.step = value
        if self._on_step is not None:
            self._on_step(value)

    def _add(self, direction: int, peer: int, data: bytes) -> None:
        key = (direction, peer, self.inner.step)
        h = self._hashes.get(key)
        if h is None:
            h = self._hashes[key] = hashlib.sha256()
        h.update(struct.pack(">Q", len(data)))
        h.update(data)

    def send(self, to: int, data: bytes) -> None:
        self._add(SENT, to, data)
        self.inner.send(to, data)

    def recv(self, frm: int) -> bytes:
        data = self.inner.recv(frm)
        self._add(RECEIVED, frm, data)
        return data

    def recv_within(self, frm: int, timeout: float) -> bytes:
        data = self.inner.recv_within(frm, timeout)  # type: ignore[attr-defined]
        self._add(RECEIVED, frm, data)
        return data

    def flush(self) -> None:
        self.inner.flush()

    def digest(self, direction: int, peer: int, step: str) -> bytes | None:
        h = self._hashes.get((direction, peer, step))
        return None if h is None else h.digest()

    def transcript(self) -> Transcript:
        return {k: h.digest() for k, h in list(self._hashes.items())}

    def encode(self) -> bytes:
        return encode_transcript(self.transcript())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def encode_transcript(t: Transcript) -> bytes:
    """Records u8 direction ‖ u16 peer ‖ u8 len(step) ‖ step (UTF-8) ‖ 32-byte digest."""
    out = bytearray()
    for (direction, peer, step), digest in t.items():
        s = step.encode()[:255]
        out += struct.pack(">BHB", direction, peer, len(s)) + s + digest
    return bytes(out)


def decode_transcript(buf: object, n_parties: int) -> Transcript | None:
    """A server's reported transcript, or None when it is absent or malformed (= no report)."""
    if not isinstance(buf, bytes):
        return None
    out: Transcript = {}
    pos = 0
    try:
        while pos < len(buf):
            direction, peer, slen = struct.unpack_from(">BHB", buf, pos)
            pos += 4
            step = buf[pos:pos + slen].decode()
            digest = buf[pos + slen:pos + slen + 32]
            pos += slen + 32
            if direction not in (SENT, RECEIVED) or not 0 <= peer < n_parties \
                    or len(digest) != 32 or len(out) >= MAX_RECORDS:
                return None
            out[(direction, peer, step)] = digest
    except (struct.error, UnicodeDecodeError):
        return None
    return out


def _servers(ids: Sequence[int]) -> str:
    """'server 2', 'servers 0 and 1', 'servers 0, 1 and 3'."""
    if len(ids) == 1:
        return f"server {ids[0]}"
    return "servers " + ", ".join(map(str, ids[:-1])) + f" and {ids[-1]}"


@dataclass
class Blame:
    """The first step at which some server's messages deviated."""

    step: str
    culprits: list[int] = field(default_factory=list)  # reported sending a wrong message
    disputes: list[tuple[int, int, bool]] = field(default_factory=list)  # (sender, receiver,
    #                                      whether the sender reported the expected message)

    @property
    def named(self) -> list[int]:
        return sorted({*self.culprits, *(s for s, _, _ in self.disputes),
                       *(r for _, r, _ in self.disputes)})

    def message(self) -> str:
        """One line, e.g. "server 2 sent wrong shares at step 'mul_vec#0' (…)"."""
        parts = []
        if self.culprits:
            verb = "sent" if len(self.culprits) == 1 else "each sent"
            parts.append(f"{_servers(self.culprits)} {verb} wrong shares at step {self.step!r} "
                         "(expected from the dealt material)")
        groups: dict[tuple[int, bool], list[int]] = {}
        for sender, receiver, confirmed in self.disputes:
            groups.setdefault((sender, confirmed), []).append(receiver)
        for (sender, confirmed), receivers in groups.items():
            claim = ("reports sending the expected ones" if confirmed
                     else "reports no such message")
            them = _servers(receivers)
            rest = (f"{them} is faulty" if len(receivers) == 1 else f"{them} all are")
            parts.append(f"{them} report{'s' if len(receivers) == 1 else ''} receiving wrong "
                         f"shares from server {sender} at step {self.step!r} while server "
                         f"{sender} {claim}: server {sender} is faulty, or {rest}")
        return "; ".join(parts)


def judge_step(step: str, n: int, expected: Callable[[int, int], bytes | None],
               reports: Sequence[Transcript | None]) -> Blame | None:
    """Compare the servers' reports of ``step`` with the expected digests (sender, receiver)."""
    culprits: list[int] = []
    disputes: list[tuple[int, int, bool]] = []
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            e = expected(i, j)
            ri, rj = reports[i], reports[j]
            sent = ri.get((SENT, j, step)) if ri is not None else None
            got = rj.get((RECEIVED, i, step)) if rj is not None else None
            if sent is not None and sent != e:
                if i not in culprits:
                    culprits.append(i)
            elif got is not None and got != e:
                disputes.append((i, j, sent is not None))
    disputes = [d for d in disputes if d[0] not in culprits and d[1] not in culprits]
    if not culprits and not disputes:
        return None
    return Blame(step, culprits, disputes)


@dataclass
class Verdict:
    """What the data owner concludes about a failed session."""

    blame: Blame | None = None
    wrong_proof: list[int] = field(default_factory=list)  # returned a proof other than opened
    honest_run_error: str | None = None  # the in-process re-run itself failed
    honest_proof_verifies: bool | None = None  # None: not computed (re-run stopped early)
    steps_judged: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def named(self) -> list[int]:
        return sorted({*(self.blame.named if self.blame else []), *self.wrong_proof})

    def message(self) -> str | None:
        """One line naming whom to blame, or None when the reports settle nothing."""
        if self.blame is not None:
            return self.blame.message()
        if self.wrong_proof:
            verb = "returns" if len(self.wrong_proof) == 1 else "each return"
            return (f"{_servers(self.wrong_proof)} {verb} a proof other than the one the "
                    "protocol opened (every message matched the dealt material)")
        if self.honest_run_error is not None:
            return ("no server deviated from the protocol: a run of the dealt material in "
                    f"this process fails too ({self.honest_run_error})")
        if self.honest_proof_verifies is False:
            return ("no server deviated from the protocol: the proof the dealt material "
                    "yields does not verify (the witness or the keys are wrong, not the servers)")
        return None


class _Rerun:
    """N in-process parties on the dealt material, judged step by step as they go."""

    def __init__(self, n: int, reports: Sequence[Transcript | None], need_proof: bool,
                 timeout: float):
        self.n = n
        self.reports = reports
        self.need_proof = need_proof
        self.hub = LocalHub(n, timeout)
        self.lock = threading.Lock()
        self.nets: list[DigestNetwork] = []
        self.seq: list[str] = []  # the protocol's steps, in order
        self.entered = [0] * n
        self.done = [False] * n
        self.judged = 0
        self.blame: Blame | None = None
        self.wanted = {s for r in reports if r is not None for (_, _, s) in r} - UNJUDGED_STEPS

    def network(self, i: int) -> DigestNetwork:
        net = DigestNetwork(self.hub.network(i), on_step=lambda s: self.enter(i, s))
        self.nets.append(net)
        return net

    def enter(self, party: int, step: str) -> None:
        with self.lock:
            k = self.entered[party]
            if k == len(self.seq):
                self.seq.append(step)
            self.entered[party] = k + 1
            self._advance()
        if self.hub.aborted is not None:
            raise NetworkError(self.hub.aborted)

    def finish(self, party: int) -> None:
        with self.lock:
            self.done[party] = True
            self._advance()

    def _advance(self) -> None:
        """Judge every step all parties are past (lock held); stop the run once decided."""
        while self.hub.aborted is None and self.judged < len(self.seq) and all(
                self.done[i] or self.entered[i] >= self.judged + 2 for i in range(self.n)):
            step = self.seq[self.judged]
            self.judged += 1
            def expected(i: int, j: int, s: str = step) -> bytes | None:
                return self.nets[i].digest(SENT, j, s)

            self.blame = judge_step(step, self.n, expected, self.reports)
            if self.blame is not None:
                self.hub.abort("stopped: a deviation was found")
            elif not self.need_proof and self.wanted <= set(self.seq[:self.judged]):
                self.hub.abort("stopped: every reported step was judged")


def attribute(pk: Any, materials: Sequence[Any], replies: Sequence[dict | None], backend: Any,
              public: list[int], vk: Any = None, timeout: float = 600.0,
              scheme: Any = None) -> Verdict:
    """Judge a failed session: ``materials`` as dealt (one per server), ``replies`` the servers'
    decoded answers (None: no answer), ``pk`` the proving key the servers used, ``public`` and
    ``vk`` what the proof is verified against (``vk`` defaults to ``pk.vk``), ``scheme`` the
    sharing scheme the materials belong to (default: additive)."""
    from omnidsl.groth16.points import g1_from_bytes, g2_from_bytes
    from omnidsl.groth16.prover import prove
    from omnidsl.groth16.verifier import verify
    from omnidsl.mpc.schemes import get_scheme

    scheme = scheme or get_scheme()

    t0 = time.perf_counter()
    n = len(materials)
    reports = [decode_transcript(r.get("transcript"), n) if r else None for r in replies]
    returned: dict[int, Any] = {}
    for i, r in enumerate(replies):
        if r and r.get("ok"):
            try:
                returned[i] = (g1_from_bytes(codec.need(r, "a", bytes)),
                               g2_from_bytes(codec.need(r, "b", bytes)),
                               g1_from_bytes(codec.need(r, "c", bytes)))
            except (KeyError, TypeError, ValueError, OmniDSLError):
                returned[i] = None
    run = _Rerun(n, reports, bool(returned), timeout)
    verdict = Verdict()
    if not run.wanted and not returned:
        return verdict  # nothing was exchanged and nothing returned: nothing to judge
    proofs: list[Any] = [None] * n
    errors: list[BaseException | None] = [None] * n

    def party(i: int) -> None:
        try:
            driver = scheme.driver(materials[i], pk, run.nets[i], backend)
            proofs[i] = prove(pk, driver, backend)
        except BaseException as exc:  # reported below; the other parties must not hang
            errors[i] = exc
            if run.hub.aborted is None:
                run.hub.abort(f"party {i} failed")
        finally:
            run.finish(i)

    for i in range(n):
        run.network(i)
    threads = [threading.Thread(target=party, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    verdict.blame = run.blame
    verdict.steps_judged = run.seq[:run.judged]
    stopped = run.hub.aborted is not None and run.hub.aborted.startswith("stopped")
    first = next((e for e in errors if e is not None), None)
    if run.blame is None and not stopped and first is not None:
        msg = first.message if isinstance(first, OmniDSLError) else repr(first)
        verdict.honest_run_error = msg
    elif run.blame is None and not stopped and proofs[0] is not None:
        expected = proofs[0]
        verdict.wrong_proof = sorted(i for i, p in returned.items()
                                     if p != (expected.a, expected.b, expected.c))
        verdict.honest_proof_verifies = bool(verify(vk or pk.vk, public, expected, backend))
    verdict.seconds = time.perf_counter() - t0
    log.info("attribution: re-ran %d parties over %d step(s) in %.2f s: %s", n,
             len(verdict.steps_judged), verdict.seconds, verdict.message() or "nothing to blame")
    return verdict


__all__ = ["Blame", "DigestNetwork", "Verdict", "attribute", "decode_transcript",
           "encode_transcript", "judge_step"]
