"""Tests of the rule in this folder: `python -m pytest` (written by `omnidsl init`)."""

import json
from pathlib import Path

from omnidsl.cli import main

HERE = Path(__file__).resolve().parent
RULE, PARAMS = str(HERE / "norm_bound.omni"), ["--param", "D=8"]


def witness(tmp_path: Path, data: dict) -> int:
    (tmp_path / "in.json").write_text(json.dumps(data))
    return main(["witness", RULE, str(tmp_path / "in.json"), *PARAMS,
                 "-o", str(tmp_path / "w.wtns")])


def test_the_example_input_passes(tmp_path):
    data = json.loads((HERE / "input.json").read_text())
    assert witness(tmp_path, data) == 0


def test_a_large_entry_is_refused(tmp_path, capsys):
    data = json.loads((HERE / "input.json").read_text())
    data["g"][0] = 5.0  # above the 4.0 bound of every entry
    assert witness(tmp_path, data) == 1
    assert "exceeds 4.0" in capsys.readouterr().err
