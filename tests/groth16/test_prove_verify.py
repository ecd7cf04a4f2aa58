"""Dev setup → prove → verify on hand-built circuits; perturbations are rejected."""

from __future__ import annotations

import pytest

from omnidsl.errors import FormatError, ProofError
from omnidsl.field import R
from omnidsl.groth16.keys import Proof, dumps_proving_key, loads_proving_key
from omnidsl.groth16.prover import prove_plain, public_signals
from omnidsl.groth16.setup import dev_setup
from omnidsl.groth16.verifier import verify
from tests.groth16.handmade import chain_circuit, chain_witness, to_bytes


def test_valid_proof_verifies(chain, backend):
    from dataclasses import replace

    from omnidsl.groth16.verifier import prepare_vk

    pk, _z, pub, proof = chain
    assert len(pub) == pk.n_public == 4
    assert verify(pk.vk, pub, proof, backend)
    prepared = prepare_vk(pk.vk, backend)
    assert prepared is not None and verify(prepared, pub, proof, backend)
    assert not verify(prepared, [*pub[:-1], pub[-1] + 1], proof, backend)
    assert prepare_vk(replace(pk.vk, delta_g2=None), backend) is None


@pytest.mark.parametrize("part", ["a", "b", "c"])
def test_perturbed_proof_rejected(chain, backend, part):
    pk, _z, pub, proof = chain
    g1, g2 = backend.g1_generator(), backend.g2_generator()
    if part == "a":
        bad = Proof(backend.g1_add(proof.a, g1), proof.b, proof.c)
    elif part == "b":
        bad = Proof(proof.a, backend.g2_add(proof.b, g2), proof.c)
    else:
        bad = Proof(proof.a, proof.b, backend.g1_add(proof.c, g1))
    assert not verify(pk.vk, pub, bad, backend)


def test_changed_public_input_rejected(chain, backend):
    pk, _z, pub, proof = chain
    for i in range(len(pub)):
        changed = list(pub)
        changed[i] = (changed[i] + 1) % R
        assert not verify(pk.vk, changed, proof, backend)
    # the same residue plus r is not a field element: rejected, not reduced
    big = list(pub)
    big[0] += R
    assert not verify(pk.vk, big, proof, backend)
    assert not verify(pk.vk, [*pub, 1], proof, backend)
    assert not verify(pk.vk, pub[:-1], proof, backend)


def test_two_proofs_differ(chain, backend):
    pk, z, pub, proof = chain
    again = prove_plain(pk, z, backend)
    assert again != proof
    assert again.a != proof.a and again.c != proof.c
    assert verify(pk.vk, pub, again, backend)


def test_wrong_witness_is_refused(chain, backend):
    pk, z, _pub, _proof = chain
    bad = bytearray(z)
    bad[32 * 6] ^= 1  # a private wire
    with pytest.raises(ProofError, match="does not satisfy constraint"):
        prove_plain(pk, bytes(bad), backend)
    with pytest.raises(ProofError, match="wires"):
        prove_plain(pk, z[:-32], backend)
    with pytest.raises(ProofError, match="wire 0"):
        prove_plain(pk, bytes(32) + z[32:], backend)


def test_keys_are_for_one_circuit(chain, backend):
    pk, z, pub, proof = chain
    other = dev_setup(chain_circuit(12, n_pub_in=3), backend)
    assert not verify(other.vk, pub, proof, backend)
    proof2 = prove_plain(other, z, backend)
    assert verify(other.vk, pub, proof2, backend)
    assert not verify(pk.vk, pub, proof2, backend)


def test_proving_key_roundtrip(chain, backend, tmp_path):
    pk, z, pub, _ = chain
    buf = dumps_proving_key(pk)
    pk2 = loads_proving_key(buf)
    assert dumps_proving_key(pk2) == buf
    assert pk2.vk == pk.vk and pk2.domain_size == pk.domain_size
    assert verify(pk.vk, pub, prove_plain(pk2, z, backend), backend)


def test_proving_key_malformed(chain):
    pk, *_ = chain
    buf = dumps_proving_key(pk)
    with pytest.raises(FormatError, match="bad magic"):
        loads_proving_key(b"ZZZZ" + buf[4:])
    with pytest.raises(FormatError, match="version"):
        loads_proving_key(buf[:8] + (7).to_bytes(4, "little") + buf[12:])
    with pytest.raises(FormatError, match="checksum"):
        loads_proving_key(buf[:200] + bytes([buf[200] ^ 1]) + buf[201:])
    with pytest.raises(FormatError):
        loads_proving_key(buf[: len(buf) // 2])
    with pytest.raises(FormatError):
        loads_proving_key(b"")


@pytest.mark.parametrize("k,n_pub", [(1, 1), (4, 1), (30, 2)])
def test_sizes(backend, k, n_pub):
    """Domain edges: tiny circuits, and m + ℓ + 1 exactly a power of two."""
    r1cs = chain_circuit(k, n_pub_in=n_pub)
    pk = dev_setup(r1cs, backend)
    z = to_bytes(chain_witness(k, list(range(2, 2 + n_pub)), 9))
    assert pk.domain_size >= r1cs.n_constraints + r1cs.n_public + 1
    proof = prove_plain(pk, z, backend)
    assert verify(pk.vk, public_signals(pk, z), proof, backend)


def test_degenerate_inputs(chain, backend):
    from dataclasses import replace

    pk, _z, pub, proof = chain
    vk = pk.vk
    for bad in (Proof(None, proof.b, proof.c), Proof(proof.a, None, proof.c),
                Proof(proof.a, proof.b, None), Proof(None, None, None)):
        assert not verify(vk, pub, bad, backend)
    zero_vk = replace(vk, alpha_g1=None, beta_g2=None, gamma_g2=None, delta_g2=None,
                      ic=[None] * len(vk.ic))
    assert not verify(zero_vk, pub, Proof(None, None, None), backend)
    assert not verify(replace(vk, ic=[None] * len(vk.ic)), pub, proof, backend)
    for junk in (None, "vk", 3):
        assert not verify(junk, pub, proof, backend)
        assert not verify(vk, pub, junk, backend)
        assert not verify(vk, junk, proof, backend)
