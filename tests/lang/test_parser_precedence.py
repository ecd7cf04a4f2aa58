"""Operator precedence and associativity."""

from __future__ import annotations

import pytest
from langhelp import expr_of, sexpr


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("a + b * c", "(+ a (* b c))"),
        ("a * b + c", "(+ (* a b) c)"),
        ("a - b - c", "(- (- a b) c)"),
        ("a / b / c", "(/ (/ a b) c)"),
        ("a - b + c", "(+ (- a b) c)"),
        ("(a + b) * c", "(* (+ a b) c)"),
        ("-a * b", "(* (- a) b)"),
        ("a * -b", "(* a (- b))"),
        ("- -a", "(- (- a))"),
        ("-x[i]", "(- x[i])"),
        ("-f(x)", "(- f(x))"),
        ("a + b < c * d", "(< (+ a b) (* c d))"),
        ("a < b and c > d", "(and (< a b) (> c d))"),
        ("a or b and c", "(or a (and b c))"),
        ("a and b or c", "(or (and a b) c)"),
        ("a or b or c", "(or (or a b) c)"),
        ("a and b and c", "(and (and a b) c)"),
        ("not a and b", "(and (not a) b)"),
        ("not a == b", "(not (== a b))"),
        ("not not a", "(not (not a))"),
        ("a if c else b", "(if c a b)"),
        ("a if c else b if d else e", "(if c a (if d b e))"),
        ("a or b if c or d else e and f", "(if (or c d) (or a b) (and e f))"),
        ("x + 1 if x > 0 else -x", "(if (> x 0) (+ x 1) (- x))"),
        ("a <= b", "(<= a b)"),
        ("a >= b", "(>= a b)"),
        ("a != b", "(!= a b)"),
        ("a == -b", "(== a (- b))"),
        ("(a < b) == (c < d)", "(== (< a b) (< c d))"),
        ("x[i + 1] * 2", "(* x[(+ i 1)] 2)"),
        ("sum(a[i] * b[i] for i in 0..N) / N", "(/ sum((* a[i] b[i]) for i in 0..N) N)"),
        (
            "all(x[i] > 0 and x[i] < 1 for i in 0..N)",
            "all((and (> x[i] 0) (< x[i] 1)) for i in 0..N)",
        ),
        ("max(a, b if c else d)", "max(a, (if c b d))"),
    ],
)
def test_precedence(text, tree):
    assert sexpr(expr_of(text)) == tree


def test_generator_body_may_be_conditional():
    assert (
        sexpr(expr_of("sum(a if a > 0 else 0 for i in 0..3)"))
        == "sum((if (> a 0) a 0) for i in 0..3)"
    )
