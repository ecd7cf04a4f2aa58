"""Every rule in circuits/: compile → dev setup → prove → verify, and rejections."""

from __future__ import annotations

import pytest

from omnidsl.compiler import compile_file
from omnidsl.field import R, limbs_to_bytes
from omnidsl.groth16.keys import Proof
from omnidsl.groth16.prover import prove_plain, public_signals
from omnidsl.groth16.setup import dev_setup
from omnidsl.groth16.verifier import verify
from tests.groth16.cases import CASES, CIRCUITS


def test_every_rule_has_a_case():
    rules = sorted(p.stem for p in CIRCUITS.glob("*.omni"))
    assert rules, "circuits/ holds the example rules"
    assert sorted(CASES) == rules


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_end_to_end(rule, backend):
    params, inputs = CASES[rule]
    circuit = compile_file(CIRCUITS / f"{rule}.omni", params)
    w = circuit.witness(inputs)
    z = limbs_to_bytes(w)
    pk = dev_setup(circuit.r1cs, backend)
    pub = public_signals(pk, z)
    assert pub == circuit.public_signals(w)
    proof = prove_plain(pk, z, backend)
    assert verify(pk.vk, pub, proof, backend)

    g1, g2 = backend.g1_generator(), backend.g2_generator()
    assert not verify(pk.vk, pub, Proof(backend.g1_add(proof.a, g1), proof.b, proof.c), backend)
    assert not verify(pk.vk, pub, Proof(proof.a, backend.g2_add(proof.b, g2), proof.c), backend)
    assert not verify(pk.vk, pub, Proof(proof.a, proof.b, backend.g1_add(proof.c, g1)), backend)
    for i in range(len(pub)):
        changed = list(pub)
        changed[i] = (changed[i] + 1) % R
        assert not verify(pk.vk, changed, proof, backend)
        too_big = list(pub)
        too_big[i] += R
        assert not verify(pk.vk, too_big, proof, backend)


def test_cli_setup_from_rule(tmp_path, capsys):
    import json

    from omnidsl.cli import main

    keys = tmp_path / "keys"
    assert main(["setup", str(CIRCUITS / "range.omni"), "--param", "D=4", "-o", str(keys)]) == 0
    vk = json.loads((keys / "verification_key.json").read_text())
    assert vk["protocol"] == "groth16" and vk["nPublic"] == 2 and len(vk["IC"]) == 3
    # a malformed --param is a usage error (exit 2, the CLI's convention for argument errors)
    assert main(["setup", str(CIRCUITS / "range.omni"), "--param", "D", "-o", str(keys)]) == 2
    assert "NAME=INTEGER" in capsys.readouterr().err
