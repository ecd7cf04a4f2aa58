"""The role modules' API in one process on the embedded chain: the same steps as the role
commands (MO open/close/check, three server daemons with real inboxes and their `omnidsl serve`
processes, DOs sharing and proving), driven step by step; then what a server does with a dead
peer and with a share that is not signed by the data owner it names."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from omnidsl.chain import embedded_chain
from omnidsl.cli import main
from omnidsl.errors import ChainError, InputError, NetworkError
from omnidsl.market import contribute, dsl_rule, inbox, owner
from omnidsl.market.client import MarketClient
from omnidsl.market.daemon import ServerDaemon, Timing, make_server, start_inbox
from omnidsl.market.demo import _local_accounts
from omnidsl.market.rulefile import load_rule
from omnidsl.market.status import format_status, market_status
from omnidsl.mpc.cluster import ServerCluster

pytestmark = [pytest.mark.chain]
D = 8


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("roles_api")
    rule_file = tmp / "market_norm.omni"
    rule_file.write_text(dsl_rule.SOURCE)
    assert main(["setup", "dev", str(rule_file), "--param", f"D={D}", "-o", str(tmp / "keys")]) == 0
    rule = load_rule(rule_file, {"D": D}, tmp / "keys")
    w3 = embedded_chain()
    funder = str(w3.eth.accounts[0])
    mo, *rest = _local_accounts(w3, 7, funder, 10**19)
    market = MarketClient.deploy(w3, sender=funder)
    with ServerCluster(tmp / "srv", 3, {"market": tmp / "keys"}, bind=True) as cluster:
        daemons = [ServerDaemon(make_server(market, a, rule, cluster.bind_dir(i)), a, rule, i,
                                timing=Timing(expect=3)) for i, a in enumerate(rest[:3])]
        boxes = [start_inbox(d, "127.0.0.1", 0) for d in daemons]
        for d, b in zip(daemons, boxes, strict=True):
            d.peers = [x.url for x in boxes if x is not b]
        try:
            yield {"w3": w3, "market": market, "mo": mo, "dos": rest[3:], "rule": rule,
                   "server_accounts": rest[:3],
                   "daemons": daemons, "boxes": boxes, "cluster": cluster, "tmp": tmp}
        finally:
            for b in boxes:
                b.stop()


def _step(daemons):
    for d in daemons:
        d.step()


def test_a_round_through_the_role_api_on_the_embedded_chain(world, caplog):
    caplog.set_level(logging.INFO, logger="omnidsl.market")
    market, rule, daemons = world["market"], world["rule"], world["daemons"]
    state = world["tmp"] / "mo"
    terms = owner.TaskTerms(servers=[d.address for d in daemons], values={"max_norm": 2.0}, owners=3)
    task = owner.open_task(market, world["mo"].address, state, rule, terms)
    urls = [b.url for b in world["boxes"]]
    rng = np.random.default_rng(3)
    grads = [rng.normal(0, 0.2, D) for _ in range(3)]
    shared = []
    for acct, g in zip(world["dos"], grads, strict=True):
        servers = contribute.task_servers(market, task, urls, acct, 3)
        shared.append(contribute.share_gradient(market, task, acct, g, rule, servers))
    _step(daemons)  # commit (3 shares each)
    _step(daemons)  # reveal
    info = market.task(task)
    assert info.challenge_fixed and info.n_revealed == 3
    with pytest.raises(ChainError, match="no longer accepted"):  # too late to share now
        contribute.share_gradient(market, task, world["dos"][0], grads[0], rule,
                                  contribute.task_servers(market, task, urls, world["dos"][0], 3))
    for c in shared:
        _, public = contribute.prove_contribution(c, info.rho, rule, world["cluster"]
                                                      .config_path)
        assert int(public[rule.rule.layout.owner_index]) == int(c.do.account, 16)
    _step(daemons)  # the coordinator (the task's first server) submits
    assert sorted(market_status(market, task)["tasks"][0]["accepted"]) == \
        sorted(a.address for a in world["dos"])
    owner.close_task(market, world["mo"].address, task)
    _step(daemons)  # deliver, withdraw
    res = owner.check_task(market, world["mo"].address, state, task)
    assert res.matched and np.allclose(res.gradient, sum(grads), atol=3 * 2.0**-12)
    st = market_status(market, task)
    assert all(s["delivered"] for s in st["tasks"][0]["servers"])
    assert st["tasks"][0]["aggregate_checked"] is True
    assert "accepted " + world["dos"][1].address in format_status(st)
    assert "batch of 3 submitted" in caplog.text


def test_a_share_signed_by_someone_else_is_refused(world):
    market, rule = world["market"], world["rule"]
    daemons = world["daemons"]
    terms = owner.TaskTerms(servers=[d.address for d in daemons], values={"max_norm": 2.0}, owners=1)
    task = owner.open_task(market, world["mo"].address, world["tmp"] / "mo", rule, terms)
    victim, thief = world["dos"][0], world["dos"][1]
    card = inbox.request(world["boxes"][0].url, "/info")
    srv = contribute.RemoteServer(world["boxes"][0].url, card, daemons[0].address, thief)
    with pytest.raises(NetworkError, match=f"not signed by {victim.address}"):
        srv.receive(task, victim.address, [1] * (D + 1))  # the thief signs, names the victim
    assert daemons[0].server.shares.get(task, {}) == {}


def test_a_dead_peer_is_a_located_warning_and_retried(world, caplog):
    """A coordinator whose peer's inbox is down names the peer and keeps the task."""
    caplog.set_level(logging.WARNING, logger="omnidsl.market")
    d0 = world["daemons"][0]
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    saved, d0.peers = d0.peers, [dead]
    try:
        with pytest.raises(NetworkError, match=f"market server {dead} did not answer"):
            d0._peer_urls(1)
    finally:
        d0.peers = saved


def test_a_gradient_breaking_the_rule_is_refused_before_anything_is_sent(world, tmp_path: Path):
    market, rule, daemons = world["market"], world["rule"], world["daemons"]
    terms = owner.TaskTerms(servers=[d.address for d in daemons], values={"max_norm": 0.5}, owners=1)
    task = owner.open_task(market, world["mo"].address, world["tmp"] / "mo", rule, terms)
    acct = world["dos"][2]
    servers = contribute.task_servers(market, task, [b.url for b in world["boxes"]], acct, 3)
    with pytest.raises(InputError, match=r"breaks task \d+'s rule.*nothing was sent"):
        contribute.share_gradient(market, task, acct, np.full(D, 0.5), rule, servers)
    assert all(d.server.shares.get(task, {}) == {} for d in daemons)
    np.save(tmp_path / "g.npy", np.zeros(D + 1))
    with pytest.raises(InputError, match=f"expected {D} finite numbers"):
        contribute.read_gradient(tmp_path / "g.npy", D)


def test_a_restarted_server_resumes_its_task_from_its_state(world):
    """Servers that commit, stop and start again from their --state folders reveal, submit and
    deliver as if nothing happened (the salt and seed were on disk before the commitment)."""
    market, rule, cluster = world["market"], world["rule"], world["cluster"]
    tmp = world["tmp"]

    def start(timing: Timing) -> tuple[list[ServerDaemon], list]:
        ds = [ServerDaemon(make_server(market, a, rule, cluster.bind_dir(i)), a, rule, i,
                           timing=timing, state_dir=tmp / f"state{i}")
              for i, a in enumerate(world["server_accounts"])]
        bs = [start_inbox(d, "127.0.0.1", 0) for d in ds]
        for d, b in zip(ds, bs, strict=True):
            d.peers = [x.url for x in bs if x is not b]
        return ds, bs

    before, boxes = start(Timing(expect=1))
    terms = owner.TaskTerms(servers=[d.address for d in before], values={"max_norm": 2.0}, owners=1)
    task = owner.open_task(market, world["mo"].address, tmp / "mo", rule, terms)
    acct, g = world["dos"][0], np.linspace(-0.3, 0.3, D)
    servers = contribute.task_servers(market, task, [b.url for b in boxes], acct, 3)
    c = contribute.share_gradient(market, task, acct, g, rule, servers)
    _step(before)  # commit
    assert market.task(task).n_committed == 3
    saved = tmp / "state0" / f"task-{task}.json"
    assert saved.stat().st_mode & 0o777 == 0o600  # shares, salt and seed are secrets
    for b in boxes:
        b.stop()
    after, boxes = start(Timing(expect=1))  # a fresh process: only the state folder is left
    try:
        for d0, d1 in zip(before, after, strict=True):
            assert d1.tasks[task].committed and not d1.tasks[task].revealed
            assert d1.server.shares[task] == d0.server.shares[task]
            assert d1.server.salts[task] == d0.server.salts[task]
        _step(after)  # reveal
        rho = market.task(task).rho
        assert market.task(task).challenge_fixed
        contribute.prove_contribution(c, rho, rule, cluster.config_path)
        _step(after)  # submit
        owner.close_task(market, world["mo"].address, task)
        _step(after)  # deliver
        res = owner.check_task(market, world["mo"].address, tmp / "mo", task)
        assert res.accepted == [acct.address] and res.matched
        assert np.allclose(res.gradient, g, atol=2.0**-12)
        assert not any((tmp / f"state{i}" / f"task-{task}.json").exists() for i in range(3))
    finally:
        for b in boxes:
            b.stop()


def test_a_committed_cosine_task_through_the_role_api(world, tmp_path: Path):
    """Any rule meeting the market interface: the cosine rule's task pins the reference's
    commitment (published with the task), tau and the norm bounds; a gradient along the
    reference is paid, a sign-flipped one is refused before anything is sent."""
    from omnidsl.market.dsl_rule import COSINE_RULE
    from omnidsl.market.status import market_status as status

    market = world["market"]
    assert main(["setup", "dev", str(COSINE_RULE), "--param", f"D={D}", "-o",
                 str(tmp_path / "keys")]) == 0
    rule = load_rule(COSINE_RULE, {"D": D}, tmp_path / "keys")
    # the servers run the norm rule's keys: the cosine keys go to a cluster of their own
    with ServerCluster(tmp_path / "srv", 3, {"cos": tmp_path / "keys"}, bind=True) as cos:
        ds = [ServerDaemon(make_server(market, a, rule, cos.bind_dir(i)), a, rule, i,
                           timing=Timing(expect=1)) for i, a in enumerate(world["server_accounts"])]
        boxes = [start_inbox(d, "127.0.0.1", 0) for d in ds]
        for d, b in zip(ds, boxes, strict=True):
            d.peers = [x.url for x in boxes if x is not b]
        try:
            ref = np.linspace(-0.5, 0.5, D)
            values = {"ref": list(ref), "tau": 0.5, "max_norm": 3.0, "min_norm": 0.01}
            terms = owner.TaskTerms(servers=[d.address for d in ds], values=values, owners=1)
            task = owner.open_task(market, world["mo"].address, world["tmp"] / "mo", rule, terms)
            urls = [b.url for b in boxes]
            bad = world["dos"][1]
            with pytest.raises(InputError, match="breaks task"):
                contribute.share_gradient(market, task, bad, -ref, rule,
                                          contribute.task_servers(market, task, urls, bad, 3))
            acct = world["dos"][0]
            c = contribute.share_gradient(market, task, acct, 0.8 * ref + 0.01, rule,
                                          contribute.task_servers(market, task, urls, acct, 3))
            _step(ds)  # commit
            _step(ds)  # reveal
            contribute.prove_contribution(c, market.task(task).rho, rule, cos.config_path)
            _step(ds)  # submit
            assert status(market, task)["tasks"][0]["accepted"] == [acct.address]
            _check_pin_options(rule, tmp_path)
        finally:
            for b in boxes:
                b.stop()


def _check_pin_options(rule, tmp_path: Path) -> None:
    """`mo open`'s --pin/--reference for the cosine rule: by name; a bare value or an unknown
    vector is a usage error naming the rule's pins."""
    import argparse

    from omnidsl.errors import UsageError
    from omnidsl.market.mo_commands import _values

    np.save(tmp_path / "ref.npy", np.linspace(-0.5, 0.5, D))
    ns = argparse.Namespace(pin=["tau=0.25", "max_norm=2", "min_norm=0.01"],
                            reference=[f"ref={tmp_path / 'ref.npy'}"])
    got = _values(ns, rule)
    assert got["tau"] == 0.25 and len(got["ref"]) == D
    with pytest.raises(UsageError, match="pins ref, tau, max_norm, min_norm"):
        _values(argparse.Namespace(pin=["2"], reference=[]), rule)
    with pytest.raises(UsageError, match="no vector named 'tau'"):
        _values(argparse.Namespace(pin=[], reference=[f"tau={tmp_path / 'ref.npy'}"]), rule)
    with pytest.raises(UsageError, match="NAME=NUMBER"):
        _values(argparse.Namespace(pin=["tau=high"], reference=[]), rule)


def test_a_data_owner_holding_another_model_than_the_task_pins_sends_nothing(world, tmp_path):
    from omnidsl.market import model_pin

    market, rule, daemons = world["market"], world["rule"], world["daemons"]
    model = np.linspace(-1.0, 1.0, 30)
    terms = owner.TaskTerms(servers=[d.address for d in daemons], values={"max_norm": 2.0},
                            owners=1, model=model)
    task = owner.open_task(market, world["mo"].address, world["tmp"] / "mo", rule, terms)
    acct = world["dos"][2]
    servers = contribute.task_servers(market, task, [b.url for b in world["boxes"]], acct, 3)
    other = model.copy()
    other[7] = np.nextafter(other[7], 2.0)  # one weight changed
    g = np.full(D, 0.1)
    with pytest.raises(model_pin.ModelMismatch, match="is not the model the task pins"):
        contribute.share_gradient(market, task, acct, g, rule, servers, other)
    with pytest.raises(model_pin.ModelMismatch, match="--model FILE"):
        contribute.share_gradient(market, task, acct, g, rule, servers)
    assert all(d.server.shares.get(task, {}) == {} for d in daemons)
    model_pin.check_held(market, task, model)  # the pinned model passes
    np.save(tmp_path / "m.npy", model)
    np.testing.assert_array_equal(model_pin.read_model(tmp_path / "m.npy"), model)
    with pytest.raises(InputError, match="no such model file"):
        model_pin.read_model(tmp_path / "none.npy")


def test_the_model_owner_maps_the_aggregate_back_with_the_pinned_model_s_secret(world):
    """`mo publish` then `mo open --model` then `mo check --clear`: the secret is found through
    the task's on-chain model pin (omnidsl/market/private_model.py)."""
    from omnidsl.market import private_model
    from omnidsl.ml.models import build_model

    market, rule, daemons = world["market"], world["rule"], world["daemons"]
    state = world["tmp"] / "mo"
    model = build_model("mlp", hidden=6)
    theta = model.init(np.random.default_rng(4))
    published = private_model.publish(state, theta, "mlp", 0.1, 6)
    terms = owner.TaskTerms(servers=[d.address for d in daemons], values={"max_norm": 2.0},
                            owners=1, model=published)
    task = owner.open_task(market, world["mo"].address, state, rule, terms)
    g = np.arange(model.n_params, dtype=np.float64)  # a sum in the published coordinates
    back = private_model.clear_gradient(market, state, task, g)
    from omnidsl.market import model_pin

    _, pert = private_model.load_secret(private_model.secret_path(
        state, model_pin.publication_hash(published)))
    np.testing.assert_array_equal(back, g[pert.source_index(model)])
    assert not np.array_equal(back, g)  # the hidden units were moved back
    other = owner.open_task(market, world["mo"].address, state, rule, owner.TaskTerms(
        servers=[d.address for d in daemons], values={"max_norm": 2.0}, owners=1))
    with pytest.raises(InputError, match="pins 0 models"):
        private_model.clear_gradient(market, state, other, g)
