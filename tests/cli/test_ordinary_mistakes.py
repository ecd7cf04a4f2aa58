"""Ordinary mistakes give one located error line and exit 1 — never an internal error, a
traceback (without --debug) or a partial result: binary / non-UTF-8 rules and inputs, outputs in
folders that don't exist, outputs that are folders, one file given twice."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from omnidsl.cli import main

RULE = """rule Small(D = 4) {
    private g: fixed[D] bits 16 frac 12;
    public  m: fixed bits 32 frac 12;
    assert sum(g[i] * g[i] for i in 0..D) <= m * m;
    output total = sum(g[i] for i in 0..D);
}
"""
INPUT = {"g": [0.5, -1.0, 0.25, 3.0], "m": 4}


def run(capsys, *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def refused(capsys, *argv: str | Path) -> str:
    """Exit 1 with a one-line `...error: ...` message (plus excerpt/hint lines), no traceback."""
    code, _, err = run(capsys, *argv)
    assert code == 1, err
    assert "internal error" not in err and "Traceback" not in err, err
    # warnings (the log's "WARNING <logger>: ..." lines) may come first
    lines = [ln for ln in err.splitlines() if not ln.startswith(("warning: ", "WARNING "))]
    assert "error: " in lines[0], err
    return "\n".join(lines) + "\n"


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture()
def work(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "small.omni").write_text(RULE)
    (tmp_path / "in.json").write_text(json.dumps(INPUT))
    return tmp_path


# ------------------------------------------------------------------ text files


@pytest.mark.parametrize("data,line,col,byte", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 1, 1, 0x89),  # an image given as the rule
    (RULE.encode().replace(b"sum(g[i] for", b"sum(g[i] \xe9for"), 5, 29, 0xE9),  # latin-1
    (b"rule R {\n  private x: int bits 4;\n  assert x > \xff0;\n}\n", 3, 14, 0xFF),
])
def test_non_utf8_rule_is_located(work, capsys, data, line, col, byte):
    (work / "bad.omni").write_bytes(data)
    for argv in (["compile", "bad.omni", "-o", "out"],
                 ["witness", "bad.omni", "in.json", "-o", "w.wtns"],
                 ["setup", "bad.omni", "-o", "keys"]):
        err = refused(capsys, *argv)
        assert err.splitlines()[0].startswith(
            f"bad.omni:{line}:{col}: error: the rule is not UTF-8 text (byte 0x{byte:02x}"), err
    assert listing(work) == ["bad.omni", "in.json", "small.omni"]


def test_binary_rule_first_bad_byte(work, capsys):
    (work / "bin.omni").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\n\x00\x00\xa2\x90")
    err = refused(capsys, "compile", "bin.omni", "-o", "out")
    assert err.splitlines()[0] == ("bin.omni:2:3: error: the rule is not UTF-8 text (byte 0xa2 "
                                   "at offset 12)")
    assert err.splitlines()[1].startswith("hint: give a text file")


def test_non_utf8_input_json_is_located(work, capsys):
    (work / "bad.json").write_bytes(b'{"g": [0.5, -1.0, 0.25, 3.0],\n "m": 4}\xff')
    err = refused(capsys, "witness", "small.omni", "bad.json", "-o", "w.wtns", "--public",
                  "p.json")
    assert err.splitlines()[0].startswith("bad.json:2:9: error: the input JSON is not UTF-8")
    assert not (work / "w.wtns").exists() and not (work / "p.json").exists()


@pytest.mark.parametrize("argv,what", [
    (["compile", "missing.omni"], "cannot read rule missing.omni: No such file"),
    (["compile", "."], "cannot read rule .: Is a directory"),
    (["witness", "small.omni", "missing.json", "-o", "w.wtns"],
     "cannot read input JSON missing.json: No such file"),
    (["witness", "small.omni", ".", "-o", "w.wtns"], "cannot read input JSON .: Is a directory"),
])
def test_unreadable_files_are_one_line(work, capsys, argv, what):
    err = refused(capsys, *argv)
    assert err.startswith(f"error: {what}") and len(err.strip().splitlines()) == 1, err


def test_oserror_at_the_boundary_traceback_only_with_debug(work, capsys, monkeypatch):
    """An OSError nobody mapped is one line (exit 1); --debug adds the traceback."""
    import omnidsl.compiler.commands as cc

    def boom(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "some/file.bin")

    monkeypatch.setattr(cc, "compile_file_cached", boom)
    err = refused(capsys, "compile", "small.omni", "-o", "out")
    assert err.strip() == "error: some/file.bin: Permission denied"
    code, _, err = run(capsys, "--debug", "compile", "small.omni", "-o", "out")
    assert code == 1 and "Traceback" in err and "PermissionError" in err
    assert not (work / "out").exists()


# ------------------------------------------------------------------ outputs


def test_witness_public_in_missing_folder_writes_nothing(work, capsys):
    err = refused(capsys, "witness", "small.omni", "in.json", "-o", "w.wtns", "--public",
                  "nodir/public.json")
    assert err.splitlines()[0] == ("error: cannot write nodir/public.json: the folder nodir does "
                                   "not exist")
    assert err.splitlines()[1].startswith("hint: create it first (mkdir -p nodir)")
    assert listing(work) == ["in.json", "small.omni"]  # no w.wtns without its public.json


def test_witness_output_checked_before_compiling(work, capsys, monkeypatch):
    import omnidsl.compiler.commands as cc

    monkeypatch.setattr(cc.Pipeline, "from_file",
                        classmethod(lambda *a, **k: pytest.fail("compiled anyway")))
    monkeypatch.setattr(cc, "compile_file_cached",
                        lambda *a, **k: pytest.fail("compiled anyway"))
    refused(capsys, "witness", "small.omni", "in.json", "-o", "nodir/w.wtns")
    err = refused(capsys, "witness", "small.omni", "in.json", "-o", "w.wtns", "--public",
                  "w.wtns")
    assert "w.wtns is given twice as an output" in err
    (work / "adir").mkdir()
    err = refused(capsys, "witness", "small.omni", "in.json", "-o", "adir")
    assert "cannot write adir: it is a folder" in err
    assert listing(work) == ["adir", "in.json", "small.omni"]


def test_compile_creates_its_folder_only_on_success(work, capsys):
    (work / "broken.omni").write_text(RULE.replace("<= m * m", "<= q"))
    refused(capsys, "compile", "broken.omni", "-o", "new/deep/out")
    assert not (work / "new").exists()
    refused(capsys, "compile", "small.omni", "-o", "small.omni/out")  # a file on the way
    code, _, err = run(capsys, "compile", "small.omni", "-o", "new/deep/out")
    assert code == 0, err
    assert listing(work / "new/deep/out") == ["small.json", "small.kept.npy", "small.r1cs",
                                              "small.sym"]
    for p in (work / "new/deep/out").iterdir():
        assert p.stat().st_mode & 0o777 == 0o666 & ~_umask(), p  # the usual permissions


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.fixture()
def keyed(work: Path, capsys) -> Path:
    assert run(capsys, "setup", "small.omni", "-o", "keys")[0] == 0
    assert run(capsys, "witness", "small.omni", "in.json", "-o", "w.wtns")[0] == 0
    return work


def test_prove_outputs_checked_before_proving(keyed, capsys, monkeypatch):
    import omnidsl.groth16.prover as prover

    monkeypatch.setattr(prover, "prove_plain", lambda *a, **k: pytest.fail("proved anyway"))
    base = ["prove", "--keys", "keys", "--witness", "w.wtns"]
    err = refused(capsys, *base, "-o", "nodir/p.json")
    assert "cannot write nodir/p.json: the folder nodir does not exist" in err
    err = refused(capsys, *base, "-o", "proof.json", "--public", "nodir/x")
    assert "cannot write nodir/x" in err
    err = refused(capsys, *base, "-o", "same.json", "--public", "same.json")
    assert "given twice" in err
    err = refused(capsys, *base, "--servers", "missing.toml", "-o", "nodir/p.json")
    assert "cannot write nodir/p.json" in err  # prove-shared: checked before any server
    assert not (keyed / "proof.json").exists() and not (keyed / "public.json").exists()


def test_prove_writes_both_or_neither(keyed, capsys, monkeypatch):
    """A failure while writing the second file leaves neither (and no temporary file)."""
    import omnidsl.groth16.formats as formats

    def fail(signals, path):
        Path(path).write_text("[")  # half written...
        raise OSError(28, "No space left on device", str(path))

    with monkeypatch.context() as m:
        m.setattr(formats, "write_public", fail)
        err = refused(capsys, "prove", "--keys", "keys", "--witness", "w.wtns", "-o",
                      "proof.json", "--public", "public.json")
    assert err.strip() == "error: cannot write public.json: No space left on device"
    assert listing(keyed) == ["in.json", "keys", "keys/proving_key.bin",
                              "keys/verification_key.json", "small.omni", "w.wtns"]
    code, _, err = run(capsys, "prove", "--keys", "keys", "--witness", "w.wtns")
    assert code == 0, err
    assert (keyed / "proof.json").exists() and (keyed / "public.json").exists()


def test_setup_checks_its_folder_first_and_keeps_the_old_pair(keyed, capsys, monkeypatch):
    import omnidsl.groth16.setup as S

    before = {p.name: p.read_bytes() for p in (keyed / "keys").iterdir()}
    with monkeypatch.context() as m:
        m.setattr(S, "dev_setup", lambda *a, **k: pytest.fail("set up anyway"))
        err = refused(capsys, "setup", "small.omni", "-o", "small.omni/keys")
    assert "small.omni is not a folder" in err

    import omnidsl.groth16.formats as formats

    def fail(vk, path):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(formats, "write_vk", fail)
    refused(capsys, "setup", "small.omni", "-o", "keys")  # a new pair: never half of it
    refused(capsys, "setup", "contribute", "keys", "-o", "keys2", "--name", "x")
    assert not (keyed / "keys2").exists()
    assert {p.name: p.read_bytes() for p in (keyed / "keys").iterdir()} == before
    refused(capsys, "setup", "small.omni", "-o", "fresh/keys")
    assert not (keyed / "fresh").exists()


def test_export_verifier_outputs(keyed, capsys, monkeypatch):
    import omnidsl.solidity.render as render

    monkeypatch.setattr(render, "compile_verifier", lambda *a, **k: pytest.fail("compiled"))
    err = refused(capsys, "export-verifier", "keys", "-o", "nodir/V.sol", "--abi")
    assert "cannot write nodir/V.sol: the folder nodir does not exist" in err
    (keyed / "V.abi.json").mkdir()
    err = refused(capsys, "export-verifier", "keys", "-o", "V.sol", "--abi", "--bin")
    assert "cannot write V.abi.json: it is a folder" in err
    assert not (keyed / "V.sol").exists() and not (keyed / "V.bin").exists()


@pytest.mark.parametrize("argv", [
    ["export-verifier", "vk.bin", "-o", "V.sol"],
    ["verify-onchain", "--vk", "vk.bin", "--proof", "p.json", "--public", "x.json"],
    ["verify", "vk.bin", "x.json", "p.json"],
])
def test_binary_verification_key_is_named(work, capsys, argv):
    (work / "vk.bin").write_bytes(b"\x00\x01\x02\xa2\x90")
    err = refused(capsys, *argv)
    assert err.splitlines()[0].startswith("vk.bin") or "error: vk.bin:" in err, err
    assert not (work / "V.sol").exists()
