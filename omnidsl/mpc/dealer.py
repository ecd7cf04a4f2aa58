"""The data owner's dealing: witness shares, Beaver triples and blinding shares for N servers.

Every party i gets one fresh 32-byte seed s_i.  From it (``prg.expand(s_i, label, n)``):

==============  ==========================  =============================================
label           all parties                 last party (N−1) instead gets explicitly
==============  ==========================  =============================================
``witness``     share of z (bounded masks)  z − Σ_{i<N−1} z_i
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

Bounded masks (``mask_slack`` σ > 0, the default when the proving key carries wire widths): the
seeded witness shares are ``prg.expand_masked(seed, "witness", widths)`` with widths =
``shares.mask_widths(wire_bits, n_wires, σ)`` — uniform on [0, 2^(b+σ)) for a wire of width b —
instead of uniform on F_r; the statistical argument is in ``omnidsl/mpc/shares.py``.  The dealer
refuses a witness with a value outside its wire's declared width (before anything is sent).

Dealt witness MSMs (optional, :func:`share_dealt_msms`, mode "split"): the data owner computes
π_A's and π_B(G2)'s witness MSMs itself (cheap on its sparse clear witness) and deals them as
additive point shares, ``witness_msm`` = a (G1) ‖ b2 (G2); N−1 parties get uniformly random
points k·G (k from ``secrets``), the last gets P − Σ others.  The servers still compute [π_B]
in G1 and [L] from their witness shares, and check e(π_B1, g2) = e(g1, π_B2) after opening
(``groth16.driver.DealtMsmShares``; why this binds the proof to the shared witness: docs/mpc.md).
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
from omnidsl.groth16.driver import DealtMsmShares
from omnidsl.groth16.points import (
    G1_BYTES,
    G2_BYTES,
    g1_from_bytes,
    g1_to_bytes,
    g2_from_bytes,
    g2_to_bytes,
)
from omnidsl.mpc import prg, shares

SESSION_ID_BYTES = 16
L_WITNESS = b"witness"
L_X = b"triple/x"
L_Y = b"triple/y"
L_Z = b"triple/z"
L_R = b"blind/r"
L_S = b"blind/s"
L_RS = b"blind/rs"
#: size of one party's dealt witness-MSM shares: a ‖ b2
WITNESS_MSM_BYTES = G1_BYTES + G2_BYTES
#: largest accepted mask slack σ (bits above a wire's width)
MAX_MASK_SLACK = 128


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
    witness_msm: bytes | None = None  # dealt shares of the A and B2 witness MSMs (mode split)
    mask_slack: int = 0  # σ of the bounded witness masks (0: uniform masks on F_r)

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
            if self.party_id > 0 and any(self.witness[: len(self.public)]):
                raise ValueError("the last party's explicit share must be 0 on the public wires "
                                 "(only the leader carries public values)")
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
        if self.mask_slack and not shares.mask_slack(self.n_wires) <= self.mask_slack \
                <= MAX_MASK_SLACK:
            raise ValueError(f"mask slack {self.mask_slack} is neither 0 (uniform masks) nor in "
                             f"{shares.mask_slack(self.n_wires)}..{MAX_MASK_SLACK} (a smaller "
                             f"slack would not hide the witness)")
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
    witness_msm: bytes | None = None  # mode split: encoded DealtMsmShares (unchecked)


def encode_dealt_msms(w: DealtMsmShares) -> bytes:
    """a ‖ b2 in the backend's point encoding (WITNESS_MSM_BYTES)."""
    return g1_to_bytes(w.a) + g2_to_bytes(w.b2)


def decode_dealt_msms(buf: bytes, backend: Backend) -> DealtMsmShares:
    """Inverse of :func:`encode_dealt_msms`; ValueError unless both are valid points."""
    if len(buf) != WITNESS_MSM_BYTES:
        raise ValueError(f"dealt MSM shares need {WITNESS_MSM_BYTES} bytes, got {len(buf)}")
    a = g1_from_bytes(buf[:G1_BYTES])
    b2 = g2_from_bytes(buf[G1_BYTES:])
    if not (a is None or backend.g1_is_valid(a)) or not (b2 is None or backend.g2_is_valid(b2)):
        raise ValueError("dealt MSM shares are not valid curve points")
    return DealtMsmShares(a=a, b2=b2)


def share_dealt_msms(backend: Backend, w: DealtMsmShares, n_parties: int) -> list[bytes]:
    """Additive point shares of ``w`` for ``n_parties``: N−1 uniformly random points k·G
    (fresh k from ``secrets`` per point and party), the last = w − Σ others; encoded."""
    if n_parties < 1:
        raise ValueError("need at least one party")
    g1, g2 = backend.g1_generator(), backend.g2_generator()
    out: list[bytes] = []
    a, b2 = w.a, w.b2
    for _ in range(n_parties - 1):
        pa = backend.g1_mul(g1, 1 + secrets.randbelow(R - 1))
        pb = backend.g2_mul(g2, 1 + secrets.randbelow(R - 1))
        out.append(encode_dealt_msms(DealtMsmShares(pa, pb)))
        a = backend.g1_add(a, backend.g1_neg(pa))
        b2 = backend.g2_add(b2, backend.g2_neg(pb))
    out.append(encode_dealt_msms(DealtMsmShares(a, b2)))
    return out


def seeded_witness_share(seed: bytes, widths: np.ndarray, public: bytes,
                         is_leader: bool) -> bytes:
    """A seed-derived witness share (masks of the given widths) with the public-wire convention
    applied."""
    share = bytearray(prg.expand_masked(seed, L_WITNESS, widths))
    share[: len(public)] = public if is_leader else bytes(len(public))
    return bytes(share)


def check_widths(witness: bytes, wire_bits: np.ndarray) -> None:
    """Raise ValueError unless every wire's value fits its declared width (|v| < 2^bits)."""
    bits = np.asarray(wire_bits, dtype=np.int64)
    bad = np.nonzero(~shares.below_pow2(witness, bits))[0]
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"witness wire #{i} does not fit its declared width of {bits[i]} bits "
                         f"({bad.size} wires do not); the proving key's width table does not "
                         f"match this witness")


def expand_material(m: PartyMaterial, wire_bits: np.ndarray | None = None) -> ExpandedMaterial:
    """Expand a party's seed into its shares (the server side of :func:`deal`); ``wire_bits``:
    the proving key's wire widths (needed when the session uses bounded masks)."""
    m.validate()
    if m.mask_slack and wire_bits is None:
        raise ValueError("this session uses bounded masks but the proving key has no wire widths")
    if m.is_last:
        assert m.witness is not None and m.triple_z is not None and m.rs is not None
        witness, z, rs = m.witness, m.triple_z, m.rs
    else:
        widths = shares.mask_widths(wire_bits, m.n_wires, m.mask_slack)
        witness = seeded_witness_share(m.seed, widths, m.public, m.party_id == 0)
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
    wire_bits: np.ndarray | None = None,
) -> list[PartyMaterial]:
    """Share ``witness`` (n_wires*32 bytes) and deal ``n_triples`` triples plus r, s, r·s.

    With ``fixed``, party i's witness share on ``fixed.wires`` is ``fixed.shares[i]`` (checked:
    they must sum to the witness there); ``bind_label`` is passed to every party.  With
    ``wire_bits`` (the proving key's widths) the witness gets bounded masks (σ =
    ``shares.mask_slack``); without, uniform masks on F_r."""
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
    slack = 0
    if wire_bits is not None and n_parties > 1:
        check_widths(witness, wire_bits)
        slack = shares.mask_slack(n_wires)
    widths = shares.mask_widths(wire_bits, n_wires, slack)
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
        share_i = seeded_witness_share(seed, widths, public, i == 0)
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
                mask_slack=slack,
            )
        )
    del x_sum, y_sum, xy  # the dealer forgets the triples
    return out


def blinding_of(materials: list[PartyMaterial]) -> tuple[int, int]:
    """(r, s) reconstructed from all parties' seeds: for tests that inject them into a plain run."""
    r = sum(prg.expand_scalar(m.seed, L_R) for m in materials) % R
    s = sum(prg.expand_scalar(m.seed, L_S) for m in materials) % R
    return r, s

