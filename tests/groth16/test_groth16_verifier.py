"""Audit of the Groth16 verifier and dev setup (read-only review; these tests pin the behaviour).

* public inputs aliased modulo r (x + r, x − r, x + k·r) are rejected, not reduced;
* points with coordinates ≥ q that reduce to the right point are rejected;
* a G2 point on the twist but outside the r-torsion is rejected (proof B and every vk G2 point);
* a verification key with one IC point too many or too few is rejected;
* a public input that occurs in no constraint is still bound by the proof (the reduction's
  input-consistency rows make its IC point independent);
* dev setup and proving draw fresh randomness (keys and proofs differ run to run)."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

import omnidsl.backend
from omnidsl.field import Q, R
from omnidsl.groth16.prover import prove_plain, public_signals
from omnidsl.groth16.setup import dev_setup
from omnidsl.groth16.verifier import verify
from tests.groth16.handmade import build_r1cs, chain_circuit, chain_witness, to_bytes


@pytest.fixture(scope="module")
def small_chain(backend):
    r1cs = chain_circuit(6, n_pub_in=2)
    pk = dev_setup(r1cs, backend)
    z = to_bytes(chain_witness(6, [5, 7], 3))
    proof = prove_plain(pk, z, backend)
    return pk, public_signals(pk, z), proof


def test_honest_proof_verifies(small_chain, backend):
    pk, pub, proof = small_chain
    assert verify(pk.vk, pub, proof, backend)


@pytest.mark.parametrize("delta", [R, -R, 5 * R, 1 << 256])
def test_public_inputs_aliased_mod_r_rejected(small_chain, backend, delta):
    pk, pub, proof = small_chain
    for j in range(len(pub)):
        bad = list(pub)
        bad[j] += delta
        assert not verify(pk.vk, bad, proof, backend)


def test_coordinates_at_or_above_q_rejected(small_chain, backend):
    pk, pub, proof = small_chain
    (ax, ay), (bx, by), (cx, cy) = proof.a, proof.b, proof.c
    for p in (replace(proof, a=(ax + Q, ay)), replace(proof, a=(ax, ay + Q)),
              replace(proof, c=(cx + Q, cy)), replace(proof, b=((bx[0] + Q, bx[1]), by)),
              replace(proof, b=(bx, (by[0], by[1] + Q)))):
        assert not verify(pk.vk, pub, p, backend)
    assert not verify(replace(pk.vk, ic=[(pk.vk.ic[0][0] + Q, pk.vk.ic[0][1]),
                                         *pk.vk.ic[1:]]), pub, proof, backend)


def _fq2_mul(a, b):
    return ((a[0] * b[0] - a[1] * b[1]) % Q, (a[0] * b[1] + a[1] * b[0]) % Q)


def _fq2_pow(a, e):
    out = (1, 0)
    while e:
        if e & 1:
            out = _fq2_mul(out, a)
        a = _fq2_mul(a, a)
        e >>= 1
    return out


def _twist_point_not_in_subgroup(rng: random.Random):
    """y² = x³ + 3/(9 + u) over F_q² (the BN254 twist), found by random x; cofactor ≠ 1."""
    b2 = _fq2_mul((3, 0), _fq2_pow((9, 1), Q * Q - 2))
    while True:
        x = (rng.randrange(Q), rng.randrange(Q))
        rhs = _fq2_mul(_fq2_mul(x, x), x)
        rhs = ((rhs[0] + b2[0]) % Q, (rhs[1] + b2[1]) % Q)
        # sqrt in F_q² (q ≡ 3 mod 4): candidate a^((q²+7)/16) does not apply; use the generic
        # (q² − 1)/2 test and the q ≡ 3 (mod 4) complex method
        if _fq2_pow(rhs, (Q * Q - 1) // 2) != (1, 0):
            continue
        a1 = _fq2_pow(rhs, (Q - 3) // 4)
        alpha = _fq2_mul(_fq2_mul(a1, a1), rhs)
        x0 = _fq2_mul(a1, rhs)
        if alpha == (Q - 1, 0):
            y = _fq2_mul((0, 1), x0)
        else:
            y = _fq2_mul(_fq2_pow(((1 + alpha[0]) % Q, alpha[1]), (Q - 1) // 2), x0)
        assert _fq2_mul(y, y) == rhs
        return (x, y)


def test_g2_outside_subgroup_rejected(small_chain, backend):
    pk, pub, proof = small_chain
    p = _twist_point_not_in_subgroup(random.Random(3))
    assert not backend.g2_is_valid(p)
    assert not omnidsl.backend.get_backend("reference").g2_is_valid(p)
    assert not verify(pk.vk, pub, replace(proof, b=p), backend)
    for field in ("beta_g2", "gamma_g2", "delta_g2"):
        assert not verify(replace(pk.vk, **{field: p}), pub, proof, backend)


def test_wrong_ic_length_rejected(small_chain, backend):
    pk, pub, proof = small_chain
    vk = pk.vk
    from py_ecc.optimized_bn128 import FQ as F
    from py_ecc.optimized_bn128 import add, normalize

    # a key repeating an IC point is refused outright (inputs i and j could trade value)
    assert not verify(replace(vk, ic=[*vk.ic, vk.ic[1]]), [*pub, 0], proof, backend)
    fresh = normalize(add((F(vk.ic[1][0]), F(vk.ic[1][1]), F(1)),
                          (F(vk.ic[2][0]), F(vk.ic[2][1]), F(1))))
    extra = replace(vk, ic=[*vk.ic, (int(fresh[0].n), int(fresh[1].n))])
    assert not verify(extra, pub, proof, backend)
    # an extra IC point with an extra public input is a different key: it agrees with the real
    # one only at input 0 (0·IC = 0), never for a nonzero value
    assert verify(extra, [*pub, 0], proof, backend)
    assert not verify(extra, [*pub, 1], proof, backend)
    assert not verify(replace(vk, ic=vk.ic[:-1]), pub[:-1], proof, backend)
    assert not verify(vk, pub[:-1], proof, backend)


def test_unused_public_input_is_bound(backend):
    """Wire 2 (public input) occurs in no constraint: the proof still fixes its value."""
    # wires: 0 one, 1 public out, 2 unused public input, 3 private w;  out = w·w
    r1cs = build_r1cs(4, 1, 1, 1, [({3: 1}, {3: 1}, {1: 1})])
    pk = dev_setup(r1cs, backend)
    z = to_bytes([1, 49, 12345, 7])
    proof = prove_plain(pk, z, backend)
    pub = public_signals(pk, z)
    assert pub == [49, 12345]
    assert verify(pk.vk, pub, proof, backend)
    for other in (0, 12344, 12346, R - 1):
        assert not verify(pk.vk, [49, other], proof, backend)
    assert len({pk.vk.ic[k] for k in range(3)}) == 3  # independent IC points


def test_dev_setup_and_proofs_use_fresh_randomness(backend):
    r1cs = chain_circuit(4, n_pub_in=1)
    a, b = dev_setup(r1cs, backend), dev_setup(r1cs, backend)
    assert a.vk.alpha_g1 != b.vk.alpha_g1 and a.vk.delta_g2 != b.vk.delta_g2
    assert a.vk.gamma_g2 != b.vk.gamma_g2 and a.vk.ic != b.vk.ic
    z = to_bytes(chain_witness(4, [5], 3))
    p1, p2 = prove_plain(a, z, backend), prove_plain(a, z, backend)
    assert p1.a != p2.a and p1.c != p2.c
    assert verify(a.vk, public_signals(a, z), p1, backend)
    # a proof under one setup never verifies under another
    assert not verify(b.vk, public_signals(a, z), p1, backend)
