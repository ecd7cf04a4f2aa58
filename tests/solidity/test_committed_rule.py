"""circuits/cosine_committed.omni: few public signals at D = 7,510, a verifier under EIP-170
deployed on anvil (exported by the CLI), and a reference differing in one entry refused."""

from __future__ import annotations

import json
import random

import pytest

from omnidsl import chain as chains
from omnidsl.cli import main
from omnidsl.compiler import compile_file
from omnidsl.compiler import poseidon as P
from omnidsl.solidity.render import EIP170_LIMIT, proof_calldata
from tests.groth16.cases import CIRCUITS

pytestmark = pytest.mark.chain
RULE = CIRCUITS / "cosine_committed.omni"


def test_public_signals_do_not_grow_with_the_length():
    big = compile_file(RULE, {"D": 7510})
    small = compile_file(RULE, {"D": 40})
    # commitment, tau, max_norm, min_norm: the verifier (a function of the public-signal count
    # only) is the same contract at every D
    assert (big.r1cs.n_pub_out, big.r1cs.n_pub_in) == (small.r1cs.n_pub_out,
                                                       small.r1cs.n_pub_in) == (0, 4)
    assert big.r1cs.n_prv_in == 2 * 7510
    plain = compile_file(CIRCUITS / "cosine.omni", {"D": 7510})
    assert plain.r1cs.n_pub_in == 7510 + 3
    # the commitment costs under 3 constraints per entry over the public-reference rule
    assert 0 < big.r1cs.n_constraints - plain.r1cs.n_constraints < 3 * 7510


def _inputs(ref: list[float], g: list[float]) -> dict:
    return {"g": g, "ref": ref, "tau": 0.5, "max_norm": 8.0, "min_norm": 0.05}


def _prove(tmp, name: str, inputs: dict, keys, d: int = 40) -> tuple[dict, list[str]]:
    (tmp / f"{name}.json").write_text(json.dumps(inputs))
    assert main(["witness", str(RULE), str(tmp / f"{name}.json"), "--param", f"D={d}",
                 "-o", str(tmp / f"{name}.wtns")]) == 0
    assert main(["prove", "--keys", str(keys), "--witness", str(tmp / f"{name}.wtns"),
                 "-o", str(tmp / f"{name}.proof.json"), "--public",
                 str(tmp / f"{name}.public.json")]) == 0
    return (json.loads((tmp / f"{name}.proof.json").read_text()),
            json.loads((tmp / f"{name}.public.json").read_text()))


def test_exported_verifier_deploys_and_pins_the_reference(tmp_path, capsys):
    rng = random.Random(17)
    ref = [rng.randrange(-2000, 2000) / 4096 for _ in range(40)]
    g = [x + rng.randrange(-200, 200) / 4096 for x in ref]
    keys = tmp_path / "keys"
    assert main(["setup", str(RULE), "--param", "D=40", "-o", str(keys)]) == 0
    proof, public = _prove(tmp_path, "honest", _inputs(ref, g), keys)
    pinned = P.commit_vector([round(x * 4096) for x in ref], 16)
    assert int(public[0]) == pinned and len(public) == 4

    out = tmp_path / "V.sol"
    assert main(["export-verifier", str(keys), "-o", str(out), "--abi", "--bin"]) == 0
    abi = json.loads(out.with_suffix(".abi.json").read_text())
    code = "0x" + out.with_suffix(".bin").read_text().strip().removeprefix("0x")

    # a reference differing from the committed one in a single entry
    other = list(ref)
    other[11] += 1 / 4096
    pin = {**_inputs(other, g), "ref.commitment": str(pinned)}
    (tmp_path / "pinned.json").write_text(json.dumps(pin))
    capsys.readouterr()
    assert main(["witness", str(RULE), str(tmp_path / "pinned.json"), "--param", "D=40",
                 "-o", str(tmp_path / "pinned.wtns")]) == 1
    assert "does not match 'ref.commitment'" in capsys.readouterr().err
    proof2, public2 = _prove(tmp_path, "other", _inputs(other, g), keys)
    assert int(public2[0]) != pinned

    with chains.anvil() as w3:  # anvil enforces EIP-170 on deployment
        v = chains.deploy(w3, abi, code)
        runtime = bytes(w3.eth.get_code(v.address))
        assert 0 < len(runtime) <= EIP170_LIMIT
        a, b, c, x = proof_calldata(proof, public)
        assert v.functions.verifyProof(a, b, c, x).call() is True
        # the other reference's proof is valid only for its own commitment, never the pinned one
        a2, b2, c2, x2 = proof_calldata(proof2, public2)
        assert v.functions.verifyProof(a2, b2, c2, x2).call() is True
        assert v.functions.verifyProof(a2, b2, c2, [pinned, *x2[1:]]).call() is False


@pytest.mark.slow
def test_verifier_at_full_size_deploys_on_anvil_and_accepts_a_proof(tmp_path):
    """D = 7,510 end to end through the CLI: setup, witness, prove, export-verifier, anvil."""
    d = 7510
    rng = random.Random(23)
    ref = [rng.randrange(-400, 400) / 4096 for _ in range(d)]
    g = [x + rng.randrange(-40, 40) / 4096 for x in ref]
    keys = tmp_path / "keys"
    assert main(["setup", str(RULE), "--param", f"D={d}", "-o", str(keys)]) == 0
    proof, public = _prove(tmp_path, "full", {**_inputs(ref, g), "min_norm": 0.01}, keys, d)
    assert int(public[0]) == P.commit_vector([round(x * 4096) for x in ref], 16)
    out = tmp_path / "V.sol"
    assert main(["export-verifier", str(keys), "-o", str(out), "--abi", "--bin"]) == 0
    abi = json.loads(out.with_suffix(".abi.json").read_text())
    code = "0x" + out.with_suffix(".bin").read_text().strip().removeprefix("0x")
    with chains.anvil() as w3:
        v = chains.deploy(w3, abi, code)
        assert 0 < len(bytes(w3.eth.get_code(v.address))) <= EIP170_LIMIT
        a, b, c, x = proof_calldata(proof, public)
        assert v.functions.verifyProof(a, b, c, x).call() is True
        x[0] = (x[0] + 1) % P.R
        assert v.functions.verifyProof(a, b, c, x).call() is False
