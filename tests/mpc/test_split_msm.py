"""Mode split: the data owner deals point shares of π_A's and π_B(G2)'s witness MSMs, the servers
compute [π_B1] and [L] from their witness shares and check e(π_B1, g2) = e(g1, π_B2).

The forgery tests play a malicious data owner who shares one witness (invalid: a gradient over
the bound) and deals points computed from another (valid) one, or crafted otherwise — also in a
bound (market) session through real servers.  Every attempt must fail: the pairing check fires
before π_C is opened, or the final proof does not verify.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest

from omnidsl.cli import main
from omnidsl.compiler.check import violated
from omnidsl.errors import NetworkError, ProofError
from omnidsl.field import R, bytes_to_limbs, int_to_bytes, limbs_to_bytes
from omnidsl.groth16.driver import DealtMsmShares, Groth16Driver
from omnidsl.groth16.formats import read_proof, read_public
from omnidsl.groth16.keys import Proof
from omnidsl.groth16.plain import PlainDriver
from omnidsl.groth16.points import g1_from_bytes, g2_from_bytes
from omnidsl.groth16.prover import dealt_msms, prove, prove_plain, public_signals
from omnidsl.groth16.reduction import DEFAULT_REDUCTION, pad
from omnidsl.groth16.verifier import verify
from omnidsl.mpc import codec, coordinator, prg
from omnidsl.mpc.binding import write_pin
from omnidsl.mpc.cluster import ServerCluster
from omnidsl.mpc.config import file_digest
from omnidsl.mpc.network import LocalHub
from omnidsl.mpc.schemes import WITNESS_MSM_MODES, FixedShares
from omnidsl.mpc.schemes.additive import AdditiveDriver, shares
from omnidsl.mpc.schemes.additive import dealer as additive_dealer
from omnidsl.mpc.schemes.additive.dealer import blinding_of, deal, share_dealt_msms
from omnidsl.mpc.schemes.additive.material import (
    WITNESS_MSM_BYTES,
    decode_dealt_msms,
    encode_dealt_msms,
    expand_material,
)
from omnidsl.mpc.server import read_recording
from tests.groth16.cases import CASES
from tests.mpc.cluster import Cluster
from tests.mpc.helpers import FixedPlain, NormBound, prove_shared, run_parties, split_materials

PAIRING_MSG = "the dealt share of π_B in G2 does not match"
#: the steps of a split-mode run: π_A, π_B(G2), π_B(G1), then π_C (after the pairing check)
OPEN_STEPS = ["open_g1#0", "open_g2#0", "open_g1#1", "open_g1#2"]


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


def sum_dealt(be, parts: list[bytes]) -> DealtMsmShares:
    pts = [decode_dealt_msms(p, be) for p in parts]
    a, b2 = pts[0].a, pts[0].b2
    for p in pts[1:]:
        a, b2 = be.g1_add(a, p.a), be.g2_add(b2, p.b2)
    return DealtMsmShares(a, b2)


def run_split(be, pk, mats, backends=None):
    """Every party proves over a LocalHub; returns (proofs, errors, drivers, product shares)."""
    n = len(mats)
    hub = LocalHub(n, timeout=20)
    backends = backends or [be] * n
    drivers = [AdditiveDriver(i, n, hub.network(i),
                              expand_material(mats[i], pk.r1cs.wire_bits), backends[i])
               for i in range(n)]
    products: dict[int, bytes] = {}
    for i, d in enumerate(drivers):
        def mul(a, b, _orig=d.mul_vec, _i=i):
            products[_i] = _orig(a, b)
            return products[_i]

        d.mul_vec = mul
    out, errs = run_parties(n, lambda i: prove(pk, drivers[i], backends[i]))
    return out, errs, drivers, products


def open_steps(d: AdditiveDriver) -> list[str]:
    return [step for step, _ in d.opened if step.startswith("open_")]


# ------------------------------------------------------------------ honest runs


@pytest.mark.parametrize("n", [2, 3, 5])
def test_split_mode_matches_plain_and_runs_only_three_g1_msms(be, nb, n):
    pk, z = nb.pk, nb.z
    mats = split_materials(be, pk, z, n)
    assert all(m.mask_slack == shares.mask_slack(pk.n_wires) > 0 for m in mats)
    r, s = blinding_of(mats)
    plain = FixedPlain(z, be, r, s)
    plain_proof = prove(pk, plain, be)
    counters = [CountingBackend(be) for _ in range(n)]
    out, errs, drivers, _ = run_split(be, pk, mats, counters)
    assert errs == [None] * n
    assert all(isinstance(d, Groth16Driver) for d in drivers)
    assert all(p == out[0] for p in out)  # the parties agree
    for d in drivers:
        assert open_steps(d) == OPEN_STEPS
        # π_A, π_B (G2), π_B (G1), π_C: every opened value as in the plain run
        assert [v for step, v in d.opened if step.startswith("open_")] == plain.opened
    assert out[0] == plain_proof  # same r, s → the very same proof
    assert verify(pk.vk, public_signals(pk, z), out[0], be)
    # each server ran the B1, L and H MSMs in G1 and no G2 MSM at all
    assert all(c.msms == {"g1": 3, "g2": 0} for c in counters)


def test_servers_mode_runs_every_msm_and_plain_driver_deals_nothing(be, nb):
    pk, z = nb.pk, nb.z
    assert PlainDriver(z, be).dealt_msm_shares() is None  # the plain driver deals nothing
    cnt = CountingBackend(be)
    assert verify(pk.vk, public_signals(pk, z), prove_plain(pk, z, cnt), be)
    assert cnt.msms == {"g1": 4, "g2": 1}  # A, B1, L, H and B2
    n = 3
    mats = deal(be, z, pk.n_public + 1, pk.domain_size, n, wire_bits=pk.r1cs.wire_bits)
    assert all(m.witness_msm is None for m in mats)
    counters = [CountingBackend(be) for _ in range(n)]
    out, errs, drivers, _ = run_split(be, pk, mats, counters)
    assert errs == [None] * n
    assert all(d.dealt_msm_shares() is None for d in drivers)
    assert verify(pk.vk, public_signals(pk, z), out[0], be)
    assert all(c.msms == {"g1": 4, "g2": 1} for c in counters)


@pytest.mark.parametrize("n", [2, 3, 5])
def test_point_shares_are_random_fresh_and_sum_to_the_msms(be, nb, n):
    pk, z = nb.pk, nb.z
    true = dealt_msms(pk, z, be)
    s1 = share_dealt_msms(be, true, n)
    s2 = share_dealt_msms(be, true, n)
    assert all(len(s) == WITNESS_MSM_BYTES == 64 + 128 for s in s1 + s2)
    assert sum_dealt(be, s1) == true and sum_dealt(be, s2) == true
    for a, b in zip(s1, s2, strict=True):
        for p in (decode_dealt_msms(a, be), decode_dealt_msms(b, be)):
            assert p.a != true.a and p.b2 != true.b2  # a share is never the point itself
            assert p.a is not None and p.b2 is not None
        assert a[:64] != b[:64] and a[64:] != b[64:]  # fresh per session, per point
    assert len({s[:64] for s in s1}) == n and len({s[64:] for s in s1}) == n
    # through the whole dealing, one session's points differ from the next one's
    m1, m2 = split_materials(be, pk, z, n), split_materials(be, pk, z, n)
    assert all(a.witness_msm != b.witness_msm for a, b in zip(m1, m2, strict=True))


def test_bad_dealt_points_are_refused(be, nb):
    pk, z = nb.pk, nb.z
    mats = split_materials(be, pk, z, 2)
    bad = bytearray(mats[0].witness_msm)
    bad[0] ^= 1  # π_A share off the curve
    m = dataclasses.replace(mats[0], witness_msm=bytes(bad))
    d = AdditiveDriver(0, 2, LocalHub(2, timeout=1).network(0),
                       expand_material(m, pk.r1cs.wire_bits), be)
    with pytest.raises(ProofError, match="bad dealt witness MSM shares"):
        d.dealt_msm_shares()
    with pytest.raises(ValueError, match="witness MSM shares need"):
        dataclasses.replace(mats[0], witness_msm=b"x" * 10).validate()
    with pytest.raises(ProofError, match="must be one of split, servers"):
        prove_shared(None, nb.keys / "proving_key.bin", z, be, pk=pk,
                                 witness_msm="dealer")
    with pytest.raises(ProofError, match="must be one of bounded, uniform"):
        prove_shared(None, nb.keys / "proving_key.bin", z, be, pk=pk,
                                 shares="none")


# ------------------------------------------------------------------ corrupted dealt points


def corrupt(be, mats, party: int, which: str):
    p = decode_dealt_msms(mats[party].witness_msm, be)
    if which == "a":
        p = DealtMsmShares(be.g1_add(p.a, be.g1_generator()), p.b2)
    else:
        p = DealtMsmShares(p.a, be.g2_add(p.b2, be.g2_generator()))
    mats = list(mats)
    mats[party] = dataclasses.replace(mats[party], witness_msm=encode_dealt_msms(p))
    return mats


def assert_pairing_refusal(errs, drivers, counters=None):
    """Every party abandoned the proof at the pairing check, before π_C was opened."""
    for e in errs:
        assert isinstance(e, ProofError) and PAIRING_MSG in e.message, e
    for d in drivers:
        assert open_steps(d) == OPEN_STEPS[:3]  # no third open_g1: π_C never left a party
    if counters is not None:  # B1 and L were computed, the H MSM never ran
        assert all(c.msms == {"g1": 2, "g2": 0} for c in counters)


def test_corrupted_b2_share_stops_every_party_before_pi_c(be, nb):
    pk, z = nb.pk, nb.z
    n = 3
    mats = corrupt(be, split_materials(be, pk, z, n), 1, "b2")
    counters = [CountingBackend(be) for _ in range(n)]
    _, errs, drivers, _ = run_split(be, pk, mats, counters)
    assert_pairing_refusal(errs, drivers, counters)


def test_corrupted_a_share_gives_a_proof_that_does_not_verify(be, nb):
    pk, z = nb.pk, nb.z
    n = 3
    mats = corrupt(be, split_materials(be, pk, z, n), 2, "a")
    out, errs, drivers, _ = run_split(be, pk, mats)
    assert errs == [None] * n
    assert all(open_steps(d) == OPEN_STEPS for d in drivers)
    assert all(p == out[0] for p in out)
    assert not verify(pk.vk, public_signals(pk, z), out[0], be)
    # the same dealing without the corruption verifies (the test has power)
    out, errs, _, _ = run_split(be, pk, split_materials(be, pk, z, n))
    assert errs == [None] * n and verify(pk.vk, public_signals(pk, z), out[0], be)


# ------------------------------------------------------------------ forgery by the data owner


def forged_witness(nb: NormBound) -> bytes:
    """The compiler's best-effort witness for a gradient over the L∞ bound (g[4] = −5.0 > 4.0
    in magnitude) with the same public inputs as the valid witness."""
    g = [round(x * 4096) for x in CASES["norm_bound"][1]["g"]]
    g[4] = -5 * 4096
    full = nb.circuit.full_witness({"g": g, "max_norm": nb.max_norm}, forge=True)
    w = full[nb.circuit.kept]
    assert violated(nb.pk.r1cs, w).size > 0
    return limbs_to_bytes(w)


def mixed_witness(nb: NormBound) -> bytes:
    """The valid witness with only the gradient wires changed (g[4] = −5.0): what a data owner
    bound to an over-the-bound gradient would share, everything else copied from a valid run."""
    buf = bytearray(nb.z)
    w = int(nb.grad_wires()[4])
    buf[32 * w:32 * w + 32] = int_to_bytes(-5 * 4096 % R)
    z = bytes(buf)
    assert violated(nb.pk.r1cs, bytes_to_limbs(z)).size > 0
    return z


def coset_evals(be, pk, z: bytes) -> list[bytes]:
    """a, b, c of the QAP on the coset (what the prover multiplies, in the clear)."""
    qap = DEFAULT_REDUCTION.qap(pk.r1cs)
    n = qap.domain_size
    out = []
    for m in (qap.A, qap.B, qap.C):
        v = be.sparse_matvec(m.row_ptr, m.idx, m.coeff, z)
        out.append(be.coset_fft(be.ifft(pad(v, n))))
    return out


def h_forcing_error(be, pk, shared: bytes, target: bytes) -> bytes:
    """The error e the owner adds to the dealt Beaver products so that the servers' h is
    h(target) although they hold shares of ``shared`` (H is adversarial in mode split)."""
    a_s, b_s, c_s = coset_evals(be, pk, shared)
    a_t, b_t, c_t = coset_evals(be, pk, target)
    e = be.fr_sub(be.fr_sub(be.fr_mul(a_t, b_t), c_t), be.fr_sub(be.fr_mul(a_s, b_s), c_s))
    n = pk.domain_size
    h = DEFAULT_REDUCTION.h_coefficients  # takes c's coefficients

    def coeffs(c_coset: bytes) -> bytes:
        return be.coset_ifft(c_coset)

    assert h(be, n, be.fr_add(be.fr_mul(a_s, b_s), e), coeffs(c_s)) == \
        h(be, n, be.fr_mul(a_t, b_t), coeffs(c_t))  # the servers' h will be the valid witness's
    return e


# (A from, B2 from, force H to the valid witness's h, expected failure)
ATTACKS = {
    "both points of the valid witness": ("good", "good", False, "pairing"),
    "A of the valid witness, B2 of the shared one": ("good", "bad", False, "verify"),
    "A of the shared witness, B2 of the valid one": ("bad", "good", False, "pairing"),
    "honest points of the invalid witness": ("bad", "bad", False, "verify"),
    "A of the valid witness and H forced to its h": ("good", "bad", True, "verify"),
    "both points of the valid witness and H forced": ("good", "good", True, "pairing"),
    "A a random point, B2 of the shared witness": ("random", "bad", False, "verify"),
    "A of the valid witness, B2 a random point": ("good", "random", False, "pairing"),
}


@pytest.mark.parametrize("invalid", ["forged", "mixed"])
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_owner_cannot_prove_an_invalid_witness_with_points_of_another(be, nb, attack, invalid):
    """THE forgery test: shares of an invalid witness w, dealt π_A / π_B(G2) points from a valid
    witness w' (same public inputs) or crafted — every attempt fails."""
    pk = nb.pk
    a_from, b_from, force_h, expect = ATTACKS[attack]
    bad = forged_witness(nb) if invalid == "forged" else mixed_witness(nb)
    good = nb.z
    assert bad != good and public_signals(pk, bad) == public_signals(pk, good)
    pts = {"good": dealt_msms(pk, good, be), "bad": dealt_msms(pk, bad, be)}
    k = 1 + int.from_bytes(prg.new_seed(), "little") % (R - 1)
    rand = DealtMsmShares(be.g1_mul(be.g1_generator(), k), be.g2_mul(be.g2_generator(), k + 1))
    pts["random"] = rand
    dealt = DealtMsmShares(pts[a_from].a, pts[b_from].b2)
    n = 3
    mats = split_materials(be, pk, bad, n, points=dealt)
    want_product = None
    if force_h:
        e = h_forcing_error(be, pk, bad, good)
        last = mats[-1]
        mats[-1] = dataclasses.replace(last, triple_z=be.fr_add(last.triple_z, e))
        a_s, b_s, _ = coset_evals(be, pk, bad)
        want_product = be.fr_add(be.fr_mul(a_s, b_s), e)
    counters = [CountingBackend(be) for _ in range(n)]
    out, errs, drivers, products = run_split(be, pk, mats, counters)
    if want_product is not None:  # the servers really computed the forced product
        assert shares.reconstruct(be, [products[i] for i in range(n)]) == want_product
    if expect == "pairing":
        assert_pairing_refusal(errs, drivers, counters)
        return
    assert errs == [None] * n
    assert all(p == out[0] for p in out)
    pub = public_signals(pk, good)
    assert not verify(pk.vk, pub, out[0], be)
    # nor does any proof with these A, B and some other C the owner could try: C is δ-bound
    assert not verify(pk.vk, pub, Proof(out[0].a, out[0].b, be.g1_add(out[0].c,
                                                                     be.g1_generator())), be)


def test_the_valid_witness_with_the_same_dealing_verifies(be, nb):
    """Control for the forgery test: honest dealing of the valid witness (3 parties, bounded
    shares, points of w') verifies, and so does forcing H to its own h (e = 0)."""
    pk = nb.pk
    mats = split_materials(be, pk, nb.z, 3)
    e = h_forcing_error(be, pk, nb.z, nb.z)
    assert e == bytes(len(e))
    out, errs, _, _ = run_split(be, pk, mats)
    assert errs == [None] * 3 and verify(pk.vk, public_signals(pk, nb.z), out[0], be)


# ------------------------------------------------------------------ bound (market) sessions


def proof_of(reply: dict) -> Proof:
    return Proof(g1_from_bytes(codec.need(reply, "a", bytes)),
                 g2_from_bytes(codec.need(reply, "b", bytes)),
                 g1_from_bytes(codec.need(reply, "c", bytes)))


@pytest.mark.slow
def test_bound_sessions_accept_split_mode_and_refuse_forgeries(be, nb, tmp_path):
    """Servers started with --bind-dir (the market): split mode is accepted for an honest bound
    session and its proof verifies; a data owner bound to an over-the-bound gradient cannot get
    a verifying proof by dealing points of a valid witness."""
    pk, z = nb.pk, nb.z
    n = 3
    wires = nb.grad_wires()
    bad = mixed_witness(nb)

    def committed(witness: bytes, label: str, cl: ServerCluster) -> FixedShares:
        """The aggregation shares of the gradient (uniform), pinned by every server."""
        clear = b"".join(witness[32 * int(w):32 * int(w) + 32] for w in wires)
        pieces = shares.split(be, clear, [prg.new_seed() for _ in range(n - 1)], b"agg")
        fixed = FixedShares([int(w) for w in wires], pieces)
        for i in range(n):
            write_pin(cl.bind_dir(i), label, fixed.wires_bytes(), pieces[i],
                      public={1: nb.max_norm})
        return fixed

    pk_path = nb.keys / "proving_key.bin"
    digest = file_digest(pk_path)
    with ServerCluster(tmp_path / "cl", n, {"nb": nb.keys}, timeout=20, bind=True) as cl:
        honest = committed(z, "task1-0xaa", cl)
        for mode in WITNESS_MSM_MODES:
            res = prove_shared(cl.cfg, pk_path, z, be, pk=pk, fixed=honest,
                                           bind_label="task1-0xaa", witness_msm=mode)
            assert verify(pk.vk, res.public, res.proof, be), mode
        assert res.dealer_msm_cpu_s == 0.0  # the last run was mode servers
        # the servers really check bindings: an unpinned label is refused
        mats = split_materials(be, pk, z, n, fixed=honest, bind_label="task1-0xbb")
        with pytest.raises(NetworkError, match="committed to no share"):
            asyncio.run(coordinator._run(cl.cfg, mats, digest, 60))

        fixed_bad = committed(bad, "task1-0xcc", cl)
        good_pts, bad_pts = dealt_msms(pk, z, be), dealt_msms(pk, bad, be)
        # points of the valid witness: the servers' pairing check refuses before π_C
        mats = split_materials(be, pk, bad, n, points=good_pts, fixed=fixed_bad,
                               bind_label="task1-0xcc")
        with pytest.raises(NetworkError, match=PAIRING_MSG):
            asyncio.run(coordinator._run(cl.cfg, mats, digest, 60))
        # π_A of the valid witness with a consistent π_B: a proof comes back, it does not verify
        for dealt in (DealtMsmShares(good_pts.a, bad_pts.b2), bad_pts):
            mats = split_materials(be, pk, bad, n, points=dealt, fixed=fixed_bad,
                                   bind_label="task1-0xcc")
            replies = asyncio.run(coordinator._run(cl.cfg, mats, digest, 60))
            proofs = {proof_of(r) for r, _ in replies}
            assert len(proofs) == 1
            assert not verify(pk.vk, public_signals(pk, z), proofs.pop(), be)
        # and the whole data-owner flow refuses that witness as the owner's own error, before
        # anything is sent (docs/mpc.md, Attribution)
        with pytest.raises(ProofError, match="the witness does not satisfy the rule"):
            prove_shared(cl.cfg, pk_path, bad, be, pk=pk, fixed=fixed_bad,
                                     bind_label="task1-0xcc")
        assert cl.alive() == list(range(n))


# ------------------------------------------------------------------ CLI through real servers


@pytest.mark.slow
def test_cli_modes_through_real_servers(tmp_path, be, nb, monkeypatch, capsys):
    from omnidsl.r1cs.wtnsfile import write_wtns

    pk, z = nb.pk, nb.z
    wtns = tmp_path / "w.wtns"
    write_wtns(wtns, bytes_to_limbs(z))
    proof, public = tmp_path / "proof.json", tmp_path / "public.json"
    base = ["prove", "--keys", str(nb.keys), "--witness", str(wtns), "-o", str(proof),
            "--public", str(public)]
    with Cluster(tmp_path / "cl", 3, {"nb": nb.keys}, record=True).start_all() as cl:
        servers = ["--servers", str(cl.config_path)]
        for flags, msm, uniform in ((["--witness-msm", "split"], True, False),
                                    (["--witness-msm", "servers", "--shares", "uniform"], False,
                                     True)):
            for f in cl.record_dir.iterdir():
                f.unlink()
            capsys.readouterr()
            assert main(base + servers + flags) == 0, capsys.readouterr().err
            assert verify(pk.vk, read_public(public), read_proof(proof), be)
            assert json.loads(proof.read_text())["protocol"] == "groth16"
            # what the servers received: dealt points (split) or not, bounded masks or not
            for i in range(3):
                msgs = read_recording(cl.record_dir / f"server{i}.bin")
                mat = codec.decode(next(p for _, step, p in msgs if step == "session"))
                assert (mat["witness_msm"] is not None) == msm
                assert (mat["mask_slack"] == 0) == uniform
            proof.unlink()
            public.unlink()

        real = additive_dealer.share_dealt_msms

        def corrupted(which):
            def share(backend, w, n):
                pts = real(backend, w, n)
                return [encode_dealt_msms(d) for d in _shift(backend, pts, which)]
            return share

        monkeypatch.setattr(additive_dealer, "share_dealt_msms", corrupted("a"))
        capsys.readouterr()
        assert main(base + servers) == 1  # split is the default
        err = capsys.readouterr().err
        assert "does not verify" in err and "Traceback" not in err
        assert not proof.exists() and not public.exists()  # nothing written
        monkeypatch.setattr(additive_dealer, "share_dealt_msms", corrupted("b2"))
        assert main(base + servers) == 1
        err = capsys.readouterr().err
        assert PAIRING_MSG in err and "Traceback" not in err
        assert not proof.exists() and not public.exists()
        assert cl.alive() == [0, 1, 2]


def _shift(backend, pts: list[bytes], which: str) -> list[DealtMsmShares]:
    out = [decode_dealt_msms(p, backend) for p in pts]
    p = out[0]
    out[0] = (DealtMsmShares(backend.g1_add(p.a, backend.g1_generator()), p.b2) if which == "a"
              else DealtMsmShares(p.a, backend.g2_add(p.b2, backend.g2_generator())))
    return out


@pytest.mark.parametrize("flags", [["--witness-msm", "split"], ["--shares", "uniform"],
                                   ["--witness-msm", "servers", "--shares", "bounded"]])
def test_mode_flags_need_servers(tmp_path, nb, capsys, flags):
    from omnidsl.r1cs.wtnsfile import write_wtns

    wtns = tmp_path / "w.wtns"
    write_wtns(wtns, bytes_to_limbs(nb.z))
    out = tmp_path / "proof.json"
    code = main(["prove", "--keys", str(nb.keys), "--witness", str(wtns), "-o", str(out),
                 "--public", str(tmp_path / "public.json"), *flags])
    err = capsys.readouterr().err
    assert code != 0
    assert "--witness-msm/--shares need --servers" in err and "Traceback" not in err
    assert not out.exists()
