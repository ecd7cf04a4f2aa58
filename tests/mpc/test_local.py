"""The additive driver on LocalNetwork: N parties as threads (co-snarks style)."""

from __future__ import annotations

import secrets

import pytest

from omnidsl.errors import NetworkError, ProofError
from omnidsl.field import R, int_to_bytes
from omnidsl.groth16.driver import Groth16Driver
from omnidsl.groth16.prover import prove, public_signals
from omnidsl.groth16.verifier import verify
from omnidsl.mpc.network import LocalHub
from omnidsl.mpc.schemes.additive import AdditiveDriver, shares
from omnidsl.mpc.schemes.additive.dealer import blinding_of, deal
from omnidsl.mpc.schemes.additive.material import expand_material
from tests.groth16.cases import CASES
from tests.mpc.cluster import make_keys, opening_bytes_sent
from tests.mpc.helpers import FixedPlain, run_parties


def vec(values):
    return b"".join(int_to_bytes(v) for v in values)


@pytest.mark.parametrize("n", [2, 3, 5])
def test_toy_beaver_multiplication_and_opening(be, n):
    """[a]·[b] with one round of Beaver openings equals a∘b; point openings sum the shares."""
    m = 64
    a = [secrets.randbelow(R) for _ in range(m)]
    b = [secrets.randbelow(R) for _ in range(m)]
    witness = vec([1, *a, *b])
    mats = deal(be, witness, 1, 2 * m, n)
    hub = LocalHub(n, timeout=10)
    g = be.g1_generator()

    def party(i):
        ex = expand_material(mats[i])
        d = AdditiveDriver(i, n, hub.network(i), ex, be)
        assert isinstance(d, Groth16Driver)
        w = d.witness_share()
        c1 = d.mul_vec(w[32 : 32 + 32 * m], w[32 + 32 * m :])
        c2 = d.mul_vec(c1, c1)  # a second product consumes fresh triples
        p = d.open_g1(be.g1_mul(g, i + 1))
        return c1, c2, p, d.net.stats

    out, errs = run_parties(n, party)
    assert errs == [None] * n
    c1 = shares.reconstruct(be, [o[0] for o in out])
    c2 = shares.reconstruct(be, [o[1] for o in out])
    ab = be.fr_mul(vec(a), vec(b))
    assert c1 == ab and c2 == be.fr_mul(ab, ab)
    assert {o[2] for o in out} == {be.g1_mul(g, n * (n + 1) // 2)}  # parties agree
    # traffic: one opening of d‖e (2m elements) per multiplication + one point per peer
    for i in range(n):
        assert out[i][3].bytes_sent == 2 * opening_bytes_sent(i, n, 2 * m) + (n - 1) * 64


@pytest.mark.parametrize("n", [2, 3])
def test_products_opened_in_chunks_equal_one_opening(be, n, monkeypatch):
    """With MUL_CHUNK = 7 a 40-element product (then a second one, on the next triples) is
    opened in rounds mul_vec#0..#5 and #6..#8; the shares reconstruct a∘b exactly and the
    traffic is that of one opening per chunk."""
    from omnidsl.mpc.schemes.additive import driver as drv

    monkeypatch.setattr(drv, "MUL_CHUNK", 7)
    m = 40
    a = [secrets.randbelow(R) for _ in range(m)]
    b = [secrets.randbelow(R) for _ in range(m)]
    mats = deal(be, vec([1, *a, *b]), 1, 2 * m, n)
    hub = LocalHub(n, timeout=10)

    def party(i):
        d = AdditiveDriver(i, n, hub.network(i), expand_material(mats[i]), be)
        w = d.witness_share()
        c1 = d.mul_vec(w[32:32 + 32 * m], w[32 + 32 * m:])
        c2 = d.mul_vec(c1[:32 * (m // 2)], c1[32 * (m // 2):])
        return c1, c2, [step for step, _ in d.opened], d.net.stats

    out, errs = run_parties(n, party)
    assert errs == [None] * n
    ab = be.fr_mul(vec(a), vec(b))
    assert shares.reconstruct(be, [o[0] for o in out]) == ab
    half = m // 2 * 32
    assert shares.reconstruct(be, [o[1] for o in out]) == be.fr_mul(ab[:half], ab[half:])
    assert out[0][2] == [f"mul_vec#{k}" for k in range(6 + 3)]
    sizes = [j - i for i, j in drv.chunk_bounds(m)] + [j - i for i, j in drv.chunk_bounds(20)]
    for i in range(n):
        assert out[i][3].bytes_sent == sum(opening_bytes_sent(i, n, 2 * k) for k in sizes)


def test_out_of_triples_and_blinding_once(be):
    mats = deal(be, vec([1, 2, 3]), 1, 1, 2)
    hub = LocalHub(2, timeout=5)
    d = AdditiveDriver(0, 2, hub.network(0), expand_material(mats[0]), be)
    with pytest.raises(ProofError, match="out of Beaver triples"):
        d.mul_vec(vec([1, 2]), vec([3, 4]))
    d.blinding()
    with pytest.raises(ProofError, match="already used"):
        d.blinding()


def test_silent_party_times_out_naming_it_and_the_step(be):
    mats = deal(be, vec([1, 2]), 1, 4, 3)
    hub = LocalHub(3, timeout=0.5)
    d = AdditiveDriver(0, 3, hub.network(0), expand_material(mats[0]), be)
    with pytest.raises(NetworkError, match=r"party 1 within 0.5 s at step 'mul_vec#0'"):
        d.mul_vec(vec([1]), vec([2]))


@pytest.mark.parametrize("n", [2, 3, 5])
@pytest.mark.parametrize("rule", sorted(CASES))
def test_additive_matches_plain_and_verifies(be, tmp_path, rule, n):
    params, inputs = CASES[rule]
    pk, z, _ = make_keys(rule, params, inputs, tmp_path, be)
    mats = deal(be, z, pk.n_public + 1, pk.domain_size, n)
    r, s = blinding_of(mats)
    plain = FixedPlain(z, be, r, s)
    plain_proof = prove(pk, plain, be)
    hub = LocalHub(n, timeout=20)
    products = {}

    def party(i):
        d = AdditiveDriver(i, n, hub.network(i), expand_material(mats[i]), be)
        orig = d.mul_vec

        def mul(a, b):
            products[i] = orig(a, b)
            return products[i]

        d.mul_vec = mul
        return prove(pk, d, be), d

    out, errs = run_parties(n, party)
    assert errs == [None] * n
    proofs = [o[0] for o in out]
    assert all(p == proofs[0] for p in proofs)  # the parties agree
    assert shares.reconstruct(be, [products[i] for i in range(n)]) == plain.product
    opened = [v for step, v in out[0][1].opened if step.startswith("open_")]
    assert opened == plain.opened  # π_A, π_B (G2), π_B (G1), π_C
    assert proofs[0] == plain_proof  # same r, s → the very same proof
    assert verify(pk.vk, public_signals(pk, z), proofs[0], be)
