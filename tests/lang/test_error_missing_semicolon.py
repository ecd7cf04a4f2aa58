"""Syntax error class: a statement or declaration without its ';'."""

from __future__ import annotations

from langhelp import check_error

HINT = "every declaration and statement ends with ';'"


def test_missing_semicolon_before_next_line():
    src = "rule R {\n    let x = a + 1\n    assert x > 0;\n}\n"
    check_error(src, "expected ';' after number 1", 2, 18, hint=HINT, width=1)


def test_missing_semicolon_before_closing_brace():
    check_error("rule R { let x = 1 }", "expected ';' after number 1", 1, 19, hint=HINT)


def test_missing_semicolon_after_declaration():
    src = "rule R {\n  private g: fixed[D] bits 16\n  public h: fixed;\n}"
    check_error(src, "expected ';' after number 16", 2, 30, hint=HINT)


def test_missing_semicolon_after_name_before_keyword_same_line():
    src = "rule R { let y = x let z = y; }"
    check_error(src, "expected ';' after name 'x'", 1, 19, hint=HINT)


def test_missing_semicolon_after_assert_message():
    src = 'rule R {\n  assert x > 0, "positive"\n}'
    check_error(src, "expected ';' after string \"positive\"", 2, 27, hint=HINT)
