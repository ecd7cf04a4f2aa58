"""Command-line conventions (issue 13): every verb has a description, an example and shows its
defaults; required options show as required; usage errors exit 2 (argparse's and the commands'
own checks); global flags are accepted anywhere; `omnidsl --version`; -v/-q/--log-format."""

from __future__ import annotations

import argparse
import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

from omnidsl.argparsing import HelpFormatter
from omnidsl.cli import build_parser, main, version

ROOT = Path(__file__).resolve().parents[2]
#: verbs whose parsers other work is restructuring; described once it has landed
PENDING: set[str] = set()


def verbs() -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every (sub-)verb's words and parser, the hidden default verbs excluded."""
    out = []

    def walk(parser: argparse.ArgumentParser, words: tuple[str, ...]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                listed = {a.dest for a in action._choices_actions}
                for name, child in action._name_parser_map.items():
                    if name in listed:
                        out.append(((*words, name), child))
                    walk(child, (*words, name))

    walk(build_parser(), ())
    return out


def test_the_walk_finds_the_verbs():
    names = {" ".join(w) for w, _ in verbs()}
    assert {"compile", "setup dev", "setup contribute", "zkey export verificationkey",
            "wtns export json", "r1cs print", "prove", "verify"} <= names
    assert "setup rule" not in names  # the old spelling is accepted, not advertised


@pytest.mark.parametrize("words,parser", verbs(), ids=lambda v: " ".join(v)
                         if isinstance(v, tuple) else "")
def test_every_verb_describes_itself(words, parser):
    if " ".join(words) in PENDING:
        pytest.skip("described after the prove/chain restructuring lands")
    assert parser.formatter_class is HelpFormatter
    assert parser.description and len(parser.description) > 20, words
    assert parser.epilog and parser.epilog.startswith("example"), words
    assert f"omnidsl {words[0]}" in parser.epilog, words  # the examples use the verb
    text = parser.format_help()
    fmt = HelpFormatter("omnidsl")
    for action in parser._actions:
        if action.help and action.default not in (None, False, argparse.SUPPRESS, [], ""):
            assert "default" in (fmt._get_help_string(action) or ""), (words, action.dest)
        if action.required and action.option_strings:  # shown without [...] in the usage
            usage = parser.format_usage()
            flag = action.option_strings[0]  # the usage line shows the first spelling
            # (a whole option: "[--witness-msm" is another option than "--witness")
            assert re.search(rf" {re.escape(flag)}[\s\]]", usage) \
                and not re.search(rf"\[{re.escape(flag)}[\s\]]", usage), (words, flag)
    assert "global options" in text and "--log-format" in text


def test_witness_is_shown_as_required():
    if "prove" in PENDING:
        pytest.skip("prove is being restructured")
    prove = dict((" ".join(w), p) for w, p in verbs())["prove"]
    usage = prove.format_usage()
    assert " --witness " in usage and "[--witness " not in usage


def test_help_of_every_verb_exits_0(capsys):
    for words, _ in verbs():
        with pytest.raises(SystemExit) as info:
            main([*words, "--help"])
        assert info.value.code == 0, words
        assert "usage: omnidsl" in capsys.readouterr().out


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"omnidsl {version()}"
    proc = subprocess.run([sys.executable, "-m", "omnidsl.cli", "--version"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.startswith("omnidsl 0.")


@pytest.mark.parametrize("argv", [
    ["compile"],  # a required positional
    ["compile", "x.omni", "--no-such-option"],
    ["setup", "contribute", "k0"],  # -o NEW_DIR is required (a command's own check)
    ["setup", "contribute", "k0", "-o", "k0"],  # ... and is not the input
    ["compile", "x.omni", "--param", "D"],  # malformed --param
    ["setup", "dev", "x.omni", "-o", "k", "--param", "D=x"],
    ["wtns", "export", "yaml", "w.wtns", "w.yaml"],
    ["zkey", "import", "z.zkey", "keys"],  # --circuit is required
    ["nosuchverb"],
    ["servers-init", "1", "-o", "srv"],  # the commands' own checks of option values
    ["servers-init", "3", "-o", "srv", "--circuit", "keys"],
    ["servers-init", "3", "-o", "srv", "--threshold", "1"],
    ["prove", "--keys", "k0", "--witness", "w.wtns", "--parties", "2", "--servers", "s.toml"],
    ["prove", "--keys", "k0", "--witness", "w.wtns", "--shares", "uniform"],
])
def test_usage_errors_exit_2(tmp_path, monkeypatch, capsys, argv):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "k0").mkdir()
    (tmp_path / "x.omni").write_text("rule R(D = 2) { private g: int[D] bits 4; }\n")
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert "usage: omnidsl" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k0", "x.omni"]  # nothing written


def test_contribute_without_output_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keys").mkdir()
    assert main(["setup", "contribute", "keys"]) == 2
    err = capsys.readouterr().err
    assert "-o NEW_DIR is required" in err and "omnidsl setup contribute keys -o" in err


@pytest.mark.parametrize("where", ["before", "after", "middle"])
def test_global_flags_anywhere(tmp_path, monkeypatch, capsys, where):
    monkeypatch.chdir(tmp_path)
    argv = ["r1cs", "info", "missing.r1cs"]
    flags = ["--debug", "-v"]
    argv = {"before": flags + argv, "after": argv + flags,
            "middle": argv[:1] + flags + argv[1:]}[where]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "missing.r1cs: no such file" in err
    assert "Traceback" in err  # --debug took effect wherever it was
    assert logging.getLogger("omnidsl").getEffectiveLevel() == logging.INFO  # -v too
    assert main(["r1cs", "info", "missing.r1cs"]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_log_levels_and_json_format(capsys):
    log = logging.getLogger("omnidsl.test")
    main(["-q", "r1cs"])
    assert logging.getLogger("omnidsl").getEffectiveLevel() == logging.ERROR
    main(["r1cs", "-vv"])
    assert logging.getLogger("omnidsl").getEffectiveLevel() == logging.DEBUG
    capsys.readouterr()
    main(["r1cs", "--log-format", "json", "-v"])
    capsys.readouterr()
    log.info("hello %s", "world")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    rec = json.loads(line)
    assert rec["message"] == "hello world" and rec["level"] == "info"
    assert rec["logger"] == "omnidsl.test" and rec["time"].endswith("Z")
    log.debug("not shown")
    assert capsys.readouterr().err == ""
    main(["r1cs"])  # back to text, warnings only
    capsys.readouterr()
    log.warning("plain")
    assert capsys.readouterr().err.strip() == "WARNING omnidsl.test: plain"
