"""omnidsl.files.Outputs: targets checked up front; written all or nothing, atomically per file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from omnidsl.errors import OmniDSLError
from omnidsl.files import Outputs

ROOT = Path(__file__).resolve().parents[2]


def names(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_commit_replaces_every_target(tmp_path):
    (tmp_path / "a.json").write_text("old a")
    outs = Outputs([tmp_path / "a.json", tmp_path / "sub" / "b.bin", None], make_dirs=True)
    with outs.writing() as tmp:
        tmp(tmp_path / "a.json").write_text("new a")
        tmp(tmp_path / "sub" / "b.bin").write_bytes(b"\x00b")
        assert (tmp_path / "a.json").read_text() == "old a"  # nothing visible before the end
    assert (tmp_path / "a.json").read_text() == "new a"
    assert (tmp_path / "sub" / "b.bin").read_bytes() == b"\x00b"
    assert names(tmp_path) == ["a.json", "sub", "sub/b.bin"]


@pytest.mark.parametrize("exc", [RuntimeError("writer bug"), KeyboardInterrupt(),
                                 OSError(28, "No space left on device")])
def test_failure_changes_nothing(tmp_path, exc):
    (tmp_path / "a.json").write_text("old a")
    outs = Outputs([tmp_path / "a.json", tmp_path / "new" / "deep" / "b.json"], make_dirs=True)
    with pytest.raises(type(exc)), outs.writing() as tmp:
        tmp(tmp_path / "a.json").write_text("new a")
        tmp(tmp_path / "new" / "deep" / "b.json").write_text("{")
        raise exc
    assert names(tmp_path) == ["a.json"]  # no temporary file, no folder left behind
    assert (tmp_path / "a.json").read_text() == "old a"


def test_oserror_on_a_temporary_file_names_the_target(tmp_path):
    outs = Outputs([tmp_path / "p.json"])
    with pytest.raises(OmniDSLError, match=r"cannot write .*p\.json: No space left"), \
            outs.writing() as tmp:
        t = tmp(tmp_path / "p.json")
        raise OSError(28, "No space left on device", str(t))
    assert names(tmp_path) == []


@pytest.mark.parametrize("targets,make_dirs,msg", [
    (["nodir/x.json"], False, "the folder nodir does not exist"),
    (["f.txt/x.json"], False, "f.txt is not a folder"),
    (["f.txt/deeper/x.json"], True, "f.txt is not a folder"),
    (["d"], False, "cannot write d: it is a folder"),
    (["x.json", "./x.json"], False, "x.json is given twice"),
])
def test_checked_up_front(tmp_path, monkeypatch, targets, make_dirs, msg):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.txt").write_text("a file")
    (tmp_path / "d").mkdir()
    with pytest.raises(OmniDSLError, match=re.escape(msg)):
        Outputs(targets, make_dirs=make_dirs)
    assert names(tmp_path) == ["d", "f.txt"]


def test_only_declared_targets(tmp_path):
    outs = Outputs([tmp_path / "a"])
    with pytest.raises(ValueError), outs.writing() as tmp:
        tmp(tmp_path / "b")
    assert names(tmp_path) == []


def test_commands_write_only_through_outputs():
    """No command module writes a file or makes a folder directly (all through Outputs)."""
    writes = re.compile(r"\.(write_text|write_bytes|mkdir)\(|\bwrite_\w+\(|np\.save\(|open\(")
    for mod in ("compiler", "groth16", "solidity"):
        for n, line in enumerate((ROOT / "omnidsl" / mod / "commands.py").read_text()
                                 .splitlines(), 1):
            code = line.split("#")[0]
            if writes.search(code) and not re.match(r"\s*(def|from|import) ", code):
                assert "tmp(" in code, f"omnidsl/{mod}/commands.py:{n}: {line.strip()}"
