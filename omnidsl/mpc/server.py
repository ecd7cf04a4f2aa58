"""``omnidsl serve``: one proving server of the collaborative Groth16 prover.

Life of a session (up to ``[network] max_sessions`` at once; admission.py):

1. The data owner connects and the two exchange hellos with fresh ephemeral X25519 keys; the
   server proves it holds its static key (a sealed confirmation).  The data owner names the
   proving key (sealed ``open``), then sends this server's material (seed, explicit shares for the
   last server) in one sealed frame, read only up to what that key implies (limits.py).
2. Server j connects to every server i < j and accepts the servers above it; each link is a
   fresh ephemeral-ephemeral exchange authenticated by both static keys, confirmed both ways
   before ``assemble_timeout`` (handshake.py).
3. The prover (``groth16.prover.prove``) runs with :class:`AdditiveDriver` over
   :class:`TcpNetwork` in a worker thread; the result (the opened proof, traffic and CPU time) or
   the error goes back to the data owner.  All connections and shares of the session are then
   dropped; the server keeps serving.

Binding (``--bind-dir DIR``, the market): before proving, the server requires the session to
name a ``bind_label`` and checks its explicit share of the fixed wires against the pin
``DIR/<label>.json`` its operator wrote when committing to that share (:func:`check_binding`);
a data owner who shared one gradient for aggregation cannot have the servers prove another.
Dealt π_A / π_B(G2) points (mode split) are allowed in bound sessions: π_B1 and L are still
computed from the witness share, and the pairing check on π_B ties the dealt points to it
(docs/mpc.md explains why the proof then proves the committed gradient).

Privacy guard: the server refuses a witness share whose private part looks like a clear witness
(:func:`check_masked`), and it only ever receives seeds and uniformly random shares.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from omnidsl.errors import FormatError, NetworkError, OmniDSLError, ProofError
from omnidsl.mpc import codec, frames, limits
from omnidsl.mpc.admission import Gate
from omnidsl.mpc.attribution import DigestNetwork
from omnidsl.mpc.config import ServersConfig, file_digest, proving_key_file
from omnidsl.mpc.dealer import PartyMaterial, expand_material
from omnidsl.mpc.handshake import (
    CONFIRM,
    STEP_HANDSHAKE,
    STEP_RESULT,
    STEP_SESSION,
    read_frame,
)
from omnidsl.mpc.shares import below_pow2, mask_widths
from omnidsl.mpc.tcp import (
    PREAUTH_STREAM_LIMIT,
    STREAM_LIMIT,
    FrameConn,
    TcpNetwork,
    set_stream_limit,
)


def check_masked(witness_share: bytes, n_public_wires: int,
                 mask_bits: np.ndarray | None = None) -> None:
    """Refuse a witness "share" whose private wires are not masked.

    ``mask_bits``: the session's mask width per wire (``shares.mask_widths``; None = uniform
    masks everywhere).  A share of a wire with mask width w ≥ 40 has magnitude min(v, r − v) below
    2^(w−20) with probability about 2^−20 (uniform masks: below 2^128 with probability 2^−126),
    while a clear witness is full of bits and small fixed-point values.  More than
    4 + n/65536 such entries (expected: < 1) means the data owner sent (part of) its witness in
    the clear, which this server must never hold.
    """
    priv = witness_share[n_public_wires * 32:]
    n = len(priv) // 32
    if mask_bits is None:
        thresholds = np.full(n, 128, dtype=np.int64)
    else:
        w = np.asarray(mask_bits, dtype=np.int64)[n_public_wires:]
        thresholds = np.where(w >= 254, 128, np.maximum(w - 20, 0))
    small = below_pow2(priv, thresholds)
    if int(small.sum()) > 4 + n // 65536:
        raise ProofError(
            f"refusing the session: {int(small.sum())} private witness entries are not masked",
            hint="the data owner must send additive shares, never the clear witness",
        )


def write_pin(bind_dir: str | Path, label: str, wires: bytes, share: bytes,
              public: dict[int, int] | None = None) -> Path:
    """(The server's operator) pin the share this server committed to under ``label``: it will
    only prove sessions with that label whose share of ``wires`` is exactly ``share`` and whose
    public wires ``public`` (index → value) have those values."""
    import json

    from omnidsl.mpc.dealer import binding_digest

    d = Path(bind_dir)
    d.mkdir(parents=True, exist_ok=True)
    out = d / f"{_safe_label(label)}.json"
    out.write_text(json.dumps({"digest": binding_digest(wires, share).hex(),
                               "public": {str(k): str(v) for k, v in (public or {}).items()}}))
    return out


def _safe_label(label: str) -> str:
    if not (0 < len(label) <= 128 and all(c.isalnum() or c in "-_." for c in label)) \
            or label.startswith("."):
        raise ProofError(f"bad bind label {label!r}")
    return label


def check_binding(bind_dir: Path, m: PartyMaterial, sid: int) -> None:
    """Refuse unless ``m``'s share of its fixed wires is the one pinned under its label."""
    import json

    from omnidsl.mpc.dealer import binding_digest

    if m.bind_label is None or m.fixed_wires is None or m.fixed_share is None:
        raise ProofError(f"server {sid} refuses to prove: this server only proves shares it "
                         "committed to, and the session names none (no bind label / fixed wires)",
                         hint="deal with the committed aggregation shares as fixed shares")
    pin = Path(bind_dir) / f"{_safe_label(m.bind_label)}.json"
    try:
        data = json.loads(pin.read_text())
    except (OSError, ValueError):
        raise ProofError(f"server {sid} refuses to prove {m.bind_label}: it committed to no share "
                         "under that label") from None
    if binding_digest(m.fixed_wires, m.fixed_share).hex() != data.get("digest"):
        raise ProofError(f"server {sid} refuses to prove {m.bind_label}: its share of the bound "
                         "wires differs from the share it committed to",
                         hint="the data owner must prove the gradient it shared for aggregation")
    for k, v in data.get("public", {}).items():
        w = int(k)
        got = int.from_bytes(m.public[w * 32:(w + 1) * 32], "little") if w < m.n_public else None
        if got != int(v):
            raise ProofError(f"server {sid} refuses to prove {m.bind_label}: public wire {w} is "
                             f"{got}, the commitment was made for {v}")


def write_bound_receipt(bind_dir: Path, m: PartyMaterial, result: dict) -> Path:
    """Record, for the operator, the proof this server's bound session produced: the market
    role signs a batch only for proofs recorded here (docs/market.md, attestation)."""
    from omnidsl.groth16.formats import proof_to_json
    from omnidsl.groth16.keys import Proof
    from omnidsl.groth16.points import g1_from_bytes, g2_from_bytes
    from omnidsl.mpc.receipts import write_receipt

    proof = Proof(g1_from_bytes(result["a"]), g2_from_bytes(result["b"]),
                  g1_from_bytes(result["c"]))
    public = [int.from_bytes(m.public[i * 32:(i + 1) * 32], "little")
              for i in range(1, m.n_public)]
    return write_receipt(bind_dir, _safe_label(m.bind_label or ""), proof_to_json(proof), public)


def material_to_msg(m: PartyMaterial, key_digest: str) -> dict[str, codec.Value]:
    return {
        "kind": "session", "key_digest": key_digest, "session_id": m.session_id,
        "party_id": m.party_id, "n_parties": m.n_parties, "seed": m.seed, "n_wires": m.n_wires,
        "public": m.public, "n_triples": m.n_triples, "witness": m.witness,
        "triple_z": m.triple_z, "rs": m.rs, "fixed_wires": m.fixed_wires,
        "fixed_share": m.fixed_share, "bind_label": m.bind_label, "witness_msm": m.witness_msm,
        "mask_slack": m.mask_slack,
    }


def material_from_msg(msg: dict[str, codec.Value],
                      check: Callable[[PartyMaterial], None] | None = None
                      ) -> tuple[PartyMaterial, str]:
    """Parse a material message; ``check`` (the server's size checks against its proving key)
    runs before the consistency checks of ``PartyMaterial.validate``."""
    def opt(key: str, typ: type) -> Any:
        v = msg.get(key)
        return None if v is None else codec.need(msg, key, typ)

    m = PartyMaterial(
        session_id=codec.need(msg, "session_id", bytes), party_id=codec.need(msg, "party_id", int),
        n_parties=codec.need(msg, "n_parties", int), seed=codec.need(msg, "seed", bytes),
        n_wires=codec.need(msg, "n_wires", int), public=codec.need(msg, "public", bytes),
        n_triples=codec.need(msg, "n_triples", int), witness=opt("witness", bytes),
        triple_z=opt("triple_z", bytes), rs=opt("rs", int),
        fixed_wires=opt("fixed_wires", bytes), fixed_share=opt("fixed_share", bytes),
        bind_label=opt("bind_label", str), witness_msm=opt("witness_msm", bytes),
        mask_slack=opt("mask_slack", int) or 0,
    )  # type: ignore[arg-type]
    if check is not None:
        check(m)
    try:
        m.validate()
    except ValueError as exc:
        raise FormatError(f"bad session material: {exc}") from None
    return m, str(codec.need(msg, "key_digest", str))


class Recorder:
    """Appends every payload this server receives to a file: u8 from ‖ u16 len(step) ‖ step ‖
    u32 len ‖ payload (decrypted: what the server *sees*)."""

    def __init__(self, path: Path):
        self.path = path

    def __call__(self, me: int, frm: int, step: str, payload: bytes) -> None:
        s = step.encode()
        with open(self.path, "ab") as f:
            f.write(struct.pack(">BH", frm, len(s)) + s + struct.pack(">I", len(payload)) + payload)


def read_recording(path: str | Path) -> list[tuple[int, str, bytes]]:
    buf = Path(path).read_bytes()
    out, pos = [], 0
    while pos < len(buf):
        frm, slen = struct.unpack_from(">BH", buf, pos)
        pos += 3
        step = buf[pos : pos + slen].decode()
        pos += slen
        (n,) = struct.unpack_from(">I", buf, pos)
        pos += 4
        out.append((frm, step, buf[pos : pos + n]))
        pos += n
    return out


class Server:
    """One server process: listens on its configured port and runs proving sessions."""

    def __init__(self, cfg: ServersConfig, sid: int, backend: Any = None, corrupt: bool = False,
                 crash_at: str | None = None, record_dir: str | Path | None = None,
                 log: Callable[[str], None] | None = None,
                 bind_dir: str | Path | None = None, listen: tuple[str, int] | None = None):
        self.cfg = cfg
        self.listen = listen
        self.bind_dir = Path(bind_dir) if bind_dir else None
        self.sid = sid
        self.entry = cfg.server(sid)
        self.private_key = cfg.private_key(sid)
        if backend is None:
            from omnidsl.backend import get_backend

            backend = get_backend()
        self.backend = backend
        self.corrupt = corrupt
        self.crash_at = crash_at
        self.recorder = Recorder(Path(record_dir) / f"server{sid}.bin") if record_dir else None
        self.log = log or (lambda msg: print(f"[server {sid}] {msg}", file=sys.stderr, flush=True))
        self.gate = Gate(cfg, sid, self.private_key, self._owner_session, self.log)
        self._keys: dict[str, tuple[Path, Any]] = {}  # digest → (file, ProvingKey)
        self._digests: dict[Path, tuple[int, int, str]] = {}  # file → (mtime, size, SHA-256)
        self.sessions_done = 0

    # ---- proving keys
    def _find_key(self, digest: str) -> Any:
        if digest in self._keys:
            return self._keys[digest][1]
        from omnidsl.groth16.keys import read_proving_key

        for _name, where in self.cfg.circuits.items():
            try:
                f = proving_key_file(where)
            except FormatError:
                continue
            if f.is_file() and self._digest(f) == digest:
                pk = read_proving_key(f)
                self._keys[digest] = (f, pk)
                return pk
        raise ProofError(
            f"server {self.sid} has no proving key with SHA-256 {digest[:16]}…",
            hint="list the circuit's key directory under [circuits] in servers.toml",
        )

    def _digest(self, f: Path) -> str:
        """SHA-256 of a key file, cached by (mtime, size): naming an unknown key must not make
        the server hash every configured key again."""
        st = f.stat()
        hit = self._digests.get(f)
        if hit is None or hit[:2] != (st.st_mtime_ns, st.st_size):
            hit = (st.st_mtime_ns, st.st_size, file_digest(f))
            self._digests[f] = hit
        return hit[2]

    # ---- network entry point
    async def serve_forever(self, ready: Callable[[], None] | None = None) -> None:
        host, port = self.listen or (self.entry.host, self.entry.port)
        srv = await asyncio.start_server(self.gate.on_conn, host, port,
                                         limit=PREAUTH_STREAM_LIMIT)
        self.log(f"listening on {host}:{port}")
        if ready:
            ready()
        async with srv:
            await srv.serve_forever()

    # ---- one session
    async def _owner_session(self, conn: FrameConn, chan: frames.Channel, opening: bytes,
                             session_id: bytes) -> None:
        """A session holding a slot (``Gate`` did the handshake and the ``open`` frame): read
        the material, assemble, prove, reply; every failure is reported to the data owner."""
        tag = session_id.hex()[:8]
        peers: dict[int, tuple[FrameConn, frames.Channel]] = {}
        t0 = time.perf_counter()
        try:
            result = await self._watch_owner(conn, chan, session_id, opening, peers)
            result["wall_s"] = repr(time.perf_counter() - t0)
            self._reply(conn, chan, result)
            self.log(f"session {tag} done")
        except asyncio.CancelledError:
            if not self.gate.slots.was_evicted(session_id):
                raise
            msg = (f"server {self.sid} dropped session {tag}: its peers had not all connected "
                   f"when a newer session needed the slot ({self.gate.limits.max_sessions} "
                   "sessions at once)")
            self.log(msg)
            self._reply(conn, chan, {"kind": "result", "ok": False, "error": msg})
        except OmniDSLError as exc:
            self.log(f"session {tag} failed: {exc.message}")
            self._reply(conn, chan, {"kind": "result", "ok": False, "error": exc.message,
                                     "transcript": getattr(exc, "transcript", None)})
        except Exception as exc:  # a bug must not kill the server, and the owner must hear it
            msg = f"internal error on server {self.sid}: {type(exc).__name__}: {exc}"
            self.log(msg)
            self._reply(conn, chan, {"kind": "result", "ok": False, "error": msg,
                                     "transcript": getattr(exc, "transcript", None)})
        finally:
            for pc, _ in peers.values():
                pc.close()
            self.sessions_done += 1
        with contextlib.suppress(NetworkError):
            await conn.drain()
        conn.close()

    async def _read_material(self, conn: FrameConn, chan: frames.Channel, opening: bytes,
                             deadline: float) -> tuple[bytes, str, Any]:
        """The material frame, read only up to what the named proving key implies."""
        digest = limits.check_open(codec.decode(opening, max_header=limits.OPEN_FRAME_LIMIT))
        pk = await asyncio.get_running_loop().run_in_executor(None, self._find_key, digest)
        conn.max_frame = min(self.cfg.max_frame, limits.material_frame_limit(pk))
        set_stream_limit(conn.reader, min(STREAM_LIMIT, conn.max_frame))
        body = await read_frame(conn, deadline, STEP_SESSION)
        _, payload = chan.open(body, STEP_SESSION)
        if self.recorder:
            self.recorder(self.sid, frames.OWNER_ID, STEP_SESSION, payload)
        conn.max_frame = limits.OPEN_FRAME_LIMIT  # the data owner has nothing more to send
        set_stream_limit(conn.reader, PREAUTH_STREAM_LIMIT)
        return payload, digest, pk

    async def _watch_owner(self, conn: FrameConn, chan: frames.Channel, session_id: bytes,
                           opening: bytes, peers: dict[int, tuple[FrameConn, frames.Channel]]
                           ) -> dict:
        """Run the session; if the data owner hangs up first, abort it (peers see EOF)."""
        deadline = asyncio.get_running_loop().time() + self.gate.assemble_s
        payload, digest, pk = await self._read_material(conn, chan, opening, deadline)
        session = asyncio.ensure_future(self._run_session(payload, session_id, peers, digest,
                                                          pk, deadline))
        gone = asyncio.ensure_future(conn.get(self.cfg.timeout * 20, STEP_RESULT))
        try:
            await asyncio.wait({session, gone}, return_when=asyncio.FIRST_COMPLETED)
            if session.done():
                return session.result()
            reason = NetworkError("the data owner left the session")
            for pc, _ in peers.values():
                pc.abort(reason)
            with contextlib.suppress(OmniDSLError, TimeoutError):
                await asyncio.wait_for(session, self.cfg.timeout + 5)
            raise reason
        finally:
            gone.cancel()
            session.cancel()  # (evicted while assembling; a running prover thread finishes alone)

    def _reply(self, conn: FrameConn, chan: frames.Channel, msg: dict[str, codec.Value]) -> None:
        conn.write(chan.seal(STEP_RESULT, codec.encode(msg)))

    async def _run_session(self, payload: bytes, session_id: bytes,
                           peers: dict[int, tuple[FrameConn, frames.Channel]], digest: str,
                           pk: Any, deadline: float) -> dict:
        msg = codec.decode(payload, max_header=limits.MATERIAL_HEADER_LIMIT)
        material, named = material_from_msg(
            msg, check=lambda m: limits.check_material(m, pk, self.cfg.n, self.sid))
        if material.session_id != session_id or named != digest:
            raise FormatError("the material names another session or proving key than its "
                              "opening")
        if self.bind_dir is not None:
            check_binding(self.bind_dir, material, self.sid)
        await self.gate.assemble(session_id, min(self.cfg.max_frame,
                                                 limits.peer_frame_limit(pk, self.cfg.n)),
                                 deadline, peers)
        self.gate.slots.assembled(session_id)
        if self.recorder:
            for j in peers:
                self.recorder(self.sid, j, STEP_HANDSHAKE, CONFIRM)
        loop = asyncio.get_running_loop()
        net = DigestNetwork(TcpNetwork(self.sid, self.cfg.n, loop, peers, self.cfg.timeout,
                                       record=self.recorder, crash_at=self.crash_at))
        try:
            result = await loop.run_in_executor(None, self._prove, net, material, pk)
        except Exception as exc:  # the owner judges who deviated from these digests
            exc.transcript = net.encode()  # type: ignore[attr-defined]
            raise
        result["transcript"] = net.encode()  # SHA-256 per (peer, step) of what moved
        if self.bind_dir is not None and material.bind_label is not None:
            write_bound_receipt(self.bind_dir, material, result)
        return result

    def _prove(self, net: DigestNetwork, material: PartyMaterial, pk: Any) -> dict:
        from omnidsl.groth16.points import g1_to_bytes, g2_to_bytes
        from omnidsl.groth16.prover import prove
        from omnidsl.mpc.driver import AdditiveDriver

        cpu0 = time.process_time()
        # the links were key-confirmed (a handshake frame both ways) before the session ran
        net.stats.bytes_sent += len(CONFIRM) * len(net.peers)
        net.stats.bytes_received += len(CONFIRM) * len(net.peers)
        stages = StageClock(cpu0)
        with stages("expand"):
            wire_bits = pk.r1cs.wire_bits
            expanded = expand_material(material, wire_bits)
            check_masked(expanded.witness, material.n_public,
                         mask_widths(wire_bits, material.n_wires, material.mask_slack)
                         if material.mask_slack else None)
        driver = AdditiveDriver(self.sid, self.cfg.n, net, expanded, self.backend,
                                corrupt=self.corrupt)
        proof = prove(pk, driver, self.backend, stage=stages)
        return {
            "kind": "result", "ok": True, "a": g1_to_bytes(proof.a), "b": g2_to_bytes(proof.b),
            "c": g1_to_bytes(proof.c), "cpu_s": repr(time.process_time() - cpu0),
            "bytes_sent": net.stats.bytes_sent, "bytes_received": net.stats.bytes_received,
            "wire_bytes_sent": sum(c.bytes_out for c, _ in net.peers.values()),
            "stage_cpu": stages.summary(),
        }


class StageClock:
    """Process CPU seconds per proving stage (``stage`` hook of the prover), for the report."""

    def __init__(self, cpu0: float):
        self.cpu0 = cpu0
        self.spent: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        c0 = time.process_time()
        try:
            yield
        finally:
            self.spent[name] = self.spent.get(name, 0.0) + time.process_time() - c0

    def summary(self) -> str:
        """``name=seconds`` pairs joined by ``;`` (the rest of the session CPU as ``other``)."""
        rest = time.process_time() - self.cpu0 - sum(self.spent.values())
        return ";".join(f"{k}={v:.4f}" for k, v in [*self.spent.items(), ("other", rest)])


def run_server(cfg: ServersConfig, sid: int, **kw: Any) -> None:
    """Blocking: serve until interrupted."""
    server = Server(cfg, sid, **kw)
    try:
        asyncio.run(server.serve_forever(ready=lambda: print(f"ready {sid}", flush=True)))
    except OSError as exc:
        raise NetworkError(f"server {sid} cannot listen on {server.entry.host}:"
                           f"{server.entry.port}: {exc.strerror}") from None



__all__ = ["Server", "check_binding", "check_masked", "read_recording", "run_server",
           "write_pin"]
