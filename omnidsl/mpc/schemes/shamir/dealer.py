"""The data owner's dealing for the Shamir (N, t) scheme, and a server's expansion of it.

What is dealt (docs/mpc.md, "Shamir scheme"), each as a degree-t sharing f(x_i), x_i = i + 1,
with f(0) the secret and the other t coefficients uniformly random:

* the private witness wires z_ℓ+1..z_n−1 (the public wires 0..ℓ are not shared: every party
  sets its share to the public value, the constant polynomial);
* the Groth16 blinding scalars r and s (uniform, fresh per session);
* a check mask m (uniform): it hides the one value the consistency check opens;
* a degree-**2t** sharing ζ of 0 (f(0) = 0, the 2t other coefficients uniform): the driver adds
  it to its share r_i·s_i of r·s, so the opened π_C polynomial (degree 2t, every share is
  broadcast) is uniformly random apart from its value at 0 — the product of two random
  polynomials is not random, and without ζ its shares would tell t servers more than π_C;
* mode split (optional): P_A = Σ z_i·A_i (G1) and P_B2 = Σ z_i·B_i (G2), shared in the exponent
  (P + Σ_k x_i^k·R_k with R_k = k_k·G, k_k uniform).

Parties 0..t−1 get a 32-byte seed instead of explicit shares: their witness, r, s, m, ζ shares are
``prg.expand(seed, label, …)`` (uniform), and they fix the polynomial together with the secret,
so parties t..N−1 get f(x_j) = λ_0(x_j)·secret + Σ_k λ_k+1(x_j)·f(x_k) explicitly (for ζ,
parties t..2t−1 get uniform values too and the rest follow by degree 2t).  Any t
shares are uniform and independent of the secrets (they are t values of a polynomial with
t + 1 coefficients of which only f(0) is fixed).

Commitments (binding): party i's material has a fresh 32-byte ``salt``; its digest c_i =
SHA-256(salt ‖ everything else it was dealt), and every party receives the list c_0..c_N−1
(``digests``).  A server checks its own c_i, and the consistency check's challenge is derived
from root = SHA-256(``ROOT_DOMAIN`` ‖ session id ‖ public ‖ digests) — fixed only once the data
owner has fixed every party's shares (Fiat–Shamir), hiding thanks to the salts.
"""

from __future__ import annotations

import hashlib
import secrets
import struct
from dataclasses import dataclass, replace

import numpy as np

from omnidsl.backend.base import Backend
from omnidsl.field import FR_BYTES, R
from omnidsl.groth16.driver import DealtMsmShares
from omnidsl.mpc import prg
from omnidsl.mpc.schemes.additive.dealer import check_widths
from omnidsl.mpc.schemes.session import (
    SESSION_ID_BYTES,
    WITNESS_MSM_BYTES,
    decode_dealt_msms,
    encode_dealt_msms,
    new_session_id,
)
from omnidsl.mpc.schemes.shamir import bounded, poly

SCHEME = "shamir"
L_WITNESS = b"shamir/witness"
L_SCALARS = b"shamir/scalars"  # r, s, m, ζ (four elements)
L_CHECK = b"shamir/check"
DIGEST_DOMAIN = b"omnidsl-shamir-material/v1"
ROOT_DOMAIN = b"omnidsl-shamir-root/v1"
SALT_BYTES = 32
SCALARS_BYTES = 4 * FR_BYTES


def max_threshold(n_parties: int) -> int:
    """The largest t with 2t + 1 ≤ N (π_C has degree 2t)."""
    return (n_parties - 1) // 2


def check_params(n_parties: int, threshold: int) -> None:
    """ValueError unless 1 ≤ t and 2t + 1 ≤ N ≤ 255."""
    if threshold < 1 or 2 * threshold + 1 > n_parties or n_parties > 255:
        raise ValueError(f"Shamir needs 1 ≤ t and 2t + 1 ≤ N ≤ 255, got N = {n_parties}, "
                         f"t = {threshold}")


@dataclass(frozen=True)
class ShamirMaterial:
    """Everything one server receives from the data owner for one Shamir session."""

    session_id: bytes
    party_id: int
    n_parties: int
    threshold: int
    n_wires: int
    public: bytes  # values of wires 0..n_public−1 (wire 0 = 1)
    salt: bytes
    digests: bytes  # N × 32: c_0 ‖ … ‖ c_N−1
    seed: bytes | None = None  # parties < t
    witness: bytes | None = None  # parties ≥ t: share of the private wires
    scalars: bytes | None = None  # parties ≥ t: shares of r ‖ s ‖ m ‖ ζ
    witness_msm: bytes | None = None  # mode split: shares of P_A ‖ P_B2
    scale: int = 1  # Δ of bounded shares (bounded.py; 1: uniform Shamir shares, seeds for < t)
    bind_label: str | None = None  # (SessionMaterial field; binding needs fixed wires)
    fixed_wires: bytes | None = None  # always None: Shamir sessions have no fixed wires
    fixed_share: bytes | None = None  # always None

    @property
    def scheme(self) -> str:
        return SCHEME

    @property
    def n_public(self) -> int:
        return len(self.public) // FR_BYTES

    @property
    def seeded(self) -> bool:
        return self.party_id < self.threshold and self.scale == 1

    def validate(self) -> None:
        """ValueError if the fields are inconsistent (sizes, ranges, who gets what, digest)."""
        check_params(self.n_parties, self.threshold)
        if not 0 <= self.party_id < self.n_parties:
            raise ValueError(f"party id {self.party_id} not in 0..{self.n_parties - 1}")
        if len(self.session_id) != SESSION_ID_BYTES or len(self.salt) != SALT_BYTES:
            raise ValueError("bad session id or salt length")
        if len(self.public) % FR_BYTES or not 1 <= self.n_public <= self.n_wires:
            raise ValueError("bad public values")
        prg.check_elements(self.public)
        if int.from_bytes(self.public[:FR_BYTES], "little") != 1:
            raise ValueError("public wire 0 must be 1")
        if len(self.digests) != 32 * self.n_parties:
            raise ValueError(f"the digest list needs {32 * self.n_parties} bytes")
        if self.seeded:
            if self.seed is None or len(self.seed) != prg.SEED_BYTES \
                    or self.witness is not None or self.scalars is not None:
                raise ValueError(f"party {self.party_id} < t gets a seed and no explicit shares")
        else:
            if self.seed is not None or self.witness is None or self.scalars is None:
                raise ValueError(f"party {self.party_id} ≥ t gets explicit shares and no seed")
            if len(self.witness) != (self.n_wires - self.n_public) * FR_BYTES \
                    or len(self.scalars) != SCALARS_BYTES:
                raise ValueError("explicit shares have the wrong length")
            prg.check_elements(self.witness)
            prg.check_elements(self.scalars)
        if self.witness_msm is not None and len(self.witness_msm) != WITNESS_MSM_BYTES:
            raise ValueError(f"witness MSM shares need {WITNESS_MSM_BYTES} bytes")
        if self.fixed_wires is not None or self.fixed_share is not None:
            raise ValueError("the Shamir scheme takes no fixed shares")
        if self.scale != 1 and self.scale != bounded.integer_scale(self.n_parties,
                                                                    self.threshold)[0]:
            raise ValueError(f"scale {self.scale} is neither 1 (uniform shares) nor Δ = "
                             f"{bounded.integer_scale(self.n_parties, self.threshold)[0]} of "
                             f"bounded shares for N = {self.n_parties}, t = {self.threshold}")
        mine = self.digests[32 * self.party_id: 32 * self.party_id + 32]
        if material_digest(self) != mine:
            raise ValueError(f"party {self.party_id}'s material does not match its digest in the "
                             "list every party received")

    def root(self) -> bytes:
        """The session's commitment root (same at every party for an honest dealer)."""
        return hashlib.sha256(ROOT_DOMAIN + self.session_id + self.public
                              + self.digests).digest()


def _field(b: bytes | None) -> bytes:
    return struct.pack("<I", 0xFFFFFFFF) if b is None else struct.pack("<I", len(b)) + b


def material_digest(m: ShamirMaterial) -> bytes:
    """c_i = SHA-256(domain ‖ salt ‖ session ‖ ids ‖ scale ‖ public ‖ seed ‖ witness ‖ scalars ‖ msm)
    (each variable field prefixed by u32 length, absent = 0xFFFFFFFF)."""
    h = hashlib.sha256(DIGEST_DOMAIN)
    h.update(m.salt + m.session_id)
    h.update(struct.pack("<BBBI", m.party_id, m.n_parties, m.threshold, m.n_wires))
    h.update(m.scale.to_bytes(32, "little"))
    for part in (m.public, m.seed, m.witness, m.scalars, m.witness_msm):
        h.update(_field(part))
    return h.digest()


@dataclass(frozen=True)
class ShamirShares:
    """A party's material expanded: what the driver computes with."""

    witness: bytes  # full n_wires·32 share (public wires hold the public values)
    r: int
    s: int
    mask: int
    zero: int  # ζ: share of a degree-2t sharing of 0
    n_public: int
    root: bytes
    witness_msm: bytes | None = None
    msm_witness: bytes | None = None  # bounded: shares of Δ·z (small scalars for the MSMs)
    scale: int = 1


def _scalars(buf: bytes) -> tuple[int, ...]:
    """r, s, m, ζ from their 4·32-byte encoding."""
    return tuple(int.from_bytes(buf[k * FR_BYTES:(k + 1) * FR_BYTES], "little")
                 for k in range(4))


def expand(m: ShamirMaterial, backend: Backend | None = None) -> ShamirShares:
    """Validate a party's material (its digest included) and expand its seed."""
    m.validate()
    n_priv = m.n_wires - m.n_public
    if m.seeded:
        assert m.seed is not None
        priv = prg.expand(m.seed, L_WITNESS, n_priv)
        scal = prg.expand(m.seed, L_SCALARS, 4)
    else:
        assert m.witness is not None and m.scalars is not None
        priv, scal = m.witness, m.scalars
    r, s, mask, zero = _scalars(scal)
    if m.scale == 1:
        return ShamirShares(m.public + priv, r, s, mask, zero, m.n_public, m.root(),
                            m.witness_msm)
    if backend is None:
        from omnidsl.backend import get_backend

        backend = get_backend()
    be = backend
    inv = pow(m.scale, -1, R)
    return ShamirShares(m.public + be.fr_scale(priv, inv), r, s, mask, zero, m.n_public,
                        m.root(), m.witness_msm, be.fr_scale(m.public, m.scale) + priv, m.scale)


def share_points(backend: Backend, w: DealtMsmShares, n_parties: int,
                 threshold: int) -> list[bytes]:
    """Degree-t sharings in the exponent of P_A (G1) and P_B2 (G2), encoded per party."""
    g1, g2 = backend.g1_generator(), backend.g2_generator()
    ra = [backend.g1_mul(g1, 1 + secrets.randbelow(R - 1)) for _ in range(threshold)]
    rb = [backend.g2_mul(g2, 1 + secrets.randbelow(R - 1)) for _ in range(threshold)]
    out = []
    for j in range(n_parties):
        x = poly.point(j)
        a, b2 = w.a, w.b2
        for k in range(threshold):
            a = backend.g1_add(a, backend.g1_mul(ra[k], pow(x, k + 1, R)))
            b2 = backend.g2_add(b2, backend.g2_mul(rb[k], pow(x, k + 1, R)))
        out.append(encode_dealt_msms(DealtMsmShares(a, b2)))
    return out


def deal(backend: Backend, witness: bytes, n_public: int, n_parties: int, threshold: int,
         session_id: bytes | None = None, dealt: DealtMsmShares | None = None,
         wire_bits: np.ndarray | None = None) -> list[ShamirMaterial]:
    """Deal degree-``threshold`` shares of ``witness`` (n_wires·32 bytes; wires < n_public are
    public) and of fresh r, s, m to ``n_parties`` servers; ``dealt``: mode split's points;
    ``wire_bits`` (the key's widths): bounded shares of Δ·witness (bounded.py), all explicit."""
    check_params(n_parties, threshold)
    if len(witness) % FR_BYTES:
        raise ValueError("witness length is not a multiple of 32")
    n_wires = len(witness) // FR_BYTES
    if not 1 <= n_public <= n_wires:
        raise ValueError(f"n_public={n_public} not in 1..{n_wires}")
    prg.check_elements(witness)
    sid = session_id or new_session_id()
    public, secret = witness[: n_public * FR_BYTES], witness[n_public * FR_BYTES:]
    n_priv = n_wires - n_public
    seeds = [prg.new_seed() for _ in range(threshold)]
    first_w = [prg.expand(s, L_WITNESS, n_priv) for s in seeds]
    first_s = [_scalars(prg.expand(s, L_SCALARS, 4)) for s in seeds]
    scale = bounded.integer_scale(n_parties, threshold)[0] if wire_bits is not None else 1
    if wire_bits is not None and scale > 1:
        check_widths(witness, wire_bits)
        widths = bounded.coefficient_widths(wire_bits, n_wires, n_parties, threshold)
        all_w = bounded.share(backend, secret, widths[n_public:], n_parties, threshold)
    else:
        scale = 1
        rest_w = poly.extend(backend, secret, first_w, n_parties) if n_priv else \
            [b""] * (n_parties - threshold)
        all_w = [b""] * threshold + rest_w
    secrets3 = [1 + secrets.randbelow(R - 1) for _ in range(2)] + [secrets.randbelow(R)]
    rest_s = [poly.extend_scalars(secrets3[k], [f[k] for f in first_s], n_parties)
              for k in range(3)]
    zeta = [f[3] for f in first_s] + [secrets.randbelow(R) for _ in range(threshold)]
    rest_s.append(zeta[threshold:] + poly.extend_scalars(0, zeta, n_parties))
    points = share_points(backend, dealt, n_parties, threshold) if dealt is not None \
        else [None] * n_parties
    drafts = []
    all_s = [list(f) for f in first_s] + [[rest_s[k][i] for k in range(4)]
                                          for i in range(n_parties - threshold)]
    for j in range(n_parties):
        explicit = j >= threshold or scale != 1
        scal = b"".join(v.to_bytes(32, "little") for v in all_s[j]) if explicit else None
        drafts.append(ShamirMaterial(
            session_id=sid, party_id=j, n_parties=n_parties, threshold=threshold,
            n_wires=n_wires, public=public, salt=secrets.token_bytes(SALT_BYTES), digests=b"",
            seed=None if explicit else seeds[j], witness=all_w[j] if explicit else None,
            scalars=scal, witness_msm=points[j], scale=scale))
    return recommit(drafts)


def decode_points(buf: bytes | None, backend: Backend) -> DealtMsmShares | None:
    """The dealt point shares (checked to be valid points) or None."""
    return None if buf is None else decode_dealt_msms(buf, backend)


def recommit(materials: list[ShamirMaterial]) -> list[ShamirMaterial]:
    """The same materials with the digest list recomputed from their contents (what a dealer
    does after changing a share; tests use it to play a malicious data owner)."""
    digests = b"".join(material_digest(m) for m in materials)
    return [replace(m, digests=digests) for m in materials]


def blinding_of(materials: list[ShamirMaterial]) -> tuple[int, int]:
    """(r, s) interpolated from the first t + 1 parties' shares (tests: the plain reference)."""
    t = materials[0].threshold
    ex = {m.party_id: expand(m) for m in materials[: t + 1]}
    comb = poly.scalar_combiner()
    return (poly.interpolate({j: e.r for j, e in ex.items()}, t, comb),
            poly.interpolate({j: e.s for j, e in ex.items()}, t, comb))
