"""`verify` and `verify-onchain` parse public signals with one strict function: `+5`, `1_0`,
Unicode digits, spaces, hex, floats, booleans, negatives and values of 2^256 or more are refused
by both with the same located message (before any chain is touched), never an internal error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omnidsl.cli import main
from omnidsl.errors import FormatError
from omnidsl.field import R
from omnidsl.groth16.formats import public_from_json, public_signal

RULE = """rule P {
    private a: int bits 8;
    public  b: int bits 8;
    assert a < b;
    output s = a + b;
}
"""


@pytest.fixture(scope="module")
def proved(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("pub")
    (d / "p.omni").write_text(RULE)
    (d / "in.json").write_text(json.dumps({"a": 3, "b": 5}))
    for argv in (["setup", d / "p.omni", "-o", d / "keys"],
                 ["witness", d / "p.omni", d / "in.json", "-o", d / "w.wtns"],
                 ["prove", "--keys", d / "keys", "--witness", d / "w.wtns", "-o",
                  d / "proof.json", "--public", d / "public.json"]):
        assert main([str(a) for a in argv]) == 0
    assert json.loads((d / "public.json").read_text()) == ["8", "5"]
    return d


BAD = [
    ("+5", "expected a string of decimal digits 0-9, got '+5'"),
    ("1_0", "expected a string of decimal digits 0-9, got '1_0'"),
    ("\u0665", "expected a string of decimal digits 0-9, got '\u0665'"),  # Arabic-Indic 5
    ("\uff15", "expected a string of decimal digits 0-9"),  # fullwidth 5
    (" 5", "expected a string of decimal digits 0-9"),
    ("0x5", "expected a string of decimal digits 0-9"),
    ("-5", "expected a string of decimal digits 0-9, got '-5'"),
    ("", "expected a string of decimal digits 0-9"),
    (-5, "-5 is negative (a public signal is a field element 0 <= x < r)"),
    (2**256, "... is wider than 256 bits (a public signal is a field element 0 <= x < r)"),
    (str(2**256), "is wider than 256 bits"),
    (5.0, "expected a decimal string, got float"),
    (True, "expected a decimal string, got bool"),
    (None, "expected a decimal string, got NoneType"),
]


@pytest.mark.parametrize("value,msg", BAD)
def test_strict_parser(value, msg):
    with pytest.raises(FormatError) as info:
        public_from_json(["5", value])
    assert str(info.value).startswith("error: public signals: [1]: ") and msg in str(info.value)


def test_accepted_forms():
    assert public_from_json(["0", "007", str(R - 1), str(R), str(2**256 - 1), 42]) == [
        0, 7, R - 1, R, 2**256 - 1, 42]  # values >= r parse: the verifiers refuse them
    assert public_signal("123") == 123


@pytest.mark.parametrize("value,msg", BAD)
def test_verify_and_verify_onchain_refuse_alike(proved, capsys, value, msg, monkeypatch):
    import omnidsl.chain.providers as providers

    monkeypatch.setattr(providers, "embedded_chain", lambda *a, **k: pytest.fail("chain used"))
    bad = proved / "bad_public.json"
    bad.write_text(json.dumps(["8", value], ensure_ascii=False), encoding="utf-8")
    vk, proof = proved / "keys" / "verification_key.json", proved / "proof.json"
    errors = []
    for argv in (["verify", vk, bad, proof],
                 ["verify-onchain", "--chain", "embedded", "--vk", vk, "--proof", proof, "--public", bad]):
        code = main([str(a) for a in argv])
        err = capsys.readouterr().err
        assert code == 1, err
        assert "internal error" not in err and "Traceback" not in err, err
        errors.append(err)
    assert errors[0] == errors[1]
    assert errors[0].startswith(f"error: {bad}: [1]: ") and msg in errors[0], errors[0]


def test_verify_accepts_the_real_signals(proved, capsys):
    vk = proved / "keys" / "verification_key.json"
    assert main(["verify", str(vk), str(proved / "public.json"), str(proved / "proof.json")]) == 0


def test_proof_coordinates_must_be_words(proved, capsys, monkeypatch):
    import omnidsl.chain.providers as providers

    monkeypatch.setattr(providers, "embedded_chain", lambda *a, **k: pytest.fail("chain used"))
    proof = json.loads((proved / "proof.json").read_text())
    proof["pi_a"][0] = "-" + proof["pi_a"][0]
    (proved / "neg_proof.json").write_text(json.dumps(proof))
    code = main(["verify-onchain", "--vk", str(proved / "keys"), "--proof",
                 str(proved / "neg_proof.json"), "--public", str(proved / "public.json")])
    err = capsys.readouterr().err
    assert code == 1 and "internal error" not in err
    assert "a proof coordinate is negative or wider than 256 bits" in err


@pytest.mark.chain
def test_verify_onchain_accepts_the_real_signals(proved, capsys):
    code = main(["verify-onchain", "--chain", "embedded", "--vk", str(proved / "keys"), "--proof",
                 str(proved / "proof.json"), "--public", str(proved / "public.json")])
    out = capsys.readouterr().out
    assert code == 0 and "valid: true" in out
