"""Helpers shared by the MPC tests: parties on threads, the plain reference with injected
blinding, hostile data-owner conversations, and the mode-split dealing of norm_bound."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from pathlib import Path

import numpy as np

from omnidsl.errors import NetworkError
from omnidsl.field import R
from omnidsl.groth16.driver import BlindingShares, DealtMsmShares
from omnidsl.groth16.plain import PlainDriver
from omnidsl.groth16.prover import dealt_msms
from omnidsl.mpc import codec, frames, handshake
from omnidsl.mpc.messages import encode_open
from omnidsl.mpc.schemes.additive.dealer import deal, share_dealt_msms
from omnidsl.mpc.schemes.additive.wire import material_to_msg
from tests.groth16.cases import CASES


def run_parties(n, fn, timeout=60):
    out, errs = [None] * n, [None] * n

    def go(i):
        try:
            out[i] = fn(i)
        except BaseException as exc:
            errs[i] = exc

    ts = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout)
        assert not t.is_alive(), "a party hung"
    return out, errs


class FixedPlain(PlainDriver):
    """The plain reference with injected r, s that records what it opens."""

    def __init__(self, witness, backend, r, s):
        super().__init__(witness, backend)
        self.r, self.s = r, s
        self.opened = []

    def blinding(self):
        return BlindingShares(self.r, self.s, self.r * self.s % R)

    def mul_vec(self, a, b):
        c = super().mul_vec(a, b)
        self.product = c
        return c

    def open_g1(self, share):
        self.opened.append(share)
        return share

    def open_g2(self, share):
        self.opened.append(share)
        return share


@dataclasses.dataclass
class NormBound:
    keys: object  # key directory
    pk: object
    z: bytes  # a valid witness
    circuit: object

    @property
    def max_norm(self) -> int:
        return int.from_bytes(self.z[32:64], "little")

    def grad_wires(self) -> np.ndarray:
        """Indices of g[0..D-1] in the (optimised) witness."""
        lay = next(x for x in self.circuit.inputs if x.name == "g")
        full = np.arange(lay.wire, lay.wire + len(CASES["norm_bound"][1]["g"]))
        idx = np.searchsorted(np.asarray(self.circuit.kept), full)
        assert np.array_equal(np.asarray(self.circuit.kept)[idx], full)
        return idx


def split_materials(be, pk, shared: bytes, n: int, points: DealtMsmShares | None = None,
                    **kw):
    """The dealing of mode split: bounded shares of ``shared`` and point shares of ``points``
    (by default the true witness MSMs of ``shared``)."""
    mats = deal(be, shared, pk.n_public + 1, pk.domain_size, n, wire_bits=pk.r1cs.wire_bits,
                **kw)
    pts = share_dealt_msms(be, points or dealt_msms(pk, shared, be), n)
    return [dataclasses.replace(m, witness_msm=p) for m, p in zip(mats, pts, strict=True)]


def proc_status(pid: int, field: str) -> int:
    """A /proc/PID/status memory field in bytes (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def exchange(cl, sid: int, msg: dict | bytes, digest: str, session_id: bytes,
             opening: bytes | None = None) -> dict | NetworkError:
    """One data owner ↔ server conversation with crafted content: the reply, or the error."""
    e = cl.cfg.server(sid)
    payload = msg if isinstance(msg, bytes) else codec.encode(msg)
    try:
        reply = asyncio.run(handshake.owner_exchange(
            e.host, e.port, sid, e.public_key, session_id, opening or encode_open(digest),
            payload, cl.cfg.max_frame, 5, 30))
    except NetworkError as exc:
        return exc
    return codec.decode(reply)


def material(pk, z, be, party: int, session_id: bytes, digest: str, n: int = 2) -> dict:
    """Party ``party``'s sealed-material message of an n-party dealing of witness z."""
    mats = deal(be, z, pk.n_public + 1, pk.domain_size, n, session_id,
                wire_bits=pk.r1cs.wire_bits)
    return material_to_msg(mats[party], digest)


def prove_shared(cfg, pk_path, witness, backend=None, pk=None, **options):
    """The data owner's run with the servers of ``cfg``, through the one entry point
    (``omnidsl.proving.prove``: checks, deals, drives the servers, verifies)."""
    from omnidsl.proving import prove

    return prove(pk if pk is not None else pk_path, witness, parties=cfg, pk_path=pk_path,
                 backend=backend, **options)


def link(session=b"s" * 16, a=0, b=1, sa=None, sb=None):
    """Both ends of a server link a ↔ b (a initiates) from a real key exchange: hellos with
    fresh ephemeral keys, static keys ``sa``/``sb`` (fresh when None)."""
    sa = sa or frames.generate_keypair()
    sb = sb or frames.generate_keypair()
    ea, eb = frames.generate_keypair(), frames.generate_keypair()
    ha = frames.Hello(frames.ROLE_SERVER, a, b, session, ea[1]).encode()
    hb = frames.Hello(frames.ROLE_SERVER, b, a, session, eb[1]).encode()
    t = frames.transcript_hash(ha, hb)
    ka = frames.session_keys(frames.link_ikm(True, ea[0], sa[0], eb[1], sb[1]), t, a, b)
    kb = frames.session_keys(frames.link_ikm(False, eb[0], sb[0], ea[1], sa[1]), t, b, a)
    return frames.Channel(*ka, session, a, b), frames.Channel(*kb, session, b, a)
