"""Servers do not trust the session's claimed mask slack: a session dealt with a small slack
(σ = 8: the last server's share is the witness minus a mask only 8 bits wider than the value)
is refused when the material is decoded (``PartyMaterial.validate``)."""

from __future__ import annotations

import numpy as np
import pytest

from omnidsl.backend import get_backend
from omnidsl.errors import FormatError, ProofError
from omnidsl.mpc import codec
from omnidsl.mpc.schemes.additive import shares
from omnidsl.mpc.schemes.additive.dealer import deal
from omnidsl.mpc.schemes.additive.material import expand_material
from omnidsl.mpc.schemes.additive.shares import check_masked
from omnidsl.mpc.schemes.additive.wire import material_from_msg, material_to_msg
from tests.groth16.cases import CASES
from tests.mpc.cluster import make_keys


def test_server_refuses_a_session_with_a_too_small_mask_slack(tmp_path, monkeypatch):
    be = get_backend()
    params, inputs = CASES["norm_bound"]
    pk, z, _ = make_keys("norm_bound", params, inputs, tmp_path / "k", be)
    honest_slack = shares.mask_slack(pk.n_wires)
    monkeypatch.setattr(shares, "mask_slack", lambda n_wires: 8)
    mats = deal(be, z, pk.n_public + 1, pk.domain_size, 2, wire_bits=pk.r1cs.wire_bits)
    last = mats[-1]
    assert last.mask_slack == 8
    # the last server's "share" nearly is the witness: |share − z| < 2^(b+8) on every wire
    ex = expand_material(last, pk.r1cs.wire_bits)
    diff = be.fr_sub(ex.witness, z)
    bits = np.asarray(pk.r1cs.wire_bits, np.int64) + 8
    assert shares.below_pow2(diff, bits).all()
    monkeypatch.undo()  # the server runs the real code
    # what a server does on receipt (server.ProvingServer._run_session / _prove) must refuse it
    with pytest.raises((FormatError, ProofError, ValueError)):
        m, _ = material_from_msg(codec.decode(codec.encode(material_to_msg(last, "d"))))
        assert m.mask_slack < honest_slack
        e = expand_material(m, pk.r1cs.wire_bits)
        check_masked(e.witness, m.n_public,
                     shares.mask_widths(pk.r1cs.wire_bits, m.n_wires, m.mask_slack))
