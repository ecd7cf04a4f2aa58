"""The market's servers as collaborative provers (omnidsl.mpc): real `omnidsl serve` processes,
the binding between what a server aggregates and what it proves, and a demo round end to end.

Binding: a data owner deals its witness with its aggregation shares as the shares of the bound
wires — the gradient and the fingerprint mask (dealer ``fixed``); each server pins the shares it
committed to and refuses to prove any other share — so a DO who shares one gradient for
aggregation cannot prove another."""

from __future__ import annotations

import dataclasses
import os
from typing import ClassVar

import numpy as np
import pytest
from market_helpers import DIM, ToySource

from omnidsl import progress
from omnidsl.backend import get_backend
from omnidsl.chain import embedded_chain
from omnidsl.errors import NetworkError, ProofError
from omnidsl.field import FR_BYTES, R, int_to_bytes, limbs_to_bytes
from omnidsl.market import aggregate as agg
from omnidsl.market import demo, dsl_rule
from omnidsl.market.demo import FEE, REWARD, run_demo, setup_actors
from omnidsl.market.roles import bind_label
from omnidsl.mpc.binding import binding_digest, check_pin, write_pin
from omnidsl.mpc.cluster import ServerCluster
from omnidsl.mpc.schemes import FixedShares
from omnidsl.mpc.schemes.additive import shares as sh
from omnidsl.mpc.schemes.additive.dealer import deal
from omnidsl.mpc.schemes.additive.material import expand_material


def _vec(values) -> bytes:
    return b"".join(int_to_bytes(int(v) % R) for v in values)


def _witness(dsl, q, owner="0x" + "ab" * 20, rho=12345, max_norm=1 << 20) -> bytes:
    return limbs_to_bytes(dsl.circuit.witness(dsl.witness_input(q, owner, rho, max_norm)))


GRAD = [3, -5, 0, 7, -4096, 4095, 1, -1]
OTHER = [4, -5, 0, 7, -4096, 4095, 1, -1]  # also satisfies the rule
MASK = 0x2B1F_03D4_9A77_5E10_C0DE  # the fingerprint mask: aggregation vectors are (g, mask)
GRAD_V, OTHER_V = [*GRAD, MASK], [*OTHER, MASK]


# ---- dealer: fixed shares (fast, no processes)
@pytest.mark.parametrize("n", [2, 3, 5])
def test_fixed_shares_are_the_servers_gradient_shares(dsl, n):
    be = get_backend()
    wit = _witness(dsl, GRAD_V)
    wires = [int(w) for w in dsl.gradient_wires()]
    assert len(wires) == DIM + 1  # the gradient, then the mask
    pieces = agg.share_vector(GRAD_V, n)
    mats = deal(be, wit, dsl.pk.n_public + 1, 16, n, fixed=FixedShares(wires, [_vec(p) for p in
                                                                                pieces]),
                bind_label="task1-ab")
    exp = [expand_material(m) for m in mats]
    assert sh.reconstruct(be, [e.witness for e in exp]) == wit  # still a sharing of the witness
    for m, e, piece in zip(mats, exp, pieces, strict=True):
        on_g = b"".join(e.witness[w * FR_BYTES:(w + 1) * FR_BYTES] for w in wires)
        assert on_g == _vec(piece) == m.fixed_share
        assert m.bind_label == "task1-ab"


def test_dealer_refuses_fixed_shares_of_another_gradient(dsl):
    wires = [int(w) for w in dsl.gradient_wires()]
    pieces = agg.share_vector(GRAD_V, 3)
    with pytest.raises(ValueError, match="do not sum"):
        deal(get_backend(), _witness(dsl, OTHER_V), dsl.pk.n_public + 1, 16, 3,
             fixed=FixedShares(wires, [_vec(p) for p in pieces]))


def test_server_check_pin(dsl, tmp_path):
    be = get_backend()
    owner = "0x" + "ab" * 20
    wires = [int(w) for w in dsl.gradient_wires()]
    pieces = agg.share_vector(GRAD_V, 2)
    fixed = FixedShares(wires, [_vec(p) for p in pieces])
    wb = fixed.wires_bytes()
    for i in range(2):
        write_pin(tmp_path / f"s{i}", "task7-ab", wb, _vec(pieces[i]),
                  public={dsl.owner_wire: int(owner, 16)})
    good = deal(be, _witness(dsl, GRAD_V, owner), dsl.pk.n_public + 1, 16, 2, fixed=fixed,
                bind_label="task7-ab")
    for i, m in enumerate(good):
        check_pin(tmp_path / f"s{i}", m, i)
    # a fresh sharing of another gradient: every server refuses
    other = deal(be, _witness(dsl, OTHER_V, owner), dsl.pk.n_public + 1, 16, 2,
                 bind_label="task7-ab")
    with pytest.raises(ProofError, match=r"must prove|no bind label"):
        check_pin(tmp_path / "s0", other[0], 0)
    # the committed shares on the gradient wires, but the owner public input changed
    thief = deal(be, _witness(dsl, GRAD_V, "0x" + "cd" * 20), dsl.pk.n_public + 1, 16, 2,
                 fixed=fixed, bind_label="task7-ab")
    with pytest.raises(ProofError, match="public wire"):
        check_pin(tmp_path / "s1", thief[1], 1)
    # an unknown label, and a label that tries to leave the directory
    with pytest.raises(ProofError, match="committed to no share"):
        check_pin(tmp_path / "s0", dataclasses.replace(good[0], bind_label="task8-ab"), 0)
    with pytest.raises(ProofError, match="bad bind label"):
        write_pin(tmp_path, "../x", wb, _vec(pieces[0]))
    assert binding_digest(wb, _vec(pieces[0])) != binding_digest(wb, _vec(pieces[1]))


# ---- real server processes on the embedded chain
@pytest.mark.slow
@pytest.mark.chain
def test_do_who_proves_another_gradient_is_refused(dsl, tmp_path):
    pk_path = dsl.write_proving_key(tmp_path / "keys")
    with ServerCluster(tmp_path / "cluster", 3, {"market": tmp_path / "keys"}, bind=True,
                       timeout=20.0) as cluster:
        w3 = embedded_chain()
        actors = setup_actors(w3, dsl, n_owners=2, n_servers=3)
        mo, servers, dos = actors.mo, actors.servers, actors.dos
        for k, s in enumerate(servers):
            s.binding = dsl.binding_for(cluster.bind_dir(k))
        now = int(w3.eth.get_block("latest")["timestamp"])
        max_norm = dsl.pinned_value(1 << 20)
        tid = mo.open_task([s.account for s in servers], REWARD, FEE, 2 * (REWARD + 3 * FEE),
                           now + 600, pinned_value=max_norm)
        for do in dos:
            do.share(tid, GRAD, servers)
        for s in servers:
            s.commit(tid)
        for s in servers:
            s.reveal(tid)
        rho = mo.market.task(tid).rho
        cheat, honest = dos
        label = bind_label(tid, cheat.account)
        other_v = [*OTHER, cheat.vectors[tid][DIM]]  # another gradient, the committed mask
        inp = dsl.witness_input(other_v, cheat.account, rho, max_norm)
        # 1) a fresh sharing of another gradient: the servers refuse before proving
        with pytest.raises(NetworkError, match="refuses to prove"):
            dsl.prove_shared(cluster.cfg, pk_path, inp, agg.share_vector(other_v, 3), label)
        # 2) the committed shares for servers 0, 1 and whatever makes OTHER for server 2
        fake = [list(v) for v in cheat.dealt[tid]]
        fake[2] = [(a - b) % R for a, b in zip(agg.share_vector(other_v, 1)[0],
                                                agg.add_vectors(fake[:2], DIM + 1), strict=True)]
        with pytest.raises(NetworkError, match="server 2 refuses to prove"):
            dsl.prove_shared(cluster.cfg, pk_path, inp, fake, label)
        # 3) another DO's label (it does not hold that DO's shares, but it is the same gradient)
        with pytest.raises(NetworkError, match="refuses to prove"):
            dsl.prove_shared(cluster.cfg, pk_path,
                             dsl.witness_input(cheat.vectors[tid], cheat.account, rho, max_norm),
                             cheat.dealt[tid], bind_label(tid, honest.account))
        # the honest proofs of the committed gradients go through and are accepted on-chain
        items = []
        for do in dos:
            item, res = dsl.prove_shared(cluster.cfg, pk_path,
                                         dsl.witness_input(do.vectors[tid], do.account, rho,
                                                           max_norm),
                                         do.dealt[tid], bind_label(tid, do.account))
            assert len(res.reports) == 3 and res.deal_s < res.wall_s
            items.append(item)
        # every server attests: each found its own process's receipt of these proofs
        assert all(s.vet(tid, items) == [None, None] for s in servers)
        res = servers[0].submit(tid, items, cosigners=servers[1:])
        assert sorted(res.accepted) == sorted(d.account for d in dos) and not res.rejected
        mo.close(tid)
        for s in servers:
            s.deliver(tid)
        total = mo.reconstruct(mo.collect(tid))
        assert total[:DIM] == [2 * v for v in GRAD] and mo.check_aggregate(tid, total)
        assert len(cluster.pids()) == 3
        pids = cluster.pids()
    for pid in pids:  # the context manager stopped exactly its processes
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


class _Recording(ServerCluster):
    instances: ClassVar[list[_Recording]] = []

    def start_all(self, extra: dict[int, list[str]] | None = None) -> ServerCluster:
        out = super().start_all(extra)
        self.started = self.pids()
        _Recording.instances.append(self)
        return out


@pytest.mark.slow
@pytest.mark.chain
def test_demo_round_through_real_servers(dsl, monkeypatch):
    monkeypatch.setattr(dsl_rule, "setup", lambda dim: dsl)
    monkeypatch.setattr(demo, "ServerCluster", _Recording)
    _Recording.instances.clear()
    src = ToySource(owners=4)
    lines: list[str] = []
    events: list[progress.Event] = []
    with progress.listen(events.append):
        reports = run_demo(embedded_chain(), rounds=1, owners=4, malicious=1, servers=3,
                           source=src, log=lines.append)
    rep = reports[0]
    assert rep.accepted == [1, 2, 3] and rep.binding_ok is True
    # progress (issue 13): the demo is a task with a stage per round and per step of a round,
    # and every collaborative proof a task of its own, stage by stage
    demo_stages = [e.stage for e in events if e.task == "market demo" and e.kind == "stage-end"]
    assert demo_stages[-1] == "round 1" and "round 1 › collab. prove" in demo_stages
    assert {"round 1 › train", "round 1 › open task", "round 1 › payout"} <= set(demo_stages)
    proofs = [e for e in events if e.task == "prove (servers)" and e.kind == "end"]
    assert len(proofs) == 3 and all(e.depth == 1 and e.done == 3 for e in proofs)
    # DO 0's stolen copy of an honest proof: no server's prover process made it (receipts)
    assert "rule violated" in rep.rejected[0] and "refused by the servers" in rep.rejected[0]
    assert rep.reclaimed == REWARD + 3 * FEE  # 4 escrowed, 3 paid, all servers delivered
    assert rep.mpc["proofs"] == 3 and rep.mpc["mb_sent"] > 0
    assert {"share/deal", "collab. prove", "witness"} <= set(rep.times)
    assert "prove" not in rep.times  # nothing proved on one machine
    assert np.allclose(src.applied[0] * (1 << 12),
                       np.round(sum(g * (1 << 12) for g in src.gradients()[1:])), atol=3)
    summary = "\n".join(lines)
    assert "collaborative proving: 3 proofs by the servers" in summary
    (cluster,) = _Recording.instances
    for pid in cluster.started:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


class _Broken(ToySource):
    def gradients(self):
        raise RuntimeError("training crashed")


@pytest.mark.slow
@pytest.mark.chain
def test_demo_stops_its_servers_on_error(dsl, monkeypatch):
    monkeypatch.setattr(dsl_rule, "setup", lambda dim: dsl)
    monkeypatch.setattr(demo, "ServerCluster", _Recording)
    _Recording.instances.clear()
    with pytest.raises(RuntimeError, match="training crashed"):
        run_demo(embedded_chain(), rounds=1, owners=3, malicious=1, servers=2, source=_Broken(),
                 log=lambda _m: None)
    (cluster,) = _Recording.instances
    assert len(cluster.started) == 2
    for pid in cluster.started:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
