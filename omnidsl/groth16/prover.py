"""The Groth16 prover, written once against :class:`Groth16Driver` (docs/groth16.md, "Prover").

With :class:`~omnidsl.groth16.plain.PlainDriver` it is the single-machine prover; with the MPC
``AdditiveDriver`` every party runs this same function on its shares.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext

import numpy as np

from omnidsl.backend.base import G1, G2, Backend
from omnidsl.errors import ProofError
from omnidsl.field import FR_BYTES, R, bytes_to_limbs, int_to_bytes, limbs_to_bytes
from omnidsl.groth16.driver import DealtMsmShares, Groth16Driver
from omnidsl.groth16.keys import Proof, ProvingKey
from omnidsl.groth16.reduction import DEFAULT_REDUCTION, Reduction, pad

#: ``stage(name)`` returns a context manager around one proving step (progress display).
StageHook = Callable[[str], AbstractContextManager[object]]


def no_stage(_name: str) -> AbstractContextManager[object]:
    return nullcontext()


def check_satisfied(pk: ProvingKey, witness: bytes, backend: Backend) -> None:
    """The full witness satisfies every constraint of ``pk``'s circuit, else ProofError naming
    the first one that fails (checked once, before proving or dealing anything)."""
    m = pk.r1cs.n_constraints
    a, b, c = (DEFAULT_REDUCTION.evaluate(backend, pk.r1cs, which, witness)[:m * 32]
               for which in "ABC")
    ab = backend.fr_mul(a, b)
    if ab != c:
        bad = (np.frombuffer(ab, "<u8").reshape(-1, 4)
               != np.frombuffer(c, "<u8").reshape(-1, 4)).any(axis=1)
        raise ProofError(
            f"the witness does not satisfy the rule: constraint #{int(np.argmax(bad))} of {m} "
            "fails (nothing was sent, nothing was proved)",
            hint="compute the witness for this circuit, its parameters and your inputs "
                 "(`omnidsl witness`)")


#: what a witness may be: n*32 bytes, (n, 4) uint64 limbs (``Circuit.witness``), or n integers
Witness = bytes | bytearray | memoryview | np.ndarray | Sequence[int]


def as_witness(witness: Witness) -> bytes:
    """The witness as n*32 bytes (little-endian field elements), whatever form it came in."""
    if isinstance(witness, bytes | bytearray | memoryview):
        out = bytes(witness)
    elif isinstance(witness, np.ndarray) and witness.ndim == 2 and witness.shape[1] == 4:
        out = limbs_to_bytes(witness.astype(np.uint64, copy=False))
    else:
        try:
            out = b"".join(int_to_bytes(int(v)) for v in witness)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ProofError(f"witness: not bytes, (n, 4) limbs or a list of field elements "
                             f"({exc})") from None
    if len(out) % FR_BYTES:
        raise ProofError(f"witness: {len(out)} bytes is not a whole number of 32-byte elements")
    return out



def validate_witness(pk: ProvingKey, z: bytes) -> None:
    """The witness vector fits the key: n_wires elements, each < r, wire 0 = 1."""
    if len(z) != pk.n_wires * 32:
        raise ProofError(f"witness has {len(z) // 32} wires, the proving key expects {pk.n_wires}",
                         hint="the witness and the keys come from different circuits")
    try:
        bytes_to_limbs(z)
    except ValueError as exc:
        raise ProofError(f"witness: {exc}") from None
    if int.from_bytes(z[:32], "little") != 1:
        raise ProofError("witness wire 0 must be the constant 1")


def compute_h(pk: ProvingKey, driver: Groth16Driver, backend: Backend,
              reduction: Reduction = DEFAULT_REDUCTION, stage: StageHook = no_stage) -> bytes:
    """(Shares of) the coefficients of h = (a·b − c)/Z (the QAP witness map).  The matrices are
    evaluated from the R1CS's coefficient ids (no per-entry 32-byte coefficients, which were
    130 MB per matrix at 1.8M constraints); each vector is dropped once transformed."""
    z = driver.witness_share()
    n = reduction.domain_size(pk.r1cs)
    with stage("evaluate constraints"):
        a, b, c = (reduction.evaluate(backend, pk.r1cs, which, z) for which in "ABC")
    with stage("FFTs"):  # each vector dropped once transformed
        c_coeffs = backend.ifft(pad(c, n))  # c is never needed on the coset (docs/groth16.md)
        del c
        a_c = backend.coset_fft(backend.ifft(pad(a, n)))
        del a
        b_c = backend.coset_fft(backend.ifft(pad(b, n)))
        del b
    with stage("a·b"):
        ab = driver.mul_vec(a_c, b_c)
        del a_c, b_c
    with stage("h"):
        h = reduction.h_coefficients(backend, n, ab, c_coeffs)
    return h


def prove(pk: ProvingKey, driver: Groth16Driver, backend: Backend,
          reduction: Reduction = DEFAULT_REDUCTION, stage: StageHook = no_stage) -> Proof:
    """One party's run of the Groth16 prover; returns the opened proof (same for all parties)."""
    n = reduction.domain_size(pk.r1cs)
    if n != pk.domain_size:
        raise ProofError(f"proving key domain {pk.domain_size} does not match the circuit ({n})")
    bases = pk.bases_for(backend, ("b1", "h", "l"))  # A and B2: only without dealt MSMs
    z = driver.witness_share()
    if len(z) != pk.n_wires * 32:
        raise ProofError(f"witness has {len(z) // 32} wires, the proving key expects {pk.n_wires}")

    h = compute_h(pk, driver, backend, reduction, stage)

    blind = driver.blinding()
    dealt = driver.dealt_msm_shares()
    first_private = (pk.n_public + 1) * 32
    zs, factor = driver.witness_msm_scalars() or (z, 1)
    with stage("MSM A, B, L"):
        w = dealt or dealt_msms(pk, zs, backend)
        b1_w = backend.g1_msm(bases["b1"], zs)
        l_w = backend.g1_msm(bases["l"], zs[first_private:])
        if factor != 1:
            b1_w, l_w = backend.g1_mul(b1_w, factor), backend.g1_mul(l_w, factor)
            if dealt is None:
                w = DealtMsmShares(backend.g1_mul(w.a, factor), backend.g2_mul(w.b2, factor))
        pi_a = backend.g1_add(w.a, backend.g1_mul(pk.delta_g1, blind.r))
        pi_b2 = backend.g2_add(w.b2, backend.g2_mul(pk.delta_g2, blind.s))
        pi_b1 = backend.g1_add(b1_w, backend.g1_mul(pk.delta_g1, blind.s))
        if driver.is_leader:
            pi_a = backend.g1_add(pi_a, pk.alpha_g1)
            pi_b2 = backend.g2_add(pi_b2, pk.beta_g2)
            pi_b1 = backend.g1_add(pi_b1, pk.beta_g1)
    with stage("open A, B"):
        a_open = driver.open_g1(pi_a)
        b2_open = driver.open_g2(pi_b2)
        b1_open = driver.open_g1(pi_b1)
        if dealt is not None:
            check_b_consistent(b1_open, b2_open, backend)
    with stage("MSM H"):
        h_part = backend.g1_msm(bases["h"], h)
    with stage("open C"):
        pi_c = backend.g1_add(l_w, h_part)
        pi_c = backend.g1_add(pi_c, backend.g1_mul(a_open, blind.s))
        pi_c = backend.g1_add(pi_c, backend.g1_mul(b1_open, blind.r))
        pi_c = backend.g1_add(pi_c, backend.g1_mul(pk.delta_g1, (R - blind.rs) % R))
        c_open = driver.open_g1_product(pi_c)
    return Proof(a_open, b2_open, c_open)


def check_b_consistent(b1: G1, b2: G2, backend: Backend) -> None:
    """π_B in G1 (computed from the witness shares) and π_B in G2 (from dealt points) must
    carry the same scalar: e(π_B1, g2) = e(g1, π_B2).  Raise ProofError otherwise."""
    if not backend.pairing_check([(b1, backend.g2_generator()),
                                  (backend.g1_neg(backend.g1_generator()), b2)]):
        raise ProofError(
            "the dealt share of π_B in G2 does not match π_B in G1 computed from the witness "
            "shares; the proof is abandoned before π_C is opened",
            hint="the data owner dealt points of another witness (or corrupted ones)",
        )


def dealt_msms(pk: ProvingKey, witness: bytes, backend: Backend) -> DealtMsmShares:
    """The witness MSMs of π_A and π_B (G2) on the full witness (what the data owner deals in
    mode split): exactly the points the prover computes from ``z`` before blinding."""
    bases = pk.bases_for(backend, ("a", "b2"))
    return DealtMsmShares(a=backend.g1_msm(bases["a"], witness),
                          b2=backend.g2_msm(bases["b2"], witness))


def prove_plain(pk: ProvingKey, witness: Witness, backend: Backend,
                stage: StageHook = no_stage) -> Proof:
    """Single-machine proof of a full witness (any :data:`Witness` form), checked first (shape,
    wire 0, every constraint); not verified (``omnidsl.proving.prove`` verifies)."""
    from omnidsl.groth16.plain import PlainDriver

    witness = as_witness(witness)
    validate_witness(pk, witness)
    check_satisfied(pk, witness, backend)
    return prove(pk, PlainDriver(witness, backend), backend, stage=stage)


def public_signals(pk: ProvingKey, witness: bytes) -> list[int]:
    """The public signals (wires 1..ℓ) of a full witness, as snarkjs lists them."""
    return [int.from_bytes(witness[32 * i : 32 * i + 32], "little")
            for i in range(1, pk.n_public + 1)]
