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
