"""Interop with snarkjs: it accepts our proofs; phase 2 from a .ptau it made; setup transcripts."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from omnidsl.cli import main
from omnidsl.field import R, bytes_to_limbs
from omnidsl.groth16.commands import PK_NAME
from omnidsl.groth16.keys import read_proving_key, write_proving_key
from omnidsl.r1cs.r1csfile import write_r1cs
from omnidsl.r1cs.wtnsfile import write_wtns
from tests.groth16.handmade import chain_circuit, chain_witness, to_bytes

K, XS, W = 20, [3, 8], 7  # 21 constraints + 4 input rows → domain 32 (fits a 2^8 ptau)


def _run(cmd: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def snarkjs_ptau(tmp_path_factory, snarkjs) -> Path:
    """A 2^8 powers-of-tau with one contribution, prepared for phase 2 — made by snarkjs."""
    d = tmp_path_factory.mktemp("ptau")
    for cmd in (["powersoftau", "new", "bn128", "8", "p0.ptau"],
                ["powersoftau", "contribute", "p0.ptau", "p1.ptau", "--name=t", "-e=entropy"],
                ["powersoftau", "prepare", "phase2", "p1.ptau", "pot8.ptau"]):
        proc = _run([snarkjs, *cmd], d)
        assert proc.returncode == 0, proc.stderr + proc.stdout
    return d / "pot8.ptau"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("circuit")
    write_r1cs(d / "chain.r1cs", chain_circuit(K, n_pub_in=len(XS)))
    z = to_bytes(chain_witness(K, XS, W))
    write_wtns(d / "chain.wtns", bytes_to_limbs(z))
    return d


def _snarkjs_verify(snarkjs: Path, d: Path) -> subprocess.CompletedProcess[str]:
    return _run([snarkjs, "groth16", "verify", "verification_key.json", "public.json",
                 "proof.json"], d)


def _prove_and_verify(d: Path, keys: Path) -> int:
    assert main(["prove", "--keys", str(keys), "--witness", str(d / "chain.wtns"),
                 "-o", str(d / "proof.json"), "--public", str(d / "public.json")]) == 0
    (d / "verification_key.json").write_text((keys / "verification_key.json").read_text())
    return main(["verify", str(keys / "verification_key.json"), str(d / "public.json"),
                 str(d / "proof.json")])


def test_snarkjs_accepts_dev_proof(files, snarkjs, tmp_path, capsys):
    keys = tmp_path / "keys"
    assert main(["setup", str(files / "chain.r1cs"), "-o", str(keys)]) == 0
    assert "dev setup" in capsys.readouterr().err
    for f in ("chain.r1cs", "chain.wtns"):
        (tmp_path / f).write_bytes((files / f).read_bytes())
    assert _prove_and_verify(tmp_path, keys) == 0
    out = _snarkjs_verify(snarkjs, tmp_path)
    assert out.returncode == 0 and "OK" in out.stdout, out.stdout + out.stderr
    public = json.loads((tmp_path / "public.json").read_text())
    assert len(public) == 1 + len(XS)
    # snarkjs rejects it too once a public signal changes
    public[1] = str((int(public[1]) + 1) % R)
    (tmp_path / "public.json").write_text(json.dumps(public))
    assert _snarkjs_verify(snarkjs, tmp_path).returncode != 0
    assert main(["verify", str(keys / "verification_key.json"), str(tmp_path / "public.json"),
                 str(tmp_path / "proof.json")]) == 1


def test_phase2_from_snarkjs_ptau(files, snarkjs_ptau, snarkjs, tmp_path, capsys):
    keys = tmp_path / "keys"
    for f in ("chain.r1cs", "chain.wtns"):
        (tmp_path / f).write_bytes((files / f).read_bytes())
    k0, k1 = tmp_path / "k0", tmp_path / "k1"
    assert main(["setup", str(tmp_path / "chain.r1cs"), "--ptau", str(snarkjs_ptau), "-o",
                 str(k0)]) == 0
    # no contribution yet: the transcript check refuses δ = 1
    assert main(["setup", "verify", str(k0), "--ptau", str(snarkjs_ptau)]) == 1
    assert "no phase-2 contribution" in capsys.readouterr().err
    assert main(["setup", "contribute", str(k0), "-o", str(k1), "--name", "alice",
                 "--entropy", "x"]) == 0
    assert main(["setup", "contribute", str(k1), "-o", str(keys), "--name", "bob"]) == 0
    # one key directory per contribution: the earlier ones are still there and verify
    assert main(["setup", "verify", str(k1), "--ptau", str(snarkjs_ptau)]) == 0
    assert "1 contribution(s)" in capsys.readouterr().out
    assert main(["setup", "verify", str(keys), "--ptau", str(snarkjs_ptau),
                 "--circuit", str(tmp_path / "chain.r1cs")]) == 0
    assert "2 contribution(s)" in capsys.readouterr().out
    other = tmp_path / "other.r1cs"
    write_r1cs(other, chain_circuit(K - 1, n_pub_in=len(XS)))
    assert main(["setup", "verify", str(keys), "--ptau", str(snarkjs_ptau), "--circuit", str(other)]) == 1
    assert "are not for" in capsys.readouterr().err
    assert _prove_and_verify(tmp_path, keys) == 0
    out = _snarkjs_verify(snarkjs, tmp_path)
    assert out.returncode == 0 and "OK" in out.stdout, out.stdout + out.stderr


def _tamper(keys: Path, how: str, backend) -> None:
    pk = read_proving_key(keys / PK_NAME)
    c = pk.contributions[-1]
    if how == "pok":
        pk.contributions[-1] = replace(c, pok_z=(c.pok_z + 1) % R)
    elif how == "delta":  # a δ whose discrete log the attacker knows, without a valid PoK
        g1, g2 = backend.g1_generator(), backend.g2_generator()
        d1, d2 = backend.g1_mul(g1, 12345), backend.g2_mul(g2, 12345)
        pk.contributions[-1] = replace(c, delta_g1=d1, delta_g2=d2)
        pk = replace(pk, delta_g1=d1, vk=replace(pk.vk, delta_g2=d2))
    elif how == "g2":
        g2 = backend.g2_generator()
        d2 = backend.g2_add(c.delta_g2, g2)
        pk.contributions[-1] = replace(c, delta_g2=d2)
        pk = replace(pk, vk=replace(pk.vk, delta_g2=d2))
    elif how == "l_query":
        pts = bytearray(pk.l_query)
        pts[0:64] = pk.l_query[64:128]  # swap in another valid point
        pk = replace(pk, l_query=bytes(pts))
    elif how == "h_query":
        pk = replace(pk, h_query=pk.h_query[64:128] + pk.h_query[64:])
    elif how == "a_query":
        pk = replace(pk, a_query=pk.a_query[64:128] + pk.a_query[64:])
    elif how == "drop":
        pk.contributions.pop()
    write_proving_key(pk, keys / PK_NAME)


@pytest.mark.parametrize("how", ["pok", "delta", "g2", "l_query", "h_query", "a_query", "drop"])
def test_tampered_transcript_fails(files, snarkjs_ptau, tmp_path, how, backend, capsys):
    keys = tmp_path / "keys"
    k0, k1 = tmp_path / "k0", tmp_path / "k1"
    assert main(["setup", str(files / "chain.r1cs"), "--ptau", str(snarkjs_ptau), "-o", str(k0)]) == 0
    assert main(["setup", "contribute", str(k0), "-o", str(k1), "--name", "alice"]) == 0
    assert main(["setup", "contribute", str(k1), "-o", str(keys), "--name", "mallory"]) == 0
    _tamper(keys, how, backend)
    capsys.readouterr()
    assert main(["setup", "verify", str(keys), "--ptau", str(snarkjs_ptau)]) == 1
    assert "error:" in capsys.readouterr().err


def test_ptau_too_small_and_malformed(files, snarkjs_ptau, tmp_path, capsys):
    big = tmp_path / "big.r1cs"
    write_r1cs(big, chain_circuit(300, n_pub_in=1))
    assert main(["setup", str(big), "--ptau", str(snarkjs_ptau), "-o", str(tmp_path / "k")]) == 1
    assert "larger power" in capsys.readouterr().err
    bad = tmp_path / "bad.ptau"
    bad.write_bytes(snarkjs_ptau.read_bytes()[:1000])
    assert main(["setup", str(files / "chain.r1cs"), "--ptau", str(bad), "-o",
                 str(tmp_path / "k")]) == 1
    assert "ptau" in capsys.readouterr().err
    # a Lagrange section that does not match tauG1 (two points swapped) is refused
    from omnidsl.groth16.ptau import read_ptau

    off, _size = read_ptau(snarkjs_ptau).sections[12]
    raw = bytearray(snarkjs_ptau.read_bytes())
    a, b = off + 31 * 64, off + 32 * 64  # the domain-32 basis starts at point 31
    raw[a : a + 64], raw[b : b + 64] = raw[b : b + 64], raw[a : a + 64]
    swapped = tmp_path / "swapped.ptau"
    swapped.write_bytes(bytes(raw))
    assert main(["setup", str(files / "chain.r1cs"), "--ptau", str(swapped), "-o",
                 str(tmp_path / "k")]) == 1
    assert "does not match tauG1" in capsys.readouterr().err
    unprepared = snarkjs_ptau.parent / "p1.ptau"
    assert main(["setup", str(files / "chain.r1cs"), "--ptau", str(unprepared), "-o",
                 str(tmp_path / "k")]) == 1
    assert "prepare phase2" in capsys.readouterr().err


def test_cli_errors_are_clean(files, tmp_path, capsys):
    keys = tmp_path / "keys"
    assert main(["setup", str(files / "chain.r1cs"), "-o", str(keys)]) == 0
    other = tmp_path / "other.wtns"
    write_wtns(other, np.zeros((5, 4), np.uint64))
    capsys.readouterr()
    assert main(["prove", "--keys", str(keys), "--witness", str(other)]) == 1
    assert "different circuits" in capsys.readouterr().err
    (tmp_path / "junk.bin").write_bytes(b"nonsense")
    assert main(["prove", "--keys", str(tmp_path / "junk.bin"), "--witness",
                 str(files / "chain.wtns")]) == 1
    assert "bad magic" in capsys.readouterr().err
    (tmp_path / "p.json").write_text('{"pi_a": ["1", "2", "1"], "pi_b": 5}')
    (tmp_path / "pub.json").write_text("[]")
    assert main(["verify", str(keys / "verification_key.json"), str(tmp_path / "pub.json"),
                 str(tmp_path / "p.json")]) == 1
    assert "pi_b" in capsys.readouterr().err
