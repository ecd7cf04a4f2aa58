"""The market's circom rule finds the shared test ptau from the checkout (no machine path), takes
$OMNIDSL_PTAU or an explicit file instead, and says clearly what to do when it is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnidsl.errors import ProofError
from omnidsl.market import circom_rule as cr

REPO = Path(__file__).resolve().parents[2]


def test_shared_ptau_is_beside_the_checkout(monkeypatch):
    monkeypatch.delenv(cr.PTAU_ENV, raising=False)
    assert REPO.parent / "shared" / "ptau" / "pot17_test.ptau" == cr.SHARED_PTAU
    assert cr.shared_ptau() == cr.SHARED_PTAU
    assert "/work/" not in Path(cr.__file__).read_text().split("SHARED_PTAU =")[1].split("\n")[0]


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv(cr.PTAU_ENV, str(tmp_path / "mine.ptau"))
    assert cr.shared_ptau() == tmp_path / "mine.ptau"


@pytest.mark.parametrize("how", ["env", "option"])
def test_missing_ptau_is_a_clear_error(monkeypatch, tmp_path, how):
    missing = tmp_path / "nowhere" / "pot.ptau"
    monkeypatch.setenv(cr.PTAU_ENV, str(missing))
    dim = 4000  # above the tiny-ptau size: needs the prepared file
    assert cr.ptau_power(dim) > 10
    with pytest.raises(ProofError) as info:
        cr.setup(dim, tmp_path / "work", ptau=missing if how == "option" else None)
    text = str(info.value)
    assert f"powers-of-tau file {missing} not found" in text
    assert "--ptau FILE" in text and cr.PTAU_ENV in text
