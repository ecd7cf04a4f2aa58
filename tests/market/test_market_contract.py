"""Market.sol payment rules on the embedded chain, with the TEST-ONLY allow-list verifier."""

from __future__ import annotations

import dataclasses
import secrets

import pytest
from market_helpers import (
    FP,
    OWNER,
    RHO,
    advance_time,
    make_spec,
    now,
    sign_batch,
    submit,
)
from web3 import Web3

from omnidsl.errors import ChainError
from omnidsl.market.client import Reject

pytestmark = pytest.mark.chain

REWARD, FEE, N_SERVERS = 1000, 10, 3
COST = REWARD + N_SERVERS * FEE  # escrow reserved per accepted gradient (fee for every server)


def rand_addr() -> str:
    return Web3.to_checksum_address("0x" + secrets.token_hex(20))


def open_task(market, allow_list, accounts, escrow=10_000, **kw):
    spec = make_spec(allow_list.contract.address, accounts["servers"], now(market.w3) + 3600, **kw)
    task_id, _ = market.create_task(spec, escrow, accounts["mo"])
    return task_id


def batch(items):
    proofs, inputs = [], []
    for words, inp in items:
        proofs += words
        inputs += inp
    return proofs, inputs


def test_no_double_payment(market, allow_list, accounts):
    tid = open_task(market, allow_list, accounts)
    do = rand_addr()
    server = accounts["servers"][0]
    # twice in one batch: credited once
    res = submit(market, tid, *batch([allow_list.proof(do), allow_list.proof(do)]), server)
    assert res.accepted == [do]
    assert [(i, r) for i, _, r in res.rejected] == [(1, Reject.ALREADY_PAID)]
    # again in a later batch, with a different valid proof and by another server: nothing
    res2 = submit(market, tid, *batch([allow_list.proof(do)]), accounts["servers"][1])
    assert res2.accepted == []
    assert res2.rejected[0][2] == Reject.ALREADY_PAID
    assert market.balance_of(do) == REWARD
    assert market.task(tid).remaining == 10_000 - COST
    assert market.task(tid).accepted == 1


def test_only_registered_servers_submit(market, allow_list, accounts):
    tid = open_task(market, allow_list, accounts)
    items = batch([allow_list.proof(rand_addr())])
    sigs = sign_batch(market, tid, *items)  # even with every server's attestation
    for who in (accounts["outsider"], accounts["mo"], accounts["dos"][0]):
        with pytest.raises(ChainError, match="not a registered server"):
            market.submit_batch(tid, *items, sigs, who)
    with pytest.raises(ChainError, match="one signature per server required"):
        market.submit_batch(tid, *items, sigs[:65], accounts["servers"][0])
    assert market.task(tid).accepted == 0
    assert market.is_server(tid, accounts["servers"][2])
    assert not market.is_server(tid, accounts["outsider"])


def test_invalid_proof_in_batch_earns_nothing(market, allow_list, accounts):
    tid = open_task(market, allow_list, accounts)
    dos = [rand_addr() for _ in range(4)]
    items = [allow_list.proof(d, valid=(i != 2)) for i, d in enumerate(dos)]
    server = accounts["servers"][1]
    servers = accounts["servers"]
    before = {s: market.balance_of(s) for s in servers}
    res = submit(market, tid, *batch(items), server)
    assert not res.batch_valid  # the one-shot batch check fails, per-proof fallback runs
    assert sorted(res.accepted) == sorted(dos[:2] + dos[3:])
    assert [(i, o, r) for i, o, r in res.rejected] == [(2, dos[2], Reject.INVALID_PROOF)]
    assert market.balance_of(dos[2]) == 0
    assert not market.is_paid(tid, dos[2])
    # the fees of the 3 valid proofs are reserved (for every server), paid on delivery only
    assert market.task(tid).remaining == 10_000 - 3 * COST
    assert {s: market.balance_of(s) for s in servers} == before
    # an all-valid batch passes the one-shot check
    res2 = submit(market, tid, *batch([allow_list.proof(rand_addr()) for _ in range(3)]), server)
    assert res2.batch_valid and len(res2.accepted) == 3
    # every server that delivers earns the fee of every accepted gradient, whoever submitted
    market.close_submissions(tid, accounts["mo"])
    for s in servers:
        market.deliver_aggregate(tid, b"sealed share of " + bytes.fromhex(s[2:]), s)
        assert market.balance_of(s) - before[s] == 6 * FEE
    assert market.task(tid).n_delivered == N_SERVERS


def test_structural_rejections(market, allow_list, accounts):
    tid = open_task(market, allow_list, accounts)
    server = accounts["servers"][0]
    good = allow_list.proof(rand_addr())
    zero_owner = allow_list.proof("0x0")
    wrong_pin = allow_list.proof(rand_addr())
    wrong_pin[1][3] = 8  # the MO pinned input 3 to 7
    res = submit(market, tid, *batch([good, zero_owner, wrong_pin]), server)
    assert len(res.accepted) == 1
    assert {r for _, _, r in res.rejected} == {Reject.BAD_OWNER, Reject.PINNED_MISMATCH}
    with pytest.raises(ChainError, match="bad inputs length"):
        submit(market, tid, good[0], good[1][:-1], server)


def test_escrow_exhaustion_and_withdraw(market, allow_list, accounts, w3):
    tid = open_task(market, allow_list, accounts, escrow=2500)  # room for 2 of 1030
    dos = accounts["dos"][:3]
    res = submit(market, tid, *batch([allow_list.proof(d) for d in dos]), accounts["servers"][2])
    assert res.accepted == dos[:2]
    assert res.rejected[0][2] == Reject.ESCROW_EXHAUSTED
    assert not market.is_paid(tid, dos[2])
    bal = w3.eth.get_balance(dos[0])
    amount, tx = market.withdraw(dos[0])
    assert amount == market_reward_total(market, dos[0], amount)
    gas_cost = tx.gas_used * w3.eth.get_transaction(tx.tx_hash)["gasPrice"]
    assert w3.eth.get_balance(dos[0]) == bal + amount - gas_cost
    with pytest.raises(ChainError, match="nothing to withdraw"):
        market.withdraw(dos[0])
    assert market.ether_balance() == market.total_held()


def market_reward_total(market, who, amount):
    assert market.balance_of(who) == 0  # pulled: balance now zero
    return amount


def test_reclaim_exactly_unspent_after_deadline(market, allow_list, accounts, w3):
    """Reclaim waits for the delivery deadline and returns exactly the escrow nobody was
    credited plus the fees of the servers that did not deliver their aggregate share."""
    escrow = 7777
    tid = open_task(market, allow_list, accounts, escrow=escrow)
    servers = accounts["servers"]
    server = servers[0]
    submit(market, tid, *batch([allow_list.proof(rand_addr()) for _ in range(3)]), server)
    with pytest.raises(ChainError, match="delivery deadline not reached"):
        market.reclaim(tid, accounts["mo"])
    with pytest.raises(ChainError, match="submissions still open"):
        market.deliver_aggregate(tid, b"share", servers[1])
    advance_time(w3, 3601)
    with pytest.raises(ChainError, match="task closed"):
        submit(market, tid, *batch([allow_list.proof(rand_addr())]), server)
    # after the deadline, before the delivery deadline: servers deliver, the MO cannot reclaim
    with pytest.raises(ChainError, match="delivery deadline not reached"):
        market.reclaim(tid, accounts["mo"])
    before = market.balance_of(servers[1])
    market.deliver_aggregate(tid, b"share", servers[1])
    assert market.balance_of(servers[1]) - before == 3 * FEE
    with pytest.raises(ChainError, match="already delivered"):
        market.deliver_aggregate(tid, b"share", servers[1])
    advance_time(w3, 3600)
    with pytest.raises(ChainError, match="delivery deadline passed"):
        market.deliver_aggregate(tid, b"share", servers[2])
    with pytest.raises(ChainError, match="only the task owner"):
        market.reclaim(tid, accounts["outsider"])
    held_before = market.total_held()
    unspent = escrow - 3 * COST + 2 * 3 * FEE  # two servers withheld their share
    assert market.reclaimable(tid) == unspent
    amount, res = market.reclaim(tid, accounts["mo"])
    assert amount == unspent
    assert sorted(e.args["forfeited"] for e in res.named("AggregateWithheld")) == [3 * FEE] * 2
    assert market.total_held() == held_before - amount
    info = market.task(tid)
    assert info.remaining == 0 and info.settled and market.reclaimable(tid) == 0
    with pytest.raises(ChainError, match="already reclaimed"):
        market.reclaim(tid, accounts["mo"])
    assert market.ether_balance() == market.total_held()


def test_nothing_to_reclaim(market, allow_list, accounts, w3):
    """Escrow spent exactly and every server delivered: nothing is left for the MO."""
    tid = open_task(market, allow_list, accounts, escrow=2 * COST)
    submit(market, tid, *batch([allow_list.proof(rand_addr()) for _ in range(2)]),
           accounts["servers"][0])
    market.close_submissions(tid, accounts["mo"])
    for s in accounts["servers"]:
        market.deliver_aggregate(tid, b"share", s)
    advance_time(w3, 3600 + 3601)  # past the delivery deadline
    assert market.reclaimable(tid) == 0
    with pytest.raises(ChainError, match="nothing to reclaim"):
        market.reclaim(tid, accounts["mo"])
    assert market.ether_balance() == market.total_held()


def test_binding_challenge_flow(market, allow_list, accounts):
    from omnidsl.market.attestation import seed_hash

    tid = open_task(market, allow_list, accounts, binding=True)
    servers = accounts["servers"]
    p = allow_list.proof(rand_addr())
    with pytest.raises(ChainError, match="challenge not fixed"):
        submit(market, tid, *batch([p]), servers[0])
    with pytest.raises(ChainError, match="not a registered server"):
        market.commit_shares(tid, b"\x01" * 32, b"\x02" * 32, accounts["outsider"])
    seeds = [secrets.token_bytes(32) for _ in servers]
    for i, (s, seed) in enumerate(zip(servers, seeds, strict=True)):
        if i:
            with pytest.raises(ChainError, match="not every server has committed"):
                market.reveal_seed(tid, seeds[0], servers[0])
        res = market.commit_shares(tid, bytes([i + 1]) * 32, seed_hash(tid, s, seed), s)
        assert not res.named("ChallengeFixed")  # commitments alone never fix rho
    with pytest.raises(ChainError, match="already committed"):
        market.commit_shares(tid, b"\x09" * 32, b"\x09" * 32, servers[0])
    with pytest.raises(ChainError, match="seed does not match"):
        market.reveal_seed(tid, seeds[1], servers[0])
    for i, (s, seed) in enumerate(zip(servers, seeds, strict=True)):
        res = market.reveal_seed(tid, seed, s)
        assert bool(res.named("ChallengeFixed")) == (i == len(servers) - 1)
    with pytest.raises(ChainError, match="already revealed"):
        market.reveal_seed(tid, seeds[0], servers[0])
    info = market.task(tid)
    assert info.challenge_fixed and info.rho > 0 and info.n_revealed == len(servers)
    a, b = rand_addr(), rand_addr()
    items = [allow_list.proof(a, rho=info.rho, fp=123), allow_list.proof(b, rho=info.rho, fp=456),
             allow_list.proof(rand_addr(), rho=info.rho + 1, fp=5)]
    res = submit(market, tid, *batch(items), servers[0])
    assert res.fingerprints == {a: 123, b: 456}
    assert res.rejected[0][2] == Reject.WRONG_CHALLENGE
    assert market.task(tid).fp_sum == 579
    assert (FP, OWNER, RHO) == (0, 1, 2)


def test_create_task_validation(market, allow_list, accounts, w3):
    servers = accounts["servers"]
    ok = make_spec(allow_list.contract.address, servers, now(w3) + 100)
    with pytest.raises(ChainError, match="escrow must be positive"):
        market.create_task(ok, 0, accounts["mo"])
    with pytest.raises(ChainError, match="deadline in the past"):
        market.create_task(make_spec(allow_list.contract.address, servers, now(w3) - 1), 1,
                           accounts["mo"])
    with pytest.raises(ChainError, match="verifier has no code"):
        market.create_task(make_spec(rand_addr(), servers, now(w3) + 100), 1, accounts["mo"])
    with pytest.raises(ChainError, match="duplicate server"):
        market.create_task(make_spec(allow_list.contract.address, [servers[0]] * 2, now(w3) + 100),
                           1, accounts["mo"])
    deadline = now(w3) + 100
    with pytest.raises(ChainError, match="delivery deadline not after the deadline"):
        market.create_task(make_spec(allow_list.contract.address, servers, deadline,
                                     deliver_by=deadline), 1, accounts["mo"])
    with pytest.raises(ChainError, match="no owner key"):
        market.create_task(dataclasses.replace(ok, owner_key=b"\0" * 32), 1, accounts["mo"])
    with pytest.raises(ChainError, match="a bond needs aggregate binding"):
        market.create_task(make_spec(allow_list.contract.address, servers, deadline, bond=1), 1,
                           accounts["mo"])


def test_withdraw_cannot_be_reentered(market, allow_list, accounts, w3):
    from market_helpers import HERE

    from omnidsl.chain import deploy, transact
    from omnidsl.solidity.compile import compile_sources

    src = (HERE / "contracts" / "ReentrantReceiver.sol").read_text()
    cc = compile_sources({"ReentrantReceiver.sol": src})["ReentrantReceiver"]
    attacker = deploy(w3, cc.abi, cc.bytecode, market.address)
    tid = open_task(market, allow_list, accounts)
    submit(market, tid, *batch([allow_list.proof(attacker.address)]), accounts["servers"][0])
    assert market.balance_of(attacker.address) == REWARD
    transact(w3, attacker.functions.pull(), sender=accounts["outsider"], gas=500_000)
    assert attacker.functions.reentryBlocked().call()
    assert attacker.functions.attempts().call() == 1
    assert w3.eth.get_balance(attacker.address) == REWARD  # paid once
    assert market.balance_of(attacker.address) == 0
    assert market.ether_balance() == market.total_held()
