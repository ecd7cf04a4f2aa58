"""The data owner's dealing: witness shares, Beaver triples and blinding shares for N servers.

Every party i gets one fresh 32-byte seed s_i.  From it (``prg.expand(s_i, label, n)``):

==============  ==========================  =============================================
label           all parties                 last party (N−1) instead gets explicitly
==============  ==========================  =============================================
``witness``     share of z (see below)      z − Σ_{i<N−1} z_i
``triple/x``    share x_i of x              (seeded too)
``triple/y``    share y_i of y              (seeded too)
``triple/z``    share of x∘y                x∘y − Σ_{i<N−1} (x∘y)_i
``blind/r``     share of r                  (seeded too)
``blind/s``     share of s                  (seeded too)
``blind/rs``    share of r·s                r·s − Σ_{i<N−1} (rs)_i
==============  ==========================  =============================================

Public wires (0..n_public−1, wire 0 = 1) are not secret: in every seeded witness share they are
overwritten with the public values for the leader (party 0) and with 0 for the others, so the
leader alone carries public constants (the Groth16Driver convention).  x, y, r, s are uniform
because the seeds are; the dealer never chooses them, it only completes the products.
So a party receives 32 + (last party only) 32·(n_wires + n_triples + 1) bytes of secrets.

Fixed wires (optional, :class:`FixedShares`): for a chosen set W of private wires the dealer uses
shares given by the caller instead of seed-derived ones, and every party receives its share of W
explicitly (``fixed_wires``, ``fixed_share``).  The market uses this to make the aggregation
shares a server committed to *be* its witness share of the gradient wires, so the server can check
before proving that it proves exactly what it committed to (:func:`binding_digest`, docs/mpc.md).

Dealer-side witness commitments (optional, :func:`share_witness_msms`): the data owner computes
the four witness MSMs of the prover itself (cheap on its sparse clear witness) and deals them as
additive point shares, ``witness_msm`` = a (G1) ‖ b2 (G2) ‖ b1 (G1) ‖ l (G1); N−1 parties get
uniformly random points k·G (k from ``secrets``), the last gets P − Σ others.  The servers then
skip those MSMs (see ``groth16.driver.WitnessMsmShares``).
"""

from __future__ import annotations

import hashlib
import secrets
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from omnidsl.backend.base import Backend
from omnidsl.field import FR_BYTES, R
from omnidsl.groth16.driver import WitnessMsmShares
from omnidsl.groth16.points import (
    G1_BYTES,
    G2_BYTES,
    g1_from_bytes,
    g1_to_bytes,
    g2_from_bytes,
    g2_to_bytes,
)
from omnidsl.mpc import prg

SESSION_ID_BYTES = 16
L_WITNESS = b"witness"
L_X = b"triple/x"
L_Y = b"triple/y"
L_Z = b"triple/z"
L_R = b"blind/r"
L_S = b"blind/s"
L_RS = b"blind/rs"
#: size of one party's dealt witness-MSM shares: a ‖ b2 ‖ b1 ‖ l
WITNESS_MSM_BYTES = 3 * G1_BYTES + G2_BYTES


@dataclass(frozen=True)
class PartyMaterial:
    """Everything one server receives from the data owner for one proving session."""

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
    witness_msm: bytes | None = None  # dealt shares of the witness MSMs (dealer mode)

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
        if self.witness_msm is not None and len(self.witness_msm) != WITNESS_MSM_BYTES:
            raise ValueError(f"witness MSM shares need {WITNESS_MSM_BYTES} bytes")

    def fixed_indices(self) -> np.ndarray:
        """The fixed wire indices (empty if none)."""
        if self.fixed_wires is None or len(self.fixed_wires) % 4:
            if self.fixed_wires is not None:
                raise ValueError("fixed wire list is not a u32 array")
            return np.zeros(0, dtype=np.int64)
        return np.frombuffer(self.fixed_wires, dtype="<u4").astype(np.int64)


@dataclass(frozen=True)
class FixedShares:
    """Caller-chosen shares of some private wires: ``shares[i]`` is party i's share of
    ``wires`` (len(wires)*32 bytes); the shares must sum to the witness on those wires."""

    wires: Sequence[int]
    shares: Sequence[bytes]

    def wires_bytes(self) -> bytes:
        return np.asarray(self.wires, dtype="<u4").tobytes()


def binding_digest(wires: bytes, share: bytes) -> bytes:
    """SHA-256 binding a share to the wires it sits on (what a server pins and checks)."""
    return hashlib.sha256(b"omnidsl-bind/v1" + struct.pack("<I", len(wires) // 4) + wires
                          + share).digest()


def _overwrite(buf: bytes, wires: np.ndarray, values: bytes) -> bytes:
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
    witness_msm: bytes | None = None  # dealer mode: encoded WitnessMsmShares (unchecked)


def encode_witness_msms(w: WitnessMsmShares) -> bytes:
    """a ‖ b2 ‖ b1 ‖ l in the backend's point encoding (WITNESS_MSM_BYTES)."""
    return g1_to_bytes(w.a) + g2_to_bytes(w.b2) + g1_to_bytes(w.b1) + g1_to_bytes(w.l)


def decode_witness_msms(buf: bytes, backend: Backend) -> WitnessMsmShares:
    """Inverse of :func:`encode_witness_msms`; ValueError unless all four are valid points."""
    if len(buf) != WITNESS_MSM_BYTES:
        raise ValueError(f"witness MSM shares need {WITNESS_MSM_BYTES} bytes, got {len(buf)}")
    g1s = [g1_from_bytes(buf[o:o + G1_BYTES])
           for o in (0, G1_BYTES + G2_BYTES, 2 * G1_BYTES + G2_BYTES)]
    b2 = g2_from_bytes(buf[G1_BYTES:G1_BYTES + G2_BYTES])
    if not all(p is None or backend.g1_is_valid(p) for p in g1s) \
            or not (b2 is None or backend.g2_is_valid(b2)):
        raise ValueError("witness MSM shares are not valid curve points")
    return WitnessMsmShares(a=g1s[0], b2=b2, b1=g1s[1], l=g1s[2])


def share_witness_msms(backend: Backend, w: WitnessMsmShares, n_parties: int) -> list[bytes]:
    """Additive point shares of ``w`` for ``n_parties``: N−1 uniformly random points k·G
    (fresh k from ``secrets`` per point and party), the last = w − Σ others; encoded."""
    if n_parties < 1:
        raise ValueError("need at least one party")
    g1, g2 = backend.g1_generator(), backend.g2_generator()
    out: list[bytes] = []
    rest = [w.a, w.b2, w.b1, w.l]
    for _ in range(n_parties - 1):
        ks = [secrets.randbelow(R) for _ in range(4)]
        pts = [backend.g1_mul(g1, ks[0]), backend.g2_mul(g2, ks[1]),
               backend.g1_mul(g1, ks[2]), backend.g1_mul(g1, ks[3])]
        out.append(encode_witness_msms(WitnessMsmShares(*pts)))
        rest = [backend.g1_add(rest[0], backend.g1_neg(pts[0])),
                backend.g2_add(rest[1], backend.g2_neg(pts[1])),
                backend.g1_add(rest[2], backend.g1_neg(pts[2])),
                backend.g1_add(rest[3], backend.g1_neg(pts[3]))]
    out.append(encode_witness_msms(WitnessMsmShares(*rest)))
    return out


def seeded_witness_share(seed: bytes, n_wires: int, public: bytes, is_leader: bool) -> bytes:
    """A seed-derived witness share with the public-wire convention applied."""
    share = bytearray(prg.expand(seed, L_WITNESS, n_wires))
    share[: len(public)] = public if is_leader else bytes(len(public))
    return bytes(share)


def expand_material(m: PartyMaterial) -> ExpandedMaterial:
    """Expand a party's seed into its shares (the server side of :func:`deal`)."""
    m.validate()
    if m.is_last:
        assert m.witness is not None and m.triple_z is not None and m.rs is not None
        witness, z, rs = m.witness, m.triple_z, m.rs
    else:
        witness = seeded_witness_share(m.seed, m.n_wires, m.public, m.party_id == 0)
        z = prg.expand(m.seed, L_Z, m.n_triples)
        rs = prg.expand_scalar(m.seed, L_RS)
    if m.fixed_share is not None:
        witness = _overwrite(witness, m.fixed_indices(), m.fixed_share)
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


def new_session_id() -> bytes:
    return secrets.token_bytes(SESSION_ID_BYTES)


def deal(
    backend: Backend,
    witness: bytes,
    n_public: int,
    n_triples: int,
    n_parties: int,
    session_id: bytes | None = None,
    fixed: FixedShares | None = None,
    bind_label: str | None = None,
) -> list[PartyMaterial]:
    """Share ``witness`` (n_wires*32 bytes) and deal ``n_triples`` triples plus r, s, r·s.

    With ``fixed``, party i's witness share on ``fixed.wires`` is ``fixed.shares[i]`` (checked:
    they must sum to the witness there); ``bind_label`` is passed to every party."""
    if n_parties < 1:
        raise ValueError("need at least one party")
    if len(witness) % FR_BYTES:
        raise ValueError("witness length is not a multiple of 32")
    n_wires = len(witness) // FR_BYTES
    if not 1 <= n_public <= n_wires:
        raise ValueError(f"n_public={n_public} not in 1..{n_wires}")
    prg.check_elements(witness)
    sid = session_id or new_session_id()
    public = witness[: n_public * FR_BYTES]
    seeds = [prg.new_seed() for _ in range(n_parties)]
    last = n_parties - 1
    fixed_w = np.zeros(0, dtype=np.int64)
    if fixed is not None:
        fixed_w = np.asarray(fixed.wires, dtype=np.int64)
        if len(fixed.shares) != n_parties:
            raise ValueError(f"{len(fixed.shares)} fixed shares for {n_parties} parties")
        if fixed_w.size == 0 or np.any(np.diff(fixed_w) <= 0) or int(fixed_w[0]) < n_public \
                or int(fixed_w[-1]) >= n_wires:
            raise ValueError("fixed wires must be increasing private wire indices")
        total = bytes(FR_BYTES * fixed_w.size)
        for sh in fixed.shares:
            if len(sh) != fixed_w.size * FR_BYTES:
                raise ValueError("a fixed share has the wrong length")
            prg.check_elements(sh)
            total = backend.fr_add(total, sh)
        want = b"".join(witness[int(w) * FR_BYTES:(int(w) + 1) * FR_BYTES] for w in fixed_w)
        if total != want:
            raise ValueError("the fixed shares do not sum to the witness on the fixed wires")

    w_rest = witness
    z_rest = None
    x_sum = y_sum = None
    r_sum = s_sum = 0
    rs_rest = 0
    for i, seed in enumerate(seeds):
        x_i = prg.expand(seed, L_X, n_triples)
        y_i = prg.expand(seed, L_Y, n_triples)
        x_sum = x_i if x_sum is None else backend.fr_add(x_sum, x_i)
        y_sum = y_i if y_sum is None else backend.fr_add(y_sum, y_i)
        r_sum += prg.expand_scalar(seed, L_R)
        s_sum += prg.expand_scalar(seed, L_S)
        if i == last:
            continue
        share_i = seeded_witness_share(seed, n_wires, public, i == 0)
        if fixed is not None:
            share_i = _overwrite(share_i, fixed_w, fixed.shares[i])
        w_rest = backend.fr_sub(w_rest, share_i)
        z_i = prg.expand(seed, L_Z, n_triples)
        z_rest = z_i if z_rest is None else backend.fr_add(z_rest, z_i)
        rs_rest += prg.expand_scalar(seed, L_RS)
    assert x_sum is not None and y_sum is not None
    xy = backend.fr_mul(x_sum, y_sum) if n_triples else b""
    z_last = xy if z_rest is None else backend.fr_sub(xy, z_rest)
    rs_last = (r_sum * s_sum - rs_rest) % R
    out = []
    for i, seed in enumerate(seeds):
        is_last = i == last
        out.append(
            PartyMaterial(
                session_id=sid,
                party_id=i,
                n_parties=n_parties,
                seed=seed,
                n_wires=n_wires,
                public=public,
                n_triples=n_triples,
                witness=w_rest if is_last else None,
                triple_z=z_last if is_last else None,
                rs=rs_last if is_last else None,
                fixed_wires=fixed.wires_bytes() if fixed is not None else None,
                fixed_share=bytes(fixed.shares[i]) if fixed is not None else None,
                bind_label=bind_label,
            )
        )
    del x_sum, y_sum, xy  # the dealer forgets the triples
    return out


def blinding_of(materials: list[PartyMaterial]) -> tuple[int, int]:
    """(r, s) reconstructed from all parties' seeds: for tests that inject them into a plain run."""
    r = sum(prg.expand_scalar(m.seed, L_R) for m in materials) % R
    s = sum(prg.expand_scalar(m.seed, L_S) for m in materials) % R
    return r, s

