"""`committed` vector inputs: one public signal (the Poseidon commitment), private entries."""

from __future__ import annotations

import random

import numpy as np
import pytest

from omnidsl.compiler import compile_rule
from omnidsl.compiler import poseidon as P
from omnidsl.compiler import poseidon_gadget as G
from omnidsl.compiler.check import violated
from omnidsl.errors import DSLSyntaxError, DSLTypeError, InputError

RULE = """rule C(D = 20) {
    private g: fixed[D] bits 16 frac 12;
    public ref: fixed[D] bits 16 frac 12 committed;
    public tau: fixed bits 16 frac 12;
    assert dot(g, ref) >= tau * norm(g) * norm(ref), "cosine too low";
}
"""


def _vec(d: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.randrange(-(1 << 14), 1 << 14) / 4096 for _ in range(d)]


def _enc(v: list[float]) -> list[int]:
    return [round(x * 4096) for x in v]


@pytest.fixture(scope="module")
def circuit():
    return compile_rule(RULE, "c.omni", {"D": 20})


def test_one_public_signal_whatever_the_length():
    for d in (1, 20, 300):
        c = compile_rule(RULE, "c.omni", {"D": d})
        assert c.r1cs.n_pub_in == 2  # ref's commitment and tau
        assert c.r1cs.n_prv_in == 2 * d  # g and ref's entries
        assert c.r1cs.labels[1] == "main.ref.commitment"
        # the commitment gadget, no more, on top of the public-reference rule
        plain = compile_rule(RULE.replace(" committed", ""), "c.omni", {"D": d}, opt_level=0)
        c0 = compile_rule(RULE, "c.omni", {"D": d}, opt_level=0)
        assert c0.r1cs.n_constraints == plain.r1cs.n_constraints + G.commitment_cost(d, 16) + 1


def test_public_commitment_is_the_documented_hash(circuit):
    ref = _vec(20, 1)
    w = circuit.witness({"g": ref, "ref": ref, "tau": 0.5})
    assert circuit.public_signals(w) == [P.commit_vector(_enc(ref), 16), 2048]
    assert P.commit_vector(_enc(ref), 16) == P.poseidon(P.pack(_enc(ref), 16))  # 2 elements


def test_circuit_computes_the_commitment_to_pin(circuit):
    ref = _vec(20, 5)
    h = circuit.commitment("ref", ref)
    assert h == P.commit_vector(_enc(ref), 16)
    w = circuit.witness({"g": ref, "ref": ref, "tau": 0.5, "ref.commitment": str(h)})
    assert circuit.public_signals(w)[0] == h
    with pytest.raises(InputError, match="'g' is not a committed input of rule C"):
        circuit.commitment("g", ref)
    with pytest.raises(InputError, match="needs 20 values"):
        circuit.commitment("ref", ref[:3])


def test_given_commitment_is_checked(circuit):
    ref = _vec(20, 2)
    h = P.commit_vector(_enc(ref), 16)
    w = circuit.witness({"g": ref, "ref": ref, "tau": 0.5, "ref.commitment": str(h)})
    assert circuit.public_signals(w)[0] == h
    circuit.witness({"g": ref, "ref": ref, "tau": 0.5, "ref.commitment": hex(h)})
    with pytest.raises(InputError, match=r"input 'ref' does not match 'ref.commitment'"):
        circuit.witness({"g": ref, "ref": ref, "tau": 0.5, "ref.commitment": str(h + 1)})
    with pytest.raises(InputError, match="must be a field element"):
        circuit.witness({"g": ref, "ref": ref, "tau": 0.5, "ref.commitment": "abc"})
    with pytest.raises(InputError, match=r"unknown input .g\.commitment."):
        circuit.witness({"g": ref, "ref": ref, "tau": 0.5, "g.commitment": "1"})


def test_a_reference_differing_in_one_entry_is_refused(circuit):
    ref = _vec(20, 3)
    pinned = P.commit_vector(_enc(ref), 16)
    for j in (0, 7, 14, 15, 19):
        other = list(ref)
        other[j] += 2 ** -12  # one step of the encoding
        # the data owner pins the task's commitment: witness generation stops
        with pytest.raises(InputError, match="does not match"):
            circuit.witness({"g": ref, "ref": other, "tau": 0.5, "ref.commitment": str(pinned)})
        # without pinning, the proof's public commitment differs from the pinned one
        w = circuit.witness({"g": ref, "ref": other, "tau": 0.5})
        assert circuit.public_signals(w)[0] != pinned
        # a forged witness claiming the pinned commitment for the other entries is unsatisfiable
        raw = {"g": _enc(ref), "ref": _enc(other), "tau": 2048, "ref.commitment": pinned}
        full = circuit.full_witness(raw, forge=True)
        assert violated(circuit.r1cs, full[circuit.kept]).size > 0


def test_declaration_errors_are_located():
    cases = {
        "private g: fixed[4] bits 16 committed;": "only a public vector can be `committed`",
        "public s: fixed bits 16 committed;": "`committed` applies to vectors, not scalars",
        "public rho: field committed;": "a `field` input cannot be `committed`",
    }
    for decl, msg in cases.items():
        src = f"rule R {{\n    {decl}\n}}\n"
        with pytest.raises(DSLTypeError, match=msg) as e:
            compile_rule(src, "r.omni")
        assert "r.omni:2:" in str(e.value)
    with pytest.raises(DSLSyntaxError, match="'committed' is a reserved word"):
        compile_rule("rule R {\n    let committed = 3;\n}\n", "r.omni")


def test_entries_stay_range_checked(circuit):
    ref = _vec(20, 4)
    with pytest.raises(InputError, match="out of range"):
        circuit.witness({"g": ref, "ref": [9.0, *ref[1:]], "tau": 0.5})
    # forged: an entry beyond 16 bits (wrapped into range by the forger) breaks a range check
    raw = {"g": _enc(ref), "ref": [1 << 15, *_enc(ref)[1:]], "tau": 2048}
    full = circuit.full_witness(raw, forge=True)
    assert violated(circuit.r1cs, full[circuit.kept]).size > 0
    assert np.asarray(full).shape[1] == 4


@pytest.mark.parametrize("bits, d", [(1, 600), (8, 40), (63, 20), (100, 5), (240, 3)])
def test_every_width_packs_and_commits_as_documented(bits, d):
    src = (f"rule R(D = {d}) {{\n    public v: int[D] bits {bits} committed;\n"
           f"    output s = v[0];\n}}\n")
    c = compile_rule(src, "r.omni")
    rng = random.Random(bits)
    vals = [rng.randrange(-(1 << (bits - 1)), 1 << (bits - 1)) for _ in range(d)]
    vals[0] = -(1 << (bits - 1))
    w = c.witness({"v": [str(x) for x in vals]})
    assert c.public_signals(w)[1] == P.commit_vector(vals, bits)
    assert len(P.pack(vals, bits)) == -(-d // (253 // bits))
