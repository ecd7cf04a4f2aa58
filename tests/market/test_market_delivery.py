"""Issue 10, item 8: payment before the aggregate.  Server fees are earned only by delivering the
aggregate share (sealed to the model owner's key, posted on-chain); a server that withholds it
forfeits its fees and its bond to the model owner, who reclaims them after the delivery deadline.
On anvil (a real node), with the DSL rule's real proofs."""

from __future__ import annotations

import pytest
from market_helpers import advance_time

from omnidsl.chain import anvil
from omnidsl.errors import ChainError
from omnidsl.market.demo import BOND, FEE, REWARD, setup_actors

pytestmark = [pytest.mark.chain]

DIM = 8
GRADS = [[3, -5, 0, 7, -4096, 4095, 1, -1], [100, 200, -300, 0, 0, 1, 2, 3]]


def _round(w3, dsl):
    """Open a task, share, commit, reveal, prove (single-machine stand-in, recorded by every
    server) and submit two valid proofs; returns (actors, task id, escrow)."""
    actors = setup_actors(w3, dsl, n_owners=2, n_servers=3)
    mo, servers, dos = actors.mo, actors.servers, actors.dos
    max_norm = dsl.pinned_value(1 << 20)
    now = int(w3.eth.get_block("latest")["timestamp"])
    escrow = 3 * (REWARD + 3 * FEE)
    tid = mo.open_task([s.account for s in servers], REWARD, FEE, escrow, now + 600,
                       pinned_value=max_norm, deliver_by=now + 1200, bond=BOND)
    for do, q in zip(dos, GRADS, strict=True):
        do.share(tid, q, servers)
    for s in servers:
        s.commit(tid)
    for s in servers:
        s.reveal(tid)
    rho = mo.market.task(tid).rho
    items = dsl.prove_many([dsl.witness_input(d.vectors[tid], d.account, rho, max_norm)
                             for d in dos])
    for s in servers:
        s.record(tid, items)
    res = servers[0].submit(tid, items, servers[1:])
    assert sorted(res.accepted) == sorted(d.account for d in dos)
    return actors, tid, escrow


def test_a_withheld_aggregate_share_costs_the_server_its_fees_and_bond(dsl):
    with anvil() as w3:
        actors, tid, escrow = _round(w3, dsl)
        mo, servers, dos = actors.mo, actors.servers, actors.dos
        m = mo.market
        # DOs are paid on acceptance; no server has earned anything yet
        assert all(m.balance_of(d.account) == REWARD for d in dos)
        assert all(m.balance_of(s.account) == 0 for s in servers)
        with pytest.raises(ChainError, match="submissions still open"):
            servers[0].deliver(tid)
        mo.close(tid)
        with pytest.raises(ChainError, match="task closed"):
            m.close_submissions(tid, mo.account)
        with pytest.raises(ChainError, match="task closed"):
            m.submit_batch(tid, [1] * 8, [0] * 4, b"\0" * 195, servers[0].account)
        servers[0].deliver(tid)
        servers[1].deliver(tid)
        with pytest.raises(ChainError, match="already delivered"):
            servers[1].deliver(tid)
        # server 2 withholds: fees for 2 accepted gradients + the bond back only for 0 and 1
        for s in servers[:2]:
            assert m.balance_of(s.account) == 2 * FEE + BOND
        assert m.balance_of(servers[2].account) == 0
        with pytest.raises(ChainError, match=servers[2].account):
            mo.collect(tid)  # the MO cannot reconstruct, and knows whom to blame
        with pytest.raises(ChainError, match="delivery deadline not reached"):
            m.reclaim(tid, mo.account)
        advance_time(w3, 1300)
        with pytest.raises(ChainError, match="delivery deadline passed"):
            servers[2].deliver(tid)
        expected = (escrow - 2 * (REWARD + 3 * FEE)) + 2 * FEE + BOND
        assert m.reclaimable(tid) == expected
        before = w3.eth.get_balance(mo.account)
        amount, tx = m.reclaim(tid, mo.account)
        assert amount == expected
        withheld = tx.named("AggregateWithheld")
        assert [(e.args["server"], e.args["forfeited"]) for e in withheld] == \
            [(servers[2].account, 2 * FEE + BOND)]
        assert w3.eth.get_balance(mo.account) > before
        with pytest.raises(ChainError, match="already reclaimed"):
            m.reclaim(tid, mo.account)
        for a in [*[d.account for d in dos], *[s.account for s in servers[:2]]]:
            m.withdraw(a)
        assert m.total_held() == m.ether_balance() == 0


def test_every_server_delivers_and_the_mo_opens_the_shares(dsl):
    with anvil() as w3:
        actors, tid, escrow = _round(w3, dsl)
        mo, servers = actors.mo, actors.servers
        m = mo.market
        advance_time(w3, 601)  # the deadline closes submissions without the MO
        gas = [s.deliver(tid) for s in servers]
        assert all(g > 0 for g in gas)
        total = mo.reconstruct(mo.collect(tid))
        assert total[:DIM] == [a + b for a, b in zip(*GRADS, strict=True)]
        assert mo.check_aggregate(tid, total)
        # a sealed share opens only with the MO's key, for this task and server
        from omnidsl.market.attestation import new_owner_key, open_share

        log = m.contract.events.AggregateDelivered().get_logs(from_block=0)[0]
        tx = w3.eth.get_transaction(log["transactionHash"])
        sealed = bytes(m.contract.decode_function_input(tx["input"])[1]["sealedShare"])
        chain_id = int(w3.eth.chain_id)
        with pytest.raises(ChainError, match="does not open"):
            open_share(sealed, new_owner_key()[0], chain_id, m.address, tid,
                       log["args"]["server"])
        with pytest.raises(ChainError, match="does not open"):
            open_share(sealed, mo.box_key[0], chain_id, m.address, tid + 1,
                       log["args"]["server"])
        advance_time(w3, 700)
        assert m.reclaimable(tid) == escrow - 2 * (REWARD + 3 * FEE)  # nothing forfeited


def test_a_garbage_delivery_is_named(dsl):
    with anvil() as w3:
        actors, tid, _ = _round(w3, dsl)
        mo, servers = actors.mo, actors.servers
        mo.close(tid)
        servers[0].deliver(tid)
        servers[1].deliver(tid)
        mo.market.deliver_aggregate(tid, b"\x01" * 80, servers[2].account)  # not sealed to MO
        with pytest.raises(ChainError, match=f"delivered by server {servers[2].account}"):
            mo.collect(tid)
