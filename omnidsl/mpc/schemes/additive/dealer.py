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
instead of uniform on F_r; the statistical argument is in ``shares.py``.  The dealer
refuses a witness with a value outside its wire's declared width (before anything is sent).

Dealt witness MSMs (optional, :func:`share_dealt_msms`, mode "split"): the data owner computes
π_A's and π_B(G2)'s witness MSMs itself (cheap on its sparse clear witness) and deals them as
additive point shares, ``witness_msm`` = a (G1) ‖ b2 (G2); N−1 parties get uniformly random
points k·G (k from ``secrets``), the last gets P − Σ others.  The servers still compute [π_B]
in G1 and [L] from their witness shares, and check e(π_B1, g2) = e(g1, π_B2) after opening
(``groth16.driver.DealtMsmShares``; why this binds the proof to the shared witness: docs/mpc.md).
"""

from __future__ import annotations

import secrets

import numpy as np

from omnidsl.backend.base import Backend
from omnidsl.field import FR_BYTES, R
from omnidsl.groth16.driver import DealtMsmShares
from omnidsl.mpc import prg
from omnidsl.mpc.schemes import FixedShares
from omnidsl.mpc.schemes.additive import shares
from omnidsl.mpc.schemes.additive.material import (
    L_R,
    L_RS,
    L_S,
    L_X,
    L_Y,
    L_Z,
    PartyMaterial,
    encode_dealt_msms,
    new_session_id,
    overwrite,
    seeded_witness_share,
)


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



def check_widths(witness: bytes, wire_bits: np.ndarray) -> None:
    """Raise ValueError unless every wire's value fits its declared width (|v| < 2^bits)."""
    bits = np.asarray(wire_bits, dtype=np.int64)
    bad = np.nonzero(~shares.below_pow2(witness, bits))[0]
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"witness wire #{i} does not fit its declared width of {bits[i]} bits "
                         f"({bad.size} wires do not); the proving key's width table does not "
                         f"match this witness")



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
            share_i = overwrite(share_i, fixed_w, fixed.shares[i])
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


