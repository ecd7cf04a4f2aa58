"""The example rules in circuits/ parse (and pass the checker with small parameters)."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnidsl.lang import ast, parse_file
from omnidsl.lang.checker import check

CIRCUITS = Path(__file__).resolve().parents[2] / "circuits"
FILES = sorted(CIRCUITS.glob("*.omni"))


def test_expected_examples_exist():
    names = {p.name for p in FILES}
    assert {"norm_bound.omni", "cosine.omni", "range.omni"} <= names
    assert len(names) >= 5


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_example_parses_with_header_and_sized_by_params(path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("// "), "each example starts with an explanatory comment"
    rule = parse_file(path)
    assert rule.file == str(path)
    assert any(p.name == "D" and p.default is not None for p in rule.params)
    assert rule.inputs and any(isinstance(s, ast.Assert) for s in rule.body)
    for decl in rule.inputs:
        if decl.type.length is not None:
            assert isinstance(decl.type.length, ast.Name) and decl.type.length.id == "D"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_example_checks_with_small_params(path):
    checked = check(parse_file(path), {"D": 8})
    assert checked.params["D"] == 8
