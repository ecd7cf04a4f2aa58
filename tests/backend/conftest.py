"""Fixtures for the backend tests: both implementations and a seeded RNG for test data."""

from __future__ import annotations

import random

import pytest

from omnidsl.backend import Backend, get_backend
from omnidsl.backend.native import NativeBackend
from omnidsl.backend.reference import ReferenceBackend


@pytest.fixture(scope="session")
def native() -> NativeBackend:
    b = get_backend("native")
    assert isinstance(b, NativeBackend) and isinstance(b, Backend)
    return b


@pytest.fixture(scope="session")
def ref() -> ReferenceBackend:
    b = get_backend("reference")
    assert isinstance(b, ReferenceBackend) and isinstance(b, Backend)
    return b


@pytest.fixture
def rng() -> random.Random:
    return random.Random(20261125)
