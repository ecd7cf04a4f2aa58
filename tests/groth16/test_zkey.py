"""snarkjs .zkey both ways, against snarkjs 0.7 itself (run through node, no mocks):

* our phase-2 key → .zkey: byte-identical to `snarkjs zkey new` except the H section (another
  basis of the same span), `snarkjs zkey verify` accepts it, `snarkjs groth16 prove` proves with
  it (also with our contributed and dev keys) and both verifiers accept the proof;
* a snarkjs ceremony's .zkey → import → our prover's proof verifies with snarkjs's verification
  key; exported again, `snarkjs zkey verify` still accepts the ceremony;
* `zkey export verificationkey` and `zkey export soliditycalldata` give snarkjs's output.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from omnidsl.cli import main
from omnidsl.field import bytes_to_limbs
from omnidsl.r1cs.binfile import read_container
from omnidsl.r1cs.r1csfile import write_r1cs
from omnidsl.r1cs.wtnsfile import write_wtns
from tests.groth16.handmade import chain_circuit, chain_witness, to_bytes

K, XS, W = 20, [3, 8], 7  # 21 constraints + 4 input rows → domain 32 (fits a 2^8 ptau)


def sj(snarkjs: Path, *args: str | Path, ok: bool = True) -> str:
    proc = subprocess.run([str(snarkjs), *map(str, args)], capture_output=True, text=True,
                          timeout=300)
    if ok:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


@pytest.fixture()
def work(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_r1cs(tmp_path / "c.r1cs", chain_circuit(K, n_pub_in=len(XS)))
    write_wtns(tmp_path / "c.wtns", bytes_to_limbs(to_bytes(chain_witness(K, XS, W))))
    return tmp_path


def sections(path: Path) -> dict[int, bytes]:
    c = read_container(path, b"zkey", (1,))
    return {sid: c.data[off: off + size] for sid, [(off, size)] in c.sections.items()}


def test_initial_key_is_snarkjs_zkey_new_and_verifies(work, ptau, snarkjs):
    assert main(["setup", "phase2", "c.r1cs", "--ptau", str(ptau), "-o", "keys"]) == 0
    assert main(["zkey", "export", "keys", "ours.zkey"]) == 0
    sj(snarkjs, "zkey", "new", "c.r1cs", ptau, "theirs.zkey")
    ours, theirs = sections(work / "ours.zkey"), sections(work / "theirs.zkey")
    assert list(ours) == list(theirs) == [1, 2, 4, 3, 9, 8, 5, 6, 7, 10]
    for sid in ours:  # H is another basis of the same span (zkey.py); csHash included in 10
        assert (ours[sid] == theirs[sid]) is (sid != 9), sid
    out = sj(snarkjs, "zkey", "verify", "c.r1cs", ptau, "ours.zkey")
    assert "ZKey Ok!" in out
    # and snarkjs proves with it
    sj(snarkjs, "groth16", "prove", "ours.zkey", "c.wtns", "proof.json", "public.json")
    assert "OK!" in sj(snarkjs, "groth16", "verify", "keys/verification_key.json",
                       "public.json", "proof.json")


@pytest.mark.parametrize("kind", ["contributed", "dev"])
def test_snarkjs_proves_with_our_keys(work, ptau, snarkjs, kind, capsys):
    if kind == "dev":
        assert main(["setup", "dev", "c.r1cs", "-o", "keys"]) == 0
    else:
        assert main(["setup", "phase2", "c.r1cs", "--ptau", str(ptau), "-o", "k0"]) == 0
        assert main(["setup", "contribute", "k0", "-o", "keys", "--name", "alice"]) == 0
    capsys.readouterr()
    assert main(["zkey", "export", "keys", "ours.zkey"]) == 0
    assert "snarkjs zkey verify" in capsys.readouterr().err  # says what it cannot check
    sj(snarkjs, "groth16", "prove", "ours.zkey", "c.wtns", "proof.json", "public.json")
    assert "OK!" in sj(snarkjs, "groth16", "verify", "keys/verification_key.json",
                       "public.json", "proof.json")
    assert main(["verify", "keys/verification_key.json", "public.json", "proof.json"]) == 0
    # the zkey's own verification key is ours, field for field
    sj(snarkjs, "zkey", "export", "verificationkey", "ours.zkey", "sjvk.json")
    theirs = json.loads(Path("sjvk.json").read_text())
    mine = json.loads(Path("keys/verification_key.json").read_text())
    assert {k: theirs[k] for k in mine} == mine
    if kind == "contributed":  # our transcript is not snarkjs's: it says so, and refuses
        assert "ZKey Ok!" not in sj(snarkjs, "zkey", "verify", "c.r1cs", ptau, "ours.zkey",
                                    ok=False)


def test_snarkjs_ceremony_imports_and_proves(work, ptau, snarkjs, capsys):
    sj(snarkjs, "zkey", "new", "c.r1cs", ptau, "z0.zkey")
    sj(snarkjs, "zkey", "contribute", "z0.zkey", "z1.zkey", "--name=alice", "-e=one")
    sj(snarkjs, "zkey", "contribute", "z1.zkey", "z2.zkey", "--name=bob", "-e=two")
    sj(snarkjs, "zkey", "export", "verificationkey", "z2.zkey", "vk.json")
    capsys.readouterr()
    assert main(["zkey", "import", "z2.zkey", "keys", "--circuit", "c.r1cs"]) == 0
    assert "contributions: alice, bob" in capsys.readouterr().out
    assert main(["prove", "--keys", "keys", "--witness", "c.wtns", "-o", "proof.json",
                 "--public", "public.json"]) == 0
    assert "OK!" in sj(snarkjs, "groth16", "verify", "vk.json", "public.json", "proof.json")
    assert main(["verify", "vk.json", "public.json", "proof.json"]) == 0
    # a proof for other public signals is refused by snarkjs's key
    pub = json.loads(Path("public.json").read_text())
    Path("public.json").write_text(json.dumps([str(int(pub[0]) + 1), *pub[1:]]))
    assert "OK!" not in sj(snarkjs, "groth16", "verify", "vk.json", "public.json",
                           "proof.json", ok=False)
    # its transcript is snarkjs's: omnidsl neither extends nor checks it, and says so
    capsys.readouterr()
    assert main(["setup", "contribute", "keys", "-o", "k3", "--name", "carol"]) == 1
    assert "snarkjs zkey contribute" in capsys.readouterr().err and not Path("k3").exists()
    assert main(["setup", "verify", "keys", "--ptau", str(ptau)]) == 1
    assert "snarkjs zkey verify" in capsys.readouterr().err
    # exported again, the ceremony's transcript goes with it: snarkjs still verifies it
    assert main(["zkey", "export", "keys", "again.zkey"]) == 0
    out = sj(snarkjs, "zkey", "verify", "c.r1cs", ptau, "again.zkey")
    assert "ZKey Ok!" in out and "alice" in out and "bob" in out
    assert sections(work / "again.zkey")[10] == sections(work / "z2.zkey")[10]


def test_import_refuses_another_circuit_and_bad_points(work, ptau, snarkjs, capsys):
    sj(snarkjs, "zkey", "new", "c.r1cs", ptau, "z0.zkey")
    sj(snarkjs, "zkey", "contribute", "z0.zkey", "z1.zkey", "--name=a", "-e=x")
    write_r1cs(work / "smaller.r1cs", chain_circuit(K - 1, n_pub_in=len(XS)))
    other = chain_circuit(K, n_pub_in=len(XS))  # same shape, one coefficient differs (3 → 5)
    other.coeffs[other.coeffs.index(3)] = 5
    write_r1cs(work / "other.r1cs", other)
    capsys.readouterr()
    assert main(["zkey", "import", "z1.zkey", "keys", "--circuit", "smaller.r1cs"]) == 1
    assert "25 wires and 3 public signals, the circuit has 24" in capsys.readouterr().err
    assert main(["zkey", "import", "z1.zkey", "keys", "--circuit", "other.r1cs"]) == 1
    assert "coefficients are not the circuit's" in capsys.readouterr().err
    # an initial zkey nobody contributed to (δ = γ = 1): anyone could forge proofs with it
    assert main(["zkey", "import", "z0.zkey", "keys", "--circuit", "c.r1cs"]) == 1
    assert "vk_delta_2 equals" in capsys.readouterr().err
    assert not (work / "keys").exists()
    c = read_container(work / "z1.zkey", b"zkey", (1,))
    (off, _), = c.sections[5]
    raw = bytearray(c.data)
    raw[off + 64: off + 96] = (5).to_bytes(32, "little")  # A[1].x: off the curve
    (work / "bad.zkey").write_bytes(bytes(raw))
    assert main(["zkey", "import", "bad.zkey", "keys", "--circuit", "c.r1cs"]) == 1
    err = capsys.readouterr().err
    assert "bad.zkey: section A" in err and "Traceback" not in err
    # δ in G1 replaced by another valid point (2·δ₁): G1 and G2 disagree
    from omnidsl.backend import get_backend
    from omnidsl.groth16 import zkey as Z
    from omnidsl.groth16.points import g1_from_bytes, g1_to_bytes

    be = get_backend()
    (hoff, _), = c.sections[2]
    d1 = hoff + 84 + 64 + 64 + 128 + 128  # after α₁, β₁, β₂, γ₂
    raw2 = bytearray(c.data)
    delta = g1_from_bytes(Z.from_montgomery(bytes(raw2[d1: d1 + 64]), "δ₁"))
    raw2[d1: d1 + 64] = Z.to_montgomery(g1_to_bytes(be.g1_add(delta, delta)))
    (work / "delta.zkey").write_bytes(bytes(raw2))
    assert main(["zkey", "import", "delta.zkey", "keys", "--circuit", "c.r1cs"]) == 1
    assert "delta in G1 and delta in G2 differ" in capsys.readouterr().err
    (work / "cut.zkey").write_bytes(bytes(raw[: len(raw) // 2]))
    assert main(["zkey", "import", "cut.zkey", "keys", "--circuit", "c.r1cs"]) == 1
    assert "truncated" in capsys.readouterr().err
    assert not (work / "keys").exists()


def test_import_needs_the_circuit(work, capsys):
    with pytest.raises(SystemExit) as info:
        main(["zkey", "import", "z.zkey", "keys"])
    assert info.value.code == 2
    assert "--circuit" in capsys.readouterr().err


def test_export_verificationkey_and_calldata_match_snarkjs(work, ptau, snarkjs, capsys):
    sj(snarkjs, "zkey", "new", "c.r1cs", ptau, "z0.zkey")
    sj(snarkjs, "zkey", "contribute", "z0.zkey", "z1.zkey", "--name=a", "-e=x")
    sj(snarkjs, "zkey", "export", "verificationkey", "z1.zkey", "theirs.json")
    assert main(["zkey", "export", "verificationkey", "z1.zkey", "ours.json"]) == 0
    theirs = json.loads(Path("theirs.json").read_text())
    ours = json.loads(Path("ours.json").read_text())
    assert {k: theirs[k] for k in ours} == ours and len(ours["IC"]) == 2 + len(XS)  # wire 0, the output, the inputs
    sj(snarkjs, "groth16", "prove", "z1.zkey", "c.wtns", "proof.json", "public.json")
    capsys.readouterr()
    assert main(["zkey", "export", "soliditycalldata", "public.json", "proof.json"]) == 0
    mine = capsys.readouterr().out
    theirs_text = sj(snarkjs, "zkey", "export", "soliditycalldata", "public.json", "proof.json")
    assert mine == theirs_text
    assert mine.count("0x") == 2 + 4 + 2 + 1 + len(XS)


def test_h_basis_change_round_trip(backend):
    """hExps → ours → hExps is the identity on the span snarkjs uses (random points)."""
    from omnidsl.groth16 import zkey as Z
    from omnidsl.groth16.points import g1_array

    n = 16
    g1 = backend.g1_generator()
    ours = g1_array([backend.g1_mul(g1, int.from_bytes(os.urandom(31), "little") + 1)
                     for _ in range(n - 1)])
    h = Z.h_to_zkey(backend, ours, n)
    assert len(h) == 64 * n and h != bytes(64 * n)
    assert Z.h_from_zkey(backend, h, n) == ours
