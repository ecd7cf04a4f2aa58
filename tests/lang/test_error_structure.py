"""Syntax error class: wrong overall structure (rule header, statements, ranges, generators)."""

from __future__ import annotations

from langhelp import check_error, syntax_error


def test_empty_file():
    for src in ("", "   \n// only a comment\n"):
        err = syntax_error(src)
        assert str(err).splitlines()[0] == "bad.omni:1:1: error: empty rule file"
        assert "rule Name" in err.hint


def test_missing_rule_name():
    check_error("rule { }", "unexpected '{'; expected a name", 1, 6)


def test_truncated_header():
    check_error("rule R", "unexpected end of file; expected '(' or '{'", 1, 7)


def test_not_starting_with_rule():
    check_error("let x = 1;", "unexpected keyword 'let'; expected 'rule'", 1, 1)


def test_two_rules():
    check_error("rule A { }\nrule B { }\n", "only one rule per file", 2, 1, width=4)


def test_bare_assignment_statement():
    check_error(
        "rule R {\n  total = 3;\n}",
        "expected a declaration or statement, found name 'total'",
        2,
        3,
        hint="bind names with `let total = ...;`",
    )


def test_unknown_statement_keyword():
    check_error(
        "rule R { input x: fixed; }",
        "expected a declaration or statement, found name 'input'",
        1,
        10,
        hint="statements start with public, private, let, assert or output",
    )


def test_range_written_as_call():
    check_error(
        "rule R { let s = sum(g[i] for i in range(D)); }",
        "expected '..' in a range, found ')'",
        1,
        44,
        hint="ranges are written `start..stop`",
    )


def test_generator_on_wrong_function():
    check_error(
        "rule R { let s = dot(g[i] for i in 0..3); }",
        "`dot` does not take a generator",
        1,
        18,
        hint="all, any, max, min, sum",
        width=3,
    )


def test_missing_operator():
    check_error(
        "rule R { let s = a b; }",
        "unexpected name 'b'; expected an operator or ';'",
        1,
        20,
        hint="operator",
    )


def test_missing_expression():
    check_error("rule R { let s = ; }", "unexpected ';'; expected an expression", 1, 18)


def test_deep_nesting_is_a_syntax_error():
    src = "rule R { let s = " + "+".join(["1"] * 1000) + "; }"
    err = syntax_error(src)
    assert "nested too deeply" in err.message and err.hint is not None


def test_extra_semicolon():
    check_error(
        "rule R { let v = 1;; }",
        "expected a declaration or statement, found ';'",
        1,
        20,
        hint="remove the extra ';'",
    )


def test_deep_nesting_points_at_the_expression_start():
    src = "rule R {\n  let a = 1;\n  let s = " + "-" * 300 + "a;\n}"
    check_error(
        src,
        "expression nested too deeply (more than 200 levels)",
        3,
        11,
        hint="split it into several `let` bindings",
    )


def test_nesting_below_the_limit_is_accepted():
    from omnidsl.lang import parse

    rule = parse("rule R { let s = " + "-" * 190 + "a; }")
    assert rule.body[0].value.op == "-"


def test_broken_comment_marker():
    check_error(
        "/ a comment\nrule R { }",
        "unexpected '/'; expected 'rule'",
        1,
        1,
        hint="comments start with `//` or `/*`",
    )
    check_error(
        "rule R {\n  let v = 1; / note\n}",
        "expected a declaration or statement, found '/'",
        2,
        14,
        hint="comments start with `//` or `/*`",
    )
