"""The syntax-error examples printed in docs/dsl.md are exactly what the parser reports."""

from __future__ import annotations

from pathlib import Path

import pytest
from langhelp import syntax_error

from omnidsl.lang.parser import RESERVED

DOC = (Path(__file__).resolve().parents[2] / "docs" / "dsl.md").read_text(encoding="utf-8")

EXAMPLES = {
    "missing semicolon": "rule R {\n    let s = sum(g[i] for i in 0..D)\n    assert s > 0;\n}\n",
    "chained comparison": "rule R {\n    assert 0 <= x < 10;\n}\n",
    "assignment": "rule R {\n    assert x = 1;\n}\n",
    "unknown type": "rule R {\n    private g: float[D];\n}\n",
    "reserved word": "rule R {\n    let in = 3;\n}\n",
    "bracket": "rule R {\n    assert abs(x > 1;\n}\n",
    "comment": "rule R {\n    let v = 1;  /* note\n}\n",
    "range": "rule R {\n    let s = sum(g[i] for i in range(D));\n}\n",
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_documented_syntax_error_is_verbatim(name):
    err = syntax_error(EXAMPLES[name], "rule.omni")
    assert str(err) in DOC


def test_documented_reserved_words_match_the_parser():
    line = next(x for x in DOC.splitlines() if x.startswith("`rule public private"))
    assert set(line.strip("`.").split()) == RESERVED
