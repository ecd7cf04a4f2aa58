"""`make install` shows its long step (issue 13): the editable install, which builds the Rust
core, is announced and runs with pip's own output (no silent multi-minute ``pip install -q``)."""

from __future__ import annotations

import re
from pathlib import Path

MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"


def recipe_lines(target_pattern: str) -> list[str]:
    """The recipe lines of the first rule whose target matches ``target_pattern``."""
    lines = MAKEFILE.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(target_pattern, line))
    out = []
    for line in lines[start + 1:]:
        if not line.startswith("\t"):
            break
        out.append(line.strip())
    return out


def test_the_rust_build_is_announced_and_not_silenced():
    recipe = recipe_lines(r"^\$\(STAMP\):")
    build = next(i for i, line in enumerate(recipe)
                 if re.match(r"\$\(BIN\)/pip install .*-e ", line))
    assert " -q" not in recipe[build], recipe[build]
    announced = " ".join(recipe[:build])
    assert "echo" in announced and "Rust" in announced and "cargo" in announced
