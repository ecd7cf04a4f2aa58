"""The built-in registry (omnidsl/lang/builtins.py): one entry per function, the docs generated
from it, and a new built-in added through one table entry only."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from omnidsl.compiler import compile_rule
from omnidsl.errors import DSLSyntaxError, DSLTypeError
from omnidsl.lang import builtins
from omnidsl.lang.builtins import REGISTRY, Builtin, generator_names, markdown_table
from omnidsl.lang.parser import GENERATOR_FUNCS

DSL_MD = Path(__file__).resolve().parents[2] / "docs" / "dsl.md"
GADGETS_MD = DSL_MD.with_name("gadgets.md")
#: built-ins that emit no constraint of their own (folded to a constant by the checker)
NO_COST = {"len"}


def test_docs_table_is_the_registry():
    text = DSL_MD.read_text(encoding="utf-8")
    assert markdown_table() in text
    # every entry has exactly one row, in registry order
    rows = re.findall(r"^\| (`[a-z0-9]+)\(", text[text.index("### Built-in functions"):
                                                  text.index("### Generators")], re.M)
    assert [r.strip("`") for r in rows] == list(REGISTRY)


def test_docs_name_every_builtin_and_every_reduction():
    text = DSL_MD.read_text(encoding="utf-8")
    listed = re.search(r"Built-in function names \(([^)]*)\)", text.replace("\n", " "))
    assert listed is not None
    assert re.findall(r"`(\w+)`", listed.group(1)) == list(REGISTRY)
    gens = re.search(r"with `f` one of ([^.]*?) evaluates", text.replace("\n", " "))
    assert gens is not None
    assert sorted(re.findall(r"`(\w+)`", gens.group(1))) == sorted(generator_names())


def test_every_builtin_has_its_cost_in_gadgets_md():
    text = GADGETS_MD.read_text(encoding="utf-8")
    table = text[text.index("## Gadget table"):]
    table = table[:table.index("\n## ", 1)]
    for name in set(REGISTRY) - NO_COST:  # a row of the table, or a section of its own
        assert re.search(rf"^\|[^|\n]*`[^`|]*\b{name}\(", table, re.M) or re.search(
            rf"^#+ .*`{name}\(", text, re.M), name


def test_entries_are_complete():
    assert set(GENERATOR_FUNCS) == set(generator_names()) == {"sum", "all", "any", "min", "max"}
    for name, entry in REGISTRY.items():
        assert entry.name == name
        assert entry.arity and all(n >= 1 for n in entry.arity)
        assert name + "(" in entry.usage and name + "(" in entry.forms
        assert entry.doc and "|" not in entry.doc.replace("\\|", "")
        assert (entry.reduce_check is None) == (entry.reduce_lower is None)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_arity_error_quotes_the_registry_usage(name: str):
    entry = REGISTRY[name]
    n = max(entry.arity) + 1
    args = ", ".join(["v"] * n)
    src = f"rule R {{ private v: fixed[3] bits 8; output o = {name}({args}); }}"
    with pytest.raises(DSLTypeError) as exc:
        compile_rule(src, "r.omni")
    err = exc.value
    assert f"{name}() takes {' or '.join(map(str, entry.arity))} argument(s), got {n}" in str(err)
    assert err.hint == f"usage: {entry.usage}"
    assert (err.span.line, err.span.column) == (1, src.index(name + "(") + 1)


def _check_cube(chk, e, loop):
    x = builtins.numbers(chk, e, loop)[0]
    if x.is_const:
        return builtins.const_info(x.const ** 3)
    lo, hi = x.lo ** 3, x.hi ** 3  # x ↦ x³ is increasing
    return builtins.ExprInfo("num", x.length, 3 * x.scale, lo, hi)


def _lower_cube(low, e, loop):
    x = low.lower(e.args[0], loop)
    g, b = low.g, low.b
    return low.value("num", g.mul(b, g.mul(b, x.v, x.v), x.v), 3 * x.scale, x.length)


@pytest.fixture
def cube(monkeypatch: pytest.MonkeyPatch) -> Builtin:
    """A new built-in ``cube(x)``: one registry entry, an existing gadget (mul)."""
    entry = Builtin("cube", (1,), "cube(x)", "`cube(x)`", "x·x·x", _check_cube, _lower_cube)
    monkeypatch.setitem(REGISTRY, "cube", entry)
    return entry


def test_a_new_builtin_needs_only_its_entry(cube: Builtin):
    src = ("rule C { private x: fixed bits 8 frac 2; private v: int[3] bits 4; "
           "output c = cube(x); output w = cube(v); assert cube(x) <= 8; }")
    circuit = compile_rule(src, "c.omni", opt_level=2)
    wit = circuit.witness({"x": -1.5, "v": [2, -3, 7]})
    assert circuit.decoded_outputs(wit) == {"c": -3.375, "w": [8, -27, 343]}
    with pytest.raises(Exception, match="cube"):
        circuit.witness({"x": 2.25, "v": [0, 0, 0]})  # 11.39 > 8
    assert "cube" in markdown_table()
    with pytest.raises(DSLTypeError, match="'cube' is a built-in function name"):
        compile_rule("rule C { private cube: int bits 4; }", "c.omni")
    with pytest.raises(DSLSyntaxError, match="`cube` does not take a generator"):
        compile_rule("rule C { private v: int[3] bits 4; output s = cube(v[i] for i in 0..3); }")


def test_a_new_reduction_needs_only_its_entry(monkeypatch: pytest.MonkeyPatch):
    """``prod``-like reductions plug in through reduce_check / reduce_lower (here: a sum of
    squares, sumsq(v) / sumsq(f(i) for i in a..b))."""

    def check(chk, e, loop):
        a = builtins.vectors(chk, e, loop)[0]
        return builtins.ExprInfo("num", None, 2 * a.scale, 0, a.mag * a.mag * a.length)

    def lower(low, e, loop):
        u = low.lower(e.args[0], None)
        return low.value("num", low.g.dot(low.b, u.v, u.v, square=True), 2 * u.scale)

    def reduce_check(chk, e, body, n):
        builtins.numeric_body(chk, e, body)
        return builtins.ExprInfo("num", None, 2 * body.scale, 0, body.mag * body.mag * n)

    def reduce_lower(low, e, v, scale):
        return low.value("num", low.g.dot(low.b, v, v, square=True), 2 * scale)

    monkeypatch.setitem(REGISTRY, "sumsq", Builtin("sumsq", (1,), "sumsq(v)", "`sumsq(v)`",
                                                   "Σ v_i²", check, lower, reduce_check,
                                                   reduce_lower))
    src = ("rule S { private v: int[4] bits 6; output a = sumsq(v); "
           "output b = sumsq(v[i] - 1 for i in 1..4); }")
    c = compile_rule(src, "s.omni")
    assert c.decoded_outputs(c.witness({"v": [1, 2, -3, 4]})) == {"a": 30, "b": 1 + 16 + 9}


def test_an_output_only_builtin_needs_only_its_entry(monkeypatch: pytest.MonkeyPatch):
    """``output_only`` and ``lower_output`` are read from the entry: a copy of fingerprint()
    under another name is confined to outputs and written into the output wire directly."""
    monkeypatch.setitem(REGISTRY, "fp2", dataclasses.replace(REGISTRY["fingerprint"],
                                                            name="fp2"))
    head = "rule F { private v: int[4] bits 8; public rho: field; "
    a = compile_rule(head + "output h = fingerprint(v, rho); }", "f.omni", opt_level=0)
    b = compile_rule(head + "output h = fp2(v, rho); }", "f.omni", opt_level=0)
    assert b.r1cs.to_rows() == a.r1cs.to_rows()  # no copy constraint: D products only...
    assert b.r1cs.n_constraints == 4 + 4 * 9 + 0  # ...plus the range checks of v (8 bits + 1)
    inputs = {"v": [1, -2, 3, 4], "rho": "7"}
    assert b.decoded_outputs(b.witness(inputs)) == a.decoded_outputs(a.witness(inputs))
    with pytest.raises(DSLTypeError, match="can only be the whole value of an output"):
        compile_rule(head + "let h = fp2(v, rho); }", "f.omni")
