"""A snarkjs .zkey written at dev-setup time (``dev_setup(..., zkey=...)``, ``setup dev --zkey``).

Its H section comes from the toxic waste (``zkey.h_exps_from_waste``: a field iFFT and one batch
multiplication) instead of the group DFT of ``zkey export`` (``zkey.h_to_zkey``).  Checked here:

* the file is byte-identical to ``write_zkey(pk, ...)`` (the group-DFT path) of the same key,
  for domains 2^1 .. 2^6, 2^10 and a compiled rule;
* snarkjs 0.7 (node, no mocks) proves with it and verifies that proof with our verification key;
* a τ or δ other than the key's is refused (wrong δ, wrong τ, and a τ·ω_n with the same Z(τ),
  which only the j = 1 check catches);
* the CLI writes the key directory and the zkey all or nothing.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from omnidsl.cli import main
from omnidsl.errors import ProofError
from omnidsl.field import R, bytes_to_limbs
from omnidsl.groth16 import zkey as Z
from omnidsl.groth16.reduction import DEFAULT_REDUCTION
from omnidsl.groth16.setup import dev_setup, domain_root
from omnidsl.r1cs.r1csfile import write_r1cs
from omnidsl.r1cs.wtnsfile import write_wtns
from tests.groth16.handmade import build_r1cs, chain_circuit, chain_witness, to_bytes


def _booleans(m: int):
    """m constraints w·w = w on one private wire, no public signal: m + 1 QAP rows."""
    return build_r1cs(2, 0, 0, 1, [({1: 1}, {1: 1}, {1: 1})] * m)


@pytest.mark.parametrize("log_n", [1, 2, 3, 4, 5, 6, 10])
def test_setup_zkey_is_byte_identical_to_the_group_dft_export(backend, tmp_path, log_n):
    r1cs = _booleans((1 << log_n) - 1)
    pk = dev_setup(r1cs, backend, zkey=tmp_path / "setup.zkey")
    assert pk.domain_size == 1 << log_n
    Z.write_zkey(pk, tmp_path / "export.zkey", backend)
    ours = (tmp_path / "setup.zkey").read_bytes()
    assert ours == (tmp_path / "export.zkey").read_bytes()
    # and the H section is not degenerate: no point at infinity, all distinct (n = 2: both
    # are −Z(τ)/(4δ)·G, the iFFT of (1, 0))
    h = Z.read_zkey(tmp_path / "setup.zkey").h
    pts = {h[i: i + 64] for i in range(0, len(h), 64)}
    assert len(pts) == (1 if log_n == 1 else pk.domain_size) and bytes(64) not in pts


def test_setup_zkey_of_a_rule_through_the_cli(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rule = Path(__file__).resolve().parents[2] / "circuits" / "norm_bound.omni"
    assert main(["setup", "dev", str(rule), "--param", "D=8", "-o", "keys",
                 "--zkey", "keys/c.zkey"]) == 0
    assert "keys/c.zkey" in capsys.readouterr().out
    assert main(["zkey", "export", "keys", "exported.zkey"]) == 0
    assert Path("keys/c.zkey").read_bytes() == Path("exported.zkey").read_bytes()


def _known_key(backend, n: int, tau: int, delta: int) -> bytes:
    """An H query made from known τ, δ (what dev_setup computes and then forgets)."""
    scalars = DEFAULT_REDUCTION.h_query_scalars(tau, pow(delta, -1, R), n)
    return backend.g1_batch_mul(backend.g1_generator(),
                                b"".join(s.to_bytes(32, "little") for s in scalars))


@pytest.mark.parametrize("n", [2, 4, 64])
def test_wrong_tau_or_delta_is_refused(backend, n):
    tau, delta = 123456789, 987654321
    h_query = _known_key(backend, n, tau, delta)
    good = Z.h_exps_from_waste(backend, h_query, n, tau, delta)
    assert good == Z.h_to_zkey(backend, h_query, n)
    omega = domain_root(n)
    wrong = {"δ + 1": (tau, delta + 1), "τ + 1": (tau + 1, delta),
             # τ·ω_n has the same Z(τ) = τⁿ − 1, hence the same H_0: only j = 1 tells
             "τ·ω_n": (tau * omega % R, delta),
             # τ·ω_n with δ scaled so that H_1 matches instead: only j = 0 tells
             "τ·ω_n, δ·ω_n": (tau * omega % R, delta * omega % R)}
    for what, (t, d) in wrong.items():
        if what == "τ·ω_n" and n == 2:  # one H point, Z(τ)/δ: the section is the same (right)
            assert Z.h_exps_from_waste(backend, h_query, n, t, d) == good
            continue
        with pytest.raises(ProofError, match="τ and δ are not this key's") as err:
            Z.h_exps_from_waste(backend, h_query, n, t, d)
        if what == "τ·ω_n":
            assert "j = 1" in err.value.message
        if what == "τ·ω_n, δ·ω_n":
            assert "j = 0" in err.value.message


def _sj(snarkjs: Path, *args: str | Path) -> str:
    proc = subprocess.run([str(snarkjs), *map(str, args)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def test_snarkjs_proves_with_the_setup_zkey(tmp_path, monkeypatch, snarkjs):
    monkeypatch.chdir(tmp_path)
    xs = [3, 8]
    write_r1cs("c.r1cs", chain_circuit(20, n_pub_in=len(xs)))
    write_wtns("c.wtns", bytes_to_limbs(to_bytes(chain_witness(20, xs, 7))))
    assert main(["setup", "dev", "c.r1cs", "-o", "keys", "--zkey", "c.zkey"]) == 0
    _sj(snarkjs, "groth16", "prove", "c.zkey", "c.wtns", "proof.json", "public.json")
    assert "OK!" in _sj(snarkjs, "groth16", "verify", "keys/verification_key.json",
                        "public.json", "proof.json")
    assert main(["verify", "keys/verification_key.json", "public.json", "proof.json"]) == 0
    # a proof of other public signals is refused by the same key
    public = json.loads(Path("public.json").read_text())
    public[-1] = str(int(public[-1]) + 1)
    Path("public.json").write_text(json.dumps(public))
    proc = subprocess.run([str(snarkjs), "groth16", "verify", "keys/verification_key.json",
                           "public.json", "proof.json"], capture_output=True, text=True,
                          timeout=300)
    assert "OK!" not in proc.stdout + proc.stderr


def test_cli_zkey_target_checked_before_setup(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_r1cs("c.r1cs", chain_circuit(4, n_pub_in=1))
    Path("adir").mkdir()
    assert main(["setup", "dev", "c.r1cs", "-o", "keys", "--zkey", "adir"]) != 0
    assert "adir: it is a folder" in capsys.readouterr().err
    assert not Path("keys").exists()  # nothing written, not even the key directory
    assert main(["setup", "dev", "c.r1cs", "-o", "keys", "--zkey", "keys/proving_key.bin"]) != 0
    assert "given twice" in capsys.readouterr().err and not Path("keys").exists()
