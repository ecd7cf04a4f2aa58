"""Fuzzing the front end: any input yields a Rule or a DSLSyntaxError, never anything else.

Budget: about 30 s in total (grammar-generated programs, mutated rules, random text).
"""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

from omnidsl.errors import DSLSyntaxError
from omnidsl.lang import ast, parse
from omnidsl.lang.parser import RESERVED, lark_parser

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)

VALID = """\
// L2 and cosine
rule Fuzz(D = 8, K = 2) {
    private g: fixed[D] bits 16 frac 12;
    public  ref: fixed[D];
    public  tau: fixed bits 20 frac 10;
    let s = sum(g[i] * g[i] for i in 0..D);   /* squared norm */
    assert s <= 4.0 * 4.0, "L2 norm too large";
    assert all(abs(g[i]) <= 1e-1 for i in 0..D) and not (s == 1);
    assert dot(g, ref) >= tau * norm(g) * norm(ref);
    let m = max(g[0], g[K - 1]) if s > 2.5E2 else -min(g[1], 0);
    output total: fixed frac 8 = sum(g[i] for i in 0..D) / D;
}
"""


def _spaced(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return strategy.map(lambda s: f" {s} ")


def _explicit() -> dict[str, st.SearchStrategy[str]]:
    """Terminal strategies that keep generated programs lexable (keywords apart from names)."""
    names = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,6}\Z").filter(lambda s: s not in RESERVED)
    numbers = st.one_of(
        st.integers(0, 10**6).map(str),
        st.from_regex(r"\A[0-9]{1,3}\.[0-9]{1,3}([eE][+-]?[0-9]{1,2})?\Z"),
    )
    words = {w.upper(): st.just(w) for w in RESERVED}
    out = {k: _spaced(v) for k, v in words.items()}
    out["NAME"] = _spaced(names)
    out["NUMBER"] = _spaced(numbers)
    out["STRING"] = st.from_regex(r'\A"[a-z ]{0,10}"\Z')
    out["BLOCK_COMMENT"] = st.just("/* c */")
    out["LINE_COMMENT"] = st.just("// c\n")
    return out


PROGRAMS = from_lark(lark_parser(), start="start", explicit=_explicit())


def _parse_or_syntax_error(text: str) -> ast.Rule | None:
    try:
        return parse(text, "fuzz.omni")
    except DSLSyntaxError as err:
        rendered = str(err)  # rendering must not fail either
        assert rendered.startswith("fuzz.omni:")
        assert err.span is not None and err.span.line >= 1 and err.span.column >= 1
        return None


@SETTINGS
@given(PROGRAMS)
def test_grammar_generated_programs(text):
    rule = _parse_or_syntax_error(text)
    if rule is not None:
        assert rule.source == text


def test_grammar_generated_programs_mostly_parse():
    """The generator above produces real programs (guards against a vacuous fuzz test)."""
    ok = 0

    @settings(
        max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(PROGRAMS)
    def count(text):
        nonlocal ok
        ok += _parse_or_syntax_error(text) is not None

    count()
    assert ok >= 20


ALPHABET = [*string.printable, "..", "/*", "*/", "//", "rule", "let", "for", " in ", "é"]


@settings(SETTINGS, max_examples=1000)
@given(
    st.lists(
        st.tuples(st.integers(0, len(VALID)), st.integers(0, 8), st.sampled_from(ALPHABET)),
        min_size=1,
        max_size=6,
    )
)
def test_mutated_valid_rule(edits):
    text = VALID
    for pos, cut, insert in edits:
        pos = min(pos, len(text))
        text = text[:pos] + insert + text[pos + cut :]
    _parse_or_syntax_error(text)


@settings(SETTINGS, max_examples=1000)
@given(st.lists(st.sampled_from(ALPHABET), max_size=40).map("".join))
def test_random_token_soup(text):
    _parse_or_syntax_error("rule R {" + text + "}")
    _parse_or_syntax_error(text)


@settings(SETTINGS, max_examples=500)
@given(st.text(max_size=60))
def test_random_unicode_text(text):
    _parse_or_syntax_error(text)


def test_valid_reference_parses():
    assert parse(VALID).name == "Fuzz"
