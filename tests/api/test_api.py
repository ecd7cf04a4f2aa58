"""The Python API (omnidsl/api.py, re-exported from ``omnidsl``): lazy imports, short reprs,
the path forms every call takes, and located errors for ordinary mistakes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import omnidsl
from omnidsl.errors import InputError, OmniDSLError
from omnidsl.groth16.formats import write_proof, write_public
from tests.groth16.cases import CASES, CIRCUITS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    params, inputs = CASES["norm_bound"]
    d = tmp_path_factory.mktemp("api")
    circuit = omnidsl.compile(CIRCUITS / "norm_bound.omni", params)
    w = omnidsl.witness(circuit, inputs)
    pk = omnidsl.setup(circuit, d / "keys")
    return d, circuit, w, pk, omnidsl.prove(pk, w)


def test_import_omnidsl_is_lazy():
    code = ("import sys, omnidsl; print(sorted(m for m in sys.modules if m.startswith("
            "('numpy', 'omnidsl.', 'web3', 'lark'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    assert out.strip() == "['omnidsl.errors']"
    names = {"compile", "witness", "setup", "prove", "verify", "export_verifier", "servers"}
    assert names <= set(dir(omnidsl)) and names <= set(omnidsl.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        omnidsl.nope  # noqa: B018


def test_reprs_are_one_short_line_without_source_text(made):
    _, circuit, _, pk, res = made
    objs = [circuit, circuit.rule, circuit.r1cs, circuit.rule.rule.span, pk, pk.vk, res.proof,
            res]
    for obj in objs:
        text = repr(obj)
        assert len(text) < 150 and "\n" not in text, text
        assert "assert" not in text and "private g" not in text, text
    assert repr(circuit).startswith("Circuit(NormBound, D=8: ")
    assert repr(res).startswith("ProofResult(verified, plain, 1 public signals")


def test_compile_takes_source_a_str_path_or_a_path(made, tmp_path):
    _, circuit, _, _, _ = made
    src = (CIRCUITS / "norm_bound.omni").read_text()
    for rule in (src, str(CIRCUITS / "norm_bound.omni"), CIRCUITS / "norm_bound.omni"):
        c = omnidsl.compile(rule, {"D": 8})
        assert c.r1cs.n_constraints == circuit.r1cs.n_constraints
    with pytest.raises(InputError, match=r"missing\.omni: no such rule file"):
        omnidsl.compile(tmp_path / "missing.omni")
    with pytest.raises(OmniDSLError, match=r"<rule>:1:6: error: unexpected"):
        omnidsl.compile("rule {")


def test_verify_takes_objects_and_files(made):
    d, _, _, pk, res = made
    write_proof(res.proof, d / "proof.json")
    write_public(res.public, d / "public.json")
    keys = d / "keys"
    for key in (pk, pk.vk, keys, keys / "verification_key.json", str(keys / "proving_key.bin")):
        assert omnidsl.verify(key, d / "proof.json", d / "public.json")
        assert omnidsl.verify(key, res)
    assert not omnidsl.verify(pk, res, [res.public[0] + 1])
    with pytest.raises(InputError, match="needs the public signals"):
        omnidsl.verify(pk, res.proof)
    with pytest.raises(InputError, match="no such key file"):
        omnidsl.verify(d / "nokeys.json", res)


def test_outputs_are_checked_before_work_and_written_whole(made, tmp_path):
    _, circuit, _, pk, _ = made
    with pytest.raises(OmniDSLError, match="does not exist"):
        omnidsl.export_verifier(pk, tmp_path / "no" / "such" / "V.sol")
    assert not (tmp_path / "no").exists()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OmniDSLError, match="not a folder"):
        omnidsl.setup(circuit, blocker)
    assert blocker.read_text() == "x"


def test_prove_in_every_local_mode_gives_the_same_public_signals(made):
    d, _, w, _, res = made
    for parties in (None, 1, 2):
        r = omnidsl.prove(d / "keys", w, parties)
        assert r.verified and r.public == res.public and r.parties == (parties or 1)


def test_open_task_refuses_bad_terms_before_touching_a_chain():
    for bad in ({"dim": 0}, {"servers": 1}, {"gradients": 0}, {"max_norm": 0.0},
                {"deadline_s": 10}):
        with pytest.raises(InputError, match="open_task needs"):
            omnidsl.open_task(**bad)


@pytest.mark.chain
def test_open_task_of_the_cosine_rule_pins_every_input_and_the_commitment():
    ref = [0.1, 0.2, -0.1, 0.3, 0.0, 0.5, -0.2, 0.1]
    task = omnidsl.open_task(rule="cosine", dim=8, servers=2, gradients=2,
                             pins={"ref": ref, "tau": 0.3, "max_norm": 2.0, "min_norm": 0.1})
    assert repr(task).startswith("MarketTask(task 1 of MarketCosine, market 0x")
    assert "tau=0.3, max_norm=2, min_norm=0.1" in repr(task)
    pinned = task.owner.market.pinned(task.task_id)
    commitment = task.rule.circuit.commitment("ref", ref)
    assert sorted(pinned.values()) == sorted([commitment, round(0.3 * 4096), 2 * 4096,
                                              round(0.1 * 4096)])
    assert task.info().remaining == task.escrow == 2 * (10**15 + 2 * 10**14)
    with pytest.raises(InputError, match="must pin"):
        omnidsl.open_task(rule="cosine", pins={"tau": 0.3})
    with pytest.raises(InputError, match="no such market rule"):
        omnidsl.open_task(rule="nosuch.omni")
