"""The Shamir (N, t) scheme in process: N parties as threads on a LocalHub.

The Shamir proof equals the plain prover's proof for the same r, s (and verifies with the plain
verifier) for N = 3, t = 1 and N = 5, t = 1, 2; parties that crash or hang mid-proof are dropped
and named while a quorum remains (2t + 1 for π_C, t + 1 for π_A/π_B); a malicious dealer's
inconsistent shares, equivocated digests and dealt points of another witness never give an
accepted proof of another witness.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from omnidsl.errors import NetworkError, ProofError
from omnidsl.field import R
from omnidsl.groth16.prover import dealt_msms, prove, public_signals
from omnidsl.groth16.verifier import verify
from omnidsl.mpc.schemes.additive.shares import below_pow2 as shares_below
from omnidsl.mpc.schemes.shamir import poly
from omnidsl.mpc.schemes.shamir.dealer import (
    ShamirMaterial,
    blinding_of,
    deal,
    expand,
    recommit,
    share_points,
)
from omnidsl.mpc.schemes.shamir.local import deal_for, run_parties
from tests.groth16.cases import CASES
from tests.mpc.helpers import FixedPlain
from tests.mpc.shamir_faults import Crashed, crash


@pytest.fixture(scope="module")
def nb_two(be, tmp_path_factory):
    """norm_bound keys and two different witnesses (A, B) for it."""
    from tests.mpc.cluster import make_keys

    params, inputs = CASES["norm_bound"]
    pk, z, circuit = make_keys("norm_bound", params, inputs, tmp_path_factory.mktemp("nb"), be)
    other = dict(inputs, g=[0.0] * len(inputs["g"]))
    from omnidsl.field import limbs_to_bytes

    z2 = limbs_to_bytes(circuit.witness(other))
    assert z2 != z
    return pk, z, z2


def ok(pk, z, proof, be):
    return verify(pk.vk, public_signals(pk, z), proof, be)


# ---------------------------------------------------------------- sharing maths
def test_lagrange_interpolates_and_finds_the_share_off_the_polynomial():
    coeffs = [5, 7, 11]  # f(x) = 5 + 7x + 11x²
    f = {j: sum(c * poly.point(j) ** k for k, c in enumerate(coeffs)) % R for j in range(6)}
    comb = poly.scalar_combiner()
    assert poly.interpolate(f, 2, comb) == 5
    assert poly.interpolate({j: f[j] for j in (1, 3, 5)}, 2, comb) == 5
    assert poly.mismatches(f, 2, comb) == []
    bad = {**f, 4: (f[4] + 1) % R}
    assert poly.mismatches(bad, 2, comb) == [4]
    assert poly.mismatches(bad, 1, comb) != []  # degree 2 is not degree 1
    with pytest.raises(ValueError, match="2 shares cannot open a polynomial of degree 2"):
        poly.interpolate({0: 1, 1: 2}, 2, comb)


@pytest.mark.parametrize("n,t", [(3, 1), (5, 1), (5, 2), (7, 3)])
def test_dealt_shares_interpolate_to_the_witness_from_any_t_plus_1(be, n, t):
    witness = b"".join(v.to_bytes(32, "little") for v in [1, 42, 7, R - 1, 0, 123456789])
    mats = deal(be, witness, 2, n, t)
    ex = [expand(m) for m in mats]
    for m in mats:
        assert (m.seed is not None) == (m.party_id < t)
    for lo in range(n - t):
        ids = list(range(lo, lo + t + 1))
        for w in range(6):
            got = poly.interpolate({j: int.from_bytes(ex[j].witness[32 * w:32 * w + 32], "little")
                                    for j in ids}, t, poly.scalar_combiner())
            assert got == int.from_bytes(witness[32 * w:32 * w + 32], "little")
    zeta = {j: e.zero for j, e in enumerate(ex)}
    assert poly.interpolate(zeta, 2 * t, poly.scalar_combiner()) == 0
    assert poly.mismatches(zeta, 2 * t, poly.scalar_combiner()) == []
    if n > 2 * t + 1:  # ζ has degree exactly 2t, not t
        assert poly.mismatches(zeta, t, poly.scalar_combiner()) != []


@pytest.mark.parametrize("n,t", [(3, 1), (5, 1), (5, 2)])
def test_bounded_shares_are_small_shamir_shares_of_delta_times_the_witness(be, nb_two, n, t):
    from omnidsl.mpc.schemes.shamir import bounded

    pk, z, _ = nb_two
    mats = deal_for(pk, z, n, t, be)
    delta = bounded.integer_scale(n, t)[0]
    assert {m.scale for m in mats} == {delta} and all(m.seed is None for m in mats)
    n_pub = pk.n_public + 1
    wire_bits = np.asarray(pk.r1cs.wire_bits)[n_pub:]
    widths = bounded.coefficient_widths(pk.r1cs.wire_bits, pk.n_wires, n, t)[n_pub:]
    bounded_wires = widths < 254
    assert bounded_wires.mean() > 0.9  # the witness is mostly narrow wires
    limit = widths.astype(np.int64) + (t * n ** t).bit_length() + 2
    for m in mats:
        small = shares_below(m.witness, np.where(bounded_wires, limit, 254))
        assert small.all()
        assert (wire_bits[bounded_wires] + bounded.slack(pk.n_wires) + 1
                <= widths[bounded_wires]).all()
    comb = poly.scalar_combiner()
    for w in range(pk.n_wires - n_pub):
        got = poly.interpolate({j: int.from_bytes(mats[j].witness[32 * w:32 * w + 32], "little")
                                for j in range(t + 1)}, t, comb)
        assert got == delta * int.from_bytes(z[32 * (n_pub + w):32 * (n_pub + w + 1)],
                                             "little") % R


def test_parameters_and_material_are_checked(be):
    witness = (1).to_bytes(32, "little") * 3
    with pytest.raises(ValueError, match="2t \\+ 1 ≤ N"):
        deal(be, witness, 1, 4, 2)
    with pytest.raises(ValueError, match="1 ≤ t"):
        deal(be, witness, 1, 3, 0)
    mats = deal(be, witness, 1, 3, 1)
    with pytest.raises(ValueError, match="does not match its digest"):
        expand(dataclasses.replace(mats[2], scalars=bytes(128)))
    with pytest.raises(ValueError, match="gets a seed"):
        expand(dataclasses.replace(mats[0], witness=mats[1].witness))
    with pytest.raises(ValueError, match="explicit shares and no seed"):
        expand(dataclasses.replace(mats[1], seed=bytes(32)))


# ---------------------------------------------------------------- proofs
@pytest.mark.parametrize("mode,shares", [("split", "bounded"), ("servers", "bounded"),
                                         ("split", "uniform")])
@pytest.mark.parametrize("n,t", [(3, 1), (5, 1), (5, 2)])
@pytest.mark.parametrize("rule", ["norm_bound", "cosine"])
def test_shamir_proof_is_the_plain_proof_and_verifies(be, tmp_path, rule, n, t, mode, shares):
    from tests.mpc.cluster import make_keys

    params, inputs = CASES[rule]
    pk, z, _ = make_keys(rule, params, inputs, tmp_path, be)
    mats = deal_for(pk, z, n, t, be, witness_msm=mode, shares=shares)
    assert all((m.scale > 1) == (shares == "bounded") for m in mats)
    run = run_parties(pk, mats, be)
    assert run.errors == {}
    assert len(run.proofs) == n
    proof = run.proof()
    assert ok(pk, z, proof, be)
    r, s = blinding_of(mats)
    assert prove(pk, FixedPlain(z, be, r, s), be) == proof  # the same Groth16 proof
    for d in run.drivers.values():  # every exchange heard everyone
        assert [q for _, q in d.quorums] == [list(range(n))] * 5


# ---------------------------------------------------------------- fault tolerance
@pytest.mark.parametrize("step", ["consistency#0", "open_g1#0", "open_g2#0", "open_g1#2"])
def test_two_of_five_crash_mid_proof_and_the_proof_verifies(be, nb_two, step):
    pk, z, _ = nb_two
    run = run_parties(pk, deal_for(pk, z, 5, 1, be), be, wait_s=10, wrap=crash({3: step, 4: step}))
    assert set(run.errors) == {3, 4} and all(isinstance(e, Crashed) for e in run.errors.values())
    assert ok(pk, z, run.proof(), be)
    for i in (0, 1, 2):
        d = run.drivers[i]
        assert set(d.alive.dead) == {3, 4}
        assert all("closed the connection" in why for why in d.alive.dead.values())
        quorums = dict(d.quorums)
        assert quorums[step] == [0, 1, 2] and quorums["open_g1#2"] == [0, 1, 2]


def test_a_party_that_hangs_is_dropped_after_the_deadline(be, nb_two):
    pk, z, _ = nb_two
    run = run_parties(pk, deal_for(pk, z, 5, 1, be), be, wait_s=1.5,
                      wrap=crash({1: "open_g1#1"}, silent=True))
    assert set(run.errors) == {1}
    assert ok(pk, z, run.proof(), be)
    for i in (0, 2, 3, 4):
        assert "within" in run.drivers[i].alive.dead[1]
        assert dict(run.drivers[i].quorums)["open_g1#2"] == [0, 2, 3, 4]


def test_three_of_five_crash_and_the_error_names_them(be, nb_two):
    pk, z, _ = nb_two
    run = run_parties(pk, deal_for(pk, z, 5, 1, be), be, wait_s=10,
                      wrap=crash({2: "open_g1#0", 3: "open_g1#0", 4: "open_g2#0"}))
    assert run.proofs == {}
    for i in (0, 1):
        err = run.errors[i]
        assert isinstance(err, NetworkError)
        assert "step 'open_g1#2' needs 3 parties, only 2 answered (0, 1)" in err.message
        assert "no answer from parties 2, 3 and 4" in err.message
    # π_A (degree t) still opened with the two survivors
    assert [s for s, _ in run.drivers[0].opened] == ["open_g1#0", "open_g2#0", "open_g1#1"]
    with pytest.raises(ProofError, match="no party finished"):
        run.proof()


def test_n3_t1_opens_pi_a_with_two_but_pi_c_needs_three(be, nb_two):
    pk, z, _ = nb_two
    run = run_parties(pk, deal_for(pk, z, 3, 1, be), be, wait_s=10,
                      wrap=crash({2: "open_g1#1"}))
    assert run.proofs == {}
    assert "needs 3 parties, only 2 answered" in run.errors[0].message
    assert dict(run.drivers[0].quorums)["open_g2#0"] == [0, 1, 2]


# ---------------------------------------------------------------- a malicious dealer
def _tamper(mats: list[ShamirMaterial], j: int, wire: int) -> list[ShamirMaterial]:
    """Party j's explicit share of private wire ``wire`` + 1, recommitted (the dealer lies
    consistently with its own digests)."""
    m = mats[j]
    w = bytearray(m.witness)
    v = (int.from_bytes(w[32 * wire:32 * wire + 32], "little") + 1) % R
    w[32 * wire:32 * wire + 32] = v.to_bytes(32, "little")
    return recommit([dataclasses.replace(m, witness=bytes(w)) if i == j else m
                     for i, m in enumerate(mats)])


@pytest.mark.parametrize("crashed", [{}, {3: "consistency#0", 4: "consistency#0"}])
def test_inconsistent_witness_shares_are_caught_before_anything_opens(be, nb_two, crashed):
    """The dealer gives party 2 a share of another witness (one wire differs): whatever quorum
    opens, the witness is not defined, so nothing may be opened."""
    pk, z, _ = nb_two
    mats = _tamper(deal_for(pk, z, 5, 1, be), 2, 5)
    run = run_parties(pk, mats, be, wait_s=10, wrap=crash(crashed))
    assert run.proofs == {}
    for i in (0, 1, 2):
        err = run.errors[i]
        assert isinstance(err, ProofError)
        if crashed:  # 3 shares of degree 1: an error is detected, not located
            assert "do not lie on one polynomial of degree 1" in err.message
        else:  # 5 shares: the odd one out is named
            assert "the shares dealt to party 2 are off the polynomial of degree 1" in err.message
        assert run.drivers[i].opened == []


def test_equivocated_digest_lists_are_caught(be, nb_two):
    pk, z, _ = nb_two
    mats = deal_for(pk, z, 5, 1, be)
    d = bytearray(mats[1].digests)
    d[4 * 32] ^= 1  # party 1 is told another digest for party 4
    mats[1] = dataclasses.replace(mats[1], digests=bytes(d))
    run = run_parties(pk, mats, be, wait_s=10)
    assert run.proofs == {}
    assert any("dealt another list of material digests" in str(e) for e in run.errors.values())


def test_dealt_pi_b_of_another_witness_is_refused_before_pi_c(be, nb_two):
    pk, z, z2 = nb_two
    mats = deal_for(pk, z, 5, 1, be)
    points = share_points(be, dealt_msms(pk, z2, be), 5, 1)
    good = [expand(m).witness_msm for m in mats]
    mats = recommit([dataclasses.replace(m, witness_msm=good[i][:64] + points[i][64:])
                     for i, m in enumerate(mats)])
    run = run_parties(pk, mats, be, wait_s=10)
    assert run.proofs == {}
    assert all("does not match π_B in G1" in str(e) for e in run.errors.values())
    assert all(s != "open_g1#2" for d in run.drivers.values() for s, _ in d.opened)


def test_dealt_pi_a_of_another_witness_gives_a_rejected_proof(be, nb_two):
    pk, z, z2 = nb_two
    mats = deal_for(pk, z, 5, 1, be)
    points = share_points(be, dealt_msms(pk, z2, be), 5, 1)
    good = [expand(m).witness_msm for m in mats]
    mats = recommit([dataclasses.replace(m, witness_msm=points[i][:64] + good[i][64:])
                     for i, m in enumerate(mats)])
    proof = run_parties(pk, mats, be, wait_s=10).proof()
    assert not ok(pk, z, proof, be) and not ok(pk, z2, proof, be)


def test_a_party_dealt_points_off_the_polynomial_is_dropped_when_opened(be, nb_two):
    pk, z, _ = nb_two
    mats = deal_for(pk, z, 5, 1, be)
    other = share_points(be, dealt_msms(pk, z, be), 5, 1)  # another random sharing of P_A
    mats = recommit([dataclasses.replace(m, witness_msm=other[3]) if i == 3 else m
                     for i, m in enumerate(mats)])
    run = run_parties(pk, mats, be, wait_s=10)
    assert set(run.errors) == {3}  # it alone holds a point off the others' polynomial
    assert "its own share at step 'open_g1#0' is off the polynomial" in str(run.errors[3])
    assert ok(pk, z, run.proof(), be)  # the others decode around it
    for i in (0, 1, 2, 4):
        assert "off the polynomial of degree 1 at step 'open_g1#0'" in run.drivers[i].alive.dead[3]


# ---------------------------------------------------------------- lying servers
class Liar:
    """A network that replaces party ``who``'s point share by another valid point at ``steps``."""

    def __init__(self, inner, steps, be):
        self.inner, self.steps, self.be = inner, steps, be
        self.party_id, self.n_parties = inner.party_id, inner.n_parties

    @property
    def step(self):
        return self.inner.step

    @step.setter
    def step(self, value):
        self.inner.step = value

    def send(self, to, data):
        if self.inner.step in self.steps:
            from omnidsl.groth16.points import g1_to_bytes

            data = g1_to_bytes(self.be.g1_mul(self.be.g1_generator(), 12345)) \
                if len(data) == 64 else bytes(len(data) - 1) + b"\x07"
        self.inner.send(to, data)

    def recv(self, frm):
        return self.inner.recv(frm)

    def recv_within(self, frm, timeout):
        return self.inner.recv_within(frm, timeout)

    def flush(self):
        self.inner.flush()


@pytest.mark.parametrize("liars,steps", [({2: ["open_g1#0"]}, ["open_g1#0"]),
                                         ({1: ["open_g1#2"]}, ["open_g1#2"]),
                                         ({0: ["open_g1#1"], 4: ["open_g2#0"]},
                                          ["open_g1#1", "open_g2#0"])])
def test_lying_servers_are_decoded_around_named_and_dropped(be, nb_two, liars, steps):
    """N = 5, t = 1: a degree-1 opening of 5 shares corrects 2 wrong ones, π_C (degree 2) 1;
    a malformed share (the G2 step) is dropped like a wrong one."""
    pk, z, _ = nb_two
    run = run_parties(pk, deal_for(pk, z, 5, 1, be), be, wait_s=10,
                      wrap=lambda i, net: Liar(net, liars[i], be) if i in liars else net)
    assert ok(pk, z, run.proof(), be)
    honest = [i for i in range(5) if i not in liars]
    for i in honest:
        assert set(run.drivers[i].alive.dead) == set(liars)
        for j, why in run.drivers[i].alive.dead.items():
            assert f"at step '{liars[j][0]}'" in why
            assert "off the polynomial" in why or "malformed" in why


def test_too_many_liars_for_pi_c_abort_with_a_clear_error(be, nb_two):
    pk, z, _ = nb_two
    liars = {1: ["open_g1#2"], 3: ["open_g1#2"]}
    run = run_parties(pk, deal_for(pk, z, 5, 1, be), be, wait_s=10,
                      wrap=lambda i, net: Liar(net, liars[i], be) if i in liars else net)
    assert set(run.proofs) <= {1, 3}  # a liar sees one wrong share (the other's) and corrects it
    assert all(ok(pk, z, p, be) for p in run.proofs.values())  # never a wrong accepted value
    for i in (0, 2, 4):
        assert "at step 'open_g1#2' do not lie on one polynomial of degree 2" in str(run.errors[i])
