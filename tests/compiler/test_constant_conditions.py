"""Constant conditions: an assertion that can never hold is a located compile error (never an
internal error), and a constant `if` is exactly its chosen branch, also as a factor."""

from __future__ import annotations

import pytest

from omnidsl.compiler import compile_rule
from omnidsl.errors import DSLTypeError, OmniDSLError

HEAD = "rule E {\n  private x: fixed bits 16 frac 8;\n  private v: int[4] bits 6;\n"


def refused(stmt: str) -> str:
    """The printed error of a rule whose third line is ``stmt``: located on it, with a caret."""
    with pytest.raises(DSLTypeError) as info:
        compile_rule(HEAD + f"  {stmt}\n}}\n", "e.omni", None, 2)
    text = str(info.value)
    lines = text.splitlines()
    assert lines[0].startswith("e.omni:4:"), text
    assert lines[1] == f"  {stmt}" and lines[2].lstrip().startswith("^"), text
    assert lines[-1].startswith("hint: "), text
    return text


def test_and_with_a_constant_false_side_is_located_on_that_side():
    text = refused("assert x != 0 and 3 <= -1;")
    lines = text.splitlines()
    assert lines[0] == ("e.omni:4:21: error: `3 <= -1` is always false, so this assertion "
                        "never holds")
    assert lines[2] == " " * 20 + "^~~~~~~"


@pytest.mark.parametrize("stmt,part", [
    ("assert x > 0 and (x < 9 and 3 <= -1);", "3 <= -1"),
    ("assert all(3 <= -1 for i in 0..4);", "3 <= -1"),
    ("assert all(v[i] > 0 and 1 > 2 for i in 0..4);", "1 > 2"),
    ("assert 1 > 2 and x > 0, \"never\";", "1 > 2"),
    ("assert 1 > 2 or 2 > 3;", "1 > 2 or 2 > 3"),
    ("assert abs(x) < 0;", "abs(x) < 0"),
    ("assert x * 0 > 0;", "x * 0 > 0"),
    ("assert abs(x) < 0 or abs(x) < -1;", "abs(x) < 0 or abs(x) < -1"),
    ("assert not (abs(x) >= 0);", "not (abs(x) >= 0)"),
    ("assert (1 if 1 > 2 else 0) > 0;", "(1 if 1 > 2 else 0) > 0"),
])
def test_assertions_that_never_hold_are_located(stmt, part):
    text = refused(stmt)
    assert f"`{part}`" in text.splitlines()[0] and "never holds" in text.splitlines()[0], text
    col = int(text.splitlines()[0].split(":")[2])
    assert stmt[col - 3 :].startswith(part), text  # the caret's column is the part's column


@pytest.mark.parametrize("stmt", [
    "assert x > 0 or 3 <= -1;",  # the constant side does not decide
    "assert x > 0 and 1 < 2;",
    "assert (x > 0) == (1 > 2);",
])
def test_constant_sides_that_do_not_decide_compile(stmt):
    c = compile_rule(HEAD + f"  {stmt}\n}}\n", "e.omni", None, 2)
    assert c.witness({"x": -1.0 if "==" in stmt else 1.0, "v": [1, 2, 3, 4]}) is not None


@pytest.mark.parametrize("expr,want", [
    ("x * (2 if 1 > 0 else x)", 3.0),
    ("(2 if 1 > 0 else x) * x", 3.0),
    ("x * (1 if 1 > 2 else 0.5)", 0.75),
    ("(1 if x > 0 else 1) * x", 1.5),
    ("(x if 1 > 2 else v[1]) * x", 3.0),
    ("x * (v if 1 > 0 else v)[2] + (0.25 if 3 > 2 else v[0])", 4.75),
    ("rescale((3 if 2 > 1 else x) * x, 2)", 4.5),
])
def test_constant_if_as_a_factor(expr, want):
    for level in (0, 2):
        c = compile_rule(HEAD + f"  output o = {expr};\n}}\n", "e.omni", None, level)
        assert c.decoded_outputs(c.witness({"x": 1.5, "v": [1, 2, 3, 4]}))["o"] == want


def test_never_an_internal_error_from_constant_parts():
    """Every combination of constant and input parts either compiles or is refused with a
    located OmniDSLError (never InternalError / AttributeError)."""
    parts = ["1 > 2", "2 > 1", "x > 0", "abs(x) < 0", "abs(x) >= 0"]
    for a in parts:
        for b in parts:
            for op in ("and", "or"):
                for form in (f"assert {a} {op} {b};",
                             f"output o = x * (1 if {a} {op} {b} else 2);",
                             f"output o = (x if {a} else 0.5) * (2 if {b} else x);"):
                    try:
                        compile_rule(HEAD + f"  {form}\n}}\n", "e.omni", None, 2)
                    except OmniDSLError as exc:
                        assert str(exc).startswith("e.omni:4:"), (form, str(exc))
