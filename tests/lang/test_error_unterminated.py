"""Syntax error class: unterminated block comments and strings, stray characters."""

from __future__ import annotations

from langhelp import check_error


def test_unterminated_block_comment():
    check_error(
        "rule R {\n  let v = 1; /* note\n  assert v > 0;\n}\n",
        "unterminated block comment",
        2,
        14,
        hint="close the comment with `*/`",
        width=2,
    )


def test_unterminated_block_comment_inside_expression():
    check_error("rule R { let v = a /* oops; }", "unterminated block comment", 1, 20)


def test_unterminated_string():
    check_error(
        'rule R {\n  assert v > 0, "too big;\n}',
        "unterminated string",
        2,
        17,
        hint='ends with `"` on the same line',
    )


def test_stray_characters():
    check_error("rule R { let v = a && b; }", "unexpected '&'", 1, 20, hint="`and`")
    check_error("rule R { let v = a || b; }", "unexpected '|'", 1, 20, hint="`or`")
    check_error("rule R { let v = !a; }", "unexpected '!'", 1, 18, hint="`not x`")
    check_error("rule R { let v = a % 2; }", "unexpected '%'", 1, 20)
    check_error("rule R { let v = a # b; }", "unexpected character '#'", 1, 20)
    check_error("rule R { let v = a\u00b2; }", "unexpected character U+00B2", 1, 19, hint="ASCII")


def test_unterminated_comment_wins_over_characters_inside_it():
    check_error(
        "rule R {\n  let v = 1;  /* don't \"quote\n}\n",
        "unterminated block comment",
        2,
        15,
        hint="`*/`",
    )
