"""The `poseidon(...)` built-in: values equal circomlib's Poseidon, cost, errors, soundness."""

from __future__ import annotations

import re

import pytest

from omnidsl.compiler import compile_rule
from omnidsl.compiler import poseidon as P
from omnidsl.compiler import poseidon_gadget as G
from omnidsl.compiler.check import violated
from omnidsl.errors import DSLTypeError
from omnidsl.field import R

RULE = """rule H {
    private a: fixed bits 16 frac 4;
    private b: int bits 8;
    public rho: field;
    output h = poseidon(a, b);
    output h2 = poseidon(poseidon(a), rho, b, a);
}
"""


def test_outputs_equal_the_reference():
    c = compile_rule(RULE, "h.omni", opt_level=0)
    w = c.witness({"a": -1.5, "b": 7, "rho": "12345"})
    out = c.decoded_outputs(w)
    a = R - 24  # -1.5 at frac 4, embedded in F_r
    assert out["h"] == P.poseidon([a, 7])
    assert out["h2"] == P.poseidon([P.poseidon([a]), 12345, 7, a])
    # cost: permutations of widths 3, 2 and 5, each + 1 linear copy into its wire
    plain = compile_rule(RULE.replace("poseidon(a, b)", "a + b").replace(
        "output h2 = poseidon(poseidon(a), rho, b, a);", ""), "h.omni", opt_level=0)
    extra = c.r1cs.n_constraints - plain.r1cs.n_constraints
    # h2's copy into its output wire, h's copy is the plain rule's own output copy
    assert extra == G.cost(3) + G.cost(2) + G.cost(5) + 3 + 1


def test_forged_hash_is_unsatisfiable():
    c = compile_rule(RULE, "h.omni")
    honest = c.full_witness({"a": 40, "b": 3, "rho": 5}, forge=True)
    assert violated(c.r1cs, honest[c.kept]).size == 0
    h_wire = 1  # the first output
    forged = c.full_witness({"a": 40, "b": 3, "rho": 5}, forge=True,
                            force={h_wire: (P.poseidon([40, 3]) + 1) % R})
    assert violated(c.r1cs, forged[c.kept]).size > 0


@pytest.mark.parametrize("body, msg", [
    ("output h = poseidon(v);", "poseidon() takes scalars, not vectors"),
    ("let h = poseidon(x);", "a `field` value cannot be bound with let"),
    ("assert poseidon(x) == 1;", "field"),
    ("output h = poseidon(x > 0);", "poseidon() hashes numbers"),
    ("output h = poseidon(" + ", ".join(["x"] * 17) + ");", "poseidon"),
])
def test_misuse_is_a_located_error(body, msg):
    src = f"rule R {{\n    private x: int bits 8;\n    private v: int[3] bits 8;\n    {body}\n}}\n"
    with pytest.raises(DSLTypeError, match=re.escape(msg)) as e:
        compile_rule(src, "r.omni")
    assert "r.omni:4:" in str(e.value)


def test_commitment_of_a_vector_equals_the_committed_input_commitment():
    src = """rule C(D = 40) {
    private g: fixed[D] bits 16 frac 12;
    public ref: fixed[D] bits 16 frac 12 committed;
    output hg = commitment(g);
    output h2 = commitment(g * 2);
}
"""
    c = compile_rule(src, "c.omni")
    vals = [(-1) ** i * i / 64 for i in range(40)]
    w = c.witness({"g": vals, "ref": vals})
    enc = [round(x * 4096) for x in vals]
    pub = c.public_signals(w)
    assert pub[0] == pub[2] == P.commit_vector(enc, 16)  # hg = ref's commitment (same values)
    assert pub[1] == P.commit_vector([2 * x for x in enc], 17)  # g * 2: 17-bit interval
    forged = c.full_witness({"g": enc, "ref": enc}, forge=True, force={1: (pub[0] + 1) % R})
    assert violated(c.r1cs, forged[c.kept]).size > 0
    with pytest.raises(DSLTypeError, match=re.escape("commitment() needs a vector")):
        compile_rule("rule R {\n    private x: int bits 8;\n    output h = commitment(x);\n}\n",
                     "r.omni")
