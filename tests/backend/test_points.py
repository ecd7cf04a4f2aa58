"""Single-point arithmetic, validation and serialisation: native == reference."""

from __future__ import annotations

import random

import pytest

from omnidsl import _native
from omnidsl.backend.codec import g1_from_bytes, g1_to_bytes, g2_from_bytes, g2_to_bytes
from omnidsl.field import Q, R
from tests.backend.helpers import twist_point_outside_subgroup

EIP196_G2 = (
    (
        10857046999023057135944570762232829481370756359578518086990519993285655852781,
        11559732032986387107991004021392285783925812861821192530917403151452391805634,
    ),
    (
        8495653923123431417604973247489272438418190587263600148770280649306958101930,
        4082367875863433681332203403145435568316851327593401208105741076214120093531,
    ),
)


def test_generators(native, ref) -> None:
    assert native.g1_generator() == ref.g1_generator() == (1, 2)
    assert native.g2_generator() == ref.g2_generator() == EIP196_G2


def test_g1_arithmetic_agrees(native, ref, rng: random.Random) -> None:
    g = native.g1_generator()
    for _ in range(3):
        a, b = rng.randrange(R), rng.randrange(R)
        p, q = native.g1_mul(g, a), native.g1_mul(g, b)
        assert p == ref.g1_mul(g, a)
        assert native.g1_add(p, q) == ref.g1_add(p, q) == native.g1_mul(g, a + b)
        assert native.g1_neg(p) == ref.g1_neg(p) == native.g1_mul(g, -a)
    p = native.g1_mul(g, 12345)
    assert native.g1_add(p, p) == ref.g1_add(p, p) == native.g1_mul(g, 24690)
    assert native.g1_add(p, native.g1_neg(p)) is None
    assert ref.g1_add(p, ref.g1_neg(p)) is None
    assert native.g1_add(None, p) == p and native.g1_neg(None) is None
    assert native.g1_mul(g, 0) is None and native.g1_mul(g, R) is None
    assert native.g1_mul(None, 5) is None and ref.g1_mul(None, 5) is None
    assert native.g1_mul(g, -1) == ref.g1_mul(g, -1) == (1, Q - 2)


def test_g2_arithmetic_agrees(native, ref, rng: random.Random) -> None:
    g = native.g2_generator()
    a, b = rng.randrange(R), rng.randrange(R)
    p, q = native.g2_mul(g, a), native.g2_mul(g, b)
    assert p == ref.g2_mul(g, a)
    assert native.g2_add(p, q) == ref.g2_add(p, q) == native.g2_mul(g, a + b)
    assert native.g2_neg(p) == ref.g2_neg(p)
    assert native.g2_add(p, native.g2_neg(p)) is None
    assert native.g2_add(p, p) == native.g2_mul(p, 2)
    assert native.g2_mul(g, R) is None and native.g2_mul(None, 3) is None


@pytest.mark.parametrize("backend", ["native", "ref"])
def test_g1_validation(request, backend: str) -> None:
    b = request.getfixturevalue(backend)
    g = b.g1_generator()
    assert b.g1_is_valid(g) and b.g1_is_valid(None) and b.g1_is_valid((1, Q - 2))
    for bad in [(1, 3), (0, 0), (Q, 2), (1, 2 + Q), (-1, 2), (1, 1 << 256), (1.0, 2), "xy", (1,)]:
        assert not b.g1_is_valid(bad), bad  # type: ignore[arg-type]
    for bad in [(1, 3), (Q + 1, 2), (0, 0)]:
        with pytest.raises(ValueError):
            b.g1_add(g, bad)
        with pytest.raises(ValueError):
            b.g1_mul(bad, 3)


@pytest.mark.parametrize("backend", ["native", "ref"])
def test_g2_validation(request, backend: str) -> None:
    b = request.getfixturevalue(backend)
    g = b.g2_generator()
    assert b.g2_is_valid(g) and b.g2_is_valid(None)
    outside = twist_point_outside_subgroup()
    (x0, x1), (y0, y1) = g
    for bad in [
        outside,  # on the twist, not in the r-torsion
        ((x0, x1), (y0, (y1 + 1) % Q)),  # off the twist
        ((x0 + Q, x1), (y0, y1)),  # coordinate ≥ q
        ((0, 0), (0, 0)),
        ((x0, x1), y0),
    ]:
        assert not b.g2_is_valid(bad), bad  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        b.g2_add(g, outside)
    with pytest.raises(ValueError):
        b.g2_mul(outside, 2)


def test_outside_subgroup_point_is_on_twist(ref) -> None:
    from py_ecc.optimized_bn128 import FQ2, b2, is_on_curve

    (x0, x1), (y0, y1) = twist_point_outside_subgroup()
    assert is_on_curve((FQ2([x0, x1]), FQ2([y0, y1]), FQ2.one()), b2)


def test_point_encoding_roundtrip(native, rng: random.Random) -> None:
    g1, g2 = native.g1_generator(), native.g2_generator()
    for _ in range(3):
        p = native.g1_mul(g1, rng.randrange(R))
        q = native.g2_mul(g2, rng.randrange(R))
        assert g1_from_bytes(g1_to_bytes(p)) == p
        assert g2_from_bytes(g2_to_bytes(q)) == q
    assert g1_to_bytes(None) == bytes(64) and g1_from_bytes(bytes(64)) is None
    assert g2_to_bytes(None) == bytes(128) and g2_from_bytes(bytes(128)) is None
    assert _native.g1_generator() == (1).to_bytes(32, "little") + (2).to_bytes(32, "little")
    with pytest.raises(ValueError):
        g1_from_bytes(bytes(63))


def test_raw_module_rejects_wrong_lengths() -> None:
    g = _native.g1_generator()
    assert not _native.g1_is_valid(g[:-1]) and not _native.g2_is_valid(bytes(127))
    with pytest.raises(ValueError, match="64 bytes"):
        _native.g1_add(g, g + b"\x00")
    with pytest.raises(ValueError, match="128 bytes"):
        _native.g2_neg(bytes(64))
    with pytest.raises(ValueError, match="32 bytes"):
        _native.g1_mul(g, bytes(31))
    with pytest.raises(ValueError, match="not < r"):
        _native.g1_mul(g, R.to_bytes(32, "little"))
