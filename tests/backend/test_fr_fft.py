"""Fr vector operations and FFTs: native == reference, round trips, documented constants."""

from __future__ import annotations

import random

import pytest

from omnidsl.backend.base import COSET_SHIFT, TWO_ADIC_ROOT, TWO_ADICITY
from omnidsl.field import R
from tests.backend.helpers import fr_bytes, fr_ints


@pytest.mark.parametrize("n", [0, 1, 5, 33])
def test_fr_ops_agree(native, ref, rng: random.Random, n: int) -> None:
    a = fr_bytes([rng.randrange(R) for _ in range(n)])
    b = fr_bytes([rng.randrange(R) for _ in range(n)])
    for op in ("fr_add", "fr_sub", "fr_mul"):
        assert getattr(native, op)(a, b) == getattr(ref, op)(a, b), op
    x, y = fr_ints(a), fr_ints(b)
    assert fr_ints(native.fr_add(a, b)) == [(p + q) % R for p, q in zip(x, y, strict=True)]
    assert fr_ints(native.fr_sub(a, b)) == [(p - q) % R for p, q in zip(x, y, strict=True)]
    assert fr_ints(native.fr_mul(a, b)) == [p * q % R for p, q in zip(x, y, strict=True)]
    for k in (0, 1, -1, 7, R + 3, -(R * 5) - 2, 1 << 300):
        assert native.fr_scale(a, k) == ref.fr_scale(a, k) == fr_bytes([p * k for p in x])


def test_fr_inv(native, ref, rng: random.Random) -> None:
    a = fr_bytes([rng.randrange(1, R) for _ in range(9)])
    inv = native.fr_inv(a)
    assert inv == ref.fr_inv(a)
    assert fr_ints(native.fr_mul(a, inv)) == [1] * 9
    with pytest.raises(ValueError, match="zero"):
        native.fr_inv(a + bytes(32))
    with pytest.raises(ValueError, match="zero"):
        ref.fr_inv(a + bytes(32))


def test_fr_random(native, ref) -> None:
    for b in (native, ref):
        v = fr_ints(b.fr_random(200))
        assert len(v) == 200 and all(0 <= x < R for x in v)
        assert len(set(v)) == 200
        assert max(v) > R // 2  # uniform over F_r, not small integers
        assert b.fr_random(0) == b""
        with pytest.raises(ValueError):
            b.fr_random(-1)


@pytest.mark.parametrize("backend", ["native", "ref"])
def test_fr_errors(request, backend: str) -> None:
    b = request.getfixturevalue(backend)
    good = fr_bytes([1, 2])
    with pytest.raises(ValueError, match="length"):
        b.fr_add(good, fr_bytes([1]))
    with pytest.raises(ValueError, match="multiple of 32"):
        b.fr_mul(good[:-1], good[:-1])
    with pytest.raises(ValueError, match="not < r"):
        b.fr_add(good, fr_bytes([1]) + R.to_bytes(32, "little"))
    with pytest.raises(ValueError, match="not < r"):
        b.fr_scale((R + 1).to_bytes(32, "little"), 2)
    with pytest.raises(ValueError):
        b.fr_scale(good, "7")


def test_documented_constants() -> None:
    assert pow(5, (R - 1) >> TWO_ADICITY, R) == TWO_ADIC_ROOT
    assert pow(TWO_ADIC_ROOT, 1 << (TWO_ADICITY - 1), R) == R - 1
    assert COSET_SHIFT == 5


@pytest.mark.parametrize("n", [1, 2, 4, 8, 16, 32, 64])
def test_fft_agree_and_roundtrip(native, ref, rng: random.Random, n: int) -> None:
    v = fr_bytes([rng.randrange(R) for _ in range(n)])
    for op in ("fft", "ifft", "coset_fft", "coset_ifft"):
        assert getattr(native, op)(v) == getattr(ref, op)(v), (op, n)
    assert native.ifft(native.fft(v)) == v
    assert native.fft(native.ifft(v)) == v
    assert native.coset_ifft(native.coset_fft(v)) == v
    assert native.coset_fft(native.coset_ifft(v)) == v


@pytest.mark.parametrize("n", [2, 8, 64])
def test_fft_evaluates_on_documented_domain(native, rng: random.Random, n: int) -> None:
    coeffs = [rng.randrange(R) for _ in range(n)]
    w = pow(TWO_ADIC_ROOT, 1 << (TWO_ADICITY - (n.bit_length() - 1)), R)

    def poly(x: int) -> int:
        return sum(c * pow(x, i, R) for i, c in enumerate(coeffs)) % R

    ev = fr_ints(native.fft(fr_bytes(coeffs)))
    cev = fr_ints(native.coset_fft(fr_bytes(coeffs)))
    for i in (0, 1, n - 1):
        assert ev[i] == poly(pow(w, i, R))
        assert cev[i] == poly(COSET_SHIFT * pow(w, i, R) % R)


def test_fft_large_roundtrip(native) -> None:
    v = native.fr_random(1 << 12)
    assert native.coset_ifft(native.coset_fft(v)) == v
    assert native.ifft(native.fft(v)) == v


@pytest.mark.parametrize("backend", ["native", "ref"])
@pytest.mark.parametrize("n", [0, 3, 6, 12])
def test_fft_rejects_non_power_of_two(request, backend: str, n: int) -> None:
    b = request.getfixturevalue(backend)
    for op in ("fft", "ifft", "coset_fft", "coset_ifft"):
        with pytest.raises(ValueError, match="power of two"):
            getattr(b, op)(bytes(32 * n))


@pytest.mark.parametrize("backend", ["native", "ref"])
def test_fft_rejects_bad_elements(request, backend: str) -> None:
    b = request.getfixturevalue(backend)
    with pytest.raises(ValueError, match="not < r"):
        b.fft(fr_bytes([1]) + (R + 5).to_bytes(32, "little"))
    with pytest.raises(ValueError, match="multiple of 32"):
        b.ifft(bytes(33))
