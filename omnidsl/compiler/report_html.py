"""``compile --report html``: the rule's source with each line's constraint cost beside it.

The cost of a line is the number of constraints of the optimised R1CS whose origin
(``R1CS.constraint_line``, kept through the optimiser) is that line — the numbers
``compile --report`` prints (:meth:`~omnidsl.compiler.circuit.Circuit.report`), for every line
of the source, with a bar scaled to the costliest line.  One self-contained file, no script.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

import numpy as np

from omnidsl.report import html

if TYPE_CHECKING:
    from omnidsl.compiler.circuit import Circuit

STYLE = """.src{border-collapse:collapse;font:12px/1.35 ui-monospace,monospace}
.src td{border:0;padding:0 8px;white-space:pre}.src td.n{color:#a0aec0;text-align:right}
.src td.c{text-align:right;min-width:5em}.src tr.hot td.c{font-weight:700}
.bar{display:inline-block;height:9px;background:#3182ce;vertical-align:middle}"""


def line_costs(circuit: Circuit) -> dict[int, int]:
    """Source line (1-based) -> constraints attributed to it (lines with none omitted)."""
    lines = circuit.r1cs.constraint_line
    if lines is None or not circuit.r1cs.n_constraints:
        return {}
    counts = np.bincount(np.asarray(lines, np.int64))
    return {int(ln): int(counts[ln]) for ln in np.nonzero(counts)[0].tolist()}


def source_report_html(circuit: Circuit) -> str:
    """The whole HTML page: totals, then every source line with its cost."""
    r = circuit.r1cs
    costs = line_costs(circuit)
    src = circuit.rule.rule.source.splitlines()
    top = max(costs.values(), default=1)
    attributed = sum(costs.values())
    rows = []
    for n, text in enumerate(src, start=1):
        c = costs.get(n, 0)
        bar = f'<span class="bar" style="width:{max(1, round(200 * c / top))}px"></span>' \
            if c else ""
        rows.append(f'<tr id="L{n}" data-line="{n}" data-cost="{c}"'
                    f'{" class=hot" if c and c * 10 >= top else ""}><td class="n">{n}</td>'
                    f'<td class="c">{c if c else ""}</td><td>{bar}</td>'
                    f"<td>{escape(text)}</td></tr>")
    unattributed = r.n_constraints - attributed
    totals = html.table(
        ["constraints", "at -O0", "wires", "public outputs", "public inputs",
         "private inputs", "attributed to a line"],
        [[r.n_constraints, circuit.n_constraints_o0, r.n_wires, r.n_pub_out, r.n_pub_in,
          r.n_prv_in, attributed]], numeric=range(7))
    parts = [f'<p class="muted">-O{circuit.opt_level}; parameters '
             f"{escape(str(circuit.rule.params))}"
             + (f"; {unattributed} constraints without a source line" if unattributed else "")
             + "</p>", totals,
             '<table class="src"><thead><tr><th>line</th><th>constraints</th><th></th>'
             "<th>source</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"]
    return html.page(f"rule {circuit.name}: constraints per line", parts, style=STYLE)
