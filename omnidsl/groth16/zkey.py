"""snarkjs Groth16 ``.zkey`` files: write our proving key as one, read one into our key.

Container (omnidsl/r1cs/binfile.py) with magic ``zkey``, version 1, ten sections (docs/formats.md
has the full mapping):

1. u32 protocol = 1 (Groth16)
2. u32 n8q, q, u32 n8r, r, u32 nVars, u32 nPublic, u32 domainSize, [α]₁, [β]₁, [β]₂, [γ]₂,
   [δ]₁, [δ]₂
3. IC (nPublic + 1 G1)                      = our ``vk.ic``
4. u32 count, then (u32 matrix 0=A/1=B, u32 row, u32 wire, coefficient·R² mod r) for every
   A and B term, constraint by constraint, then A = z_s for the input rows m + s, s = 0..nPublic
5. A (nVars G1) = ``a_query``;  6. B1 = ``b_g1_query``;  7. B2 (G2) = ``b_g2_query``
8. C (private wires, G1) = ``l_query``
9. H (domainSize G1): [L^(2n)_(2i+1)(τ)·Z(τ)/δ... ]: the odd Lagrange points of the domain of
   size 2n, over δ (circom's reduction); ours are [τ^j·Z(τ)/δ], j < n − 1 (libsnark's).  The two
   bases span the same space: hExps_k = −(1/2n)·Σ_j μ_k^(−j)·H_j with μ_k = ω_2n·ω_n^k, and back
   H_j = −2·Σ_k μ_k^j·hExps_k — one group FFT each way (:func:`h_to_zkey`, :func:`h_from_zkey`).
   Our basis lacks the j = n − 1 term; its coefficient is 0 for every satisfying witness, and
   ``snarkjs zkey verify`` checks only the span of j < n − 1, so the exported key proves and
   verifies exactly.
10. csHash (64-byte Blake2b of the initial key, :func:`circuit_hash`), u32 n, contributions.

Points are affine, each coordinate 32 bytes little-endian in Montgomery form (x·2²⁵⁶ mod q),
G2 coordinates c0 then c1, the point at infinity all zeros.
"""

from __future__ import annotations

import hashlib
import logging
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omnidsl.backend.base import TWO_ADIC_ROOT, TWO_ADICITY, Backend
from omnidsl.errors import FormatError, ProofError
from omnidsl.field import Q, R
from omnidsl.groth16.keys import ProvingKey, VerifyingKey, trusted_call
from omnidsl.groth16.points import (
    G1_BYTES,
    G2_BYTES,
    g1_array,
    g1_from_bytes,
    g1_list,
    g2_from_bytes,
    g2_to_bytes,
)
from omnidsl.r1cs.binfile import container_bytes, read_container, write_chunks
from omnidsl.r1cs.system import R1CS

log = logging.getLogger(__name__)

GROTH16 = 1
N_SECTIONS = 10
_RQ = (1 << 256) % Q
_RQ_INV = pow(_RQ, -1, Q)
_RR2 = pow(1 << 256, 2, R)
_RR2_INV = pow(_RR2, -1, R)


# ------------------------------------------------------------------ encodings


def _words(buf: bytes) -> list[int]:
    return [int.from_bytes(buf[i: i + 32], "little") for i in range(0, len(buf), 32)]


def to_montgomery(buf: bytes) -> bytes:
    """Our point array (standard coordinates) → snarkjs's LEM encoding."""
    return b"".join((v * _RQ % Q).to_bytes(32, "little") for v in _words(buf))


def from_montgomery(buf: bytes, what: str) -> bytes:
    """snarkjs's LEM point encoding → ours (FormatError for a coordinate ≥ q)."""
    out = []
    for i, v in enumerate(_words(buf)):
        if v >= Q:
            raise FormatError(f"{what}: coordinate #{i} is not reduced mod q")
        out.append((v * _RQ_INV % Q).to_bytes(32, "little"))
    return b"".join(out)


def _uncompressed(buf: bytes, size: int) -> bytes:
    """Points in ffjavascript's uncompressed form as its batch conversion writes them
    (big-endian x‖y, G2 coordinates c1‖c0, infinity all zeros): what the csHash hashes."""
    out = bytearray()
    for i in range(0, len(buf), size):
        p = buf[i: i + size]
        if not any(p):
            out += bytes(size)
            continue
        words = [p[j: j + 32][::-1] for j in range(0, size, 32)]
        if size == G2_BYTES:
            words = [words[1], words[0], words[3], words[2]]
        out += b"".join(words)
    return bytes(out)


def circuit_hash(pk: ProvingKey) -> bytes:
    """snarkjs's csHash of ``pk`` read as an initial phase-2 key (Blake2b-512 over the header
    points, then IC, H (τ^j·Z(τ) form), C, A, B1, B2, each preceded by its u32 BE length).
    Equal to the csHash of ``snarkjs zkey new`` for our initial key from the same .ptau."""
    h = hashlib.blake2b(digest_size=64)
    g1 = lambda b: h.update(_uncompressed(b, G1_BYTES))  # noqa: E731
    g2 = lambda b: h.update(_uncompressed(b, G2_BYTES))  # noqa: E731
    g1(g1_array([pk.vk.alpha_g1, pk.beta_g1]))
    g2(g2_to_bytes(pk.vk.beta_g2) + g2_to_bytes(pk.vk.gamma_g2))
    g1(g1_array([pk.delta_g1]))
    g2(g2_to_bytes(pk.vk.delta_g2))
    for buf, size in ((g1_array(pk.vk.ic), G1_BYTES), (pk.h_query, G1_BYTES),
                      (pk.l_query, G1_BYTES), (pk.a_query, G1_BYTES),
                      (pk.b_g1_query, G1_BYTES), (pk.b_g2_query, G2_BYTES)):
        h.update(struct.pack(">I", len(buf) // size))
        h.update(_uncompressed(buf, size))
    return h.digest()


# ------------------------------------------------------------------ H basis change


def _fr_bytes(values: list[int]) -> bytes:
    return b"".join(v.to_bytes(32, "little") for v in values)


def _limbs(values: list[int]) -> np.ndarray:
    """Field elements (reduced mod r here) as (k, 4) u64 limbs."""
    return np.frombuffer(_fr_bytes([v % R for v in values]), "<u8").reshape(-1, 4)


def _combine(backend: Backend, row_ptr: np.ndarray, idx: np.ndarray, coeff: np.ndarray,
             points: bytes) -> bytes:
    """Row r of the result = Σ coeff·points[idx] over its terms (trusted points)."""
    return trusted_call(backend.g1_sparse_combine, np.ascontiguousarray(row_ptr, np.int64),
                        np.ascontiguousarray(idx, np.int64),
                        np.ascontiguousarray(coeff, np.uint64).reshape(-1, 4), points)


def _diagonal(backend: Backend, idx: np.ndarray, coeff: np.ndarray, points: bytes) -> bytes:
    """out_r = coeff_r·points[idx_r]."""
    return _combine(backend, np.arange(idx.shape[0] + 1), idx, coeff, points)


_ONE, _MINUS_ONE = _limbs([1])[0], _limbs([-1])[0]


def group_dft(backend: Backend, points: bytes, omega: int) -> bytes:
    """out_k = Σ_j ω^(jk)·P_j over G1 points (n a power of two): radix-2, two sparse
    combinations a level (twiddles, then ± butterflies), n·log n group additions and
    n/2·log n multiplications by twiddles."""
    n = len(points) // G1_BYTES
    bits = n.bit_length() - 1
    i = np.arange(n, dtype=np.int64)
    rev = np.zeros(n, np.int64)
    for b in range(bits):
        rev |= ((i >> b) & 1) << (bits - 1 - b)
    a = _diagonal(backend, rev, np.tile(_ONE, (n, 1)), points)
    m = 2
    while m <= n:
        half = m // 2
        w_m = pow(omega, n // m, R)
        tw = [1] * half
        for j in range(1, half):
            tw[j] = tw[j - 1] * w_m % R
        odd = i[(i % m) >= half]  # the second input of every butterfly
        t = _diagonal(backend, odd, _limbs(tw)[odd % m - half], a)  # t = w^j·A[odd]
        u = odd - half
        # rows u: A[u] + t, rows odd: A[u] − t (t is appended after A, at n + position)
        idx = np.empty((n, 2), np.int64)
        coeff = np.empty((n, 2, 4), np.uint64)
        pos = n + np.arange(odd.shape[0], dtype=np.int64)
        idx[u, 0], idx[u, 1], idx[odd, 0], idx[odd, 1] = u, pos, u, pos
        coeff[:, 0] = _ONE
        coeff[u, 1], coeff[odd, 1] = _ONE, _MINUS_ONE
        a = _combine(backend, np.arange(0, 2 * n + 1, 2), idx.reshape(-1), coeff, a + t)
        log.debug("group FFT over %d points: level %d of %d", n, m.bit_length() - 1, bits)
        m *= 2
    return a


def _roots(n: int) -> tuple[int, int]:
    """(ω_n, ω_2n) of the FFT domains (arkworks' and snarkjs's roots agree)."""
    log_n = n.bit_length() - 1
    if log_n + 1 > TWO_ADICITY:
        raise FormatError(f"domain 2^{log_n} is too large for a zkey (at most 2^27)")
    w2n = pow(TWO_ADIC_ROOT, 1 << (TWO_ADICITY - log_n - 1), R)
    return w2n * w2n % R, w2n


def h_to_zkey(backend: Backend, h_query: bytes, n: int) -> bytes:
    """Our H query ([τ^j·Z(τ)/δ], j < n − 1) → the zkey's hExps (see the module doc)."""
    w_n, g = _roots(n)
    g_inv, c = pow(g, -1, R), -pow(2 * n, -1, R) % R
    scale = [c] * n
    for j in range(1, n):
        scale[j] = scale[j - 1] * g_inv % R
    pts = h_query + bytes(G1_BYTES)  # the j = n − 1 term: see the module doc
    scaled = _diagonal(backend, np.arange(n, dtype=np.int64), _limbs(scale), pts)
    return group_dft(backend, scaled, pow(w_n, -1, R))


def h_exps_from_waste(backend: Backend, h_query: bytes, n: int, tau: int, delta: int) -> bytes:
    """The zkey's hExps of the key whose toxic waste is τ, δ, without a group DFT (setup time).

    With μ_k = g·ω_n^k (g = ω_2n), :func:`h_to_zkey` computes hExps_k = −(1/2n)·Σ_(j<n−1)
    μ_k^(−j)·[τ^j·Z(τ)/δ] = s_k·G, s_k = −Z(τ)/(2nδ)·Σ_(j<n−1) (τ/μ_k)^j: a geometric sum, i.e.
    s = −Z(τ)/(2δ)·iFFT(v) with v_j = (τ/g)^j for j < n − 1 and v_(n−1) = 0 (the module doc's
    missing term).  One field iFFT and one fixed-base batch multiplication.  Checked against
    ``h_query`` (the key's points) at j = 0, 1 and n − 2 through the inverse map
    H_j = −2·g^j·FFT(s)_j·G: ProofError when τ, δ are not the key's."""
    _, g = _roots(n)
    x, v = tau * pow(g, -1, R) % R, [0] * n
    t = 1
    for j in range(n - 1):
        v[j], t = t, t * x % R
    z_delta = (pow(tau, n, R) - 1) * pow(delta, -1, R) % R
    s = backend.fr_scale(backend.ifft(_fr_bytes(v)), -z_delta * pow(2, -1, R) % R)
    back = backend.fft(s)
    one = backend.g1_generator()
    for j in sorted({0, 1, n - 2} & set(range(n - 1))):
        coeff = -2 * pow(g, j, R) * int.from_bytes(back[32 * j: 32 * j + 32], "little") % R
        if g1_array([backend.g1_mul(one, coeff)]) != h_query[G1_BYTES * j: G1_BYTES * (j + 1)]:
            raise ProofError(f"zkey H section: τ and δ are not this key's (its H query differs "
                             f"at j = {j})")
    return bytes(backend.g1_batch_mul(one, s))


def h_from_zkey(backend: Backend, h_exps: bytes, n: int) -> bytes:
    """The zkey's hExps → our H query (n − 1 points)."""
    w_n, g = _roots(n)
    d = group_dft(backend, h_exps, w_n)
    scale = [R - 2] * (n - 1)
    for j in range(1, n - 1):
        scale[j] = scale[j - 1] * g % R
    return _diagonal(backend, np.arange(n - 1, dtype=np.int64), _limbs(scale), d)


# ------------------------------------------------------------------ coefficients


def coefficient_entries(r1cs: R1CS) -> np.ndarray:
    """Section 4's entries as a (count, 3 + 8) u32 array (matrix, row, wire, value words), in
    snarkjs's order: constraint by constraint A's then B's terms, then the input rows."""
    table = np.frombuffer(_fr_bytes([v * _RR2 % R for v in r1cs.coeffs]) or b"", "<u4")
    table = table.reshape(-1, 8)
    parts = []
    for mi, mat in enumerate((r1cs.A, r1cs.B)):
        e = np.zeros((mat.nnz, 11), "<u4")
        e[:, 0] = mi
        e[:, 1] = mat.row_of_term()
        e[:, 2] = mat.wire
        if mat.nnz:
            e[:, 3:] = table[mat.coeff_id]
        parts.append(e)
    both = np.concatenate(parts)
    both = both[np.lexsort((both[:, 0], both[:, 1]))]  # stable: terms keep their order
    k = r1cs.n_public + 1
    extra = np.zeros((k, 11), "<u4")
    extra[:, 1] = r1cs.n_constraints + np.arange(k)
    extra[:, 2] = np.arange(k)
    extra[:, 3:] = np.frombuffer(_fr_bytes([_RR2]), "<u4")
    return np.concatenate([both, extra])


# ------------------------------------------------------------------ writing


def dumps_zkey(pk: ProvingKey, backend: Backend, mpc: bytes | None = None,
               h_exps: bytes | None = None) -> list[bytes]:
    """The .zkey file of ``pk`` as chunks (section order as ``snarkjs zkey new`` writes them).
    ``mpc``: section 10's payload (snarkjs's contributions) when known, else the csHash of
    ``pk`` and no contribution.  ``h_exps``: section 9 (our point encoding) when the caller has
    it (:func:`h_exps_from_waste`), else computed from ``pk.h_query`` (:func:`h_to_zkey`)."""
    r = pk.r1cs
    n = pk.domain_size
    header = (struct.pack("<I", 32) + Q.to_bytes(32, "little") + struct.pack("<I", 32)
              + R.to_bytes(32, "little") + struct.pack("<III", r.n_wires, r.n_public, n)
              + to_montgomery(g1_array([pk.vk.alpha_g1, pk.beta_g1])
                              + g2_to_bytes(pk.vk.beta_g2) + g2_to_bytes(pk.vk.gamma_g2)
                              + g1_array([pk.delta_g1]) + g2_to_bytes(pk.vk.delta_g2)))
    entries = coefficient_entries(r)
    if mpc is None:
        mpc = circuit_hash(pk) + struct.pack("<I", 0)
    return container_bytes(b"zkey", 1, [
        (1, [struct.pack("<I", GROTH16)]),
        (2, [header]),
        (4, [struct.pack("<I", entries.shape[0]), entries]),
        (3, [to_montgomery(g1_array(pk.vk.ic))]),
        (9, [to_montgomery(h_to_zkey(backend, pk.h_query, n) if h_exps is None else h_exps)]),
        (8, [to_montgomery(pk.l_query)]),
        (5, [to_montgomery(pk.a_query)]),
        (6, [to_montgomery(pk.b_g1_query)]),
        (7, [to_montgomery(pk.b_g2_query)]),
        (10, [mpc]),
    ])


def write_zkey(pk: ProvingKey, path: str | Path, backend: Backend,
               mpc: bytes | None = None, h_exps: bytes | None = None) -> None:
    write_chunks(path, dumps_zkey(pk, backend, mpc, h_exps))


# ------------------------------------------------------------------ reading


@dataclass
class ZKey:
    """A parsed Groth16 .zkey (points in our encoding)."""

    n_vars: int
    n_public: int
    domain_size: int
    alpha_g1: bytes
    beta_g1: bytes
    beta_g2: bytes
    gamma_g2: bytes
    delta_g1: bytes
    delta_g2: bytes
    ic: bytes
    entries: np.ndarray  # (count, 11) u32
    a: bytes
    b1: bytes
    b2: bytes
    c: bytes
    h: bytes
    mpc: bytes  # section 10's payload
    contributions: list[str]  # contributors' names, in order

    @property
    def vk(self) -> VerifyingKey:
        return VerifyingKey(g1_from_bytes(self.alpha_g1), g2_from_bytes(self.beta_g2),
                            g2_from_bytes(self.gamma_g2), g2_from_bytes(self.delta_g2),
                            g1_list(self.ic))


def read_zkey(path: str | Path, header_only: bool = False) -> ZKey:
    """Parse a Groth16 .zkey; FormatError naming the file and section on any mismatch."""
    c = read_container(path, b"zkey", (1,))
    p = c.path

    def section(sid: int, name: str, size: int | None = None) -> bytes:
        off, got = c.unique(name, sid)
        if size is not None and got != size:
            raise FormatError(f"{p}: {name} section (type {sid}) has {got} bytes, "
                              f"expected {size}")
        return c.data[off: off + got]

    (proto,) = struct.unpack("<I", section(1, "header", 4))
    if proto != GROTH16:
        raise FormatError(f"{p}: protocol {proto} is not Groth16 (1)",
                          hint="only Groth16 zkeys can be imported")
    hdr = section(2, "Groth16 header")
    if len(hdr) != 4 + 32 + 4 + 32 + 12 + 3 * G1_BYTES + 3 * G2_BYTES:
        raise FormatError(f"{p}: Groth16 header section has {len(hdr)} bytes")
    n8q, q = struct.unpack_from("<I", hdr)[0], int.from_bytes(hdr[4:36], "little")
    n8r, r = struct.unpack_from("<I", hdr, 36)[0], int.from_bytes(hdr[40:72], "little")
    if (n8q, q, n8r, r) != (32, Q, 32, R):
        raise FormatError(f"{p}: the curve is not bn128/BN254")
    nv, npub, n = struct.unpack_from("<III", hdr, 72)
    if n < 2 or n & (n - 1) or nv < npub + 1:
        raise FormatError(f"{p}: inconsistent header (nVars {nv}, nPublic {npub}, "
                          f"domainSize {n})")
    pts = from_montgomery(hdr[84:], f"{p}: header")
    o = 0
    fields = []
    for size in (G1_BYTES, G1_BYTES, G2_BYTES, G2_BYTES, G1_BYTES, G2_BYTES):
        fields.append(pts[o: o + size])
        o += size
    raw4 = section(4, "coefficients")
    count = struct.unpack_from("<I", raw4)[0] if len(raw4) >= 4 else -1
    if count < 0 or len(raw4) != 4 + 44 * count:
        raise FormatError(f"{p}: coefficients section has {len(raw4)} bytes for "
                          f"{max(count, 0)} entries")
    entries = np.frombuffer(raw4, "<u4", offset=4).reshape(-1, 11)
    mpc = section(10, "contributions")
    names = _contribution_names(mpc, p)
    alpha1, beta1, beta2, gamma2, delta1, delta2 = fields
    zk = ZKey(nv, npub, n, alpha1, beta1, beta2, gamma2, delta1, delta2, ic=b"", entries=entries, a=b"", b1=b"", b2=b"", c=b"",
              h=b"", mpc=mpc, contributions=names)
    if header_only:
        zk.ic = from_montgomery(section(3, "IC", (npub + 1) * G1_BYTES), f"{p}: IC")
        return zk
    for attr, sid, name, size in (("ic", 3, "IC", (npub + 1) * G1_BYTES),
                                  ("a", 5, "A", nv * G1_BYTES), ("b1", 6, "B1", nv * G1_BYTES),
                                  ("b2", 7, "B2", nv * G2_BYTES),
                                  ("c", 8, "C", (nv - npub - 1) * G1_BYTES),
                                  ("h", 9, "H", n * G1_BYTES)):
        setattr(zk, attr, from_montgomery(section(sid, name, size), f"{p}: {name}"))
    return zk


def _contribution_names(mpc: bytes, p: str) -> list[str]:
    """The contributors' names in section 10 (structure checked; snarkjs verifies the rest)."""
    if len(mpc) < 68:
        raise FormatError(f"{p}: contributions section is truncated")
    (count,) = struct.unpack_from("<I", mpc, 64)
    pos, names = 68, []
    for i in range(count):
        pos += 3 * G1_BYTES + G2_BYTES + 64 + 4
        if pos + 4 > len(mpc):
            raise FormatError(f"{p}: contribution #{i + 1} is truncated")
        (plen,) = struct.unpack_from("<I", mpc, pos)
        params, pos = mpc[pos + 4: pos + 4 + plen], pos + 4 + plen
        name = ""
        if params[:1] == b"\x01" and len(params) >= 2:
            name = params[2: 2 + params[1]].decode("utf-8", errors="replace")
        names.append(name)
    if pos != len(mpc):
        raise FormatError(f"{p}: contributions section has {len(mpc) - pos} trailing bytes")
    return names


def last_delta(mpc: bytes) -> bytes | None:
    """The last contribution's δ after (our G1 encoding) in a section-10 payload, or None."""
    (count,) = struct.unpack_from("<I", mpc, 64)
    if count == 0:
        return None
    pos = 68
    for _ in range(count - 1):
        pos += 3 * G1_BYTES + G2_BYTES + 64 + 4
        pos += 4 + struct.unpack_from("<I", mpc, pos)[0]
    return from_montgomery(mpc[pos: pos + G1_BYTES], "contributions")


def proving_key(zk: ZKey, r1cs: R1CS, backend: Backend, what: str) -> ProvingKey:
    """Our proving key from a parsed zkey and the circuit it was made for (its C matrix is not
    in the zkey).  Checks: the circuit's shape and A/B coefficients are the zkey's, every point
    is on its curve (G2: in the subgroup), [β]₁/[β]₂ and [δ]₁/[δ]₂ have the same exponents."""
    from omnidsl.groth16.reduction import DEFAULT_REDUCTION

    if (zk.n_vars, zk.n_public) != (r1cs.n_wires, r1cs.n_public):
        raise FormatError(f"{what}: {zk.n_vars} wires and {zk.n_public} public signals, the "
                          f"circuit has {r1cs.n_wires} and {r1cs.n_public}",
                          hint="the zkey was made for another circuit")
    n = DEFAULT_REDUCTION.domain_size(r1cs)
    if zk.domain_size != n:
        raise FormatError(f"{what}: domain size {zk.domain_size}, the circuit needs {n}")
    ours = coefficient_entries(r1cs)
    theirs = zk.entries
    if ours.shape != theirs.shape or not np.array_equal(
            ours[np.lexsort(ours[:, :3].T[::-1])], theirs[np.lexsort(theirs[:, :3].T[::-1])]):
        raise FormatError(f"{what}: its A/B coefficients are not the circuit's",
                          hint="the zkey was made for another circuit")
    for buf, load, name in ((zk.a, backend.load_g1, "A"), (zk.b1, backend.load_g1, "B1"),
                            (zk.b2, backend.load_g2, "B2"), (zk.c, backend.load_g1, "C"),
                            (zk.h, backend.load_g1, "H"), (zk.ic, backend.load_g1, "IC")):
        try:
            load(buf)  # checked: coordinates < q, on the curve, (G2) in the subgroup
        except ValueError as exc:
            raise FormatError(f"{what}: section {name}: {exc}") from None
    for p, name in ((g1_from_bytes(zk.alpha_g1), "alpha1"), (g1_from_bytes(zk.beta_g1), "beta1"),
                    (g1_from_bytes(zk.delta_g1), "delta1")):
        if p is None or not backend.g1_is_valid(p):
            raise FormatError(f"{what}: {name} is not a valid G1 point")
    g1, g2 = backend.g1_generator(), backend.g2_generator()
    vk = zk.vk
    for p1, p2, name in ((g1_from_bytes(zk.beta_g1), vk.beta_g2, "beta"),
                         (g1_from_bytes(zk.delta_g1), vk.delta_g2, "delta")):
        # the prover blinds with [δ]₁ and [β]₁ in G1, verifiers pair with [δ]₂, [β]₂: the same
        # exponents, or proofs would not verify (or, for δ, not hide the witness as expected)
        if p2 is None or not backend.g2_is_valid(p2) or not backend.pairing_check(
                [(p1, g2), (backend.g1_neg(g1), p2)]):
            raise FormatError(f"{what}: {name} in G1 and {name} in G2 differ")
    pk = ProvingKey(zk.vk, g1_from_bytes(zk.beta_g1), g1_from_bytes(zk.delta_g1), zk.a, zk.b1,
                    zk.b2, h_from_zkey(backend, zk.h, n), zk.c, r1cs, n)
    pk.check_shapes()
    return pk
