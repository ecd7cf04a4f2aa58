"""Multi-pairing checks: bilinearity on both backends, rejection of perturbed and invalid input."""

from __future__ import annotations

import random

import pytest

from omnidsl import _native
from omnidsl.field import R
from tests.backend.helpers import twist_point_outside_subgroup


def test_bilinearity_native(native, rng: random.Random) -> None:
    p, q = native.g1_generator(), native.g2_generator()
    for _ in range(4):
        a, b = rng.randrange(1, R), rng.randrange(1, R)
        pairs = [(native.g1_mul(p, a), native.g2_mul(q, b)), (native.g1_mul(p, -a * b), q)]
        assert native.pairing_check(pairs)
        bad = [(native.g1_mul(p, a + 1), native.g2_mul(q, b)), (native.g1_mul(p, -a * b), q)]
        assert not native.pairing_check(bad)
        assert not native.pairing_check(pairs[:1])


def test_bilinearity_agrees_with_reference(native, ref, rng: random.Random) -> None:
    p, q = native.g1_generator(), native.g2_generator()
    a, b = rng.randrange(1, R), rng.randrange(1, R)
    pa, qb, pab = native.g1_mul(p, a), native.g2_mul(q, b), native.g1_mul(p, -a * b)
    good = [(pa, qb), (pab, q)]
    assert native.pairing_check(good) and ref.pairing_check(good)
    bad = [(pa, qb), (pab, native.g2_mul(q, 2))]
    assert not native.pairing_check(bad) and not ref.pairing_check(bad)


def test_trivial_products(native, ref) -> None:
    p, q = native.g1_generator(), native.g2_generator()
    for b in (native, ref):
        assert b.pairing_check([])
        assert b.pairing_check([(None, q), (p, None)])
        assert not b.pairing_check([(p, q)])
        assert b.pairing_check([(p, q), (b.g1_neg(p), q)])


@pytest.mark.parametrize("backend", ["native", "ref"])
def test_invalid_points_raise(request, backend: str) -> None:
    b = request.getfixturevalue(backend)
    p, q = b.g1_generator(), b.g2_generator()
    with pytest.raises(ValueError):
        b.pairing_check([((1, 3), q)])
    with pytest.raises(ValueError, match="subgroup"):
        b.pairing_check([(p, twist_point_outside_subgroup())])


def test_raw_pairing_lengths() -> None:
    g1, g2 = _native.g1_generator(), _native.g2_generator()
    with pytest.raises(ValueError, match="G1 points but"):
        _native.pairing_check(g1 + g1, g2)
    with pytest.raises(ValueError, match="multiple of 128"):
        _native.pairing_check(g1, g2[:-1])
