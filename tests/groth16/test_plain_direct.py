"""The plain driver's intermediate values equal a direct (schoolbook) computation."""

from __future__ import annotations

from omnidsl.field import R
from omnidsl.groth16.driver import BlindingShares
from omnidsl.groth16.plain import PlainDriver
from omnidsl.groth16.points import g1_list
from omnidsl.groth16.prover import compute_h, prove
from omnidsl.groth16.reduction import DEFAULT_REDUCTION
from omnidsl.groth16.setup import domain_root
from omnidsl.groth16.verifier import verify
from tests.groth16.handmade import chain_circuit, chain_witness, to_bytes


class FixedDriver(PlainDriver):
    """Plain driver with chosen blinding, so two backends must give the same proof."""

    def __init__(self, witness, backend, r, s):
        super().__init__(witness, backend)
        self._rs = BlindingShares(r, s, r * s % R)

    def blinding(self):
        return self._rs


def _rows(mat, z, n):
    out = []
    for k in range(mat.n_rows):
        acc = 0
        for t in range(int(mat.row_ptr[k]), int(mat.row_ptr[k + 1])):
            c = mat.coeff[t]
            coeff = sum(int(c[i]) << (64 * i) for i in range(4))
            acc += coeff * z[int(mat.idx[t])]
        out.append(acc % R)
    return out + [0] * (n - len(out))


def _interpolate(evals, w, n):
    """Coefficients from evaluations at w^0..w^(n−1) (naive inverse DFT)."""
    n_inv = pow(n, -1, R)
    return [sum(e * pow(w, -j * k, R) for k, e in enumerate(evals)) * n_inv % R
            for j in range(n)]


def _polymul(p, q):
    out = [0] * (len(p) + len(q) - 1)
    for i, a in enumerate(p):
        for j, b in enumerate(q):
            out[i + j] = (out[i + j] + a * b) % R
    return out


def test_h_matches_schoolbook_division(ref, backend):
    r1cs = chain_circuit(5, n_pub_in=1)
    values = chain_witness(5, [4], 6)
    z = to_bytes(values)
    qap = DEFAULT_REDUCTION.qap(r1cs)
    n = qap.domain_size
    w = domain_root(n)
    a, b, c = (_interpolate(_rows(m, values, n), w, n) for m in (qap.A, qap.B, qap.C))
    p = _polymul(a, b)
    for i, ci in enumerate(c):
        p[i] = (p[i] - ci) % R
    # divide by x^n − 1: h_j = p_{j+n} + h_{j+n}
    h = [0] * (len(p) - n)
    for j in range(len(h) - 1, -1, -1):
        h[j] = (p[j + n] + (h[j + n] if j + n < len(h) else 0)) % R
    rem = [(p[j] + (h[j] if j < len(h) else 0)) % R for j in range(n)]
    assert rem == [0] * n, "the witness satisfies the QAP, so Z divides a·b − c"
    expect = h + [0] * (n - 1 - len(h))
    for be in (ref, backend):
        from omnidsl.groth16.setup import dev_setup

        pk = dev_setup(r1cs, backend)
        got = compute_h(pk, PlainDriver(z, be), be)
        got_ints = [int.from_bytes(got[i : i + 32], "little") for i in range(0, len(got), 32)]
        assert got_ints == expect


def test_proof_equals_direct_sums_and_reference_backend(ref, backend):
    from omnidsl.groth16.setup import dev_setup

    r1cs = chain_circuit(3, n_pub_in=1)
    pk = dev_setup(r1cs, backend)
    values = chain_witness(3, [2], 5)
    z = to_bytes(values)
    r, s = 123456789, 987654321
    proof_native = prove(pk, FixedDriver(z, backend, r, s), backend)
    proof_ref = prove(pk, FixedDriver(z, ref, r, s), ref)
    assert proof_native == proof_ref
    assert verify(pk.vk, values[1:3], proof_ref, ref)
    # π_A = α + Σ z_i·a_i + r·δ, summed point by point with the reference backend
    acc = ref.g1_add(pk.alpha_g1, ref.g1_mul(pk.delta_g1, r))
    for zi, p in zip(values, g1_list(pk.a_query), strict=True):
        acc = ref.g1_add(acc, ref.g1_mul(p, zi))
    assert acc == proof_ref.a


def test_evaluate_from_coefficient_ids_equals_the_explicit_matrices(ref, backend):
    """The prover's path (coefficient ids into the R1CS's table, public rows appended to A)
    gives A·z, B·z, C·z exactly as the QAP's explicit matrices do (the oracle)."""
    r1cs = chain_circuit(7, n_pub_in=2)
    z = to_bytes(chain_witness(7, [4, 9], 6))
    for which in "ABC":
        m = DEFAULT_REDUCTION.matrix(r1cs, which)
        want = ref.sparse_matvec(m.row_ptr, m.idx, m.coeff, z)
        assert len(want) == (r1cs.n_constraints + r1cs.n_public + 1) * 32
        for be in (ref, backend):
            assert DEFAULT_REDUCTION.evaluate(be, r1cs, which, z) == want
