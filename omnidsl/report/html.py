"""Small self-contained HTML pages (no script, inline CSS); every text is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

STYLE = """body{font:14px/1.4 system-ui,sans-serif;margin:20px;color:#1a202c}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #cbd5e0;padding:2px 6px;
text-align:left;vertical-align:top}th{background:#edf2f7}td.num{text-align:right}
img{max-width:100%;border:1px solid #e2e8f0;margin:4px}pre{margin:0}.muted{color:#718096}"""


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[int] = (),
          row_ids: Sequence[str] | None = None) -> str:
    """An HTML table; columns in ``numeric`` are right-aligned; ``row_ids`` set each row's id."""
    head = "".join(f"<th>{escape(str(h))}</th>" for h in headers)
    body = []
    for n, row in enumerate(rows):
        cells = "".join(f'<td class="num">{escape(str(c))}</td>' if k in numeric
                        else f"<td>{escape(str(c))}</td>" for k, c in enumerate(row))
        rid = f' id="{escape(row_ids[n])}"' if row_ids else ""
        body.append(f"<tr{rid}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def page(title: str, parts: Sequence[str], style: str = "") -> str:
    """A whole document: ``parts`` are HTML fragments (already escaped)."""
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{STYLE}{style}</style></head>\n<body>\n"
            f"<h1>{escape(title)}</h1>\n" + "\n".join(parts) + "\n</body></html>\n")
