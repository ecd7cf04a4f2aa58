"""docs/api.md is executed: its ``python`` blocks run in order as one doctest session (shared
names, ``...`` matches anything, exceptions compared by type and message), in an empty folder.
A change of the API that the page does not follow fails here."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.chain  # the page opens a market task on the embedded chain

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def doc_blocks(text: str) -> list[str]:
    """The ``python`` fenced blocks of a markdown page, in order."""
    return FENCE.findall(text)


def test_the_page_has_blocks_with_examples():
    blocks = doc_blocks(DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 8 and all(">>> " in b for b in blocks)


def test_the_api_page_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = DOC.read_text(encoding="utf-8")
    session = "\n".join(doc_blocks(text))
    parser = doctest.DocTestParser()
    test = parser.get_doctest(session, {}, "docs/api.md", str(DOC), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out: list[str] = []
    try:
        result = runner.run(test, out=out.append)
    finally:
        from omnidsl import progress

        progress.configure(False)
    assert result.failed == 0, "".join(out)
    assert result.attempted >= 30


def test_the_runner_catches_a_wrong_example():
    """The harness is not vacuous: an example whose output differs fails."""
    test = doctest.DocTestParser().get_doctest(">>> 1 + 1\n3\n", {}, "t", "t", 0)
    runner = doctest.DocTestRunner()
    assert runner.run(test, out=lambda s: None).failed == 1


@pytest.mark.parametrize("name", ["compile", "witness", "setup", "prove", "verify",
                                  "export_verifier", "servers", "open_task"])
def test_every_api_function_is_on_the_page(name):
    assert f"omnidsl.{name}(" in DOC.read_text(encoding="utf-8")
