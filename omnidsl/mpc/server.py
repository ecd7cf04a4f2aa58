"""``omnidsl serve``: one proving server of the collaborative Groth16 prover.

Life of a session (up to ``[network] max_sessions`` at once; admission.py):

1. The data owner connects and the two exchange hellos with fresh ephemeral X25519 keys; the
   server proves it holds its static key (a sealed confirmation).  The data owner names the
   proving key (sealed ``open``), then sends this server's material (seed, explicit shares for the
   last server) in one sealed frame, read only up to what that key implies (the scheme's ``material_frame_limit``).
2. Server j connects to every server i < j and accepts the servers above it; each link is a
   fresh ephemeral-ephemeral exchange authenticated by both static keys, confirmed both ways
   before ``assemble_timeout`` (handshake.py).
3. The prover (``groth16.prover.prove``) runs with the scheme's driver (servers.toml ``[scheme]``;
   a session naming another scheme is refused) over
   :class:`TcpNetwork` in a worker thread; the result (the opened proof, traffic and CPU time) or
   the error goes back to the data owner.  All connections and shares of the session are then
   dropped; the server keeps serving.

Binding (``--bind-dir DIR``, the market): before proving, the server requires the session to
name a ``bind_label`` and checks its explicit share of the fixed wires against the pin
``DIR/<label>.json`` its operator wrote when committing to that share (``check_pin``);
a data owner who shared one gradient for aggregation cannot have the servers prove another
(``binding.py``).
Dealt π_A / π_B(G2) points (mode split) are allowed in bound sessions: π_B1 and L are still
computed from the witness share, and the pairing check on π_B ties the dealt points to it
(docs/mpc.md explains why the proof then proves the committed gradient).

Privacy guard: the server refuses a witness share whose private part looks like a clear witness
(the additive scheme's ``shares.check_masked``), and it only ever receives seeds and masked shares.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import struct
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from omnidsl.errors import FormatError, NetworkError, OmniDSLError, ProofError
from omnidsl.groth16.driver import Groth16Driver
from omnidsl.mpc import batch_session as bs
from omnidsl.mpc import codec, frames, messages
from omnidsl.mpc.admission import Gate
from omnidsl.mpc.attribution import DigestNetwork
from omnidsl.mpc.binding import check_pin, write_bound_receipt
from omnidsl.mpc.config import ServersConfig, file_digest, proving_key_file
from omnidsl.mpc.handshake import read_frame
from omnidsl.mpc.messages import CONFIRM, STEP_HANDSHAKE, STEP_RESULT, STEP_SESSION
from omnidsl.mpc.network import Network
from omnidsl.mpc.schemes import SessionMaterial, get_scheme
from omnidsl.mpc.tcp import (
    PREAUTH_STREAM_LIMIT,
    STREAM_LIMIT,
    FrameConn,
    TcpNetwork,
    set_stream_limit,
)


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


log = logging.getLogger(__name__)


class ServerLog(logging.LoggerAdapter):
    """This module's logger with every line tagged ``[server N]`` (N = ``extra["sid"]``); the
    record carries ``server`` (and the call's own ``extra``, e.g. ``session``) for JSON logs."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        sid = self.extra["sid"]  # type: ignore[index]
        kwargs["extra"] = {"server": sid, **(kwargs.get("extra") or {})}
        return f"[server {sid}] {msg}", kwargs


class ProvingServer:
    """One server process: listens on its configured port and runs proving sessions."""

    def __init__(self, cfg: ServersConfig, sid: int, backend: Any = None,
                 record_dir: str | Path | None = None,
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
        self.scheme = get_scheme(cfg.scheme, cfg.scheme_params)
        self.recorder = Recorder(Path(record_dir) / f"server{sid}.bin") if record_dir else None
        self.log = ServerLog(log, {"sid": sid})
        self.gate = Gate(cfg, sid, self.private_key, self._owner_session, self.log)
        self._keys: dict[str, tuple[Path, Any]] = {}  # digest → (file, ProvingKey)
        self._digests: dict[Path, tuple[int, int, str]] = {}  # file → (mtime, size, SHA-256)
        # one prover thread per session slot (twice: an aborted session's thread may still be
        # unwinding when its slot is reused).  asyncio's default pool has min(32, cores + 4)
        # threads: with more slots than that, sessions queued behind threads blocked on their
        # peers could wait for each other across servers until they time out.
        self.slots = bs.SlotStore()  # batch sessions' dealt slots (bound servers only)
        self.systems = bs.Systems()
        self.batch_t = bs.batch_threshold(cfg.scheme, cfg.scheme_params, cfg.n)
        self.provers = ThreadPoolExecutor(2 * self.gate.limits.max_sessions,
                                          thread_name_prefix=f"server{sid}-session")

    # ---- the session's network and driver (subclasses wrap them: tests/mpc/faults.py)
    def network(self, tcp: TcpNetwork) -> Network:
        """The network the prover runs over (the session's TCP links)."""
        return tcp

    def driver(self, material: SessionMaterial, pk: Any, net: Network) -> Groth16Driver:
        """The scheme's driver for this session's material."""
        return self.scheme.driver(material, pk, net, self.backend)

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
                # streamed: points once, natively; A and B in G2 only for a session whose owner
                # deals no witness MSMs (mode servers)
                pk = read_proving_key(f, bases_only=self.backend, defer=("a", "b2"))
                self._keys[digest] = (f, pk)
                return pk
        raise ProofError(
            f"server {self.sid} has no proving key with SHA-256 {digest[:16]}…",
            hint="list the circuit's key directory under [circuits] in servers.toml",
        )

    def preload_keys(self) -> None:
        """Hash and load every configured proving key (and its MSM bases) before listening: a
        multi-GB key read at a session's first use would exceed ``assemble_timeout``.  A key
        that cannot be read is skipped with a warning (a session naming it is refused)."""
        for name, where in self.cfg.circuits.items():
            try:
                f = proving_key_file(where)
                if not f.is_file():
                    continue
                t0 = time.perf_counter()
                self._find_key(self._digest(f))
                self.log.info("circuit %s: proving key loaded in %.1f s", name,
                              time.perf_counter() - t0)
            except OmniDSLError as exc:
                self.log.warning("circuit %s: proving key not loaded: %s", name, exc.message)

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
        await asyncio.get_running_loop().run_in_executor(None, self.preload_keys)
        host, port = self.listen or (self.entry.host, self.entry.port)
        srv = await asyncio.start_server(self.gate.on_conn, host, port,
                                         limit=PREAUTH_STREAM_LIMIT)
        self.log.info("listening on %s:%d", host, port)
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
        self.log.info("session %s started", tag, extra={"session": tag})
        try:
            result = await self._watch_owner(conn, chan, session_id, opening, peers)
            result["wall_s"] = repr(time.perf_counter() - t0)
            self._reply(conn, chan, result)
            self.log.info("session %s done", tag,  # (tests count lines ending in " done")
                          extra={"session": tag, "elapsed_s": round(time.perf_counter() - t0, 4)})
        except asyncio.CancelledError:
            if not self.gate.slots.was_evicted(session_id):
                raise
            msg = (f"server {self.sid} dropped session {tag}: its peers had not all connected "
                   f"when a newer session needed the slot ({self.gate.limits.max_sessions} "
                   "sessions at once)")
            self.log.warning(msg)
            self._reply(conn, chan, messages.error_result(msg))
        except OmniDSLError as exc:
            self.log.warning("session %s failed: %s", tag, exc.message, extra={"session": tag})
            self._reply(conn, chan, {**messages.error_result(
                exc.message, getattr(exc, "transcript", None)), "culprits": bs.dump_culprits(exc)})
        except Exception as exc:  # a bug must not kill the server, and the owner must hear it
            msg = f"internal error on server {self.sid}: {type(exc).__name__}: {exc}"
            self.log.error(msg, exc_info=self.log.isEnabledFor(logging.DEBUG))
            self._reply(conn, chan, messages.error_result(msg, getattr(exc, "transcript", None)))
        finally:
            for pc, _ in peers.values():
                pc.close()
        with contextlib.suppress(NetworkError):
            await conn.drain()
        conn.close()

    async def _read_material(self, conn: FrameConn, chan: frames.Channel, opening: bytes,
                             deadline: float) -> tuple[bytes, str, Any]:
        """The material frame, read only up to what the named proving key implies."""
        digest = messages.check_open(codec.decode(opening,
                                                  max_header=messages.OPEN_FRAME_LIMIT))
        pk = await asyncio.get_running_loop().run_in_executor(None, self._find_key, digest)
        limit = self.scheme.material_frame_limit(pk)
        if self.bind_dir is not None:  # a slot or a batch message (Shamir material sizes)
            limit = max(limit, bs.wire.material_frame_limit(pk))
        conn.max_frame = min(self.cfg.max_frame, limit)
        set_stream_limit(conn.reader, min(STREAM_LIMIT, conn.max_frame))
        body = await read_frame(conn, deadline, STEP_SESSION)
        _, payload = chan.open(body, STEP_SESSION)
        if self.recorder:
            self.recorder(self.sid, frames.OWNER_ID, STEP_SESSION, payload)
        conn.max_frame = messages.OPEN_FRAME_LIMIT  # the data owner has nothing more to send
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
        name, named, msg = messages.decode_session(payload)
        kind = str(msg.get("kind", "session"))
        if kind != "session":
            if name != bs.dealer.SCHEME or named != digest:
                raise FormatError(f"a {kind} message must use the Shamir scheme and name the "
                                  "key of its opening")
            if kind == bs.SLOT_KIND:
                return bs.accept_slot(self.slots, self.bind_dir, msg, pk, digest, self.cfg.n,
                                      self.batch_t, self.sid, session_id)
            return await self._run_batch(msg, session_id, peers, digest, pk, deadline)
        if name != self.scheme.name:
            raise FormatError(f"the session uses the {name!r} sharing scheme; server {self.sid} "
                              f"runs the {self.scheme.name!r} scheme (servers.toml)")
        material = self.scheme.decode_material(msg, pk, self.cfg.n, self.sid)
        if material.session_id != session_id or named != digest:
            raise FormatError("the material names another session or proving key than its "
                              "opening")
        if self.bind_dir is not None:
            check_pin(self.bind_dir, material, self.sid)
        await self.gate.assemble(session_id, min(self.cfg.max_frame,
                                                 self.scheme.peer_frame_limit(pk, self.cfg.n)),
                                 deadline, peers)
        self.gate.slots.assembled(session_id)
        if self.recorder:
            for j in peers:
                self.recorder(self.sid, j, STEP_HANDSHAKE, CONFIRM)
        loop = asyncio.get_running_loop()
        net = DigestNetwork(self.network(TcpNetwork(self.sid, self.cfg.n, loop, peers,
                                                    self.cfg.timeout, record=self.recorder)))
        try:
            result = await loop.run_in_executor(self.provers, self._prove, net, material, pk)
        except Exception as exc:  # the owner judges who deviated from these digests
            exc.transcript = net.encode()  # type: ignore[attr-defined]
            raise
        result["transcript"] = net.encode()  # SHA-256 per (peer, step) of what moved
        if self.bind_dir is not None and material.bind_label is not None:
            write_bound_receipt(self.bind_dir, material, result)
        return result

    async def _run_batch(self, msg: dict, session_id: bytes,
                         peers: dict[int, tuple[FrameConn, frames.Channel]], digest: str,
                         pk: Any, deadline: float) -> dict:
        """A ``batch`` session (batch_session.py): the slots this server holds, checked against
        its pins, proved with the other servers; a receipt under the batch's label."""
        if self.bind_dir is None:
            raise ProofError(f"server {self.sid} runs no batch sessions (no --bind-dir)")
        loop = asyncio.get_running_loop()
        rule_pk = await loop.run_in_executor(None, self._find_key,
                                             str(codec.need(msg, "rule_digest", str)))
        req = bs.parse_batch(msg, pk, rule_pk, session_id)
        system = await loop.run_in_executor(None, self.systems.get, req, rule_pk, pk, digest)
        slots, committed, bound = bs.check_slots(self.slots, self.bind_dir, req, system,
                                                 self.batch_t, self.sid)
        limit = max(bs.wire.peer_frame_limit(pk, self.cfg.n), bs.peer_frame_limit(req, bound))
        await self.gate.assemble(session_id, min(self.cfg.max_frame, limit), deadline, peers)
        self.gate.slots.assembled(session_id)
        net = DigestNetwork(self.network(TcpNetwork(self.sid, self.cfg.n, loop, peers,
                                                    self.cfg.timeout, record=self.recorder)))
        wait_s = float(self.cfg.scheme_params.get("wait_s", self.cfg.timeout))
        real = [lab for lab in req.labels if lab]

        def run() -> dict:
            from omnidsl.groth16.formats import proof_to_json
            from omnidsl.groth16.points import g1_to_bytes, g2_to_bytes
            from omnidsl.mpc.receipts import write_receipt

            cpu0 = time.process_time()
            proof = bs.prove_batch(net, pk, system, req, slots, committed, bound, self.batch_t,
                                   self.backend, wait_s, lambda: self.slots.drop(real))
            write_receipt(self.bind_dir or Path("."), req.receipt, proof_to_json(proof),
                          bs.receipt_public(req))
            return {"kind": "result", "ok": True, "a": g1_to_bytes(proof.a),
                    "b": g2_to_bytes(proof.b), "c": g1_to_bytes(proof.c),
                    "cpu_s": repr(time.process_time() - cpu0),
                    "bytes_sent": net.stats.bytes_sent,
                    "bytes_received": net.stats.bytes_received}

        try:
            return await loop.run_in_executor(self.provers, run)
        except Exception as exc:
            exc.transcript = net.encode()  # type: ignore[attr-defined]
            raise

    def _prove(self, net: DigestNetwork, material: SessionMaterial, pk: Any) -> dict:
        from omnidsl.groth16.points import g1_to_bytes, g2_to_bytes
        from omnidsl.groth16.prover import prove

        cpu0 = time.process_time()
        # the links were key-confirmed (a handshake frame both ways) before the session ran
        net.stats.bytes_sent += len(CONFIRM) * len(net.peers)
        net.stats.bytes_received += len(CONFIRM) * len(net.peers)
        stages = StageClock(cpu0, self.log, material.session_id.hex()[:8])
        with stages("expand"):
            driver = self.driver(material, pk, net)
        proof = prove(pk, driver, self.backend, stage=stages)
        return {
            "kind": "result", "ok": True, "a": g1_to_bytes(proof.a), "b": g2_to_bytes(proof.b),
            "c": g1_to_bytes(proof.c), "cpu_s": repr(time.process_time() - cpu0),
            "bytes_sent": net.stats.bytes_sent, "bytes_received": net.stats.bytes_received,
            "wire_bytes_sent": sum(c.bytes_out for c, _ in net.peers.values()),
            "stage_cpu": stages.summary(),
        }


class StageClock:
    """Process CPU seconds per proving stage (``stage`` hook of the prover), for the report;
    with a logger, one INFO line per stage (``extra``: session, stage, cpu_s, elapsed_s)."""

    def __init__(self, cpu0: float, logger: logging.LoggerAdapter[Any] | None = None,
                 session: str = ""):
        self.cpu0 = cpu0
        self.spent: dict[str, float] = {}
        self.log = logger
        self.session = session

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        c0, w0 = time.process_time(), time.perf_counter()
        try:
            yield
        finally:
            cpu = time.process_time() - c0
            self.spent[name] = self.spent.get(name, 0.0) + cpu
            if self.log is not None:
                wall = time.perf_counter() - w0
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
                self.log.info("session %s: %s %.3f s (%.3f s CPU, process peak %d MB)",
                              self.session, name, wall, cpu, peak,
                              extra={"session": self.session, "stage": name,
                                     "cpu_s": round(cpu, 4), "elapsed_s": round(wall, 4),
                                     "peak_mb": peak})

    def summary(self) -> str:
        """``name=seconds`` pairs joined by ``;`` (the rest of the session CPU as ``other``)."""
        rest = time.process_time() - self.cpu0 - sum(self.spent.values())
        return ";".join(f"{k}={v:.4f}" for k, v in [*self.spent.items(), ("other", rest)])


def run_server(cfg: ServersConfig, sid: int, ready: Callable[[], None] | None = None,
               server_class: type[ProvingServer] | None = None, **kw: Any) -> None:
    """Blocking: serve until interrupted; ``ready()`` once the port listens (``server_class``:
    a subclass, for tests)."""
    server = (server_class or ProvingServer)(cfg, sid, **kw)
    try:
        asyncio.run(server.serve_forever(ready=ready))
    except OSError as exc:
        raise NetworkError(f"server {sid} cannot listen on {server.entry.host}:"
                           f"{server.entry.port}: {exc.strerror}") from None



__all__ = ["ProvingServer", "read_recording", "run_server"]
