"""Escrow conservation over a seeded random sequence of ≥ 200 market actions (embedded chain).

Uses the TEST-ONLY allow-list verifier (see contracts/AllowListTestVerifier.sol): which proofs are
"valid" is decided by the test, so hundreds of actions stay cheap.  A Python model of the ledger is
checked against the chain after every action, and ether in == ether out + ether held.
"""

from __future__ import annotations

import random
import secrets

import pytest
from market_helpers import AllowList, advance_time, make_spec, now
from web3 import Web3

from omnidsl.errors import ChainError
from omnidsl.market.chains import embedded_chain
from omnidsl.market.client import MarketClient

pytestmark = pytest.mark.chain

N_ACTIONS = 220


@pytest.fixture(scope="module")
def fresh():
    w3 = embedded_chain()
    from market_helpers import HERE

    from omnidsl.market.chains import deploy
    from omnidsl.solidity.compile import compile_sources

    src = (HERE / "contracts" / "AllowListTestVerifier.sol").read_text()
    cc = compile_sources({"AllowListTestVerifier.sol": src})["AllowListTestVerifier"]
    return w3, MarketClient.deploy(w3), AllowList(deploy(w3, cc.abi, cc.bytecode), w3)


def test_escrow_conserved_over_random_actions(fresh):
    w3, market, al = fresh
    seed = secrets.randbits(32)
    rng = random.Random(seed)
    acc = w3.eth.accounts
    mo_accounts, servers, outsider, dos = acc[0:2], acc[2:5], acc[5], acc[6:10]
    paper_dos = [Web3.to_checksum_address("0x" + rng.randbytes(20).hex()) for _ in range(4)]
    all_dos = dos + paper_dos

    tasks: dict[int, dict] = {}  # model: remaining, reward, fee, deadline, owner, paid
    balances: dict[str, int] = {}
    eth_in = eth_out = 0
    counts: dict[str, int] = {}

    def check() -> None:
        held = sum(t["remaining"] for t in tasks.values()) + sum(balances.values())
        assert market.total_held() == held, f"seed {seed}"
        assert market.ether_balance() == eth_in - eth_out == held, f"seed {seed}"

    for step in range(N_ACTIONS):
        kind = rng.choices(["create", "add", "submit", "withdraw", "reclaim", "time"],
                           weights=[2 if tasks else 10, 1, 6, 2, 2, 1])[0]
        counts[kind] = counts.get(kind, 0) + 1
        open_ids = [i for i, t in tasks.items() if t["deadline"] >= now(w3) + 120]
        if kind == "create" or (kind in ("add", "submit") and not open_ids):
            owner = rng.choice(mo_accounts)
            reward, fee = rng.randint(1, 500), rng.randint(0, 50)
            escrow = rng.randint(1, 6) * (reward + fee) + rng.randint(0, reward)
            deadline = now(w3) + rng.randint(300, 2000)
            spec = make_spec(al.contract.address, servers, deadline, reward=reward, fee=fee)
            tid, _ = market.create_task(spec, escrow, owner)
            tasks[tid] = {"remaining": escrow, "reward": reward, "fee": fee, "deadline": deadline,
                          "owner": owner, "paid": set()}
            eth_in += escrow
        elif kind == "add":
            tid = rng.choice(open_ids)
            amount = rng.randint(1, 1000)
            market.add_escrow(tid, amount, rng.choice(acc))
            tasks[tid]["remaining"] += amount
            eth_in += amount
        elif kind == "submit":
            tid = rng.choice(open_ids)
            t = tasks[tid]
            sender = rng.choice([*servers, outsider]) if rng.random() < 0.1 else rng.choice(servers)
            items = [(rng.choice(all_dos), rng.random() < 0.8) for _ in range(rng.randint(1, 4))]
            proofs, inputs = [], []
            for owner, valid in items:
                words, inp = al.proof(owner, valid=valid)
                proofs += words
                inputs += inp
            if sender == outsider:
                with pytest.raises(ChainError, match="not a registered server"):
                    market.submit_batch(tid, proofs, inputs, sender)
            else:
                res = market.submit_batch(tid, proofs, inputs, sender)
                expected = []
                for owner, valid in items:  # the contract's rule, replayed in the model
                    cost = t["reward"] + t["fee"]
                    if valid and owner not in t["paid"] and t["remaining"] >= cost:
                        t["paid"].add(owner)
                        t["remaining"] -= cost
                        balances[owner] = balances.get(owner, 0) + t["reward"]
                        balances[sender] = balances.get(sender, 0) + t["fee"]
                        expected.append(owner)
                assert res.accepted == expected, f"seed {seed} step {step}"
        elif kind == "withdraw":
            who = rng.choice([*dos, *servers, outsider])
            if balances.get(who, 0) > 0:
                amount, _ = market.withdraw(who)
                assert amount == balances.pop(who)
                eth_out += amount
            else:
                with pytest.raises(ChainError, match="nothing to withdraw"):
                    market.withdraw(who)
        elif kind == "reclaim" and tasks:
            tid = rng.choice(list(tasks))
            t = tasks[tid]
            caller = t["owner"] if rng.random() < 0.9 else outsider
            if caller != t["owner"]:
                with pytest.raises(ChainError, match="only the task owner"):
                    market.reclaim(tid, caller)
            elif abs(t["deadline"] - now(w3)) <= 10:  # too close to call: real time moves too
                advance_time(w3, 20)
            elif now(w3) < t["deadline"]:
                with pytest.raises(ChainError, match="deadline not reached"):
                    market.reclaim(tid, caller)
            elif t["remaining"] == 0:
                with pytest.raises(ChainError, match="nothing to reclaim"):
                    market.reclaim(tid, caller)
            else:
                amount, _ = market.reclaim(tid, caller)
                assert amount == t["remaining"], f"seed {seed}"
                t["remaining"] = 0
                eth_out += amount
        else:
            advance_time(w3, rng.randint(100, 600))
        check()

    for tid, t in tasks.items():
        info = market.task(tid)
        assert info.remaining == t["remaining"] and info.accepted == len(t["paid"])
        for d in all_dos:
            assert market.is_paid(tid, d) == (d in t["paid"])
    for who, amount in balances.items():
        assert market.balance_of(who) == amount
    assert counts.get("submit", 0) >= 50 and sum(counts.values()) == N_ACTIONS
