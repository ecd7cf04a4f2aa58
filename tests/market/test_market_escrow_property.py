"""Escrow conservation over a seeded random sequence of ≥ 200 market actions (embedded chain).

Uses the TEST-ONLY allow-list verifier (see contracts/AllowListTestVerifier.sol): which proofs are
"valid" is decided by the test, so hundreds of actions stay cheap.  The actions cover the whole
life of a task: create, top up, commit (with the server bond) and reveal the challenge seeds,
submit attested batches (and badly attested ones), close, deliver the aggregate shares, withdraw,
reclaim after the delivery deadline, and time passing.  A Python model of the ledger is checked
against the chain after every action: ``totalHeld`` equals the escrow not yet reserved, plus the
fees reserved for servers that have not delivered yet, plus the bonds held, plus all balances;
and ether in == ether out + ether held.
"""

from __future__ import annotations

import random
import secrets

import pytest
from market_helpers import AllowList, account_keys, advance_time, make_spec, now, sign_batch
from web3 import Web3

from omnidsl.chain import embedded_chain
from omnidsl.errors import ChainError
from omnidsl.field import R
from omnidsl.market.attestation import seed_hash, sign_digest
from omnidsl.market.client import MarketClient

pytestmark = pytest.mark.chain

N_ACTIONS = 300
#: Closer than this (s) to a deadline, the outcome depends on when the next block is mined.
MARGIN = 10
KINDS = ["create", "add", "submit", "commit", "reveal", "close", "deliver", "withdraw",
         "reclaim", "time"]


@pytest.fixture(scope="module")
def fresh():
    w3 = embedded_chain()
    from market_helpers import HERE

    from omnidsl.chain import deploy
    from omnidsl.solidity.compile import compile_sources

    src = (HERE / "contracts" / "AllowListTestVerifier.sol").read_text()
    cc = compile_sources({"AllowListTestVerifier.sol": src})["AllowListTestVerifier"]
    return w3, MarketClient.deploy(w3), AllowList(deploy(w3, cc.abi, cc.bytecode), w3)


def test_escrow_conserved_over_random_actions(fresh):
    w3, market, al = fresh
    seed = secrets.randbits(32)
    rng = random.Random(seed)
    acc = w3.eth.accounts
    keys = account_keys(w3)
    mo_accounts, servers, outsider, dos = acc[0:2], acc[2:5], acc[5], acc[6:10]
    n_servers = len(servers)
    paper_dos = [Web3.to_checksum_address("0x" + rng.randbytes(20).hex()) for _ in range(4)]
    all_dos = dos + paper_dos

    tasks: dict[int, dict] = {}  # the model of each task (see "create")
    balances: dict[str, int] = {}
    eth_in = eth_out = 0
    counts: dict[str, int] = {}
    done: dict[str, int] = {}  # successful state changes per kind

    def phase(t: dict) -> str | None:
        """open / delivery / over, or None if the next block may fall on either side."""
        ts = now(w3)
        if abs(ts - t["deadline"]) <= MARGIN or abs(ts - t["deliver_by"]) <= MARGIN:
            return None
        if ts < t["deadline"] and not t["closed"]:
            return "open"
        return "delivery" if ts < t["deliver_by"] else "over"

    def held_for(t: dict) -> int:
        """Ether the contract holds for a task outside the balances."""
        if t["settled"]:
            return 0
        waiting = [s for s in servers if s not in t["delivered"]]
        return (t["remaining"] + t["accepted"] * t["fee"] * len(waiting)
                + t["bond"] * sum(s in t["committed"] for s in waiting))

    def check() -> None:
        held = sum(held_for(t) for t in tasks.values()) + sum(balances.values())
        assert market.total_held() == held, f"seed {seed}"
        assert market.ether_balance() == eth_in - eth_out == held, f"seed {seed}"

    def pick(ids: list[int], eligible, progress=None) -> int:
        """Mostly a task where the action can succeed (the most advanced one by ``progress``),
        sometimes any (the error paths)."""
        good = [i for i in ids if eligible(tasks[i])]
        if not good or rng.random() >= 0.85:
            return rng.choice(ids)
        if progress is not None:
            return max(good, key=lambda i: progress(tasks[i]))
        return rng.choice(good)

    def burst(left: list[str]) -> list[str]:
        """The servers acting in one commit/reveal action: some of those still to act (in
        random order), or one server at random (the error paths)."""
        if left and rng.random() < 0.9:
            return rng.sample(left, rng.randint(1, len(left)))
        return [rng.choice(servers)]

    def expect_revert(match: str, fn, *args, **kw) -> None:
        with pytest.raises(ChainError, match=match):
            fn(*args, **kw)

    for step in range(N_ACTIONS):
        kind = rng.choices(KINDS, weights=[2 if tasks else 10, 1, 6, 3, 3, 1, 2, 2, 2, 1])[0]
        counts[kind] = counts.get(kind, 0) + 1
        open_ids = [i for i, t in tasks.items()
                    if not t["closed"] and t["deadline"] >= now(w3) + 120]
        if kind in ("add", "submit", "commit", "reveal", "close") and not open_ids:
            kind = "create"
        if kind in ("deliver", "reclaim") and not tasks:
            kind = "create"
        if kind == "create":
            owner = rng.choice(mo_accounts)
            reward, fee = rng.randint(1, 500), rng.randint(0, 50)
            binding = rng.random() < 0.5
            bond = rng.choice([0, rng.randint(1, 300)]) if binding else 0
            cost = reward + n_servers * fee
            escrow = rng.randint(1, 6) * cost + rng.randint(0, reward)
            # a binding task needs every server's commitment and reveal before any submission
            deadline = now(w3) + (rng.randint(1200, 3000) if binding else rng.randint(300, 2000))
            deliver_by = deadline + rng.randint(60, 1500)
            spec = make_spec(al.contract.address, servers, deadline, reward=reward, fee=fee,
                             binding=binding, deliver_by=deliver_by, bond=bond)
            tid, _ = market.create_task(spec, escrow, owner)
            tasks[tid] = {"remaining": escrow, "reward": reward, "fee": fee, "bond": bond,
                          "binding": binding, "deadline": deadline, "deliver_by": deliver_by,
                          "owner": owner, "paid": set(), "accepted": 0, "fp_sum": 0,
                          "committed": set(), "revealed": set(), "seeds": {}, "rho": None,
                          "closed": False, "delivered": set(), "settled": False}
            eth_in += escrow
        elif kind == "add":
            tid = rng.choice(open_ids)
            amount = rng.randint(1, 1000)
            market.add_escrow(tid, amount, rng.choice(acc))
            tasks[tid]["remaining"] += amount
            eth_in += amount
        elif kind == "submit":
            tid = pick(open_ids, lambda t: not t["binding"] or t["rho"] is not None)
            t = tasks[tid]
            sender = rng.choice([*servers, outsider]) if rng.random() < 0.1 else rng.choice(servers)
            items = [(rng.choice(all_dos), rng.random() < 0.8, rng.random() < 0.1,
                      rng.randint(0, 1000)) for _ in range(rng.randint(1, 4))]
            proofs, inputs = [], []
            for owner, valid, wrong_rho, fp in items:
                rho = (t["rho"] or 0) + (1 if wrong_rho else 0)
                words, inp = al.proof(owner, rho=rho, fp=fp, valid=valid)
                proofs += words
                inputs += inp
            sigs = sign_batch(market, tid, proofs, inputs, keys)
            forged = rng.random() < 0.15
            if forged:  # one server did not attest this batch
                bad = rng.randrange(n_servers)
                how = rng.choice(["missing", "outsider", "other batch"])
                if how == "missing":
                    sigs = sigs[:65 * bad] + sigs[65 * (bad + 1):]
                    why = "one signature per server required"
                else:
                    signer = outsider if how == "outsider" else servers[bad]
                    digest = market.attestation_digest(
                        tid, proofs, inputs if how == "outsider" else [*inputs[:-1], 8])
                    sig = sign_digest(w3, signer, digest, keys[signer])
                    sigs = sigs[:65 * bad] + sig + sigs[65 * (bad + 1):]
                    why = f"batch not attested by server {bad}"
            if sender == outsider:
                expect_revert("not a registered server", market.submit_batch, tid, proofs,
                              inputs, sigs, sender)
            elif t["binding"] and t["rho"] is None:
                expect_revert("challenge not fixed yet", market.submit_batch, tid, proofs,
                              inputs, sigs, sender)
            elif forged:
                expect_revert(why, market.submit_batch, tid, proofs, inputs, sigs, sender)
            else:
                res = market.submit_batch(tid, proofs, inputs, sigs, sender)
                expected = []
                cost = t["reward"] + n_servers * t["fee"]
                for owner, valid, wrong_rho, fp in items:  # the contract's rule, replayed
                    right_rho = not (t["binding"] and wrong_rho)
                    if valid and right_rho and owner not in t["paid"] and t["remaining"] >= cost:
                        t["paid"].add(owner)
                        t["remaining"] -= cost
                        t["accepted"] += 1
                        if t["binding"]:
                            t["fp_sum"] = (t["fp_sum"] + fp) % R
                        balances[owner] = balances.get(owner, 0) + t["reward"]
                        expected.append(owner)
                assert res.accepted == expected, f"seed {seed} step {step}"
                done[kind] = done.get(kind, 0) + 1
        elif kind == "commit":
            tid = pick(open_ids, lambda t: t["binding"] and len(t["committed"]) < n_servers,
                       lambda t: len(t["committed"]))
            t = tasks[tid]
            for s in burst([s for s in servers if s not in t["committed"]]):
                seed_s = secrets.token_bytes(32)
                bond = t["bond"] if rng.random() < 0.9 else t["bond"] + 1
                args = (tid, secrets.token_bytes(32), seed_hash(tid, s, seed_s), s)
                if not t["binding"]:
                    expect_revert("no aggregate binding", market.commit_shares, *args, bond=bond)
                elif s in t["committed"]:
                    expect_revert("already committed", market.commit_shares, *args, bond=bond)
                elif bond != t["bond"]:
                    expect_revert("bond must equal", market.commit_shares, *args, bond=bond)
                else:
                    market.commit_shares(*args, bond=bond)
                    t["committed"].add(s)
                    t["seeds"][s] = seed_s
                    eth_in += bond
                    done[kind] = done.get(kind, 0) + 1
        elif kind == "reveal":
            tid = pick(open_ids, lambda t: len(t["committed"]) == n_servers
                       and len(t["revealed"]) < n_servers, lambda t: len(t["revealed"]))
            t = tasks[tid]
            for s in burst([s for s in servers if s not in t["revealed"]]):
                if len(t["committed"]) < n_servers:
                    expect_revert("not every server has committed", market.reveal_seed, tid,
                                  b"\x01" * 32, s)
                elif s in t["revealed"]:
                    expect_revert("already revealed", market.reveal_seed, tid, t["seeds"][s], s)
                elif rng.random() < 0.1:
                    expect_revert("seed does not match", market.reveal_seed, tid,
                                  secrets.token_bytes(32), s)
                else:
                    res = market.reveal_seed(tid, t["seeds"][s], s)
                    t["revealed"].add(s)
                    last = len(t["revealed"]) == n_servers
                    assert bool(res.named("ChallengeFixed")) == last, f"seed {seed} step {step}"
                    if last:
                        t["rho"] = market.task(tid).rho
                    done[kind] = done.get(kind, 0) + 1
        elif kind == "close":
            tid = rng.choice(open_ids)
            t = tasks[tid]
            caller = t["owner"] if rng.random() < 0.9 else outsider
            if caller != t["owner"]:
                expect_revert("only the task owner", market.close_submissions, tid, caller)
            else:
                market.close_submissions(tid, caller)
                t["closed"] = True
                expect_revert("task closed", market.close_submissions, tid, caller)
                done[kind] = done.get(kind, 0) + 1
        elif kind == "deliver":
            tid = pick(list(tasks), lambda t: phase(t) == "delivery"
                       and len(t["delivered"]) < n_servers)
            t = tasks[tid]
            left = [s for s in servers if s not in t["delivered"]]
            s = rng.choice(left) if left and rng.random() < 0.9 else rng.choice(servers)
            ph = phase(t)
            if ph is None:
                advance_time(w3, 2 * MARGIN)
            elif ph == "open":
                expect_revert("submissions still open", market.deliver_aggregate, tid, b"x", s)
            elif ph == "over":
                expect_revert("delivery deadline passed", market.deliver_aggregate, tid, b"x", s)
            elif s in t["delivered"]:
                expect_revert("already delivered", market.deliver_aggregate, tid, b"x", s)
            else:
                res = market.deliver_aggregate(tid, rng.randbytes(rng.randint(1, 200)), s)
                paid = t["accepted"] * t["fee"] + (t["bond"] if s in t["committed"] else 0)
                assert res.named("AggregateDelivered")[0].args["paid"] == paid
                t["delivered"].add(s)
                balances[s] = balances.get(s, 0) + paid
                done[kind] = done.get(kind, 0) + 1
        elif kind == "withdraw":
            who = rng.choice([*dos, *servers, outsider])
            if balances.get(who, 0) > 0:
                amount, _ = market.withdraw(who)
                assert amount == balances.pop(who)
                eth_out += amount
                done[kind] = done.get(kind, 0) + 1
            else:
                expect_revert("nothing to withdraw", market.withdraw, who)
        elif kind == "reclaim":
            tid = pick(list(tasks), lambda t: phase(t) == "over" and not t["settled"])
            t = tasks[tid]
            caller = t["owner"] if rng.random() < 0.9 else outsider
            ph = phase(t)
            owed = held_for(t)
            if caller != t["owner"]:
                expect_revert("only the task owner", market.reclaim, tid, caller)
            elif ph is None:  # too close to call: real time moves too
                advance_time(w3, 2 * MARGIN)
            elif ph != "over":
                expect_revert("delivery deadline not reached", market.reclaim, tid, caller)
            elif t["settled"]:
                expect_revert("already reclaimed", market.reclaim, tid, caller)
            elif owed == 0:
                expect_revert("nothing to reclaim", market.reclaim, tid, caller)
            else:
                assert market.reclaimable(tid) == owed, f"seed {seed} step {step}"
                amount, _ = market.reclaim(tid, caller)
                assert amount == owed, f"seed {seed} step {step}"
                t["remaining"] = 0
                t["settled"] = True
                eth_out += amount
                done[kind] = done.get(kind, 0) + 1
        else:
            advance_time(w3, rng.randint(100, 600))
        check()

    for tid, t in tasks.items():
        info = market.task(tid)
        assert info.remaining == t["remaining"] and info.accepted == len(t["paid"]) == t["accepted"]
        assert info.n_committed == len(t["committed"]) and info.n_revealed == len(t["revealed"])
        assert info.n_delivered == len(t["delivered"]) and info.settled == t["settled"]
        assert info.fp_sum == t["fp_sum"] and info.challenge_fixed == (t["rho"] is not None)
        assert info.server_bond == t["bond"] and info.deliver_by == t["deliver_by"]
        for d in all_dos:
            assert market.is_paid(tid, d) == (d in t["paid"])
        if not t["settled"]:
            assert market.reclaimable(tid) == held_for(t)
    for who, amount in balances.items():
        assert market.balance_of(who) == amount
    assert counts.get("submit", 0) >= 50 and sum(counts.values()) == N_ACTIONS
    assert done.get("reveal", 0) >= n_servers, f"seed {seed}: no challenge was fixed"
    print(f"seed {seed}: actions {counts}, state changes {done}")
