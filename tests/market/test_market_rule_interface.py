"""The market rule interface (omnidsl/market/interface.py, docs/market.md): a rule missing an
element gets a located error naming it; the layout of a rule that meets it is derived from the
rule and agrees with the compiled circuit's public signals."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from omnidsl.errors import DSLTypeError
from omnidsl.lang.checker import check
from omnidsl.lang.parser import parse
from omnidsl.market import dsl_rule
from omnidsl.market.interface import market_interface

ROOT = Path(__file__).resolve().parents[2]

GOOD = """rule Mine(D = 4) {
    private delta: fixed[D] bits 16 frac 12;
    public  owner: int bits 161;
    public  rho: field;
    public  anchor: fixed[D] bits 16 frac 12 committed;
    public  linf: fixed bits 16 frac 12;
    public  lows: fixed[2] bits 16 frac 12;
    private blind: field;

    assert all(abs(delta[i]) <= linf for i in 0..D), "entry too large";
    assert dot(delta, anchor) >= lows[0] * lows[1], "too far from the anchor";
    output seal = fingerprint(delta, rho, blind);
}
"""


def iface(src: str, file: str = "mine.omni"):
    return market_interface(check(parse(src, file), None))


def located(src: str, needle: str, what: str) -> DSLTypeError:
    """The error for ``src``; it points at the line:col of ``needle`` and names ``what``."""
    with pytest.raises(DSLTypeError) as info:
        iface(src)
    err = info.value
    line = next(i for i, t in enumerate(src.splitlines(), 1) if needle in t)
    col = src.splitlines()[line - 1].index(needle) + 1
    assert err.span is not None and (err.span.file, err.span.line, err.span.column) == \
        ("mine.omni", line, col), str(err)
    assert what in err.message, err.message
    assert re.match(rf"mine\.omni:{line}:{col}: error: ", str(err)), str(err)
    return err


def test_a_rule_meeting_the_interface_has_its_layout_derived():
    ifc = iface(GOOD)
    assert (ifc.fp, ifc.gradient, ifc.mask, ifc.dim) == ("seal", "delta", "blind", 4)
    assert (ifc.fp_index, ifc.owner_index, ifc.rho_index) == (0, 1, 2)
    assert [(p.name, p.index, p.kind, p.count) for p in ifc.pins] == [
        ("anchor", 3, "commitment", 1), ("linf", 4, "scalar", 1), ("lows", 5, "vector", 2)]
    assert ifc.n_public == 7
    lay = dsl_rule.layout_of(ifc)
    assert lay.pinned_indices == (3, 4, 5, 6) and lay.pinned_index is None


def test_missing_owner_rho_or_fingerprint_is_named_at_the_rule():
    src = GOOD.replace("    public  owner: int bits 161;\n", "")
    err = located(src, "rule Mine", "no `owner` input")
    assert "public owner: int bits 161" in (err.hint or "")
    located(GOOD.replace("public  rho: field;", "public  seed: field;")
            .replace("rho, blind", "seed, blind"), "rule Mine", "no `rho` input")
    located(GOOD.replace("output seal = fingerprint(delta, rho, blind);",
                         ""), "rule Mine", "no aggregate-fingerprint output")


def test_wrong_elements_are_named_at_their_declaration():
    located(GOOD.replace("public  owner: int bits 161;", "public  owner: int bits 64;"),
            "public  owner", "`owner` must be a public scalar holding a 160-bit address")
    located(GOOD.replace("public  rho: field;", "public  rho: fixed bits 32 frac 0;")
            .replace("fingerprint(delta, rho, blind)", "fingerprint(delta, blind, blind)"),
            "public  rho", "`rho` must be a public `field` scalar")
    located(GOOD.replace("fingerprint(delta, rho, blind)", "fingerprint(delta, rho)"),
            "fingerprint(delta, rho)", "the fingerprint has no mask")
    located(GOOD.replace("private blind: field;", "private blind: field;\n    private aux: "
                         "fixed bits 16 frac 12;"), "private aux", "private input 'aux'")
    located(GOOD.replace("    output seal", "    output leak = norm2(delta);\n    output seal"),
            "leak", "output 'leak' would publish")


def test_the_shipped_rules_meet_it_and_are_the_circuits_copies():
    for name in ("market_norm.omni", "market_cosine.omni"):
        shipped = (dsl_rule.RULES / name).read_text(encoding="utf-8")
        assert shipped == (ROOT / "circuits" / name).read_text(encoding="utf-8")
        iface(shipped, name)
    assert (ROOT / "circuits" / "market_norm.omni").read_text(encoding="utf-8") == dsl_rule.SOURCE
    with pytest.raises(DSLTypeError, match="no `owner` input"):
        iface((ROOT / "circuits" / "cosine_committed.omni").read_text(encoding="utf-8"))


def test_the_derived_layout_matches_the_compiled_public_signals(tmp_path):
    path = tmp_path / "mine.omni"
    path.write_text(GOOD)
    rule = dsl_rule.setup_file(path)
    assert rule.circuit.r1cs.n_public == rule.iface.n_public == 7
    anchor = [100, -200, 300, 4000]
    terms = {"anchor": anchor, "linf": 4096, "lows": [0, 0]}
    wit = rule.circuit.witness(rule.witness_input([5, 6, 7, 8, 99], "0x" + "ab" * 20, 1234,
                                                  terms))
    pub = rule.circuit.public_signals(wit)
    from omnidsl.market.aggregate import fingerprint

    lay = rule.layout
    assert pub[lay.fp_index] == fingerprint([5, 6, 7, 8, 99], 1234)
    assert pub[lay.owner_index] == int("ab" * 20, 16) and pub[lay.rho_index] == 1234
    assert {i: pub[i] for i in lay.pinned_indices} == rule.pins(terms)
    assert rule.pins(terms)[3] == rule.circuit.commitment("anchor", [str(v) for v in anchor])


def test_omnidsl_check_market_names_the_layout_or_the_missing_element(tmp_path, capsys):
    from omnidsl.cli import main

    assert main(["check", str(ROOT / "circuits" / "market_cosine.omni"), "--market",
                 "--param", "D=16"]) == 0
    out = capsys.readouterr().out
    assert "public signals [fp, owner, rho, ref.commitment, tau, max_norm, min_norm]" in out
    assert "pinned by the task: ref (commitment), tau (scalar)" in out
    bad = tmp_path / "mine.omni"
    bad.write_text(GOOD.replace("    public  owner: int bits 161;\n", ""))
    assert main(["check", str(bad), "--market"]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:1:1: error: market rule Mine has no `owner` input" in err
    assert main(["check", str(bad)]) == 0  # a valid rule, only not a market rule


def test_market_demo_rule_options_are_checked_before_anything_runs(capsys):
    from omnidsl.cli import main
    from omnidsl.market.tasks import parse_values, shipped_rule

    assert main(["market", "demo", "--pin", "tau=0.3"]) == 2
    assert "--rule-param and --pin need --rule" in capsys.readouterr().err
    assert main(["market", "demo", "--rule", "cosine", "--pin", "tau"]) == 2
    assert "bad --pin 'tau'" in capsys.readouterr().err
    assert parse_values(["tau=0.3", "min_norm = 1e-2"]) == {"tau": 0.3, "min_norm": 0.01}
    assert shipped_rule("cosine") == dsl_rule.COSINE_RULE
    assert shipped_rule("x/y.omni") == Path("x/y.omni")
