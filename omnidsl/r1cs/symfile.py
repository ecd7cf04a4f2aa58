"""circom ``.sym`` symbol files: one line ``labelId,wireId,componentIdx,name`` per signal.

``wireId`` is -1 when the optimiser eliminated the signal's wire.  ``componentIdx`` numbers the
distinct component prefixes of the names (the dotted path without its last part: ``main.g[3]``
→ ``main``) in order of first appearance.  Wire 0 (the constant one) is not listed, as in circom.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omnidsl.errors import FormatError
from omnidsl.r1cs.system import R1CS


@dataclass(frozen=True)
class Symbol:
    label: int
    wire: int  # -1 if eliminated
    component: int
    name: str


def component_of(name: str) -> str:
    """The component prefix of a dotted signal name (``main.sub.x[2]`` → ``main.sub``)."""
    depth, cut = 0, -1
    for i, ch in enumerate(name):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "." and depth == 0:
            cut = i
    return name[:cut] if cut >= 0 else ""


def symbols(r1cs: R1CS) -> list[Symbol]:
    """The symbol table of ``r1cs`` (labels with a name, sorted by label id, label 0 omitted)."""
    w2l = (np.arange(r1cs.n_wires, dtype=np.int64) if r1cs.wire_to_label is None
           else np.asarray(r1cs.wire_to_label, np.int64))
    n_labels = r1cs.n_labels if r1cs.n_labels is not None else r1cs.n_wires
    n_labels = max(n_labels, int(w2l.max()) + 1 if w2l.size else 0)
    label_wire = np.full(max(n_labels, 1), -1, np.int64)
    label_wire[w2l[::-1]] = np.arange(r1cs.n_wires - 1, -1, -1, dtype=np.int64)  # first wire wins
    comps: dict[str, int] = {}
    out = []
    for label in sorted(r1cs.labels):
        if label == 0 or label >= n_labels:
            continue
        name = r1cs.labels[label]
        comp = comps.setdefault(component_of(name), len(comps))
        out.append(Symbol(label, int(label_wire[label]), comp, name))
    return out


def write_sym(path: str | Path, r1cs: R1CS) -> None:
    """Write the ``.sym`` file of ``r1cs`` (names from ``r1cs.labels``)."""
    lines = [f"{s.label},{s.wire},{s.component},{s.name}\n" for s in symbols(r1cs)]
    Path(path).write_text("".join(lines), encoding="utf-8")


def read_sym(path: str | Path) -> list[Symbol]:
    """Parse a ``.sym`` file; FormatError naming the file and line on a malformed line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(f"cannot read {path}: {exc}") from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(",", 3)
        try:
            if len(parts) != 4 or not parts[3]:
                raise ValueError
            label, wire, comp = int(parts[0]), int(parts[1]), int(parts[2])
        except ValueError:
            raise FormatError(f"{path}:{n}: malformed symbol line {line!r}",
                              hint="expected labelId,wireId,componentIdx,name") from None
        if label < 0 or wire < -1 or comp < 0:
            raise FormatError(f"{path}:{n}: negative id in symbol line {line!r}")
        out.append(Symbol(label, wire, comp, parts[3]))
    return out
