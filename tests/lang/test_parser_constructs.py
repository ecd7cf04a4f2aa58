"""Every construct of the rule language parses to the expected AST."""

from __future__ import annotations

from fractions import Fraction

import pytest
from langhelp import expr_of, sexpr

from omnidsl.lang import ast, parse

FULL = """\
// line comment
rule NormBound(D = 7450, K = 3) {            /* block
   comment */
    private g: fixed[D] bits 16 frac 12;
    public  max_norm: fixed bits 32 frac 12;
    public  ref: fixed[D];
    public  n: int bits 8;
    public  tau: fixed frac 10 bits 20;
    let s = sum(g[i] * g[i] for i in 0..D);
    assert s <= max_norm * max_norm, "L2 norm too large";
    assert all(abs(g[i]) <= 4.0 for i in 0..D);
    assert dot(g, ref) >= tau * norm(g) * norm(ref);
    assert x > 0 and y < 3 or not (z == 1);
    let m = max(a, b);  let y = x / 4;  let z = a if a > b else b;
    output total = sum(g[i] for i in 0..D);
    output mean: fixed frac 8 = total / D;
}
"""


def test_full_rule_structure():
    rule = parse(FULL, "norm.omni")
    assert rule.name == "NormBound"
    assert rule.file == "norm.omni" and rule.source == FULL
    assert [(p.name, sexpr(p.default)) for p in rule.params] == [("D", "7450"), ("K", "3")]
    decls = [(d.visibility, d.name, d.type.base, d.type.bits, d.type.frac) for d in rule.inputs]
    assert decls == [
        ("private", "g", "fixed", 16, 12),
        ("public", "max_norm", "fixed", 32, 12),
        ("public", "ref", "fixed", None, None),
        ("public", "n", "int", 8, None),
        ("public", "tau", "fixed", 20, 10),
    ]
    assert sexpr(rule.inputs[0].type.length) == "D"
    assert rule.inputs[1].type.length is None
    kinds = [type(s).__name__ for s in rule.body]
    assert kinds == ["Let"] + ["Assert"] * 4 + ["Let"] * 3 + ["Output"] * 2
    let_s = rule.body[0]
    assert isinstance(let_s, ast.Let) and let_s.name == "s"
    assert sexpr(let_s.value) == "sum((* g[i] g[i]) for i in 0..D)"
    a1 = rule.body[1]
    assert isinstance(a1, ast.Assert) and a1.message == "L2 norm too large"
    assert sexpr(a1.cond) == "(<= s (* max_norm max_norm))"
    assert rule.body[2].message is None
    assert sexpr(rule.body[2].cond) == "all((<= abs(g[i]) 4.0) for i in 0..D)"
    assert sexpr(rule.body[3].cond) == "(>= dot(g, ref) (* (* tau norm(g)) norm(ref)))"
    assert sexpr(rule.body[4].cond) == "(or (and (> x 0) (< y 3)) (not (== z 1)))"
    assert sexpr(rule.body[5].value) == "max(a, b)"
    assert sexpr(rule.body[6].value) == "(/ x 4)"
    assert sexpr(rule.body[7].value) == "(if (> a b) a b)"
    out1, out2 = rule.body[8], rule.body[9]
    assert isinstance(out1, ast.Output) and out1.name == "total" and out1.type is None
    assert isinstance(out2, ast.Output) and out2.name == "mean"
    assert out2.type is not None and (out2.type.base, out2.type.frac, out2.type.bits) == (
        "fixed",
        8,
        None,
    )


def test_rule_without_params_and_empty_params():
    assert parse("rule R { }").params == []
    assert parse("rule R() { }").params == []
    rule = parse("rule R(D, K = 2,) { }")
    assert (rule.params[0].name, rule.params[0].default) == ("D", None)
    assert sexpr(rule.params[1].default) == "2"


def test_param_default_is_an_expression():
    rule = parse("rule R(D = 2 * 8, E = -1) { }")
    assert sexpr(rule.params[0].default) == "(* 2 8)"
    assert sexpr(rule.params[1].default) == "(- 1)"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", Fraction(0)),
        ("7450", Fraction(7450)),
        ("4.0", Fraction(4)),
        ("0.1", Fraction(1, 10)),
        ("1e-3", Fraction(1, 1000)),
        ("2.5E2", Fraction(250)),
        ("3e+2", Fraction(300)),
        ("0.000244140625", Fraction(1, 4096)),
    ],
)
def test_numbers_are_exact(text, value):
    num = expr_of(text)
    assert isinstance(num, ast.Num)
    assert num.value == value and isinstance(num.value, Fraction)
    assert num.text == text


def test_range_does_not_lex_as_float():
    gen = expr_of("sum(g[i] for i in 0..D)")
    assert isinstance(gen, ast.Generator)
    assert isinstance(gen.range.start, ast.Num) and gen.range.start.value == 0
    assert sexpr(gen.range.stop) == "D"
    gen = expr_of("sum(x for j in 1..10)")
    assert (sexpr(gen.range.start), sexpr(gen.range.stop)) == ("1", "10")
    gen = expr_of("any(x[k] > 0 for k in 2*K..D-1)")
    assert sexpr(gen.range.start) == "(* 2 K)" and sexpr(gen.range.stop) == "(- D 1)"


@pytest.mark.parametrize("func", ["sum", "all", "any", "min", "max"])
def test_generator_functions(func):
    gen = expr_of(f"{func}(g[i] for i in 0..D)")
    assert isinstance(gen, ast.Generator) and gen.func == func and gen.var == "i"


@pytest.mark.parametrize(
    ("text", "func", "nargs"),
    [
        ("abs(x)", "abs", 1),
        ("min(a, b)", "min", 2),
        ("max(a, b, c)", "max", 3),
        ("dot(g, ref)", "dot", 2),
        ("norm2(g)", "norm2", 1),
        ("norm(g)", "norm", 1),
        ("rescale(x * y, 12)", "rescale", 2),
        ("len(g)", "len", 1),
        ("sum(g)", "sum", 1),
        ("f()", "f", 0),
    ],
)
def test_calls(text, func, nargs):
    call = expr_of(text)
    assert isinstance(call, ast.Call)
    assert call.func == func and len(call.args) == nargs
    assert call.func_span is not None and call.func_span.column == 18
    assert call.func_span.end_column == 18 + len(func)


def test_index_forms():
    assert sexpr(expr_of("x[i]")) == "x[i]"
    assert sexpr(expr_of("x[i+1]")) == "x[(+ i 1)]"
    assert sexpr(expr_of("m[i][j]")) == "m[i][j]"
    assert sexpr(expr_of("f(x)[2]")) == "f(x)[2]"


def test_names_and_underscores():
    assert sexpr(expr_of("_a1 + B_2")) == "(+ _a1 B_2)"
    assert sexpr(expr_of("fixed_x + int2 + format")) == "(+ (+ fixed_x int2) format)"


def test_assert_message_escapes():
    rule = parse('rule R { assert x > 0, "say \\"hi\\" \\\\ ok"; }')
    assert rule.body[0].message == 'say "hi" \\ ok'


def test_declarations_may_interleave_with_statements():
    rule = parse(
        "rule R { public a: fixed; let b = a; private c: int[3] bits 4; assert b > c[0]; }"
    )
    assert [d.name for d in rule.inputs] == ["a", "c"]
    assert [type(s).__name__ for s in rule.body] == ["Let", "Assert"]
    assert rule.inputs[1].type.base == "int" and sexpr(rule.inputs[1].type.length) == "3"


def test_int_frac_zero_is_allowed():
    rule = parse("rule R { public n: int bits 8 frac 0; }")
    assert rule.inputs[0].type.frac == 0


def test_comments_everywhere():
    rule = parse("/*a*/rule/*b*/R/**/{//c\nlet/* x */v=1;// tail\n/* multi\nline */}")
    assert rule.name == "R" and rule.body[0].name == "v"


def test_whitespace_variants():
    rule = parse("rule\tR\r\n{\r\n\tlet v = 1 ;\f}")
    assert rule.body[0].name == "v"


def test_parse_file(tmp_path):
    path = tmp_path / "r.omni"
    path.write_text("rule R { let v = 1; }\n", encoding="utf-8")
    rule = parse_file_via_package(path)
    assert rule.file == str(path) and rule.body[0].span.file == str(path)


def parse_file_via_package(path):
    from omnidsl.lang import parse_file

    return parse_file(path)
