"""The `field` type and the `fingerprint(v, rho)` built-in: exact value (same formula as the
market's aggregate binding), cost D, soundness against forged accumulators, located type errors
for misuse, and input validation of raw field elements."""

from __future__ import annotations

import secrets

import numpy as np
import pytest

from omnidsl.compiler.check import violated
from omnidsl.compiler.circuit import compile_rule
from omnidsl.errors import DSLSyntaxError, DSLTypeError, InputError
from omnidsl.field import R, ints_to_limbs, limbs_to_ints
from omnidsl.lang.checker import check
from omnidsl.lang.parser import parse
from omnidsl.market.aggregate import fingerprint

FP_RULE = """rule Fp(D = 5) {
    private g: fixed[D] bits 16 frac 12;
    public  rho: field;
    output fp = fingerprint(g, rho);
}
"""
BASE_RULE = """rule Fp(D = 5) {
    private g: fixed[D] bits 16 frac 12;
    public  rho: field;
}
"""


def _rand_vec(d: int, bits: int = 16) -> list[int]:
    half = 1 << (bits - 1)
    return [secrets.randbelow(2 * half) - half for _ in range(d)]


def _inputs(q: list[int], rho: int) -> dict[str, object]:
    return {"g": [str(v) for v in q], "rho": str(rho)}


@pytest.fixture(scope="module")
def circ5():
    return compile_rule(FP_RULE, "fp.omni", {"D": 5}, opt_level=0)


@pytest.mark.parametrize("dim", [1, 2, 7, 650])
def test_output_matches_the_market_fingerprint(dim):
    c = compile_rule(FP_RULE, "fp.omni", {"D": dim})
    for trial in range(3):
        q = _rand_vec(dim)
        q[0] = -(1 << 15) if trial == 0 else q[0]  # extreme negative entry
        rho = secrets.randbelow(R) if trial else R - 1
        wit = c.witness(_inputs(q, rho))  # also checks every constraint
        pub = c.public_signals(wit)
        assert pub == [fingerprint(q, rho), rho]
        assert c.decoded_outputs(wit) == {"fp": fingerprint(q, rho)}


MASKED_RULE = """rule Fm(D = 5) {
    private g: fixed[D] bits 16 frac 12;
    public  rho: field;
    private mask: field;
    output fp = fingerprint(g, rho, mask);
}
"""


@pytest.mark.parametrize("dim", [1, 7, 650])
def test_masked_fingerprint_is_the_fingerprint_of_g_then_mask(dim):
    """fingerprint(g, rho, mask) = Σ g_i·ρ^(i+1) + mask·ρ^(D+1): the market's aggregation vector
    (g, mask); one constraint more than the unmasked built-in."""
    c = compile_rule(MASKED_RULE, "fm.omni", {"D": dim})
    plain = compile_rule(FP_RULE, "fp.omni", {"D": dim})
    assert c.r1cs.n_constraints == plain.r1cs.n_constraints + 1
    for _ in range(3):
        q, rho, mask = _rand_vec(dim), secrets.randbelow(R), secrets.randbelow(R)
        wit = c.witness({**_inputs(q, rho), "mask": str(mask)})
        fp = c.public_signals(wit)[0]
        assert fp == fingerprint([*q, mask], rho)
        assert fp != fingerprint(q, rho)  # (probability 2^-254 of a false failure)
    # a forged top accumulator (mask·ρ) breaks a constraint
    q, rho, mask = _rand_vec(dim), secrets.randbelow(R) | 1, secrets.randbelow(R)
    w = limbs_to_ints(c.witness({**_inputs(q, rho), "mask": str(mask)}))
    top = next(i for i, v in enumerate(w) if v == mask * rho % R)
    bad = list(w)
    bad[top] = (bad[top] + 1) % R
    assert violated(c.r1cs, ints_to_limbs(bad)).size >= 1
    assert violated(c.r1cs, ints_to_limbs(w)).size == 0


def test_a_field_mask_must_be_a_field_value():
    src = MASKED_RULE.replace("private mask: field;", "private mask: fixed;")
    with pytest.raises(DSLTypeError, match=r"mask must be a .field. value"):
        check(parse(src, "m.omni"), {"D": 5})


def test_fingerprint_of_an_expression_and_small_cases():
    src = """rule E(D = 3) {
        private g: fixed[D] bits 16 frac 12;
        public  ref: fixed[D] bits 16 frac 12;
        public  rho: field;
        output a = fingerprint(g - ref, rho);
        output b = rho;
    }"""
    c = compile_rule(src, "e.omni")
    q, ref = [5, -7, 1000], [-3, 9, 1000]
    wit = c.witness({"g": [str(v) for v in q], "ref": [str(v) for v in ref], "rho": 2})
    a, b = c.public_signals(wit)[:2]
    diff = [8, -16, 0]
    assert a == fingerprint(diff, 2) == (8 * 2 - 16 * 4) % R
    assert b == 2
    # rho = 0 gives 0; rho = 1 gives the plain sum
    assert c.public_signals(c.witness({"g": [str(v) for v in q], "ref": [str(v) for v in ref],
                                       "rho": 0}))[0] == 0
    assert c.public_signals(c.witness({"g": [str(v) for v in q], "ref": [str(v) for v in ref],
                                       "rho": "0x1"}))[0] == (sum(diff)) % R


@pytest.mark.parametrize("dim", [1, 16, 650])
@pytest.mark.parametrize("opt", [0, 2])
def test_cost_is_exactly_d_constraints(dim, opt):
    with_fp = compile_rule(FP_RULE, "fp.omni", {"D": dim}, opt_level=opt)
    without = compile_rule(BASE_RULE, "fp.omni", {"D": dim}, opt_level=opt)
    assert with_fp.r1cs.n_constraints - without.r1cs.n_constraints == dim
    # the field input is not range-checked: the base rule only range-checks g (16 bits + 1 each)
    assert with_fp.r1cs.n_pub_out == 1 and with_fp.r1cs.n_pub_in == 1


def test_large_dimension_witness():
    """D = 65,536 (narrow entries keep the range checks small); the output is still exact."""
    dim = 1 << 16
    src = ("rule Big(D = 4) { private g: int[D] bits 2; public rho: field;\n"
           "output fp = fingerprint(g, rho); }")
    c = compile_rule(src, "big.omni", {"D": dim}, opt_level=0)
    q = np.random.default_rng(7).integers(-2, 2, dim).tolist()
    rho = secrets.randbelow(R)
    full = c.full_witness({"g": q, "rho": str(rho)})
    assert limbs_to_ints(full[[c.outputs[0].wire]])[0] == fingerprint(q, rho)


def _accumulators(c) -> list[int]:
    """Wires of acc_0 .. acc_{D-1}, read off the fingerprint's constraint rows (C side)."""
    r = c.r1cs
    rows = range(r.n_constraints - 5, r.n_constraints)
    return [int(r.C.wire[r.C.row_ptr[k]]) for k in rows]


def test_forging_the_output_or_an_accumulator_violates_a_constraint(circ5):
    c = circ5
    q, rho = _rand_vec(5), secrets.randbelow(R - 2) + 2
    honest = c.full_witness(_inputs(q, rho))
    assert violated(c.r1cs, honest).size == 0
    acc = _accumulators(c)
    out_wire = c.outputs[0].wire
    assert acc[0] == out_wire  # Horner ends directly in the public output
    vals = limbs_to_ints(honest[np.array(acc)])
    assert vals[0] == fingerprint(q, rho)
    assert vals[4] == q[4] * rho % R
    # an attacker claims another fingerprint, or any accumulator off by one / zero / negated;
    # every later accumulator is recomputed from the forged one, and still a constraint breaks
    for k in range(5):
        for bad in ((vals[k] + 1) % R, 0 if vals[k] else 1, (-vals[k]) % R or 5):
            forged = c.full_witness({"g": q, "rho": rho}, forge=True, force={acc[k]: bad})
            assert limbs_to_ints(forged[[acc[k]]])[0] == bad
            # exactly the forged accumulator's own Horner row breaks
            assert violated(c.r1cs, forged).tolist() == [c.r1cs.n_constraints - 5 + k], (k, bad)


def test_forged_public_fingerprint_cannot_be_explained(circ5):
    """Pinning the public output to f(q') for a different gradient q' (with q private) fails."""
    c = circ5
    q, rho = _rand_vec(5), secrets.randbelow(R - 2) + 2
    other = list(q)
    other[2] += 1
    forged = c.full_witness({"g": q, "rho": rho}, forge=True,
                            force={c.outputs[0].wire: fingerprint(other, rho)})
    assert violated(c.r1cs, forged).size >= 1


# ------------------------------------------------------------------ type errors


def _type_error(body: str) -> DSLTypeError:
    src = ("rule R(D = 4) {\n    private g: fixed[D] bits 16 frac 12;\n"
           f"    public rho: field;\n{body}\n}}\n")
    with pytest.raises(DSLTypeError) as exc:
        check(parse(src, "rule.omni"))
    return exc.value


@pytest.mark.parametrize("stmt,needle", [
    ("    assert rho + 1 > 0;", "`+` needs numbers; this is a raw field element"),
    ("    assert rho * g[0] > 0;", "`*` needs numbers; this is a raw field element"),
    ("    assert rho > 0;", "compares numbers; this is a raw field element"),
    ("    assert abs(rho) > 0;", "abs() needs numbers; this is a raw field element"),
    ("    let r = rho;", "cannot be bound with let"),
    ("    let f = fingerprint(g, rho);", "can only be the whole value of an output"),
    ("    output f = fingerprint(g, rho) * 2;", "can only be the whole value of an output"),
    ("    assert fingerprint(g, rho) == 0;", "can only be the whole value of an output"),
    ("    output s = sum(g[i] for i in 0..D) + rho;", "this is a raw field element"),
    ("    output f = fingerprint(g[0], rho);", "fingerprint() needs a vector"),
    ("    output f = fingerprint(g, 3);", "challenge must be a `field` value"),
    ("    output f = fingerprint(g, g[0]);", "challenge must be a `field` value"),
    ("    output f = fingerprint(g > 0, rho);", "needs a numeric vector"),
    ("    output f = fingerprint(g, fingerprint(g, rho));",
     "can only be the whole value of an output"),
    ("    output f = fingerprint(g);", "takes 2 or 3 argument(s)"),
    ("    output f: fixed frac 4 = fingerprint(g, rho);", "has no fixed-point type"),
    ("    output f: field = sum(g[i] for i in 0..D);", "needs a field value"),
    ("    output f = fingerprint(g, rho);\n    assert f > 0;", "this is a raw field element"),
    ("    assert all(g[i] > rho for i in 0..D);", "this is a raw field element"),
    ("    assert (rho if g[0] > 0 else 1) > 0;", "this is a raw field element"),
])
def test_field_misuse_is_a_located_type_error(stmt, needle):
    err = _type_error(stmt)
    assert needle in str(err)
    assert err.span is not None and err.span.line >= 4
    assert "hint:" in str(err)


@pytest.mark.parametrize("decl,needle", [
    ("public s: field[4];", "is a scalar"),
    ("public s: field bits 8;", "takes no `bits`/`frac`"),
    ("public s: field frac 2;", "takes no `bits`/`frac`"),
])
def test_bad_field_declarations(decl, needle):
    with pytest.raises(DSLTypeError, match=needle.replace("`", ".").replace("/", ".")):
        check(parse(f"rule R {{ {decl} }}", "r.omni"))


def test_field_is_a_reserved_type_word():
    with pytest.raises(DSLSyntaxError, match="'field' is a reserved word"):
        parse("rule R { let field = 3; }", "r.omni")
    ok = check(parse("rule R(D = 2) { private g: fixed[D]; public rho: field;\n"
                     "output fp: field = fingerprint(g, rho); }", "r.omni"))
    assert [o.kind for o in ok.outputs] == ["field"]
    assert [i.base for i in ok.inputs] == ["fixed", "field"]


# ------------------------------------------------------------------ inputs


@pytest.mark.parametrize("rho", [R, R + 5, str(R), hex(R), -1, "-1", 2**300])
def test_rho_out_of_range_is_an_input_error(circ5, rho):
    with pytest.raises(InputError, match="not a field element"):
        circ5.witness({"g": [0] * 5, "rho": rho})


@pytest.mark.parametrize("rho", [1.5, True, [1], "abc", None])
def test_rho_must_be_an_integer(circ5, rho):
    with pytest.raises(InputError):
        circ5.witness({"g": [0] * 5, "rho": rho})


@pytest.mark.parametrize("rho", [0, R - 1, str(R - 1), hex(R - 1), " 12 "])
def test_rho_accepts_every_field_element(circ5, rho):
    wit = circ5.witness({"g": [1, 0, 0, 0, -1], "rho": rho})
    r = int(str(rho).strip(), 0) if isinstance(rho, str) else rho
    assert circ5.public_signals(wit) == [fingerprint([4096, 0, 0, 0, -4096], r), r]
