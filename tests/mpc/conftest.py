"""Fixtures shared by the MPC tests."""

from __future__ import annotations

import pytest

from omnidsl.backend import get_backend
from tests.groth16.cases import CASES
from tests.mpc.cluster import make_keys
from tests.mpc.helpers import NormBound


@pytest.fixture(scope="module")
def be():
    return get_backend()


@pytest.fixture(scope="module")
def nb(tmp_path_factory, be) -> NormBound:
    """Key dir, pk, valid witness and circuit of norm_bound at D = 8 (its key records widths)."""
    params, inputs = CASES["norm_bound"]
    d = tmp_path_factory.mktemp("nb")
    pk, z, circuit = make_keys("norm_bound", params, inputs, d, be)
    assert pk.r1cs.wire_bits is not None
    return NormBound(d, pk, z, circuit)
