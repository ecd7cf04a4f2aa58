"""Native BN254 precompiles of the embedded chain against py-evm's own (py_ecc) and anvil.

Three levels: (1) each native precompile against py-evm's original precompile function on the
same call data (same output bytes, same gas, same success/failure); (2) the same inputs sent to
0x06/0x07/0x08 on the embedded chain and on anvil (same output or failure, same receipt status
and gasUsed); (3) a real verifier's verifyProof / verifyBatch (valid and invalid) on both chains
(same result, same gasUsed).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from eth.exceptions import VMError
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.computation import PragueComputation
from py_ecc import optimized_bn128 as bn

from omnidsl import chain as chains
from omnidsl.chain import precompiles
from omnidsl.field import Q, R
from omnidsl.solidity.render import batch_calldata, proof_calldata

pytestmark = pytest.mark.chain

ORIGINAL = PragueComputation.get_precompiles()
NAMES = {precompiles.ECADD: "ecAdd", precompiles.ECMUL: "ecMul", precompiles.ECPAIRING: "ecPairing"}


# ------------------------------------------------------------------ encodings and points

def w(v: int) -> bytes:
    return v.to_bytes(32, "big")


def g1(k: int) -> tuple[int, int]:
    """k·G1 as affine integers ((0, 0) for infinity)."""
    x, y = bn.normalize(bn.multiply(bn.G1, k % R))
    return x.n, y.n


def g2(k: int) -> tuple[int, int, int, int]:
    """k·G2 as (x_re, x_im, y_re, y_im) ((0, 0, 0, 0) for infinity)."""
    if k % R == 0:
        return 0, 0, 0, 0
    x, y = bn.normalize(bn.multiply(bn.G2, k % R))
    return x.coeffs[0], x.coeffs[1], y.coeffs[0], y.coeffs[1]


def enc1(p: tuple[int, int]) -> bytes:
    return w(p[0]) + w(p[1])


def enc2(p: tuple[int, int, int, int]) -> bytes:
    """EIP-197 order: x_im, x_re, y_im, y_re."""
    return w(p[1]) + w(p[0]) + w(p[3]) + w(p[2])


def _fq_sqrt(a: int) -> int | None:
    s = pow(a, (Q + 1) // 4, Q)
    return s if s * s % Q == a % Q else None


def _fq2_sqrt(a0: int, a1: int) -> tuple[int, int] | None:
    s = _fq_sqrt((a0 * a0 + a1 * a1) % Q)
    if s is None:
        return None
    for t in (s, Q - s):
        x0 = _fq_sqrt((a0 + t) * pow(2, -1, Q) % Q)
        if x0:
            return x0, a1 * pow(2 * x0, -1, Q) % Q
    return None


def twist_point_outside_subgroup(rng: random.Random) -> tuple[int, int, int, int]:
    """A point on the twist y² = x³ + 3/(9+u) that is not in the r-torsion subgroup."""
    while True:
        x = bn.FQ2([rng.randrange(Q), rng.randrange(Q)])
        rhs = x * x * x + bn.b2
        y = _fq2_sqrt(rhs.coeffs[0], rhs.coeffs[1])
        if y is None:
            continue
        pt = (x, bn.FQ2([y[0], y[1]]), bn.FQ2.one())
        assert bn.is_on_curve(pt, bn.b2)
        if not bn.is_inf(bn.multiply(pt, R)):
            return x.coeffs[0], x.coeffs[1], y[0], y[1]


# ------------------------------------------------------------------ the cases

@dataclass(frozen=True)
class Case:
    label: str
    address: Any
    data: bytes


def _add_cases(rng: random.Random) -> Iterator[Case]:
    a = precompiles.ECADD
    gen, inf = g1(1), (0, 0)
    for i in range(24):
        p, q = g1(rng.randrange(1, R)), g1(rng.randrange(1, R))
        yield Case(f"add random #{i}", a, enc1(p) + enc1(q))
    p = g1(rng.randrange(1, R))
    yield Case("add P + P", a, enc1(p) * 2)
    yield Case("add P + (-P)", a, enc1(p) + enc1((p[0], Q - p[1])))
    yield Case("add inf + P", a, enc1(inf) + enc1(p))
    yield Case("add P + inf", a, enc1(p) + enc1(inf))
    yield Case("add inf + inf", a, enc1(inf) * 2)
    yield Case("add empty input", a, b"")
    yield Case("add one byte", a, b"\x01")
    yield Case("add 64 bytes (Q padded to infinity)", a, enc1(gen))
    yield Case("add 100 bytes", a, enc1(gen) + enc1(gen)[:36])
    yield Case("add 127 bytes", a, (enc1(gen) + enc1(p))[:127])
    yield Case("add oversized, junk after 128", a, enc1(gen) + enc1(p) + bytes(rng.randbytes(77)))
    yield Case("add off curve", a, enc1((p[0], (p[1] + 1) % Q)) + enc1(gen))
    yield Case("add second off curve", a, enc1(gen) + enc1((1, 3)))
    yield Case("add x >= q", a, enc1((p[0] + Q, p[1])) + enc1(gen))
    yield Case("add y >= q", a, enc1(gen) + enc1((p[0], p[1] + Q)))
    yield Case("add (q, 0)", a, enc1((Q, 0)) + enc1(gen))
    yield Case("add (0, q)", a, enc1((0, Q)) + enc1(gen))
    yield Case("add (0, 1)", a, enc1((0, 1)) + enc1(gen))
    yield Case("add (1, 0)", a, enc1((1, 0)) + enc1(gen))
    yield Case("add all ones", a, b"\xff" * 128)
    for i in range(8):
        yield Case(f"add random bytes #{i}", a, rng.randbytes(rng.choice([64, 128, 130])))


def _mul_cases(rng: random.Random) -> Iterator[Case]:
    m = precompiles.ECMUL
    gen = g1(1)
    p = g1(rng.randrange(1, R))
    scalars = {"0": 0, "1": 1, "2": 2, "r-1": R - 1, "r": R, "r+1": R + 1,
               "2^256-1": 2**256 - 1, "q": Q, "2^255": 2**255}
    for name, k in scalars.items():
        yield Case(f"mul G·{name}", m, enc1(gen) + w(k))
        yield Case(f"mul P·{name}", m, enc1(p) + w(k))
        yield Case(f"mul inf·{name}", m, enc1((0, 0)) + w(k))
    for i in range(16):
        k = rng.randrange(2**256) if i % 2 else rng.randrange(R)
        yield Case(f"mul random #{i}", m, enc1(g1(rng.randrange(1, R))) + w(k))
    yield Case("mul empty input", m, b"")
    yield Case("mul 64 bytes (k = 0)", m, enc1(p))
    yield Case("mul 80 bytes (k right-padded)", m, enc1(p) + b"\x12" * 16)
    yield Case("mul 95 bytes", m, (enc1(p) + w(R - 1))[:95])
    yield Case("mul oversized", m, enc1(p) + w(5) + rng.randbytes(40))
    yield Case("mul off curve", m, enc1((p[0], (p[1] + 1) % Q)) + w(3))
    yield Case("mul off curve, k = 0", m, enc1((1, 3)) + w(0))
    yield Case("mul x >= q", m, enc1((p[0] + Q, p[1])) + w(3))
    yield Case("mul y >= q, k = 0", m, enc1((p[0], p[1] + Q)) + w(0))
    yield Case("mul (q, 0)", m, enc1((Q, 0)) + w(1))
    yield Case("mul all ones", m, b"\xff" * 96)


def _pairing_cases(rng: random.Random) -> Iterator[Case]:
    e = precompiles.ECPAIRING
    a, b = rng.randrange(1, R), rng.randrange(1, R)
    c, d = rng.randrange(1, R), rng.randrange(1, R)
    ok2 = enc1(g1(a)) + enc2(g2(b)) + enc1(g1(-a * b)) + enc2(g2(1))
    # Groth16-shaped: e(A,B)·e(C,D)·e(-(ab+cd)·G1, G2)·e(inf, G2) = 1 (4 pairs)
    ok4 = (enc1(g1(a)) + enc2(g2(b)) + enc1(g1(c)) + enc2(g2(d))
           + enc1(g1(-(a * b + c * d))) + enc2(g2(1)) + enc1((0, 0)) + enc2(g2(7)))
    bad_sub = twist_point_outside_subgroup(rng)
    q2 = g2(b)
    yield Case("pairing empty input", e, b"")
    yield Case("pairing 2 pairs = 1", e, ok2)
    yield Case("pairing 4 pairs = 1", e, ok4)
    yield Case("pairing 1 pair != 1", e, ok2[:192])
    yield Case("pairing 2 pairs != 1", e, enc1(g1(a)) + enc2(q2) + enc1(g1(a * b)) + enc2(g2(1)))
    yield Case("pairing G1 inf", e, enc1((0, 0)) + enc2(q2))
    yield Case("pairing G2 inf", e, enc1(g1(a)) + enc2((0, 0, 0, 0)))
    yield Case("pairing both inf", e, bytes(192 * 2))
    yield Case("pairing 191 bytes", e, ok2[:191])
    yield Case("pairing 193 bytes", e, ok2[:193])
    yield Case("pairing 385 bytes", e, ok2 + b"\x00")
    yield Case("pairing G2 not in subgroup", e, enc1(g1(a)) + enc2(bad_sub))
    yield Case("pairing G2 not in subgroup, G1 inf", e, enc1((0, 0)) + enc2(bad_sub))
    yield Case("pairing G2 off twist", e, enc1(g1(a)) + enc2((q2[0], q2[1], q2[2], q2[3] ^ 1)))
    yield Case("pairing G2 re/im swapped", e,
               enc1(g1(a)) + enc2((q2[1], q2[0], q2[3], q2[2])))
    for i, name in enumerate(("x_re", "x_im", "y_re", "y_im")):
        big = list(q2)
        big[i] += Q
        yield Case(f"pairing G2 {name} >= q", e, enc1(g1(a)) + enc2((big[0], big[1], big[2], big[3])))
    yield Case("pairing G2 (q, 0, 0, 0)", e, enc1(g1(a)) + enc2((Q, 0, 0, 0)))
    yield Case("pairing G1 off curve", e, enc1((1, 3)) + enc2(q2))
    yield Case("pairing G1 x >= q, G2 inf", e, enc1((Q + 1, 2)) + enc2((0, 0, 0, 0)))
    yield Case("pairing G1 off curve in 2nd pair", e, ok2[:192] + enc1((1, 3)) + enc2(g2(1)))


def all_cases() -> list[Case]:
    rng = random.Random(20240914)
    return [*_add_cases(rng), *_mul_cases(rng), *_pairing_cases(rng)]


CASES = all_cases()


# ------------------------------------------------------------------ 1. against py-evm's functions

class _Computation:
    """The part of py-evm's ComputationAPI a precompile uses."""

    def __init__(self, data: bytes) -> None:
        self.msg = SimpleNamespace(data=data, data_as_bytes=data)
        self.gas = 0
        self.output = b""

    def consume_gas(self, amount: int, reason: str) -> None:
        self.gas += amount


def _run(fn: Any, data: bytes) -> tuple[str, bytes, int]:
    comp = _Computation(data)
    try:
        fn(comp)
    except VMError:
        return "fail", b"", comp.gas
    return "ok", comp.output, comp.gas


def test_native_precompiles_match_py_evm() -> None:
    counts = {"ok": 0, "fail": 0}
    for case in CASES:
        ours = _run(precompiles.NATIVE_PRECOMPILES[case.address], case.data)
        theirs = _run(ORIGINAL[case.address], case.data)
        assert ours == theirs, case.label
        counts[ours[0]] += 1
    assert counts["ok"] >= 60 and counts["fail"] >= 30, counts


def test_cases_cover_the_edges() -> None:
    out = {c.label: _run(precompiles.NATIVE_PRECOMPILES[c.address], c.data) for c in CASES}
    assert out["pairing empty input"] == ("ok", w(1), 45_000)
    assert out["pairing 4 pairs = 1"] == ("ok", w(1), 45_000 + 4 * 34_000)
    assert out["pairing 1 pair != 1"][:2] == ("ok", w(0))
    for label in ("pairing G2 not in subgroup", "pairing G2 x_im >= q", "pairing 191 bytes",
                  "add x >= q", "mul off curve, k = 0"):
        assert out[label][0] == "fail", label
    assert out["mul G·r"] == ("ok", bytes(64), 6_000)
    assert out["mul G·2^256-1"][1] == enc1(g1(2**256 - 1))
    assert out["add empty input"] == ("ok", bytes(64), 150)


def test_random_points_many() -> None:
    """A wider sweep of valid ecAdd/ecMul inputs through both implementations."""
    rng = random.Random(7)
    for _ in range(150):
        p, q = g1(rng.randrange(R)), g1(rng.randrange(R))
        k = rng.choice([rng.randrange(2**256), rng.randrange(R), rng.randrange(2**64)])
        for addr, data in ((precompiles.ECADD, enc1(p) + enc1(q)),
                           (precompiles.ECMUL, enc1(p) + w(k))):
            assert _run(precompiles.NATIVE_PRECOMPILES[addr], data) == _run(ORIGINAL[addr], data)


def test_native_vm_is_a_separate_class() -> None:
    vm = precompiles.native_vm()
    assert vm is precompiles.native_vm() and issubclass(vm, PragueVM)
    comp = vm.get_state_class().computation_class
    assert comp.get_precompiles()[precompiles.ECPAIRING] is precompiles.ecpairing
    # py-evm's own classes keep py_ecc
    assert PragueComputation.get_precompiles()[precompiles.ECPAIRING] is ORIGINAL[precompiles.ECPAIRING]
    assert precompiles.ecpairing not in PragueComputation.get_precompiles().values()
    slow = chains.embedded_chain(fast=False)
    assert type(slow.provider.ethereum_tester.backend.chain.get_vm()) is PragueVM
    fast = chains.embedded_chain()
    assert isinstance(fast.provider.ethereum_tester.backend.chain.get_vm(), vm)


# ------------------------------------------------------------------ 2. on the chains

def _call(w3: Any, case: Case, gas: int) -> tuple[Any, ...]:
    tx = {"to": case.address, "data": case.data, "gas": gas}
    try:
        return "ok", bytes(w3.eth.call(tx))
    except Exception:  # eth-tester: TransactionFailed; anvil: a JSON-RPC error
        return ("fail",)


def _send(w3: Any, case: Case, gas: int) -> tuple[int, int]:
    tx = {"from": w3.eth.accounts[0], "to": case.address, "data": case.data, "gas": gas}
    r = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(tx))
    return int(r["status"]), int(r["gasUsed"])


def test_precompile_calls_match_anvil(embedded_w3: Any, anvil_w3: Any) -> None:
    rng = random.Random(3)
    cases = [c for c in CASES if c.address != precompiles.ECADD or rng.random() < 0.5]
    for case in cases:
        gas = 400_000 if case.address == precompiles.ECPAIRING else 60_000
        assert _call(embedded_w3, case, gas) == _call(anvil_w3, case, gas), case.label
        assert _send(embedded_w3, case, gas) == _send(anvil_w3, case, gas), case.label


# ------------------------------------------------------------------ 3. a real verifier

@pytest.fixture(scope="module")
def verifiers(embedded_w3: Any, anvil_w3: Any, compiled_verifier: Any) -> dict[str, Any]:
    cc = compiled_verifier(2)
    return {"embedded": chains.deploy(embedded_w3, cc.abi, cc.bytecode),
            "anvil": chains.deploy(anvil_w3, cc.abi, cc.bytecode)}


def _both(verifiers: dict[str, Any], chains_w3: dict[str, Any], fn: str, *args: Any
          ) -> list[tuple[Any, int]]:
    out = []
    for name in ("embedded", "anvil"):
        f = getattr(verifiers[name].functions, fn)(*args)
        result = f.call({"gas": 10_000_000})
        r = chains.transact(chains_w3[name], f, gas=10_000_000)
        out.append((result, int(r["gasUsed"])))
    return out


def test_verifier_same_results_and_gas(verifiers: dict[str, Any], embedded_w3: Any,
                                       anvil_w3: Any, toy_proofs: Any) -> None:
    w3s = {"embedded": embedded_w3, "anvil": anvil_w3}
    (p0, x0), (p1, _) = toy_proofs(2, 2)
    a, b, c, x = proof_calldata(p0, x0)
    oa = proof_calldata(p1, x0)[0]
    proof_cases = {
        "valid": (a, b, c, x),
        "a from another proof": (oa, b, c, x),
        "a off curve": ([a[0], (a[1] + 1) % Q], b, c, x),
        "b swapped": (a, [b[0][::-1], b[1][::-1]], c, x),
        "input changed": (a, b, c, [x[0], (x[1] + 1) % R]),
    }
    for label, args in proof_cases.items():
        emb, anv = _both(verifiers, w3s, "verifyProof", *args)
        assert emb == anv, label
        assert emb[0] is (label == "valid"), label
    items = toy_proofs(2, 4)
    proofs, inputs = batch_calldata(items)
    bad = list(inputs)
    bad[5] = (bad[5] + 1) % R
    for label, args in {"batch valid": (proofs, inputs), "batch bad": (proofs, bad)}.items():
        emb, anv = _both(verifiers, w3s, "verifyBatch", *args)
        assert emb == anv, label
        assert emb[0] is (label == "batch valid"), label
