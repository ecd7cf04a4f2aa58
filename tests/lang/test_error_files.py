"""parse_file: the path as given names the file; unreadable files are OmniDSLErrors."""

from __future__ import annotations

import pytest

from omnidsl.errors import DSLSyntaxError, OmniDSLError
from omnidsl.lang import parse_file


def test_error_prefix_uses_path_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "r.omni").write_text("rule R {\n  let x = 1\n}\n", encoding="utf-8")
    with pytest.raises(DSLSyntaxError) as info:
        parse_file("sub/r.omni")
    assert str(info.value).startswith("sub/r.omni:2:12: error: expected ';'")


def test_missing_file(tmp_path):
    path = tmp_path / "nope.omni"
    with pytest.raises(OmniDSLError) as info:
        parse_file(path)
    assert f"cannot read rule file {path}" in str(info.value)


def test_directory_is_not_a_rule_file(tmp_path):
    with pytest.raises(OmniDSLError, match="cannot read rule file"):
        parse_file(tmp_path)


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin.omni"
    path.write_bytes(b"rule R {\n  let caf\xe9 = 1; }")
    with pytest.raises(DSLSyntaxError) as info:
        parse_file(path)
    assert str(info.value).startswith(f"{path}:2:10: error: rule file is not valid UTF-8 (byte 18)")


def test_non_text_source_is_a_syntax_error():
    from omnidsl.lang import parse

    with pytest.raises(DSLSyntaxError, match="must be text"):
        parse(b"rule R { }")  # type: ignore[arg-type]


def test_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.omni"
    path.write_bytes(b"\xef\xbb\xbfrule R {\n  let v = 1;\n}\n")
    rule = parse_file(path)
    assert rule.name == "R" and rule.span.column == 1
