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
    with pytest.raises(ProofError, match="does not satisfy the rule: constraint #"):
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


# ---------------------------------------------------------------- wire widths (version 2)


def _with_bits(pk, bits):
    from dataclasses import replace

    return replace(pk, r1cs=replace(pk.r1cs, wire_bits=bits), _handles={})


def _resealed(body: bytes) -> bytes:
    import hashlib

    return body + hashlib.sha256(body).digest()


def test_wire_widths_roundtrip(chain, backend):
    import numpy as np

    pk, z, pub, _ = chain
    n = pk.n_wires
    bits = np.array([1] + [(7 * i) % 255 for i in range(1, n)], np.uint8)
    buf = dumps_proving_key(_with_bits(pk, bits))
    assert buf[8:12] == (2).to_bytes(4, "little")
    pk2 = loads_proving_key(buf)
    assert pk2.r1cs.wire_bits.dtype == np.uint8 and np.array_equal(pk2.r1cs.wire_bits, bits)
    assert dumps_proving_key(pk2) == buf
    assert verify(pk.vk, pub, prove_plain(pk2, z, backend), backend)
    plain = dumps_proving_key(pk)  # no widths: flag 0, one byte shorter than n widths + flag
    assert len(buf) - len(plain) == n
    assert loads_proving_key(plain).r1cs.wire_bits is None
    assert (loads_proving_key(plain).r1cs.widths() == 254).all()


def test_version1_key_still_loads(chain, backend):
    pk, z, pub, _ = chain
    body = dumps_proving_key(pk)[:-32]
    assert body[-1] == 0  # the version-2 "no widths" flag
    v1 = _resealed(body[:8] + (1).to_bytes(4, "little") + body[12:-1])
    pk1 = loads_proving_key(v1)
    assert pk1.r1cs.wire_bits is None and pk1.vk == pk.vk
    assert verify(pk.vk, pub, prove_plain(pk1, z, backend), backend)
    # a version-1 file with a width section appended is not a version-1 file
    with pytest.raises(FormatError, match="trailing"):
        loads_proving_key(_resealed(body[:8] + (1).to_bytes(4, "little") + body[12:]))


def test_wire_widths_malformed(chain):
    import numpy as np

    pk, *_ = chain
    n = pk.n_wires
    bits = np.full(n, 30, np.uint8)
    bits[0] = 1
    body = dumps_proving_key(_with_bits(pk, bits))[:-32]
    start = len(body) - n - 1
    assert body[start] == 1 and body[start + 1:] == bits.tobytes()

    def patched(offset: int, value: int) -> bytes:
        b = bytearray(body)
        b[start + offset] = value
        return _resealed(bytes(b))

    with pytest.raises(FormatError, match="widths flag 2"):
        loads_proving_key(patched(0, 2))
    with pytest.raises(FormatError, match=r"wire 3 has width 255 \(at most 254\)"):
        loads_proving_key(patched(4, 255))
    with pytest.raises(FormatError, match="wire 0"):
        loads_proving_key(patched(1, 0))
    with pytest.raises(FormatError, match="truncated while reading wire widths"):
        loads_proving_key(_resealed(body[:-1]))
    with pytest.raises(FormatError, match="trailing"):
        loads_proving_key(_resealed(body + b"\x05"))
    with pytest.raises(FormatError, match="checksum"):
        loads_proving_key(body + bytes(32))
    # width 254 (no bound) is valid
    assert loads_proving_key(patched(2, 254)).r1cs.wire_bits[1] == 254
    # the writer refuses widths that do not fit the circuit
    from omnidsl.errors import InternalError

    with pytest.raises(InternalError):
        dumps_proving_key(_with_bits(pk, bits[:-1]))
    with pytest.raises(InternalError):
        dumps_proving_key(_with_bits(pk, np.full(n, 300, np.int64)))
