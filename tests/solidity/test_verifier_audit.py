"""Chain audit of the generated Groth16 verifier (templates/verifier_groth16.sol.j2) on anvil:
field ranges in every entry point, curve/subgroup/infinity encodings, malleability, batch edge
cases and cancellation, and the gas precheck (a valid proof is never reported invalid)."""

from __future__ import annotations

from typing import Any

import pytest
from py_ecc.bn128 import FQ, FQ2, G1, add, multiply, neg

from omnidsl import chain as chains
from omnidsl.errors import ChainError
from omnidsl.field import Q, R
from omnidsl.solidity.render import batch_calldata
from tests.solidity.evm_points import twist_point_outside_subgroup

pytestmark = pytest.mark.chain

REASON = "Groth16Verifier: "


@pytest.fixture(scope="module")
def proofs(audit_prove) -> list[tuple[dict[str, Any], list[str]]]:
    return audit_prove([(1000 + i, 2000 + i) for i in range(3)])


def _words(item) -> tuple[list[int], list[int]]:
    return batch_calldata([item])


def _single(v, words: list[int], xs: list[int], revert: bool = False):
    a, b, c = words[0:2], [words[2:4], words[4:6]], words[6:8]
    fn = (v.functions.verifyProofOrRevert if revert else v.functions.verifyProof)(a, b, c, xs)
    return chains.call(fn) if revert else fn.call()


def _g1(words: list[int], at: int) -> tuple[FQ, FQ]:
    return (FQ(words[at]), FQ(words[at + 1]))


def _set_g1(words: list[int], at: int, p) -> list[int]:
    out = list(words)
    out[at:at + 2] = [0, 0] if p is None else [int(p[0]), int(p[1])]
    return out


def test_inputs_not_less_than_r_rejected_everywhere(audit_verifier, proofs):
    words, xs = _words(proofs[0])
    w2, xs2 = batch_calldata(proofs[:2])
    assert _single(audit_verifier, words, xs) is True
    assert audit_verifier.functions.verifyBatch(w2, xs2).call() is True
    for bad in (xs[0] + R, 2**256 - 1, R):
        ys = [bad, xs[1]]
        assert _single(audit_verifier, words, ys) is False
        with pytest.raises(ChainError, match="public input not less than r"):
            _single(audit_verifier, words, ys, revert=True)
        # the second proof's last input out of range, in the batch entry points
        zs = [*xs2[:3], xs2[3] + R]
        assert audit_verifier.functions.verifyBatch(w2, zs).call() is False
        with pytest.raises(ChainError, match="public input not less than r"):
            chains.call(audit_verifier.functions.verifyBatchOrRevert(w2, zs))


def test_coordinates_not_less_than_q_rejected(audit_verifier, proofs):
    """Every one of the 8 proof words + q (same residue) is refused, single and batch, with
    false (no revert) from verifyProof/verifyBatch."""
    words, xs = _words(proofs[0])
    w2, xs2 = batch_calldata(proofs[:2])
    for i in range(8):
        bad = list(words)
        bad[i] += Q
        assert _single(audit_verifier, bad, xs) is False, i
        with pytest.raises(ChainError, match="proof coordinate not less than q"):
            _single(audit_verifier, bad, xs, revert=True)
        bb = list(w2)
        bb[8 + i] += Q
        assert audit_verifier.functions.verifyBatch(bb, xs2).call() is False, i
        with pytest.raises(ChainError, match="proof coordinate not less than q"):
            chains.call(audit_verifier.functions.verifyBatchOrRevert(bb, xs2))


def test_points_off_curve_and_outside_subgroup(audit_verifier, proofs):
    words, xs = _words(proofs[0])
    w2, xs2 = batch_calldata(proofs[:2])
    gx, gy = twist_point_outside_subgroup()
    not_g2 = [int(gx.coeffs[1]), int(gx.coeffs[0]), int(gy.coeffs[1]), int(gy.coeffs[0])]
    variants = {
        "A off curve": _set_g1(words, 0, (FQ(words[0]), FQ(words[1] + 1))),
        "C off curve": _set_g1(words, 6, (FQ(words[6]), FQ(words[7] + 1))),
        "B off curve": [*words[:5], (words[5] + 1) % Q, *words[6:]],
        "B on the twist, outside G2": [*words[:2], *not_g2, *words[6:]],
    }
    for label, bad in variants.items():
        assert _single(audit_verifier, bad, xs) is False, label
        with pytest.raises(ChainError, match="proof point not on the curve"):
            _single(audit_verifier, bad, xs, revert=True)
        assert audit_verifier.functions.verifyBatch([*bad, *w2[8:]], xs2).call() is False, label
        assert audit_verifier.functions.verifyBatch([*w2[:8], *bad], xs2).call() is False, label


def test_point_at_infinity_encodings(audit_verifier, proofs):
    """(0, 0) is the precompiles' encoding of infinity (valid input, not an error).  A = 0, B = 0
    or C = 0 gives a well-formed but false equation: forging with A = 0 needs
    e(C, delta) = e(alpha, beta)^-1 e(L, gamma)^-1, i.e. the discrete logs of the key."""
    words, xs = _words(proofs[0])
    w2, xs2 = batch_calldata(proofs[:2])
    zero_b = [*words[:2], 0, 0, 0, 0, *words[6:]]
    for label, bad in {"A = 0": _set_g1(words, 0, None), "C = 0": _set_g1(words, 6, None),
                       "B = 0": zero_b, "all zero": [0] * 8}.items():
        assert _single(audit_verifier, bad, xs) is False, label
        with pytest.raises(ChainError, match="invalid proof"):
            _single(audit_verifier, bad, xs, revert=True)
        assert audit_verifier.functions.verifyBatch([*bad, *w2[8:]], xs2).call() is False, label
    # A = 0 with C chosen from the public data only (C = -(alpha-ish) guesses) still fails
    forged = _set_g1(_set_g1(words, 0, None), 6, neg(G1))
    assert _single(audit_verifier, forged, xs) is False


def test_malleability_is_inherent(audit_verifier, proofs):
    """DOCUMENTED: (-A, -B, C) and (sA, B/s, C) are valid proofs of the same statement (Groth16
    is not strongly unforgeable).  Anything keyed on proof bytes would be bypassable; the Market
    keys payment on the owner public input (test_market_audit.test_double_payment_...)."""
    words, xs = _words(proofs[0])
    flipped = [words[0], (Q - words[1]) % Q, words[2], words[3], (Q - words[4]) % Q,
               (Q - words[5]) % Q, words[6], words[7]]
    assert _single(audit_verifier, flipped, xs) is True
    s = 5
    a = multiply(_g1(words, 0), s)
    bx, by = FQ2([words[3], words[2]]), FQ2([words[5], words[4]])
    bs = multiply((bx, by), pow(s, -1, R))
    rer = [int(a[0]), int(a[1]), int(bs[0].coeffs[1]), int(bs[0].coeffs[0]),
           int(bs[1].coeffs[1]), int(bs[1].coeffs[0]), words[6], words[7]]
    assert _single(audit_verifier, rer, xs) is True
    assert audit_verifier.functions.verifyBatch([*words, *flipped, *rer], xs * 3).call() is True


def test_batch_shapes(audit_verifier, proofs):
    w2, xs2 = batch_calldata(proofs[:2])
    assert audit_verifier.functions.verifyBatch([], []).call() is False  # k = 0 is not "all valid"
    with pytest.raises(ChainError, match="batch lengths do not match"):
        chains.call(audit_verifier.functions.verifyBatchOrRevert([], []))
    for proofs_, inputs in ((w2[:-1], xs2), (w2, xs2[:-1]), (w2, [*xs2, 0]), (w2[:8], xs2),
                            ([*w2, 0], xs2)):
        assert audit_verifier.functions.verifyBatch(proofs_, inputs).call() is False
        with pytest.raises(ChainError, match="batch lengths do not match"):
            chains.call(audit_verifier.functions.verifyBatchOrRevert(proofs_, inputs))
    # the same valid proof twice is a batch of two valid proofs
    w, x = _words(proofs[0])
    assert audit_verifier.functions.verifyBatch([*w, *w], [*x, *x]).call() is True


def test_batch_errors_do_not_cancel(audit_verifier, proofs):
    """Two invalid proofs whose errors cancel under equal weights (C1 + D, C2 - D; or swapped
    inputs) are refused: the weights depend on every proof word and input."""
    w3, xs3 = batch_calldata(proofs[:3])
    d = multiply(G1, 123456789)
    c1, c2 = _g1(w3, 6), _g1(w3, 14)
    bad = _set_g1(_set_g1(w3, 6, add(c1, d)), 14, add(c2, neg(d)))
    assert audit_verifier.functions.verifyBatch(bad, xs3).call() is False
    # swapping the inputs of proofs 0 and 1 keeps the multiset of statements
    swapped = [*xs3[2:4], *xs3[0:2], *xs3[4:]]
    assert audit_verifier.functions.verifyBatch(w3, swapped).call() is False
    # the sum of inputs kept equal: x0 + e, x1 - e on the same input index
    e = 1
    shifted = [xs3[0] + e, xs3[1], xs3[2] - e, *xs3[3:]]
    assert audit_verifier.functions.verifyBatch(w3, shifted).call() is False
    assert audit_verifier.functions.verifyBatch(w3, xs3).call() is True


def _outcome(fn, gas: int) -> bool | None:
    try:
        return bool(fn.call({"gas": gas}))
    except Exception:  # any revert / out-of-gas counts as "reverted"
        return None


@pytest.mark.parametrize("k", [0, 1, 3])
def test_gas_precheck_never_reports_valid_as_invalid(audit_verifier, proofs, k):
    """With every gas limit the call reverts or returns true — never false (k = 0: verifyProof;
    k >= 1: verifyBatch of k valid proofs).  Scanned in 500-gas steps around the threshold."""
    if k == 0:
        words, xs = _words(proofs[0])
        fn = audit_verifier.functions.verifyProof(words[0:2], [words[2:4], words[4:6]], words[6:8], xs)
    else:
        fn = audit_verifier.functions.verifyBatch(*batch_calldata(proofs[:k]))
    lo, hi = 21_000, 3_000_000
    assert _outcome(fn, hi) is True
    while hi - lo > 500:  # lowest limit that returns true (outcome is monotone above it)
        mid = (lo + hi) // 2
        if _outcome(fn, mid):
            hi = mid
        else:
            lo = mid
    for gas in range(max(21_500, hi - 120_000), hi + 40_000, 500):
        assert _outcome(fn, gas) in (None, True), f"k={k}: false at gas {gas}"


@pytest.fixture(scope="module")
def default_verifier(audit_anvil, audit_circuit):
    """The same key's default verifier (verifyProof alone: what export-verifier emits)."""
    from omnidsl.solidity.render import compile_verifier

    cc = compile_verifier(audit_circuit.vk)
    return chains.deploy(audit_anvil, cc.abi, cc.bytecode)


def _lowest_true(fn) -> int:
    lo, hi = 21_000, 3_000_000
    assert _outcome(fn, hi) is True
    while hi - lo > 500:  # lowest limit that returns true (outcome is monotone above it)
        mid = (lo + hi) // 2
        if _outcome(fn, mid):
            hi = mid
        else:
            lo = mid
    return hi


def test_default_verifier_gas_precheck_and_malformed(audit_anvil, default_verifier, proofs):
    """The default verifier keeps every check of the market's: it never answers false for lack
    of gas, and every malformed value (input >= r, coordinate >= q, off-curve and non-subgroup
    points, infinity) gives false without reverting and without burning the caller's gas."""
    words, xs = _words(proofs[0])
    fn = default_verifier.functions.verifyProof(words[0:2], [words[2:4], words[4:6]], words[6:8],
                                                xs)
    hi = _lowest_true(fn)
    for gas in range(max(21_500, hi - 120_000), hi + 40_000, 500):
        assert _outcome(fn, gas) in (None, True), f"false at gas {gas}"
    with pytest.raises(ChainError, match="Groth16Verifier: insufficient gas for verification"):
        chains.call(fn, gas=hi - 5_000)
    gx, gy = twist_point_outside_subgroup()
    bad: dict[str, tuple[list[int], list[int]]] = {}
    for i in range(8):
        w = list(words)
        w[i] += Q
        bad[f"word {i} + q"] = (w, xs)
    for j, v in enumerate((xs[0] + R, R, 2**256 - 1)):
        bad[f"input {v}"] = (words, [v, xs[1]] if j % 2 == 0 else [xs[0], v])
    bad["A off curve"] = (_set_g1(words, 0, (FQ(words[0]), FQ(words[1] + 1))), xs)
    bad["C off curve"] = (_set_g1(words, 6, (FQ(words[6]), FQ(words[7] + 1))), xs)
    bad["B off curve"] = ([*words[:5], (words[5] + 1) % Q, *words[6:]], xs)
    bad["B outside G2"] = ([*words[:2], int(gx.coeffs[1]), int(gx.coeffs[0]), int(gy.coeffs[1]),
                            int(gy.coeffs[0]), *words[6:]], xs)
    bad["A = 0"] = (_set_g1(words, 0, None), xs)
    bad["all zero"] = ([0] * 8, xs)
    for label, (w, ys) in bad.items():
        assert _single(default_verifier, w, ys) is False, label
        # a failing precompile gets a capped amount: sent with 30M gas, the call uses < 600k
        f = default_verifier.functions.verifyProof(w[0:2], [w[2:4], w[4:6]], w[6:8], ys)
        assert chains.gas_used(audit_anvil, f)[0] < 600_000, label


def test_pairing_without_returndata_is_not_success(audit_anvil, audit_circuit, proofs):
    """Hardening: on a chain where the pairing precompile is missing, a call to 0x08 "succeeds"
    with no output.  The batch path read its result from the input buffer (holding rho_0 * A_0),
    so verifyBatch returned true for anything; it now requires 32 bytes of returndata.  Simulated
    by pointing the pairing calls at an address without code."""
    from omnidsl.solidity.compile import compile_sources
    from omnidsl.solidity.render import render_verifier

    empty = "0x00000000000000000000000000000000deadbeef"
    words, xs = _words(proofs[0])
    # the default verifier: its one pairing call
    patched = render_verifier(audit_circuit.vk).replace(", 0x08, ", f", {empty}, ")
    assert patched.count(empty) == 1
    cc = compile_sources({"Groth16Verifier.sol": patched})["Groth16Verifier"]
    v = chains.deploy(audit_anvil, cc.abi, cc.bytecode)
    assert _single(v, words, xs) is False
    # the market's: the single-path and the batch-path pairing calls
    patched = render_verifier(audit_circuit.vk, batch=True).replace(", 0x08, ", f", {empty}, ")
    assert patched.count(empty) == 2
    cc = compile_sources({"Groth16Verifier.sol": patched})["Groth16Verifier"]
    v = chains.deploy(audit_anvil, cc.abi, cc.bytecode)
    w2, xs2 = batch_calldata(proofs[:2])
    assert v.functions.verifyBatch(w2, xs2).call() is False
    junk = [*w2[:6], *w2[14:16], *w2[8:14], *w2[6:8]]  # C of proof 0 and 1 swapped
    assert v.functions.verifyBatch(junk, xs2).call() is False
    assert _single(v, words, xs) is False
