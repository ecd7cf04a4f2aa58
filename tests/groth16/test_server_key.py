"""A proving server's key (``ProvingKey.keep_bases_only``, docs/mpc.md "At scale"): the points
live once, in native memory, and prove exactly what the full key proves."""

from __future__ import annotations

import pytest

from omnidsl.errors import InternalError
from omnidsl.field import R
from omnidsl.groth16.keys import dumps_proving_key, loads_proving_key
from omnidsl.groth16.prover import prove
from omnidsl.groth16.verifier import verify
from tests.mpc.helpers import FixedPlain


def test_a_key_with_only_its_bases_proves_the_same_proof(chain, backend):
    pk, z, public, _ = chain
    buf = dumps_proving_key(pk)
    full, lean = loads_proving_key(buf), loads_proving_key(buf)
    lean.keep_bases_only(backend)
    assert lean.points_released and not full.points_released
    assert lean.a_query == lean.h_query == lean.b_g2_query == b""
    r, s = 12345, R - 678
    want = prove(full, FixedPlain(z, backend, r, s), backend)
    got = prove(lean, FixedPlain(z, backend, r, s), backend)
    assert got == want
    assert verify(lean.vk, public, got, backend)


def test_a_key_with_only_its_bases_is_not_written_or_moved(chain, backend, ref):
    pk, *_ = chain
    lean = loads_proving_key(dumps_proving_key(pk))
    lean.keep_bases_only(backend)
    for call in (lambda: dumps_proving_key(lean), lean.check_shapes, lambda: lean.bases(ref)):
        with pytest.raises(InternalError, match="kept only its MSM bases"):
            call()
    lean.keep_bases_only(backend)  # again: a no-op
    assert lean.bases(backend)  # the handles stay


def test_a_streamed_key_proves_the_same_proof_as_the_full_key(chain, backend, tmp_path):
    from omnidsl.groth16.keys import read_proving_key, write_proving_key

    pk, z, public, _ = chain
    path = tmp_path / "k.pk"
    write_proving_key(pk, path)
    lean = read_proving_key(path, bases_only=backend)
    assert lean.points_released and lean.a_query == lean.l_query == b""
    assert lean.vk == pk.vk and lean.r1cs.n_constraints == pk.r1cs.n_constraints
    r, s = 777, R - 999
    want = prove(pk, FixedPlain(z, backend, r, s), backend)
    assert prove(lean, FixedPlain(z, backend, r, s), backend) == want
    assert verify(lean.vk, public, want, backend)


@pytest.mark.parametrize("damage", ["flip a point byte", "flip a matrix byte", "truncate",
                                    "append", "bad magic"])
def test_a_streamed_key_refuses_a_damaged_file(chain, backend, tmp_path, damage):
    from omnidsl.errors import FormatError
    from omnidsl.groth16.keys import read_proving_key

    pk, *_ = chain
    buf = bytearray(dumps_proving_key(pk))
    if damage == "flip a point byte":  # still a valid point? the checksum catches it anyway
        buf[len(buf) // 3] ^= 1
    elif damage == "flip a matrix byte":
        buf[-40] ^= 1
    elif damage == "truncate":
        del buf[-100:]
    elif damage == "append":
        buf += b"\0" * 7
    else:
        buf[0] ^= 0xFF
    path = tmp_path / "k.pk"
    path.write_bytes(bytes(buf))
    with pytest.raises(FormatError, match=r"k\.pk: (checksum mismatch|truncated|bad magic|not an"
                                          r"|.*unexpected|.*inconsistent|.*point)"):
        read_proving_key(path, bases_only=backend)
    with pytest.raises(FormatError):  # the full reader agrees
        read_proving_key(path)


def test_deferred_bases_load_at_first_use_and_prove_the_same_proof(chain, backend, tmp_path):
    """A server defers A and B in G2 (only sessions without dealt MSMs need them): they stay in
    the file until a proof needs them, then prove exactly what the full key proves."""
    from omnidsl.groth16.keys import read_proving_key, write_proving_key

    pk, z, public, _ = chain
    path = tmp_path / "k.pk"
    write_proving_key(pk, path)
    lean = read_proving_key(path, bases_only=backend, defer=("a", "b2"))
    assert set(lean._deferred) == {"a", "b2"}
    assert set(lean._handles[backend.name]) == {"b1", "h", "l"}
    r, s = 4242, R - 31337
    want = prove(pk, FixedPlain(z, backend, r, s), backend)
    assert prove(lean, FixedPlain(z, backend, r, s), backend) == want  # computes [A·z], [B·z]
    assert lean._deferred == {} and set(lean._handles[backend.name]) == {"a", "b1", "b2", "h", "l"}
    assert verify(lean.vk, public, want, backend)


@pytest.mark.parametrize("change", ["rewrite a deferred point", "delete the file"])
def test_deferred_bases_refuse_a_key_file_changed_after_loading(chain, backend, tmp_path, change):
    from omnidsl.errors import FormatError
    from omnidsl.groth16.keys import read_proving_key, write_proving_key

    pk, z, _, _ = chain
    path = tmp_path / "k.pk"
    write_proving_key(pk, path)
    lean = read_proving_key(path, bases_only=backend, defer=("b2",))
    _, offset, _, _ = lean._deferred["b2"]
    if change == "delete the file":
        path.unlink()
        expect = "cannot read the deferred b2 bases"
    else:
        other = bytearray(path.read_bytes())
        other[offset:offset + 128] = other[offset + 128:offset + 256]  # another valid point
        path.write_bytes(bytes(other))
        expect = "changed after it was loaded"
    with pytest.raises(FormatError, match=expect):
        prove(lean, FixedPlain(z, backend, 1, 2), backend)
    assert lean.bases_for(backend, ("b1", "h", "l"))  # the loaded bases still serve
