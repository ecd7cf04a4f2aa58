"""Bounded (statistically hiding) witness masks: wire i of width b is masked with seeded masks
uniform on [0, 2^(b+σ)), σ = shares.mask_slack(n_wires).

PRG definition (recomputed with hashlib), the dealing's ranges and reconstruction, the dealer's
width check, the servers' masking guard, statistical indistinguishability of the last server's
share (with a control that the same tests detect a too narrow mask), the small MSM scalars the
masks buy, and the fallback to uniform masks for a key without widths.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import math
import struct
from types import SimpleNamespace

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from scipy.stats import chi2_contingency, ks_2samp

from omnidsl.compiler import compile_file
from omnidsl.errors import NetworkError, ProofError
from omnidsl.field import R, int_to_bytes, limbs_to_bytes
from omnidsl.groth16.keys import dumps_proving_key, loads_proving_key
from omnidsl.groth16.prover import dealt_msms, prove, public_signals
from omnidsl.groth16.verifier import verify
from omnidsl.mpc import codec, coordinator, prg
from omnidsl.mpc.network import LocalHub
from omnidsl.mpc.schemes import SHARE_MODES, WITNESS_MSM_MODES
from omnidsl.mpc.schemes.additive import AdditiveDriver, shares
from omnidsl.mpc.schemes.additive.dealer import blinding_of, check_widths, deal, share_dealt_msms
from omnidsl.mpc.schemes.additive.material import MAX_MASK_SLACK, expand_material
from omnidsl.mpc.schemes.additive.shares import check_masked
from omnidsl.mpc.schemes.additive.wire import material_from_msg, material_to_msg
from tests.mpc.cluster import CIRCUITS, Cluster
from tests.mpc.helpers import FixedPlain, prove_shared, run_parties


def ints(buf: bytes) -> list[int]:
    return [int.from_bytes(buf[i:i + 32], "little") for i in range(0, len(buf), 32)]


def magnitude(v: int) -> int:
    return min(v, R - v)


def clog2(n: int) -> int:
    return math.ceil(math.log2(n))


# ------------------------------------------------------------------ the PRG's masked expansion


def ref_stream(seed: bytes, label: bytes, n_bytes: int) -> bytes:
    """stream(seed, label) = ChaCha20 keystream (RFC 8439, nonce 0, counter from 0) under
    SHA-256(b"omnidsl-mpc-prg/v2" ‖ u8(len(label)) ‖ label ‖ seed), via the cryptography
    package (OpenSSL), independent of the native implementation."""
    key = hashlib.sha256(b"omnidsl-mpc-prg/v2" + bytes([len(label)]) + label + seed).digest()
    enc = Cipher(algorithms.ChaCha20(key, bytes(16)), mode=None).encryptor()
    return enc.update(bytes(n_bytes))


def ref_expand(seed: bytes, label: bytes, n: int) -> list[int]:
    """expand: accepted candidates (top two bits cleared, < r) of the stream, in order."""
    out: list[int] = []
    want = 2 * n + 64
    while len(out) < n:
        raw = ref_stream(seed, label, 32 * want)
        out = [c for c in (int.from_bytes(raw[i:i + 32], "little") & ((1 << 254) - 1)
                           for i in range(0, len(raw), 32)) if c < R]
        want *= 2
    return out[:n]


def ref_expand_masked(seed: bytes, label: bytes, widths: list[int]) -> list[int]:
    """expand_masked as its docstring defines it, one Python int at a time."""
    raw = ref_stream(seed, label, 32 * len(widths))
    uniform = iter(ref_expand(seed, label + b"/uniform", sum(w == 254 for w in widths)))
    out = []
    for i, w in enumerate(widths):
        if w == 254:
            out.append(next(uniform))
        else:
            out.append(int.from_bytes(raw[32 * i:32 * i + 32], "little") & ((1 << w) - 1))
    return out


def test_expand_masked_matches_its_written_definition():
    rng = np.random.default_rng(7)
    edge = [0, 1, 2, 7, 51, 63, 64, 65, 66, 100, 127, 128, 129, 191, 192, 193, 252, 253, 254]
    widths = edge + [int(w) for w in rng.integers(0, 255, 300)] + [254] * 5
    seed = bytes(range(32))
    got = ints(prg.expand_masked(seed, b"witness", np.array(widths, dtype=np.uint16)))
    assert got == ref_expand_masked(seed, b"witness", widths)
    assert any(w == 254 for w in widths) and any(w == 0 for w in widths)
    # a random seed and another label too
    seed = prg.new_seed()
    got = ints(prg.expand_masked(seed, b"triple/x", np.array(widths, dtype=np.uint16)))
    assert got == ref_expand_masked(seed, b"triple/x", widths)


def test_expand_masked_prefix_labels_and_ranges():
    seed = prg.new_seed()
    rng = np.random.default_rng(11)
    widths = rng.integers(0, 255, 2000).astype(np.uint16)
    long = prg.expand_masked(seed, b"witness", widths)
    for k in (1, 17, 500, 1999):  # prefix-consistent, including the uniform entries
        assert prg.expand_masked(seed, b"witness", widths[:k]) == long[:32 * k]
    assert prg.expand_masked(seed, b"witnesS", widths) != long
    assert prg.expand_masked(prg.new_seed(), b"witness", widths) != long
    # width-254 entries: the uniform stream of label ‖ "/uniform", in order — never the masked
    # stream of the label itself
    uni = np.nonzero(widths == 254)[0]
    assert uni.size > 0
    got = b"".join(long[32 * i:32 * i + 32] for i in uni)
    assert got == prg.expand(seed, b"witness/uniform", uni.size)
    assert got != prg.expand(seed, b"witness", uni.size)
    all_uniform = prg.expand_masked(seed, b"w", np.full(100, 254, np.uint16))
    assert all_uniform == prg.expand(seed, b"w/uniform", 100) != prg.expand(seed, b"w", 100)
    assert all(v < R for v in ints(all_uniform))
    # every entry below 2^w, and the top bit of the mask is really used (half the time)
    vals = ints(long)
    assert all(v < (1 << int(w)) or (w == 254 and v < R) for v, w in zip(vals, widths,
                                                                           strict=True))
    top = [v >> (int(w) - 1) & 1 for v, w in zip(vals, widths, strict=True) if 1 <= w <= 253]
    assert 0.45 < sum(top) / len(top) < 0.55
    small = ints(prg.expand_masked(seed, b"s", np.full(4000, 5, np.uint16)))
    assert set(small) == set(range(32))  # uniform on [0, 32): all values appear
    assert prg.expand_masked(seed, b"s", np.zeros(3, np.uint16)) == bytes(96)
    with pytest.raises(ValueError, match="mask widths"):
        prg.expand_masked(seed, b"s", np.array([255]))
    with pytest.raises(ValueError):
        prg.expand_masked(b"short", b"s", np.array([5]))


def test_mask_slack_and_mask_widths():
    for n in (2, 3, 4, 5, 352, 1024, 1025, 7450 * 40):
        assert shares.mask_slack(n) == shares.STAT_SECURITY + 1 + clog2(n) == 41 + clog2(n)
    assert shares.STAT_SECURITY == 40
    bits = np.array([1, 16, 63, 203, 204, 254], dtype=np.uint8)
    assert shares.mask_widths(bits, 6, 50).tolist() == [51, 66, 113, 253, 254, 254]
    assert shares.mask_widths(None, 6, 50).tolist() == [254] * 6
    assert shares.mask_widths(bits, 6, 0).tolist() == [254] * 6
    with pytest.raises(ValueError, match="7 wire widths for 6 wires"):
        shares.mask_widths(np.ones(7), 6, 50)


def test_below_pow2_matches_integers():
    rng = np.random.default_rng(5)
    vals, bits = [], []
    for k in (0, 1, 2, 63, 64, 65, 127, 128, 129, 200, 253):
        for v in (0, 1, (1 << k) - 1, 1 << k, (1 << k) + 1, R - (1 << k), R - (1 << k) + 1,
                  R - 1, R - (1 << k) - 1):
            for b in (k - 1, k, k + 1, 254):
                if 0 <= v < R and b >= 0:
                    vals.append(v)
                    bits.append(b)
    for _ in range(300):
        vals.append(int.from_bytes(rng.bytes(32), "little") % R >> int(rng.integers(0, 254)))
        bits.append(int(rng.integers(0, 255)))
    got = shares.below_pow2(b"".join(int_to_bytes(v) for v in vals), np.array(bits))
    want = [b >= 254 or magnitude(v) < (1 << b) for v, b in zip(vals, bits, strict=True)]
    assert got.tolist() == want


# ------------------------------------------------------------------ the dealing


@pytest.mark.parametrize("n", [2, 3, 5])
def test_deal_bounded_shares_ranges_reconstruction_and_material(be, nb, n):
    pk, z = nb.pk, nb.z
    bits = pk.r1cs.wire_bits
    npub = pk.n_public + 1
    mats = deal(be, z, npub, pk.domain_size, n, wire_bits=bits)
    sigma = 41 + clog2(pk.n_wires)
    assert all(m.mask_slack == sigma for m in mats)
    width = [int(b) + sigma for b in bits]
    assert max(width) <= 253  # every wire of this key gets a bounded mask
    ex = [expand_material(m, bits) for m in mats]
    assert shares.reconstruct(be, [e.witness for e in ex]) == z
    # public wires: the leader holds the values, every other party (the last included) zero
    assert ex[0].witness[:32 * npub] == z[:32 * npub]
    assert all(e.witness[:32 * npub] == bytes(32 * npub) for e in ex[1:])
    top = []
    for e in ex[:-1]:  # seeded masks: uniform on [0, 2^(b+σ))
        vals = ints(e.witness)
        for i in range(npub, pk.n_wires):
            assert vals[i] < 1 << width[i], (i, vals[i].bit_length(), width[i])
            top.append(vals[i] >> (width[i] - 1))
    assert 0.35 < sum(top) / len(top) < 0.65  # the masks use their whole width
    last = ints(ex[-1].witness)
    for i in range(npub, pk.n_wires):
        assert magnitude(last[i]) < 1 << (width[i] + clog2(n)), i
    # the slack survives the wire format
    for m in mats:
        back, digest = material_from_msg(codec.decode(codec.encode(material_to_msg(m, "ab"))))
        assert back == m and back.mask_slack == sigma and digest == "ab"
    # a server without widths cannot expand a bounded session; the slack is range-checked
    with pytest.raises(ValueError, match="no wire widths"):
        expand_material(mats[0])
    for bad in (-1, MAX_MASK_SLACK + 1):
        with pytest.raises(ValueError, match="mask slack"):
            dataclasses.replace(mats[0], mask_slack=bad).validate()


def test_uniform_dealing_has_no_slack(be, nb):
    pk, z = nb.pk, nb.z
    for mats in (deal(be, z, pk.n_public + 1, pk.domain_size, 3),
                 deal(be, z, pk.n_public + 1, pk.domain_size, 1, wire_bits=pk.r1cs.wire_bits)):
        assert all(m.mask_slack == 0 for m in mats)
    ex = expand_material(deal(be, z, pk.n_public + 1, pk.domain_size, 2)[0])
    priv = ex.witness[32 * (pk.n_public + 1):]
    assert not shares.below_pow2(priv, np.full(len(priv) // 32, 128)).any()


def test_dealer_refuses_a_value_over_its_width(be, nb, monkeypatch):
    d, pk, z, circuit = nb.keys, nb.pk, nb.z, nb.circuit
    bits = pk.r1cs.wire_bits
    wire = int(np.searchsorted(circuit.kept, next(x.wire for x in circuit.inputs
                                                  if x.name == "g") + 3))
    # g is declared 16 bits, and the rule's fused bound abs(g) <= 4.0 (2^14 at frac 12) narrows
    # its wire to 15 bits (compiler/fuse.py): the dealer checks the width the key records
    w = int(bits[wire])
    assert w == 15

    def with_value(v: int) -> bytes:
        return z[:32 * wire] + int_to_bytes(v % R) + z[32 * wire + 32:]

    for v in ((1 << w) - 1, -(1 << w) + 1):  # at the edge: accepted
        check_widths(with_value(v), bits)
        deal(be, with_value(v), pk.n_public + 1, pk.domain_size, 2, wire_bits=bits)
    calls = []

    async def no_network(*args):
        calls.append(args)
        raise NetworkError("test: the network was reached")

    monkeypatch.setattr(coordinator, "_run", no_network)
    cfg = SimpleNamespace(n=2, timeout=1.0, scheme="additive", scheme_params={})
    for v in (1 << w, -(1 << w), 1 << 200):
        with pytest.raises(ValueError, match=f"witness wire #{wire} does not fit its declared "
                                             f"width of {w} bits"):
            deal(be, with_value(v), pk.n_public + 1, pk.domain_size, 3, wire_bits=bits)
        for mode in WITNESS_MSM_MODES:
            # prove_shared checks the constraints first (docs/mpc.md, Attribution); the width
            # check in deal stays as the second line (above)
            for mode_s in SHARE_MODES:
                with pytest.raises(ProofError, match="the witness does not satisfy the rule"):
                    prove_shared(cfg, d / "proving_key.bin", with_value(v), be,
                                             pk=pk, witness_msm=mode, shares=mode_s)
    assert calls == []  # nothing was sent
    # the valid witness does reach the network
    with pytest.raises(NetworkError, match="the network was reached"):
        prove_shared(cfg, d / "proving_key.bin", z, be, pk=pk, shares="uniform")
    assert len(calls) == 1


# ------------------------------------------------------------------ the servers' masking guard


@pytest.mark.parametrize("n", [2, 3, 5])
def test_check_masked_accepts_bounded_shares_and_refuses_clear_wires(be, nb, n):
    pk, z, circuit = nb.pk, nb.z, nb.circuit
    bits = pk.r1cs.wire_bits
    npub = pk.n_public + 1
    for _ in range(3):
        mats = deal(be, z, npub, pk.domain_size, n, wire_bits=bits)
        widths = shares.mask_widths(bits, pk.n_wires, mats[0].mask_slack)
        ex = [expand_material(m, bits) for m in mats]
        for e in ex:
            check_masked(e.witness, npub, widths)
    with pytest.raises(ProofError, match="not masked"):
        check_masked(z, npub, widths)
    lay = next(x for x in circuit.inputs if x.name == "g")
    grad = np.searchsorted(circuit.kept, np.arange(lay.wire, lay.wire + 8))
    for e in (ex[0], ex[-1]):  # a share with only the gradient wires in the clear
        buf = bytearray(e.witness)
        for w in grad:
            buf[32 * w:32 * w + 32] = z[32 * w:32 * w + 32]
        with pytest.raises(ProofError, match="8 private witness entries are not masked"):
            check_masked(bytes(buf), npub, widths)
    # a bounded share judged as if it were uniform is refused too (the widths matter)
    with pytest.raises(ProofError, match="not masked"):
        check_masked(ex[0].witness, npub, None)


# ------------------------------------------------------------------ statistical hiding

D_STAT = 8
SAMPLES = 200


@pytest.fixture(scope="module")
def two_gradients(be):
    circuit = compile_file(CIRCUITS / "norm_bound.omni", {"D": D_STAT})
    ws = [limbs_to_bytes(circuit.witness({"g": [s * 3.9] * D_STAT, "max_norm": 40.0}))
          for s in (1, -1)]
    r = circuit.r1cs
    npub = r.n_public + 1
    differ = [i for i in range(npub, r.n_wires) if ws[0][32 * i:32 * i + 32]
              != ws[1][32 * i:32 * i + 32]]
    assert len(differ) > 50  # the gradient, its signs and range-check bits
    return ws, r.wire_bits, npub, np.array(differ)


def last_share_features(be, w: bytes, bits, npub: int, differ: np.ndarray) -> np.ndarray:
    """The last server's bounded share on the wires where the two witnesses differ, as signed
    magnitudes scaled by the mask range 2^(b+σ) (what leaks if anything does)."""
    m = deal(be, w, npub, 1, 2, wire_bits=bits)[-1]
    vals = ints(m.witness)
    out = []
    for i in differ:
        v = vals[i] if vals[i] < R // 2 else vals[i] - R
        out.append(-v / 2 ** (int(bits[i]) + m.mask_slack))
    return np.array(out)


def sample(be, two_gradients, k: int) -> list[np.ndarray]:
    ws, bits, npub, differ = two_gradients
    return [np.array([last_share_features(be, w, bits, npub, differ) for _ in range(k)])
            for w in ws]


def nearest_mean_accuracy(be, two_gradients, trials: int = 400) -> float:
    ma, mb = (s.mean(axis=0) for s in sample(be, two_gradients, 100))
    ws, bits, npub, differ = two_gradients
    correct = 0
    for k in range(trials):
        f = last_share_features(be, ws[k % 2], bits, npub, differ)
        guess = 0 if np.sum((f - ma) ** 2) < np.sum((f - mb) ** 2) else 1
        correct += guess == k % 2
    return correct / trials


def distinguishers(be, two_gradients) -> tuple[float, float, float]:
    """(KS p-value, chi-square p-value on the top 4 bits, nearest-mean accuracy)."""
    a, b = sample(be, two_gradients, SAMPLES)
    ks = float(ks_2samp(a.ravel(), b.ravel()).pvalue)
    hist = [np.bincount(np.clip(np.floor(x.ravel() * 16), -1, 16).astype(int) + 1,
                        minlength=18) for x in (a, b)]
    table = np.vstack(hist)
    table = table[:, table.sum(axis=0) > 0]
    chi = float(chi2_contingency(table)[1]) if table.shape[1] > 1 else 1.0
    return ks, chi, nearest_mean_accuracy(be, two_gradients)


def test_last_servers_bounded_share_does_not_reveal_the_gradient(be, two_gradients):
    ks, chi, acc = distinguishers(be, two_gradients)
    assert ks > 1e-4, ks
    assert chi > 1e-4, chi
    assert 0.38 < acc < 0.62, acc


def test_the_same_distinguishers_see_a_too_narrow_mask(be, two_gradients, monkeypatch):
    """Control: with σ = 2 instead of 41 + ⌈log2 n⌉ the same tests tell the gradients apart."""
    monkeypatch.setattr(shares, "mask_slack", lambda n_wires: 2)
    ws, bits, npub, _ = two_gradients
    assert deal(be, ws[0], npub, 1, 2, wire_bits=bits)[0].mask_slack == 2
    ks, chi, acc = distinguishers(be, two_gradients)
    assert ks < 1e-6 and chi < 1e-6, (ks, chi)
    assert acc > 0.8, acc


# ------------------------------------------------------------------ what the masks buy


@pytest.mark.parametrize("n", [2, 3, 5])
def test_bounded_shares_keep_the_servers_msm_scalars_small(be, nb, n):
    """Not a timing test: the servers' B1/L MSMs run on their witness shares, and the native MSM
    picks its 64-bit scalar class when min(v, r − v) < 2^64 — most entries of a bounded share."""
    pk, z = nb.pk, nb.z
    bits = pk.r1cs.wire_bits
    npub = pk.n_public + 1
    mats = deal(be, z, npub, pk.domain_size, n, wire_bits=bits)
    sigma = mats[0].mask_slack
    fits = np.array([int(b) + sigma + clog2(n) <= 64 for b in bits])[npub:]
    assert fits.mean() >= 0.9  # most wires of this circuit are bits
    for m in mats:
        priv = expand_material(m, bits).witness[32 * npub:]
        small = shares.below_pow2(priv, np.full(len(priv) // 32, 64))
        assert small.mean() >= 0.9, (m.party_id, small.mean())
        assert small[fits].all()  # guaranteed, not just likely
    for m in deal(be, z, npub, pk.domain_size, n):  # uniform masks: none is small
        priv = expand_material(m).witness[32 * npub:]
        assert not shares.below_pow2(priv, np.full(len(priv) // 32, 64)).any()


# ------------------------------------------------------------------ keys without widths


def version1_key_bytes(pk) -> bytes:
    """The same key as a version-1 file (no width section)."""
    buf = dumps_proving_key(pk)
    body = buf[:-32]
    assert body[-1 - pk.n_wires] == 1  # the version-2 width section: flag 1 + one u8 per wire
    body = body[:8] + struct.pack("<I", 1) + body[12:-1 - pk.n_wires]
    return body + hashlib.sha256(body).digest()


def test_key_without_widths_falls_back_to_uniform_masks(be, nb):
    pk, z = nb.pk, nb.z
    old = loads_proving_key(version1_key_bytes(pk))
    assert old.r1cs.wire_bits is None
    n = 3
    npub = old.n_public + 1
    mats = deal(be, z, npub, old.domain_size, n, wire_bits=old.r1cs.wire_bits)
    assert all(m.mask_slack == 0 for m in mats)
    pts = share_dealt_msms(be, dealt_msms(old, z, be), n)
    mats = [dataclasses.replace(m, witness_msm=p) for m, p in zip(mats, pts, strict=True)]
    ex = [expand_material(m, old.r1cs.wire_bits) for m in mats]
    for e in ex:
        priv = e.witness[32 * npub:]
        assert not shares.below_pow2(priv, np.full(len(priv) // 32, 128)).any()
        check_masked(e.witness, npub, None)
    r, s = blinding_of(mats)
    plain = prove(old, FixedPlain(z, be, r, s), be)
    hub = LocalHub(n, timeout=20)
    out, errs = run_parties(n, lambda i: prove(
        old, AdditiveDriver(i, n, hub.network(i), ex[i], be), be))
    assert errs == [None] * n
    assert all(p == plain for p in out)
    assert verify(old.vk, public_signals(old, z), out[0], be)


@pytest.mark.slow
def test_servers_with_a_version1_key_prove_with_uniform_masks(be, nb, tmp_path):
    """Default prove_shared (bounded) on a key without widths: uniform masks, and the servers
    (holding the same key) prove; a bounded session against that key is refused."""
    pk, z = nb.pk, nb.z
    keys = tmp_path / "v1"
    keys.mkdir()
    (keys / "proving_key.bin").write_bytes(version1_key_bytes(pk))
    old = loads_proving_key((keys / "proving_key.bin").read_bytes())
    with Cluster(tmp_path / "cl", 2, {"old": keys}).start_all() as cl:
        res = prove_shared(cl.cfg, keys / "proving_key.bin", z, be, pk=old)
        assert verify(pk.vk, res.public, res.proof, be)
        from omnidsl.mpc.config import file_digest

        mats = deal(be, z, pk.n_public + 1, pk.domain_size, 2, wire_bits=pk.r1cs.wire_bits)
        assert mats[0].mask_slack > 0
        with pytest.raises(NetworkError, match="no wire widths"):
            asyncio.run(coordinator._run(cl.cfg, mats, file_digest(keys / "proving_key.bin"),
                                         30))
        assert cl.alive() == [0, 1]
