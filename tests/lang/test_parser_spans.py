"""Every node carries an exact SourceSpan (1-based line/column, exclusive end, full source)."""

from __future__ import annotations

from omnidsl.errors import SourceSpan
from omnidsl.lang import ast, parse

SRC = """\
rule Spans(D = 4) {
    private g: fixed[D] bits 16 frac 12;
    let s = sum(g[i] * g[i] for i in 0..D);
    assert -s <= 2.5 and not (s == 1), "msg";
    output o: fixed frac 8 = s if s > 0 else max(s, 1);
}
"""


def pos(span: SourceSpan) -> tuple[int, int, int | None, int | None]:
    return span.line, span.column, span.end_line, span.end_column


def text_of(span: SourceSpan) -> str:
    assert span.line == span.end_line
    return SRC.splitlines()[span.line - 1][span.column - 1 : span.end_column - 1]


def walk(node: object):
    """All AST nodes below ``node`` (dataclass fields that are nodes or lists of nodes)."""
    yield node
    for value in vars(node).values():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, ast.Node):
                yield from walk(item)


def test_every_node_has_a_full_span():
    rule = parse(SRC, "spans.omni")
    nodes = list(walk(rule))
    assert len(nodes) > 30
    for node in nodes:
        span = node.span
        assert span.file == "spans.omni"
        assert span.source is SRC
        assert span.end_line is not None and span.end_column is not None
        assert (span.end_line, span.end_column) > (span.line, span.column)


def test_rule_and_declaration_spans():
    rule = parse(SRC)
    assert pos(rule.span) == (1, 1, 6, 2)
    assert text_of(rule.params[0].span) == "D = 4"
    decl = rule.inputs[0]
    assert text_of(decl.span) == "private g: fixed[D] bits 16 frac 12;"
    assert text_of(decl.type.span) == "fixed[D] bits 16 frac 12"
    assert text_of(decl.type.length.span) == "D"


def test_statement_and_expression_spans():
    rule = parse(SRC)
    let, check, out = rule.body
    assert text_of(let.span) == "let s = sum(g[i] * g[i] for i in 0..D);"
    assert pos(let.name_span) == (3, 9, 3, 10)
    gen = let.value
    assert isinstance(gen, ast.Generator)
    assert text_of(gen.span) == "sum(g[i] * g[i] for i in 0..D)"
    assert text_of(gen.body.span) == "g[i] * g[i]"
    assert text_of(gen.body.left.span) == "g[i]"
    assert pos(gen.body.right.index.span) == (3, 26, 3, 27)
    assert pos(gen.var_span) == (3, 33, 3, 34)
    assert text_of(gen.range.span) == "0..D"

    assert text_of(check.span) == 'assert -s <= 2.5 and not (s == 1), "msg";'
    both = check.cond
    assert text_of(both.span) == "-s <= 2.5 and not (s == 1)"
    assert text_of(both.left.span) == "-s <= 2.5"
    assert text_of(both.left.left.span) == "-s"
    assert text_of(both.left.right.span) == "2.5"
    assert text_of(both.right.span) == "not (s == 1)"
    assert text_of(both.right.operand.span) == "s == 1"

    assert text_of(out.span) == "output o: fixed frac 8 = s if s > 0 else max(s, 1);"
    assert pos(out.name_span) == (5, 12, 5, 13)
    assert text_of(out.type.span) == "fixed frac 8"
    cond = out.value
    assert text_of(cond.span) == "s if s > 0 else max(s, 1)"
    assert text_of(cond.other.span) == "max(s, 1)"
    assert pos(cond.other.func_span) == (5, 46, 5, 49)


def test_multiline_expression_span():
    src = "rule R {\n  let v = a +\n      b;\n}\n"
    let = parse(src).body[0]
    assert pos(let.value.span) == (2, 11, 3, 8)
    assert pos(let.value.right.span) == (3, 7, 3, 8)


def test_span_excerpt_renders_caret():
    rule = parse(SRC, "spans.omni")
    gen = rule.body[0].value
    assert gen.span.excerpt().splitlines()[1] == " " * 12 + "^" + "~" * 29


def test_odd_line_breaks_keep_the_excerpt_on_the_right_line():
    src = "rule R {\r\n  let a = 1;\r  let b = 2;\f let c = 3;\n  let d = e;\n}"
    rule = parse(src)
    assert rule.source == src
    b = rule.body[1]
    assert pos(b.span) == (2, 16, 2, 26)  # a lone \r does not start a new line
    excerpt = b.span.excerpt().splitlines()
    assert excerpt[0].startswith("  let a = 1;   let b = 2;")
    assert excerpt[1] == " " * 15 + "^" + "~" * 9
    assert rule.body[3].span.excerpt().splitlines()[0] == "  let d = e;"
