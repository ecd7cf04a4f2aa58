"""Dealer-side witness commitments: the data owner deals point shares of the witness MSMs."""

from __future__ import annotations

import dataclasses
import json

import pytest

from omnidsl.backend import get_backend
from omnidsl.cli import main
from omnidsl.errors import ProofError
from omnidsl.groth16.driver import Groth16Driver, WitnessMsmShares
from omnidsl.groth16.formats import read_proof, read_public
from omnidsl.groth16.plain import PlainDriver
from omnidsl.groth16.prover import prove, prove_plain, public_signals, witness_msms
from omnidsl.groth16.verifier import verify
from omnidsl.mpc import coordinator
from omnidsl.mpc.dealer import (
    WITNESS_MSM_BYTES,
    blinding_of,
    deal,
    decode_witness_msms,
    encode_witness_msms,
    expand_material,
    share_witness_msms,
)
from omnidsl.mpc.driver import AdditiveDriver
from omnidsl.mpc.network import LocalHub
from tests.groth16.test_circuits import CASES
from tests.mpc.cluster import Cluster, make_keys
from tests.mpc.test_local import FixedPlain, run_parties


@pytest.fixture(scope="module")
def be():
    return get_backend()


@pytest.fixture(scope="module")
def nb(tmp_path_factory, be):
    params, inputs = CASES["norm_bound"]
    d = tmp_path_factory.mktemp("nb")
    pk, z, _ = make_keys("norm_bound", params, inputs, d, be)
    return d, pk, z


class CountingBackend:
    """The backend, counting the MSMs a party runs."""

    def __init__(self, inner):
        self._inner = inner
        self.msms = {"g1": 0, "g2": 0}

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def g1_msm(self, bases, scalars):
        self.msms["g1"] += 1
        return self._inner.g1_msm(bases, scalars)

    def g2_msm(self, bases, scalars):
        self.msms["g2"] += 1
        return self._inner.g2_msm(bases, scalars)


def sum_shares(be, shares: list[bytes]) -> WitnessMsmShares:
    pts = [decode_witness_msms(s, be) for s in shares]
    tot = pts[0]
    for p in pts[1:]:
        tot = WitnessMsmShares(be.g1_add(tot.a, p.a), be.g2_add(tot.b2, p.b2),
                               be.g1_add(tot.b1, p.b1), be.g1_add(tot.l, p.l))
    return tot


def dealer_materials(be, pk, z, n, corrupt_party: int | None = None):
    mats = deal(be, z, pk.n_public + 1, pk.domain_size, n)
    pts = share_witness_msms(be, witness_msms(pk, z, be), n)
    if corrupt_party is not None:
        w = decode_witness_msms(pts[corrupt_party], be)
        bad = dataclasses.replace(w, l=be.g1_add(w.l, be.g1_generator()))
        pts[corrupt_party] = encode_witness_msms(bad)
    return [dataclasses.replace(m, witness_msm=p) for m, p in zip(mats, pts, strict=True)]


@pytest.mark.parametrize("n", [2, 3, 5])
def test_dealer_mode_matches_plain_and_skips_witness_msms(be, nb, n):
    _, pk, z = nb
    mats = dealer_materials(be, pk, z, n)
    r, s = blinding_of(mats)
    plain = FixedPlain(z, be, r, s)
    plain_proof = prove(pk, plain, be)
    hub = LocalHub(n, timeout=20)
    counters = [CountingBackend(be) for _ in range(n)]

    def party(i):
        d = AdditiveDriver(i, n, hub.network(i), expand_material(mats[i]), counters[i])
        assert isinstance(d, Groth16Driver)
        return prove(pk, d, counters[i]), d

    out, errs = run_parties(n, party)
    assert errs == [None] * n
    proofs = [o[0] for o in out]
    assert all(p == proofs[0] for p in proofs)  # the parties agree
    opened = [v for step, v in out[0][1].opened if step.startswith("open_")]
    assert opened == plain.opened  # π_A, π_B (G2), π_B (G1), π_C as in the plain run
    assert proofs[0] == plain_proof
    assert verify(pk.vk, public_signals(pk, z), proofs[0], be)
    # each server ran only the H MSM: the witness MSMs came from the dealer
    assert all(c.msms == {"g1": 1, "g2": 0} for c in counters)


def test_plain_driver_has_no_dealt_msms_and_servers_mode_runs_them(be, nb):
    _, pk, z = nb
    assert getattr(PlainDriver(z, be), "witness_msm_shares", None) is None
    cnt = CountingBackend(be)
    assert verify(pk.vk, public_signals(pk, z), prove_plain(pk, z, cnt), be)
    assert cnt.msms == {"g1": 4, "g2": 1}  # A, B1, L, H and B2
    mats = deal(be, z, pk.n_public + 1, pk.domain_size, 2)
    d = AdditiveDriver(0, 2, LocalHub(2, timeout=1).network(0), expand_material(mats[0]), be)
    assert d.witness_msm_shares() is None  # default: DESIGN §6 as written


@pytest.mark.parametrize("n", [2, 3, 5])
def test_point_shares_are_random_fresh_and_sum_to_the_msms(be, nb, n):
    _, pk, z = nb
    true = witness_msms(pk, z, be)
    s1 = share_witness_msms(be, true, n)
    s2 = share_witness_msms(be, true, n)
    assert all(len(s) == WITNESS_MSM_BYTES for s in s1)
    assert sum_shares(be, s1) == true and sum_shares(be, s2) == true
    true_pts = {true.a, true.b2, true.b1, true.l}
    for a, b in zip(s1, s2, strict=True):
        for p in (decode_witness_msms(a, be), decode_witness_msms(b, be)):
            assert not {p.a, p.b2, p.b1, p.l} & true_pts  # a share is never the point itself
            assert len({p.a, p.b1, p.l}) == 3  # independent per point
        assert a != b  # fresh per session
    # and through the whole dealing, one session's material differs from the next one's
    m1, m2 = dealer_materials(be, pk, z, n), dealer_materials(be, pk, z, n)
    assert all(a.witness_msm != b.witness_msm for a, b in zip(m1, m2, strict=True))


def test_corrupted_point_share_gives_an_invalid_proof(be, nb):
    _, pk, z = nb
    n = 3
    mats = dealer_materials(be, pk, z, n, corrupt_party=1)
    hub = LocalHub(n, timeout=20)
    out, errs = run_parties(n, lambda i: prove(
        pk, AdditiveDriver(i, n, hub.network(i), expand_material(mats[i]), be), be))
    assert errs == [None] * n
    assert not verify(pk.vk, public_signals(pk, z), out[0], be)


def test_invalid_point_share_is_refused(be, nb):
    _, pk, z = nb
    mats = dealer_materials(be, pk, z, 2)
    bad = bytearray(mats[0].witness_msm)
    bad[0] ^= 1  # π_A share off the curve
    m = dataclasses.replace(mats[0], witness_msm=bytes(bad))
    d = AdditiveDriver(0, 2, LocalHub(2, timeout=1).network(0), expand_material(m), be)
    with pytest.raises(ProofError, match="bad dealt witness MSM shares"):
        d.witness_msm_shares()
    with pytest.raises(ValueError, match="witness MSM shares need"):
        dataclasses.replace(mats[0], witness_msm=b"x" * 10).validate()


@pytest.mark.slow
def test_real_servers_cli_dealer_msm_and_corrupted_share(tmp_path, be, nb, monkeypatch, capsys):
    d, pk, z = nb
    from omnidsl.field import bytes_to_limbs
    from omnidsl.r1cs.wtnsfile import write_wtns

    wtns = tmp_path / "w.wtns"
    write_wtns(wtns, bytes_to_limbs(z))
    with Cluster(tmp_path / "cl", 3, {"nb": d}).start_all() as cl:
        res = coordinator.prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk,
                                       witness_msm="dealer")
        assert verify(pk.vk, res.public, res.proof, be) and res.dealer_msm_cpu_s > 0
        proof, public = tmp_path / "proof.json", tmp_path / "public.json"
        argv = ["prove", "--servers", str(cl.config_path), "--keys", str(d), "--witness",
                str(wtns), "-o", str(proof), "--public", str(public), "--dealer-msm"]
        assert main(argv) == 0
        assert verify(pk.vk, read_public(public), read_proof(proof), be)
        assert json.loads(proof.read_text())["protocol"] == "groth16"
        proof.unlink()
        public.unlink()

        real = coordinator.share_witness_msms

        def corrupted(backend, w, n):
            pts = real(backend, w, n)
            p = decode_witness_msms(pts[0], backend)
            pts[0] = encode_witness_msms(dataclasses.replace(
                p, a=backend.g1_add(p.a, backend.g1_generator())))
            return pts

        monkeypatch.setattr(coordinator, "share_witness_msms", corrupted)
        capsys.readouterr()
        assert main(argv) == 1
        assert "does not verify" in capsys.readouterr().err
        assert not proof.exists() and not public.exists()  # nothing written
        assert cl.alive() == [0, 1, 2]


def test_dealer_msm_needs_servers(tmp_path, nb, capsys):
    d, _, _ = nb
    assert main(["prove", "--keys", str(d), "--witness", str(tmp_path / "w.wtns"),
                 "--dealer-msm"]) == 1
    assert "--dealer-msm needs --servers" in capsys.readouterr().err


class UncheckedPlain(PlainDriver):
    """The data owner's private computation of h for an arbitrary (even unsatisfying) z."""

    n_parties = 2  # compute_h skips the plain witness check


def test_dealer_mode_does_not_bind_the_servers_shares(be, nb):
    """Why bound (market) sessions refuse dealer mode: the dealt points can carry another
    witness than the one the servers hold shares of, and the proof still verifies."""
    from omnidsl.field import R, int_to_bytes
    from omnidsl.groth16.prover import compute_h
    from omnidsl.groth16.reduction import DEFAULT_REDUCTION

    _, pk, z = nb
    n = 2
    w = (pk.n_public + 1) + 2  # a private wire
    v = int.from_bytes(z[32 * w:32 * w + 32], "little")
    z_shared = z[:32 * w] + int_to_bytes((v + 12345) % R) + z[32 * w + 32:]
    assert z_shared != z
    qap = DEFAULT_REDUCTION.qap(pk.r1cs)
    bases = pk.bases(be)
    h_of = {k: be.g1_msm(bases["h"], compute_h(pk, qap, UncheckedPlain(k, be), be))
            for k in (z, z_shared)}
    good = witness_msms(pk, z, be)
    # L(z) + H(h(z)) − H(h(z_shared)): the servers add H(h(z_shared)) themselves
    forged_l = be.g1_add(be.g1_add(good.l, h_of[z]), be.g1_neg(h_of[z_shared]))
    forged = dataclasses.replace(good, l=forged_l)
    mats = deal(be, z_shared, pk.n_public + 1, pk.domain_size, n)
    pts = share_witness_msms(be, forged, n)
    mats = [dataclasses.replace(m, witness_msm=p) for m, p in zip(mats, pts, strict=True)]
    hub = LocalHub(n, timeout=20)
    out, errs = run_parties(n, lambda i: prove(
        pk, AdditiveDriver(i, n, hub.network(i), expand_material(mats[i]), be), be))
    assert errs == [None] * n
    assert verify(pk.vk, public_signals(pk, z), out[0], be)  # a proof of z, not of z_shared


def test_bound_sessions_refuse_dealer_mode(be, nb, tmp_path):
    from omnidsl.mpc import prg
    from omnidsl.mpc.dealer import FixedShares
    from omnidsl.mpc.server import check_binding, write_pin
    from omnidsl.mpc.shares import split

    d, pk, z = nb
    n = 2
    wires = [pk.n_public + 1, pk.n_public + 2]
    clear = b"".join(z[32 * i:32 * i + 32] for i in wires)
    pieces = split(be, clear, [prg.new_seed() for _ in range(n - 1)], b"test")
    fixed = FixedShares(wires, pieces)
    mats = deal(be, z, pk.n_public + 1, pk.domain_size, n, fixed=fixed, bind_label="task1-x")
    write_pin(tmp_path, "task1-x", fixed.wires_bytes(), pieces[0])
    check_binding(tmp_path, mats[0], 0)  # the servers mode session is accepted
    pts = share_witness_msms(be, witness_msms(pk, z, be), n)
    with pytest.raises(ProofError, match="dealt witness MSMs"):
        check_binding(tmp_path, dataclasses.replace(mats[0], witness_msm=pts[0]), 0)
    cfg = None  # prove_shared refuses before it contacts any server
    with pytest.raises(ProofError, match="cannot be used with fixed/bound shares"):
        coordinator.prove_shared(cfg, d / "proving_key.bin", z, be, pk=pk, fixed=fixed,
                                 bind_label="task1-x", witness_msm="dealer")
    with pytest.raises(ProofError, match="must be 'servers' or 'dealer'"):
        coordinator.prove_shared(cfg, d / "proving_key.bin", z, be, pk=pk, witness_msm="both")
