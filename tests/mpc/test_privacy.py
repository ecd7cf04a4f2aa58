"""Privacy: what every server receives (recorded by the transport) does not depend on the witness.

The recording hook stores every decrypted payload a server receives (the data owner's material and
all peer messages) — exactly the server's view.  Two different gradients are proved many times;
a chi-square test on the byte distributions of the views cannot tell them apart, while the same
test on the clear witnesses tells them apart at once (the test has power).  No view contains an
element of the clear witness, and a server refuses an unmasked witness.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2_contingency

from omnidsl.backend import get_backend
from omnidsl.compiler import compile_file
from omnidsl.errors import NetworkError
from omnidsl.field import R, limbs_to_bytes
from omnidsl.mpc.config import file_digest
from omnidsl.mpc.coordinator import _run
from omnidsl.mpc.schemes.additive import shares
from omnidsl.mpc.schemes.additive.dealer import deal
from omnidsl.mpc.schemes.additive.material import PartyMaterial
from omnidsl.mpc.schemes.additive.shares import check_masked
from omnidsl.mpc.server import read_recording
from tests.mpc.cluster import CIRCUITS, Cluster, make_keys
from tests.mpc.helpers import prove_shared

pytestmark = pytest.mark.slow

D = 32
G_A = [((-1) ** i) * 3.5 for i in range(D)]  # large entries, alternating signs
G_B = [0.0] * D  # all zero


def witness_for(circuit, g):
    return limbs_to_bytes(circuit.witness({"g": g, "max_norm": 40.0}))


def histogram(views: list[bytes]) -> np.ndarray:
    return np.bincount(np.frombuffer(b"".join(views), dtype=np.uint8), minlength=256)


def chi2_p(a: np.ndarray, b: np.ndarray) -> float:
    table = np.vstack([a, b])
    table = table[:, table.sum(axis=0) > 0]
    return float(chi2_contingency(table)[1])


def test_server_views_do_not_depend_on_the_gradient(tmp_path):
    be = get_backend()
    pk, _, circuit = make_keys("norm_bound", {"D": D}, {"g": G_A, "max_norm": 40.0},
                               tmp_path / "keys", be)
    z = {"A": witness_for(circuit, G_A), "B": witness_for(circuit, G_B)}
    assert z["A"] != z["B"]
    views: dict[str, dict[int, list[bytes]]] = {"A": {}, "B": {}}
    runs = 6
    with Cluster(tmp_path / "cl", 3, {"nb": tmp_path / "keys"}, record=True).start_all() as cl:
        rec = cl.record_dir
        for label in ("A", "B") * runs:
            for f in rec.iterdir():
                f.unlink()
            prove_shared(cl.cfg, tmp_path / "keys" / "proving_key.bin", z[label], be, pk=pk)
            for i in range(3):
                msgs = read_recording(rec / f"server{i}.bin")
                assert msgs, f"server {i} recorded nothing"
                # the opened proof is public; everything else must look random
                views[label].setdefault(i, []).append(
                    b"".join(p for _, step, p in msgs if not step.startswith("open_")))

    private = [z[k][32 * (pk.n_public + 1):] for k in "AB"]
    secrets_ = {private[0][j : j + 32] for j in range(0, len(private[0]), 32)}
    big = {e for e in secrets_ if int.from_bytes(e, "little") >= 1 << 64}
    assert big, "gradient A has large (negative) witness entries to look for"
    for label in "AB":
        for i in range(3):
            for v in views[label][i]:
                assert private[0] not in v and private[1] not in v
                if label == "A":
                    assert not any(e in v for e in big), f"server {i} saw a witness element"

    for i in range(3):
        p = chi2_p(histogram(views["A"][i]), histogram(views["B"][i]))
        assert p > 1e-4, f"server {i}'s view depends on the gradient (p = {p:.2e})"
    # power check: the same test separates the clear witnesses immediately
    assert chi2_p(histogram([private[0]] * runs), histogram([private[1]] * runs)) < 1e-6


def nearest_mean_accuracy(feature, wa: bytes, wb: bytes) -> float:
    """Train a nearest-mean classifier on 100 feature vectors of each witness, then guess which
    witness 300 fresh ones came from; the fraction guessed right."""
    ma = np.mean([feature(wa) for _ in range(100)], axis=0)
    mb = np.mean([feature(wb) for _ in range(100)], axis=0)
    correct, trials = 0, 300
    for k in range(trials):
        f = feature(wa if k % 2 == 0 else wb)
        guess = int(np.sum((f - mb) ** 2) < np.sum((f - ma) ** 2))
        correct += guess == k % 2
    return correct / trials


def test_distinguisher_on_the_last_servers_share_is_at_chance():
    """A nearest-mean classifier on the explicit witness share guesses the gradient at ~50%."""
    be = get_backend()
    circuit = compile_file(CIRCUITS / "norm_bound.omni", {"D": 8})
    ga, gb = [3.9] * 8, [-3.9] * 8
    wa = limbs_to_bytes(circuit.witness({"g": ga, "max_norm": 40.0}))
    wb = limbs_to_bytes(circuit.witness({"g": gb, "max_norm": 40.0}))
    npub = len(circuit.public_signals(circuit.witness({"g": ga, "max_norm": 40.0}))) + 1

    def masked(w: bytes) -> np.ndarray:
        m = deal(be, w, npub, 1, 2)
        share = m[-1].witness[32 * npub :]
        return np.frombuffer(share, dtype=np.uint8).astype(float)

    def leaky(w: bytes) -> np.ndarray:  # control: a "share" that is the witness plus noise
        noise = np.frombuffer(np.random.bytes(len(w) - 32 * npub), np.uint8) % 4
        return np.frombuffer(w[32 * npub :], np.uint8).astype(float) + noise

    acc = nearest_mean_accuracy(masked, wa, wb)
    assert 0.40 < acc < 0.60, acc
    # the distinguisher works when there is something to see
    assert nearest_mean_accuracy(leaky, wa, wb) > 0.95


@pytest.mark.parametrize("feature", ["bytes", "scaled"])
def test_distinguisher_on_the_last_servers_bounded_share_is_at_chance(feature, monkeypatch):
    """The nearest-mean classifier on bounded shares (``deal(..., wire_bits=...)``, masks of
    b + σ bits): ~50%, on the share's bytes and on its signed values scaled by each wire's mask
    range; the same classifier separates shares dealt with a too small slack (σ = 2)."""
    be = get_backend()
    circuit = compile_file(CIRCUITS / "norm_bound.omni", {"D": 8})
    bits = circuit.r1cs.wire_bits
    assert bits is not None
    ga, gb = [3.9] * 8, [-3.9] * 8
    wa = limbs_to_bytes(circuit.witness({"g": ga, "max_norm": 40.0}))
    wb = limbs_to_bytes(circuit.witness({"g": gb, "max_norm": 40.0}))
    npub = circuit.r1cs.n_public + 1

    def share(w: bytes) -> np.ndarray:
        m = deal(be, w, npub, 1, 2, wire_bits=bits)[-1]
        assert m.mask_slack > 0
        if feature == "bytes":
            return np.frombuffer(m.witness[32 * npub:], dtype=np.uint8).astype(float)
        out = []
        for i in range(npub, circuit.r1cs.n_wires):
            v = int.from_bytes(m.witness[32 * i:32 * i + 32], "little")
            v = v if v < R // 2 else v - R
            out.append(v / 2 ** (int(bits[i]) + m.mask_slack))
        return np.array(out)

    acc = nearest_mean_accuracy(share, wa, wb)
    assert 0.38 < acc < 0.62, acc
    monkeypatch.setattr(shares, "mask_slack", lambda n_wires: 2)  # control: a leaky slack
    leaky = nearest_mean_accuracy(share, wa, wb)
    assert leaky > (0.85 if feature == "scaled" else 0.75), leaky


def test_server_refuses_a_clear_witness(tmp_path):
    """The server-side guard: an unmasked witness 'share' is refused before any computation."""
    be = get_backend()
    pk, z, _ = make_keys("norm_bound", {"D": 8},
                         {"g": [0.5] * 8, "max_norm": 40.0}, tmp_path / "keys", be)
    with pytest.raises(Exception, match="not masked"):
        check_masked(z, pk.n_public + 1)
    with Cluster(tmp_path / "cl", 2, {"nb": tmp_path / "keys"}).start_all() as cl:
        mats = deal(be, z, pk.n_public + 1, pk.domain_size, 2)
        npub = 32 * (pk.n_public + 1)  # the last share is 0 on the public wires (the convention)
        leaky = PartyMaterial(**{**mats[1].__dict__, "witness": bytes(npub) + z[npub:]})
        import asyncio

        with pytest.raises(NetworkError, match="server 1 reports: refusing the session"):
            asyncio.run(_run(cl.cfg, [mats[0], leaky],
                             file_digest(tmp_path / "keys" / "proving_key.bin"), 30))
        assert cl.alive() == [0, 1]
