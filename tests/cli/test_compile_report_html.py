"""`omnidsl compile --report html`: the source with each line's constraint cost, the same
numbers as `--report` (text) and the compiler's own R1CS line attribution."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from omnidsl.cli import main
from omnidsl.compiler.circuit import compile_file
from omnidsl.compiler.report_html import line_costs

ROOT = Path(__file__).resolve().parents[2]
RULE = ROOT / "circuits" / "norm_bound.omni"


class _Rows(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.costs: dict[int, int] = {}
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and a.get("data-line"):
            self.costs[int(str(a["data-line"]))] = int(str(a["data-cost"]))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_html_report_shows_the_compilers_per_line_costs(tmp_path: Path, capsys) -> None:
    assert main(["compile", str(RULE), "--param", "D=8", "-o", str(tmp_path), "--report"]) == 0
    text = capsys.readouterr().out
    printed = {int(m[1]): int(m[2]) for m in re.finditer(r"^\s+(\d+)\s+(\d+)  ", text, re.M)}
    assert main(["compile", str(RULE), "--param", "D=8", "-o", str(tmp_path / "h"),
                 "--report", "html"]) == 0
    page = tmp_path / "h" / "norm_bound.report.html"
    assert str(page) in capsys.readouterr().out
    rows = _Rows()
    body = page.read_text(encoding="utf-8")
    rows.feed(body)
    source = RULE.read_text(encoding="utf-8").splitlines()
    assert sorted(rows.costs) == list(range(1, len(source) + 1))  # every line of the source
    nonzero = {n: c for n, c in rows.costs.items() if c}
    circuit = compile_file(RULE, {"D": 8})
    assert nonzero == printed == line_costs(circuit) and len(nonzero) >= 3
    assert sum(nonzero.values()) == circuit.r1cs.n_constraints
    assert "".join(rows.text).count("assert sq <= max_norm * max_norm") == 1
    assert "&lt;=" in body and "<script" not in body  # the source is escaped text


def test_an_unknown_report_format_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert main_exit(["compile", str(RULE), "-o", str(tmp_path), "--report", "pdf"]) == 2
    assert "invalid choice: 'pdf'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def main_exit(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
