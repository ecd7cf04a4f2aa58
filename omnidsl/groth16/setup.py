"""Trusted setup: ``dev`` (local toxic waste), phase 2 from a snarkjs ``.ptau``, contributions.

Paper symbols → key names: see keys.py.  Phase 2 (as snarkjs/bellman): the ptau gives
[L_k(τ)], [α·L_k(τ)], [β·L_k(τ)], [τ^i]; the circuit's initial key has γ = δ = 1; every
contribution multiplies δ by a fresh secret x (δ₁, δ₂ ← x·δ; L, H queries ← x⁻¹·L, x⁻¹·H) and
records δ_new with a Schnorr proof of knowledge of x relative to the previous δ.
``verify_transcript`` recomputes the initial key from the ptau, checks each proof of knowledge and
the G1/G2 consistency of every δ by pairings, and the L/H queries by random linear combinations.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from pathlib import Path

import numpy as np

from omnidsl.backend.base import G1, G2, TWO_ADIC_ROOT, TWO_ADICITY, Backend
from omnidsl.errors import FormatError, InputError, ProofError
from omnidsl.field import R
from omnidsl.groth16 import ptau as P
from omnidsl.groth16.keys import Contribution, ProvingKey, VerifyingKey, trusted_call
from omnidsl.groth16.points import (
    g1_array,
    g1_list,
    g1_to_bytes,
    g2_from_bytes,
    g2_to_bytes,
)
from omnidsl.groth16.reduction import DEFAULT_REDUCTION, Matrix, Reduction
from omnidsl.r1cs.system import R1CS

StageHook = Callable[[str], AbstractContextManager[object]]


def _no_stage(_name: str) -> AbstractContextManager[object]:
    return nullcontext()


def _rand_nonzero() -> int:
    return secrets.randbelow(R - 1) + 1


def _fr_vec(values: list[int]) -> bytes:
    return b"".join(v.to_bytes(32, "little") for v in values)


def _csr(cols: np.ndarray, rows: np.ndarray, coeff: np.ndarray, n_cols: int) -> Matrix:
    order = np.argsort(cols, kind="stable")
    row_ptr = np.zeros(n_cols + 1, np.int64)
    np.cumsum(np.bincount(cols, minlength=n_cols), out=row_ptr[1:])
    return Matrix(row_ptr, np.ascontiguousarray(rows[order], np.int64),
                  np.ascontiguousarray(coeff[order], np.uint64))


def _terms(m: Matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = np.repeat(np.arange(m.n_rows, dtype=np.int64), np.diff(m.row_ptr))
    return m.idx, rows, m.coeff


def _neg_g1(backend: Backend, points: bytes) -> bytes:
    return g1_array([backend.g1_neg(p) for p in g1_list(points)])


def _signed(m: Matrix, offset: int) -> Matrix:
    """Terms with coefficient c > r/2 become (r − c) on index + offset (a negated basis copy)."""
    uniq, inv = np.unique(m.coeff.reshape(-1, 4), axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    vals = [int.from_bytes(np.ascontiguousarray(row, "<u8").tobytes(), "little") for row in uniq]
    is_neg = np.array([v > R // 2 for v in vals], dtype=bool)
    new = np.zeros((len(vals), 4), np.uint64)
    for i, v in enumerate(vals):
        new[i] = np.frombuffer((R - v if is_neg[i] else v).to_bytes(32, "little"), "<u8")
    neg_t = is_neg[inv] if len(vals) else np.zeros(0, bool)
    return Matrix(m.row_ptr, np.ascontiguousarray(np.where(neg_t, m.idx + offset, m.idx)),
                  np.ascontiguousarray(new[inv]))


def _combine(fn: Callable[..., bytes], m: Matrix, points: bytes, negated: bytes) -> bytes:
    """``fn`` (a backend ``g1_sparse_combine``) over points ‖ negated, signed coefficients."""
    sm = _signed(m, len(points) // 64)
    return fn(sm.row_ptr, sm.idx, sm.coeff, points + negated)


def domain_root(n: int) -> int:
    return pow(TWO_ADIC_ROOT, 1 << (TWO_ADICITY - (n.bit_length() - 1)), R)


# ------------------------------------------------------------------ dev setup


def dev_setup(r1cs: R1CS, backend: Backend, reduction: Reduction = DEFAULT_REDUCTION,
              stage: StageHook = _no_stage, zkey: str | Path | None = None) -> ProvingKey:
    """Keys from fresh toxic waste (τ, α, β, γ, δ from ``secrets``, discarded on return).

    ``zkey``: also write the snarkjs .zkey of this same key there (byte for byte what
    ``zkey.write_zkey(pk, ...)`` writes, but its H section comes from τ and δ in O(n) field work
    and one batch multiplication instead of a group DFT over the key's H query).
    For tests and development only: whoever ran it could forge proofs had they kept the waste.
    """
    if zkey is not None and reduction.name != DEFAULT_REDUCTION.name:
        raise InputError(f"a zkey holds keys of the {DEFAULT_REDUCTION.name} reduction, not "
                         f"{reduction.name}")
    qap = reduction.qap(r1cs)
    n, nw, npub = qap.domain_size, qap.n_wires, qap.n_public
    tau = _rand_nonzero()
    while pow(tau, n, R) == 1:  # τ in the domain would make Z(τ) = 0
        tau = _rand_nonzero()
    alpha, beta, gamma, delta = (_rand_nonzero() for _ in range(4))
    with stage("QAP at τ"):
        powers = [1] * n
        for i in range(1, n):
            powers[i] = powers[i - 1] * tau % R
        lag = backend.ifft(_fr_vec(powers))  # L_k(τ) = ifft(τ^0..τ^(n−1))_k
        u, v, w = (backend.sparse_matvec(t.row_ptr, t.idx, t.coeff, lag)
                   for t in (qap.A.transpose(nw), qap.B.transpose(nw), qap.C.transpose(nw)))
        combo = backend.fr_add(backend.fr_add(backend.fr_scale(u, beta),
                                              backend.fr_scale(v, alpha)), w)
        h_scalars = _fr_vec(reduction.h_query_scalars(tau, pow(delta, -1, R), n))
    g1, g2 = backend.g1_generator(), backend.g2_generator()
    with stage("query points"):
        split = (npub + 1) * 32
        ic = g1_list(backend.g1_batch_mul(g1, backend.fr_scale(combo[:split], pow(gamma, -1, R))))
        pk = ProvingKey(
            vk=VerifyingKey(backend.g1_mul(g1, alpha), backend.g2_mul(g2, beta),
                            backend.g2_mul(g2, gamma), backend.g2_mul(g2, delta), ic),
            beta_g1=backend.g1_mul(g1, beta),
            delta_g1=backend.g1_mul(g1, delta),
            a_query=backend.g1_batch_mul(g1, u),
            b_g1_query=backend.g1_batch_mul(g1, v),
            b_g2_query=backend.g2_batch_mul(g2, v),
            h_query=backend.g1_batch_mul(g1, h_scalars),
            l_query=backend.g1_batch_mul(g1, backend.fr_scale(combo[split:], pow(delta, -1, R))),
            r1cs=r1cs,
            domain_size=n,
        )
    del alpha, beta, gamma, powers, lag, u, v, w, combo, h_scalars
    if zkey is not None:
        from omnidsl.groth16 import zkey as Z

        with stage("zkey"):
            Z.write_zkey(pk, zkey, backend, h_exps=Z.h_exps_from_waste(
                backend, pk.h_query, n, tau, delta))
    del tau, delta
    return pk


# ------------------------------------------------------------------ phase 2 from a .ptau


def _random_weights(k: int) -> bytes:
    """k random 128-bit scalars (Fr vector) for random-linear-combination checks."""
    raw = secrets.token_bytes(16 * k)
    return b"".join(raw[i : i + 16] + bytes(16) for i in range(0, len(raw), 16))


def check_ptau_consistency(ptau: P.Ptau, n: int, backend: Backend, lag1: bytes, lag2: bytes,
                           alag: bytes, blag: bytes, tau_g1: bytes) -> None:
    """The parts of a .ptau the circuit's key is built from agree with each other.

    * Lagrange bases = iFFT of the powers on our domain: with random ρ,
      Σ_k fft(ρ)_k·[L_k] = Σ_j ρ_j·[τ^j] for L, α·L, β·L (G1) and L (G2) — this also pins the
      domain generator and ordering to ours;
    * tauG1 is a chain of powers of the τ in tauG2: e(Σρ_i·[τ^(i+1)]₁, G₂) = e(Σρ_i·[τ^i]₁, [τ]₂).
    (Whether the ceremony itself was honest is what ``snarkjs powersoftau verify`` checks.)
    """
    rho = _random_weights(n)
    coeffs = backend.fft(rho)
    tau_g2 = ptau.g2(P.TAU_G2, 0, n)
    alpha_tau = ptau.g1(P.ALPHA_TAU_G1, 0, n)
    beta_tau = ptau.g1(P.BETA_TAU_G1, 0, n)
    bad = FormatError(f"{ptau.path}: the Lagrange section does not match tauG1",
                      hint="the file is corrupted or not prepared by snarkjs")
    for basis, powers, what in ((lag1, tau_g1[: 64 * n], "L"), (alag, alpha_tau, "alpha·L"),
                                (blag, beta_tau, "beta·L")):
        if backend.g1_msm(basis, coeffs) != backend.g1_msm(powers, rho):
            bad.message = f"{ptau.path}: the {what} Lagrange section does not match tauG1"
            raise bad
    l2 = trusted_call(backend.load_g2, lag2)
    t2 = trusted_call(backend.load_g2, tau_g2)
    if backend.g2_msm(l2, coeffs) != backend.g2_msm(t2, rho):
        bad.message = f"{ptau.path}: the G2 Lagrange section does not match tauG2"
        raise bad
    m = 2 * n - 2
    if m > 0:
        rho2 = _random_weights(m)
        s1 = backend.g1_msm(tau_g1[64 : 64 * (m + 1)], rho2)
        s0 = backend.g1_msm(tau_g1[: 64 * m], rho2)
        tau2 = g2_from_bytes(tau_g2[128:256]) if n > 1 else None
        if tau2 is None or not backend.g2_is_valid(tau2) or not backend.pairing_check(
                [(s1, backend.g2_generator()), (backend.g1_neg(s0), tau2)]):
            raise FormatError(f"{ptau.path}: tauG1 is not a chain of powers of tauG2's τ",
                              hint="the file is corrupted")


def phase2_initial(r1cs: R1CS, ptau: P.Ptau, backend: Backend,
                   reduction: Reduction = DEFAULT_REDUCTION,
                   stage: StageHook = _no_stage) -> ProvingKey:
    """The circuit's initial phase-2 key (γ = δ = 1), computed from a prepared .ptau."""
    qap = reduction.qap(r1cs)
    n, nw, npub = qap.domain_size, qap.n_wires, qap.n_public
    if n > (1 << ptau.power):
        raise FormatError(f"{ptau.path}: supports 2^{ptau.power} rows, the circuit needs {n} "
                          f"(= 2^{n.bit_length() - 1})",
                          hint="use a .ptau file with a larger power")
    with stage("read .ptau"):
        lag1 = ptau.lagrange_g1(P.LAGRANGE_G1, n)
        lag2 = ptau.g2(P.LAGRANGE_G2, n - 1, n)
        alag = ptau.lagrange_g1(P.ALPHA_LAGRANGE_G1, n)
        blag = ptau.lagrange_g1(P.BETA_LAGRANGE_G1, n)
        tau_g1 = ptau.g1(P.TAU_G1, 0, 2 * n - 1)
        alpha_g1 = g1_list(ptau.g1(P.ALPHA_TAU_G1, 0, 1))[0]
        beta_g1 = g1_list(ptau.g1(P.BETA_TAU_G1, 0, 1))[0]
        beta_g2_raw = ptau.g2(P.BETA_G2, 0, 1)
        if not (backend.g1_is_valid(alpha_g1) and backend.g1_is_valid(beta_g1)
                and backend.g2_is_valid(g2_from_bytes(beta_g2_raw))):
            raise FormatError(f"{ptau.path}: α or β is not a valid curve point")
    with stage("check .ptau"):
        check_ptau_consistency(ptau, n, backend, lag1, lag2, alag, blag, tau_g1)
    with stage("query points"):
        # Negative R1CS coefficients (≈ half of them) become small positive ones on negated
        # copies of the bases, so the backend multiplies by short scalars, never by r − c.
        nlag1 = _neg_g1(backend, lag1)
        at, bt = qap.A.transpose(nw), qap.B.transpose(nw)
        a_query = _combine(backend.g1_sparse_combine, at, lag1, nlag1)
        b_g1 = _combine(backend.g1_sparse_combine, bt, lag1, nlag1)
        # G2 points from the file are not subgroup-checked one by one (≈ 0.4 ms each): the RLC
        # check above ties them to tauG2, and a bad one could only make proofs that every
        # verifier rejects (verifiers check π_B's subgroup membership).
        # (No negated copy here: negating G2 points one by one costs more than it saves.)
        b_g2 = trusted_call(backend.g2_sparse_combine, bt.row_ptr, bt.idx, bt.coeff, lag2)
        # β·u_i + α·v_i + w_i over the concatenated bases βL ‖ αL ‖ L
        ca, ra, ka = _terms(qap.A)
        cb, rb, kb = _terms(qap.B)
        cc, rc, kc = _terms(qap.C)
        combo_m = _csr(np.concatenate([ca, cb, cc]), np.concatenate([ra, rb + n, rc + 2 * n]),
                       np.concatenate([ka, kb, kc]), nw)
        combo = _combine(backend.g1_sparse_combine, combo_m, blag + alag + lag1,
                         _neg_g1(backend, blag) + _neg_g1(backend, alag) + nlag1)
        # H: τ^(n+j) − τ^j for j = 0..n−2
        j = np.arange(n - 1, dtype=np.int64)
        h_coeff = np.zeros((2 * (n - 1), 4), np.uint64)
        h_coeff[0::2] = np.frombuffer((R - 1).to_bytes(32, "little"), "<u8")
        h_coeff[1::2, 0] = 1
        h_m = Matrix(np.arange(0, 2 * n - 1, 2, dtype=np.int64),
                     np.ascontiguousarray(np.stack([j, j + n], axis=1).reshape(-1)), h_coeff)
        h_query = _combine(backend.g1_sparse_combine, h_m, tau_g1,
                           _neg_g1(backend, tau_g1[: 64 * (n - 1)]))
    g1, g2 = backend.g1_generator(), backend.g2_generator()
    split = (npub + 1) * 64
    return ProvingKey(
        vk=VerifyingKey(alpha_g1, g2_from_bytes(beta_g2_raw), g2, g2, g1_list(combo[:split])),
        beta_g1=beta_g1,
        delta_g1=g1,
        a_query=a_query,
        b_g1_query=b_g1,
        b_g2_query=b_g2,
        h_query=h_query,
        l_query=combo[split:],
        r1cs=r1cs,
        domain_size=n,
    )


# ------------------------------------------------------------------ contributions


def circuit_digest(pk: ProvingKey) -> bytes:
    """Binds proofs of knowledge to this circuit and initial key (δ-independent parts)."""
    h = hashlib.sha256(b"omnidsl-groth16-phase2-v1")
    h.update(g1_to_bytes(pk.alpha_g1) + g2_to_bytes(pk.beta_g2) + g2_to_bytes(pk.vk.gamma_g2))
    for p in pk.vk.ic:
        h.update(g1_to_bytes(p))
    h.update(pk.a_query)
    h.update(pk.b_g2_query)
    return h.digest()


def _challenge(digest: bytes, index: int, prev: Contribution | None, new_d1: G1,
               new_d2: G2, pok_r: G1, name: str) -> int:
    h = hashlib.sha512(digest + index.to_bytes(4, "little") + name.encode())
    if prev is not None:
        h.update(g1_to_bytes(prev.delta_g1) + g2_to_bytes(prev.delta_g2))
    h.update(g1_to_bytes(new_d1) + g2_to_bytes(new_d2) + g1_to_bytes(pok_r))
    return int.from_bytes(h.digest(), "little") % R


#: The proving-key format stores a contributor name as u8 length + UTF-8 bytes.
MAX_NAME_BYTES = 255


def check_contributor_name(name: str) -> None:
    """Raise :class:`InputError` unless ``name`` is valid UTF-8 of at most 255 bytes (what the
    transcript can record; a longer name would be cut and break the proof of knowledge)."""
    try:
        size = len(name.encode())
    except UnicodeEncodeError:
        raise InputError("contributor name: not valid UTF-8 (undecodable bytes)") from None
    if size > MAX_NAME_BYTES:
        raise InputError(f"contributor name: {size} bytes in UTF-8, at most {MAX_NAME_BYTES} "
                         "can be recorded in the transcript", hint="use a shorter --name")


def contribute(pk: ProvingKey, backend: Backend, entropy: bytes = b"", name: str = "",
               stage: StageHook = _no_stage) -> ProvingKey:
    """A new key with δ multiplied by a fresh secret (OS CSPRNG, mixed with ``entropy``);
    ``name`` (≤ 255 UTF-8 bytes, else :class:`InputError`) is recorded with it."""
    check_contributor_name(name)
    seed = hashlib.sha512(secrets.token_bytes(64) + entropy).digest()
    x = int.from_bytes(seed, "little") % R or 1
    x_inv = pow(x, -1, R)
    with stage("update δ"):
        d1 = backend.g1_mul(pk.delta_g1, x)
        d2 = backend.g2_mul(pk.delta_g2, x)
        l_query = trusted_call(backend.g1_array_scale, pk.l_query, x_inv)
        h_query = trusted_call(backend.g1_array_scale, pk.h_query, x_inv)
    k = _rand_nonzero()
    pok_r = backend.g1_mul(pk.delta_g1, k)
    prev = pk.contributions[-1] if pk.contributions else None
    c = _challenge(circuit_digest(pk), len(pk.contributions), prev, d1, d2, pok_r, name)
    contribution = Contribution(d1, d2, pok_r, (k + c * x) % R, name)
    del x, x_inv, k, seed
    return replace(pk, vk=replace(pk.vk, delta_g2=d2), delta_g1=d1, l_query=l_query,
                   h_query=h_query, contributions=[*pk.contributions, contribution],
                   _handles={})


def _rlc(backend: Backend, points: bytes) -> tuple[G1, bytes]:
    scalars = _random_weights(len(points) // 64)
    return backend.g1_msm(points, scalars), scalars


def verify_transcript(pk: ProvingKey, initial: ProvingKey, backend: Backend,
                      stage: StageHook = _no_stage) -> list[str]:
    """Check ``pk`` against the ``initial`` phase-2 key; returns the contributors' names.

    Raises :class:`ProofError` naming the first check that fails.
    """
    g1, g2 = backend.g1_generator(), backend.g2_generator()
    with stage("fixed parts"):
        same = (
            pk.domain_size == initial.domain_size
            and pk.vk.alpha_g1 == initial.vk.alpha_g1 and pk.vk.beta_g2 == initial.vk.beta_g2
            and pk.vk.gamma_g2 == initial.vk.gamma_g2 and pk.beta_g1 == initial.beta_g1
            and pk.vk.ic == initial.vk.ic and pk.a_query == initial.a_query
            and pk.b_g1_query == initial.b_g1_query and pk.b_g2_query == initial.b_g2_query
            and len(pk.l_query) == len(initial.l_query)
            and len(pk.h_query) == len(initial.h_query)
        )
        if not same:
            raise ProofError("the key's δ-independent parts do not derive from this .ptau and "
                             "circuit")
    digest = circuit_digest(initial)
    prev_d1, prev_d2 = g1, g2
    prev: Contribution | None = None
    with stage("contributions"):
        for i, c in enumerate(pk.contributions):
            who = f"contribution #{i + 1}" + (f" ({c.name})" if c.name else "")
            if not (c.delta_g1 is not None and c.pok_r is not None and c.delta_g2 is not None
                    and backend.g1_is_valid(c.delta_g1) and backend.g1_is_valid(c.pok_r)
                    and backend.g2_is_valid(c.delta_g2) and 0 <= c.pok_z < R):
                raise ProofError(f"{who}: malformed points")
            ch = _challenge(digest, i, prev, c.delta_g1, c.delta_g2, c.pok_r, c.name)
            lhs = backend.g1_mul(prev_d1, c.pok_z)
            rhs = backend.g1_add(c.pok_r, backend.g1_mul(c.delta_g1, ch))
            if lhs != rhs:
                raise ProofError(f"{who}: proof of knowledge of the δ factor is invalid")
            if not backend.pairing_check([(c.delta_g1, g2), (backend.g1_neg(g1), c.delta_g2)]):
                raise ProofError(f"{who}: δ in G1 and G2 differ")
            prev_d1, prev_d2, prev = c.delta_g1, c.delta_g2, c
    if pk.delta_g1 != prev_d1 or pk.vk.delta_g2 != prev_d2:
        raise ProofError("the key's δ is not the last contribution's δ")
    with stage("L and H queries"):
        new_l, rho_l = _rlc(backend, pk.l_query)
        new_h, rho_h = _rlc(backend, pk.h_query)
        old_l = backend.g1_msm(initial.l_query, rho_l)
        old_h = backend.g1_msm(initial.h_query, rho_h)
        new = backend.g1_add(new_l, new_h)
        old = backend.g1_add(old_l, old_h)
        if not backend.pairing_check([(new, pk.vk.delta_g2), (backend.g1_neg(old), g2)]):
            raise ProofError("the L/H queries were not updated consistently with δ")
    return [c.name for c in pk.contributions]


def r1cs_equal(a: R1CS, b: R1CS) -> bool:
    """Same constraint system (shape, matrices and coefficient values)."""
    if (a.n_wires, a.n_pub_out, a.n_pub_in, a.n_constraints) != (
            b.n_wires, b.n_pub_out, b.n_pub_in, b.n_constraints):
        return False
    for name in "ABC":
        ra, wa, ka = a.matrix_limbs(name)
        rb, wb, kb = b.matrix_limbs(name)
        if not (np.array_equal(ra, rb) and np.array_equal(wa, wb) and np.array_equal(ka, kb)):
            return False
    return True
