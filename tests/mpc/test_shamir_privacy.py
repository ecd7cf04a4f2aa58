"""t-privacy of the Shamir scheme: the view of any t colluding servers (their material and every
message they receive) does not depend on the witness.

Exact part: every share another party broadcasts at a degree-t opening (the consistency value,
π_A, π_B2, π_B1) is the value at that party's point of the one degree-t polynomial through the
colluders' own shares and the opened value — computable by the colluders themselves.  Statistical
part: byte histograms of the colluders' whole views for two different witnesses are
indistinguishable (chi-square), while the same test on the clear witnesses separates them.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2_contingency

from omnidsl.backend import get_backend
from omnidsl.field import limbs_to_bytes
from omnidsl.groth16.points import g1_from_bytes, g2_from_bytes
from omnidsl.mpc.network import Network
from omnidsl.mpc.schemes.shamir import poly
from omnidsl.mpc.schemes.shamir.local import deal_for, run_parties
from tests.groth16.cases import CASES
from tests.mpc.cluster import make_keys


class Spy:
    """Records what a party sends and receives, per step."""

    def __init__(self, inner: Network, log: dict):
        self.inner, self.log = inner, log
        self.party_id, self.n_parties = inner.party_id, inner.n_parties

    @property
    def step(self) -> str:
        return self.inner.step

    @step.setter
    def step(self, value: str) -> None:
        self.inner.step = value

    def send(self, to, data):
        self.log.setdefault(("sent", self.step), data)
        self.inner.send(to, data)

    def recv_within(self, frm, timeout):
        data = self.inner.recv_within(frm, timeout)
        self.log[("recv", self.step, frm)] = data
        return data

    def recv(self, frm):
        return self.recv_within(frm, 30)

    def flush(self):
        self.inner.flush()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    be = get_backend()
    params, inputs = CASES["norm_bound"]
    pk, z, circuit = make_keys("norm_bound", params, inputs, tmp_path_factory.mktemp("k"), be)
    z2 = limbs_to_bytes(circuit.witness(dict(inputs, g=[0.0] * len(inputs["g"]))))
    return be, pk, {"A": z, "B": z2}


def run_spied(be, pk, z, n, t, colluders):
    logs = {i: {} for i in colluders}
    mats = deal_for(pk, z, n, t, be)
    run = run_parties(pk, mats, be, wrap=lambda i, net: Spy(net, logs[i]) if i in logs else net)
    assert run.errors == {}
    return mats, logs, run


DECODE = {"consistency#0": lambda b: int.from_bytes(b[32:], "little"),
          "open_g1#0": g1_from_bytes, "open_g2#0": g2_from_bytes, "open_g1#1": g1_from_bytes}


@pytest.mark.parametrize("n,t,colluders", [(5, 1, [0]), (5, 1, [4]), (5, 2, [1, 3]),
                                          (3, 1, [2])])
def test_degree_t_openings_are_simulated_from_the_colluders_shares(setup, n, t, colluders):
    be, pk, z = setup
    _, logs, run = run_spied(be, pk, z["A"], n, t, colluders)
    opened = dict(run.drivers[colluders[0]].opened)
    combs = {"consistency#0": poly.scalar_combiner(), "open_g1#0": poly.g1_combiner(be),
             "open_g2#0": poly.g2_combiner(be), "open_g1#1": poly.g1_combiner(be)}
    for step, dec in DECODE.items():
        own = {c: dec(logs[c][("sent", step)]) for c in colluders}
        if step == "consistency#0":  # the opened value: interpolated from everything received
            got = {j: dec(logs[colluders[0]][("recv", step, j)]) for j in range(n)
                   if j != colluders[0]}
            value = poly.interpolate({**got, **own}, t, combs[step])
        else:
            value = opened[step]
        xs = [0] + [poly.point(c) for c in colluders]
        vals = [value] + [own[c] for c in colluders]
        for j in set(range(n)) - set(colluders):
            predicted = combs[step](vals, poly.lagrange(xs, poly.point(j)))
            assert dec(logs[colluders[0]][("recv", step, j)]) == predicted


def _view(mats, logs, colluders) -> bytes:
    """The coalition's view, each distinct datum once (a party broadcasts the same share to every
    colluder, and the commitment root is in every consistency message: repeated bytes would make
    the chi-square counts dependent)."""
    out = b""
    received: dict[tuple[str, int], bytes] = {}
    for c in colluders:
        m = mats[c]
        out += (m.seed or b"") + (m.witness or b"") + (m.scalars or b"") + m.witness_msm
        for k, v in logs[c].items():
            if k[0] == "recv" and k[2] not in colluders:
                received[k[1:]] = v[32:] if k[1] == "consistency#0" else v
    out += mats[colluders[0]].root()
    return out + b"".join(v for _, v in sorted(received.items()))


def _p(a: bytes, b: bytes) -> float:
    ha = np.bincount(np.frombuffer(a, np.uint8), minlength=256)
    hb = np.bincount(np.frombuffer(b, np.uint8), minlength=256)
    table = np.vstack([ha, hb])
    return float(chi2_contingency(table[:, table.sum(axis=0) > 0])[1])


@pytest.mark.parametrize("n,t,colluders", [(5, 1, [4]), (5, 2, [0, 4])])
def test_colluders_views_do_not_depend_on_the_witness(setup, n, t, colluders):
    be, pk, z = setup
    views = {"A": b"", "B": b""}
    for _ in range(4):
        for label in ("A", "B"):
            mats, logs, _ = run_spied(be, pk, z[label], n, t, colluders)
            views[label] += _view(mats, logs, colluders)
    assert _p(views["A"], views["B"]) > 1e-4
    assert _p(z["A"] * 8, z["B"] * 8) < 1e-6  # the same test separates the clear witnesses
