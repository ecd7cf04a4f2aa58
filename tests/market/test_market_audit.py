"""Chain audit of contracts/Market.sol with the REAL generated verifier and snarkjs proofs on
anvil.  Rule: Toy(2) with public inputs [owner, v]; the task pins v and reads the owner at 0.
Every batch carries the attestation of every server of its task (anvil signs with eth_sign)."""

from __future__ import annotations

from typing import Any

import pytest
from market_helpers import OWNER_KEY, sign_batch, submit
from web3 import Web3

from omnidsl.errors import ChainError
from omnidsl.field import Q, R
from omnidsl.market.client import MarketClient, Reject, TaskSpec
from omnidsl.market.roles import Server
from omnidsl.solidity.render import batch_calldata
from tests.solidity.evm_points import twist_point_outside_subgroup

pytestmark = pytest.mark.chain

V = 77  # the pinned public input
REWARD, FEE = 1000, 10


def _task(w3: Web3, market: MarketClient, verifier: str, servers: list[str], escrow: int = 10**18,
          reward: int = REWARD, fee: int = FEE, pinned_v: int = V, ttl: int = 3600) -> int:
    now = int(w3.eth.get_block("latest")["timestamp"])
    spec = TaskSpec(verifier=verifier, n_public=2, owner_index=0, deadline=now + ttl,
                    reward_per_gradient=reward, server_fee=fee, servers=servers,
                    owner_key=OWNER_KEY, pinned={1: pinned_v})
    tid, _ = market.create_task(spec, escrow, w3.eth.accounts[0])
    return tid


def _items(prove, owners: list[str], v: int = V) -> list[tuple[dict[str, Any], list[str]]]:
    return prove([(int(o, 16), v) for o in owners])


def _outcome(fn: Any, sender: str, gas: int) -> int | None:
    """submitBatch's return value (accepted count) as an eth_call with ``gas``; None = reverted."""
    try:
        return int(fn.call({"from": sender, "gas": gas}))
    except Exception:  # any revert / out-of-gas counts as "reverted"
        return None


def test_low_gas_never_rejects_valid_proofs(audit_anvil, audit_market, audit_verifier, audit_prove):
    """FIXED (High): with a gas limit just too small for the verifier, the verifier's gasleft()
    precheck reverted, Market swallowed the revert (its `gasleft() > gasBefore/64` test only
    catches a callee that burnt all its gas) and recorded every valid proof as InvalidProof in a
    successful transaction (seen at 200k-260k gas for 2 proofs).  eth_estimateGas looks for the
    lowest succeeding limit, so honest wallets would hit it too.  Now any verifier revert reverts
    the submission, so at every gas limit the outcome is "revert" or "all valid proofs credited"."""
    w3 = audit_anvil
    acc = w3.eth.accounts
    tid = _task(w3, audit_market, audit_verifier.address, [acc[1]])
    (p_ok0, x_ok0), (p_ok1, x_ok1), (p_bad, x_bad) = _items(audit_prove, acc[5:8])
    p_bad = {**p_bad, "pi_c": p_ok0["pi_c"]}  # invalid proof for acc[7]
    cases = {
        "batch of 2 valid": ([(p_ok0, x_ok0), (p_ok1, x_ok1)], 2),
        "1 valid (single path)": ([(p_ok0, x_ok0)], 1),
        "valid + invalid (fallback)": ([(p_ok0, x_ok0), (p_bad, x_bad)], 1),
    }
    for label, (items, want) in cases.items():
        proofs, inputs = batch_calldata(items)
        fn = audit_market.contract.functions.submitBatch(tid, proofs, inputs,
                                                   sign_batch(audit_market, tid, proofs, inputs))
        assert _outcome(fn, acc[1], 30_000_000) == want, label
        seen = set()
        for gas in range(40_000, 1_300_000, 7_000):
            got = _outcome(fn, acc[1], gas)
            seen.add(got)
            assert got in (None, want), f"{label}: gas {gas} credited {got} of {want}"
        assert seen == {None, want}, label
        # the node's estimate is a limit at which the valid proofs ARE credited
        est = fn.estimate_gas({"from": acc[1]})
        assert _outcome(fn, acc[1], est) == want, label


def test_double_payment_and_malleated_proof(audit_anvil, audit_market, audit_verifier, audit_prove):
    """isPaid is keyed on the DO address (a public input), not on proof bytes: the malleated
    proof (-A, -B, C) of a paid DO is valid but earns nothing; the same DO twice in one batch is
    credited once."""
    w3 = audit_anvil
    acc = w3.eth.accounts
    tid = _task(w3, audit_market, audit_verifier.address, [acc[1]])
    (p0, x0), (p1, x1) = _items(audit_prove, acc[5:7])
    neg = {**p0, "pi_a": [p0["pi_a"][0], str(Q - int(p0["pi_a"][1])), "1"],
           "pi_b": [p0["pi_b"][0], [str(Q - int(p0["pi_b"][1][0])), str(Q - int(p0["pi_b"][1][1]))],
                    ["1", "0"]]}
    res = submit(audit_market, tid, *batch_calldata([(p0, x0), (p0, x0), (neg, x0), (p1, x1)]),
                              acc[1])
    assert res.batch_valid  # all four are valid Groth16 proofs (malleability is inherent)
    assert sorted(res.accepted) == sorted(acc[5:7])
    assert [(i, r) for i, _, r in res.rejected] == [(1, Reject.ALREADY_PAID),
                                                    (2, Reject.ALREADY_PAID)]
    again = submit(audit_market, tid, *batch_calldata([(neg, x0)]), acc[1])
    assert again.accepted == [] and again.rejected[0][2] == Reject.ALREADY_PAID
    assert audit_market.task(tid).remaining == 10**18 - 2 * (REWARD + FEE)


def test_owner_substitution_needs_a_new_proof(audit_anvil, audit_market, audit_verifier, audit_prove):
    """Front-running a DO's proof with another owner address (or the same residue + r) fails:
    an honest server refuses to attest it (its prover never produced it), and even with every
    server's signature the chain refuses it (the owner is bound in the proof)."""
    w3 = audit_anvil
    acc = w3.eth.accounts
    tid = _task(w3, audit_market, audit_verifier.address, [acc[1], acc[2]])
    ((p, x),) = _items(audit_prove, [acc[5]])
    thief = int(acc[8], 16)
    stolen = [str(thief), x[1]]
    honest = Server(audit_market, acc[1])  # signs with the node's eth_sign
    honest.record(tid, [(p, x)])  # what its prover produced in this task
    assert honest.vet(tid, [(p, x)]) == [None]
    (why,) = honest.vet(tid, [(p, stolen)])
    assert why is not None and "did not produce it" in why
    with pytest.raises(ChainError, match="refuses to sign batch item 0"):
        honest.submit(tid, [(p, stolen)], cosigners=[Server(audit_market, acc[2])])
    assert audit_market.task(tid).accepted == 0
    # owner binding holds even if every server signs the stolen proof
    res = submit(audit_market, tid, *batch_calldata([(p, stolen)]), acc[2])
    assert res.accepted == [] and res.rejected == [(0, Web3.to_checksum_address(acc[8]),
                                                    Reject.INVALID_PROOF)]
    # owner + r: same field element, but not a 160-bit address (and the verifier refuses >= r)
    res = submit(audit_market, tid, *batch_calldata([(p, [str(int(x[0]) + R), x[1]])]), acc[2])
    assert res.accepted == [] and res.rejected[0][2] == Reject.BAD_OWNER
    ok = submit(audit_market, tid, *batch_calldata([(p, x)]), acc[1])
    assert ok.accepted == [Web3.to_checksum_address(acc[5])]


def test_only_registered_servers_and_deadline(audit_anvil, audit_market, audit_verifier, audit_prove):
    w3 = audit_anvil
    acc = w3.eth.accounts
    tid = _task(w3, audit_market, audit_verifier.address, [acc[1]], ttl=600)
    items = _items(audit_prove, [acc[5]])
    with pytest.raises(ChainError, match="not a registered server"):
        submit(audit_market, tid, *batch_calldata(items), acc[2])
    with pytest.raises(ChainError, match="delivery deadline not reached"):
        audit_market.reclaim(tid, acc[0])
    deadline = audit_market.task(tid).deadline
    # last second inside the deadline: accepted; one second later: closed
    w3.provider.make_request("evm_setNextBlockTimestamp", [deadline])
    assert submit(audit_market, tid, *batch_calldata(items), acc[1]).accepted
    ((p, x),) = _items(audit_prove, [acc[6]])
    w3.provider.make_request("evm_setNextBlockTimestamp", [deadline + 1])
    with pytest.raises(ChainError, match="task closed"):
        submit(audit_market, tid, *batch_calldata([(p, x)]), acc[1])
    with pytest.raises(ChainError, match="only the task owner"):
        audit_market.reclaim(tid, acc[1])
    # between the deadline and the delivery deadline the server delivers (and earns its fee);
    # the MO reclaims only after the delivery deadline (its last second still refuses)
    with pytest.raises(ChainError, match="delivery deadline not reached"):
        audit_market.reclaim(tid, acc[0])
    before = audit_market.balance_of(acc[1])
    audit_market.deliver_aggregate(tid, b"sealed share", acc[1])
    assert audit_market.balance_of(acc[1]) - before == FEE
    deliver_by = audit_market.task(tid).deliver_by
    w3.provider.make_request("evm_setNextBlockTimestamp", [deliver_by])
    with pytest.raises(ChainError, match="delivery deadline not reached"):
        audit_market._send(audit_market.contract.functions.reclaim(tid), acc[0], gas=500_000)
    w3.provider.make_request("evm_setNextBlockTimestamp", [deliver_by + 1])
    w3.provider.make_request("evm_mine", [])
    amount, _ = audit_market.reclaim(tid, acc[0])
    assert amount == 10**18 - REWARD - FEE
    with pytest.raises(ChainError, match="already reclaimed"):
        audit_market.reclaim(tid, acc[0])


def test_escrow_exhaustion_mid_batch(audit_anvil, audit_market, audit_verifier, audit_prove):
    """Escrow for exactly 2 of 3 valid proofs: the third is refused and stays unpaid (so it can
    be credited after a top-up); the held total matches the contract's ether."""
    w3 = audit_anvil
    acc = w3.eth.accounts
    tid = _task(w3, audit_market, audit_verifier.address, [acc[1]], escrow=2 * (REWARD + FEE) + 5)
    items = _items(audit_prove, acc[5:8])
    res = submit(audit_market, tid, *batch_calldata(items), acc[1])
    assert len(res.accepted) == 2
    assert res.rejected == [(2, Web3.to_checksum_address(acc[7]), Reject.ESCROW_EXHAUSTED)]
    assert not audit_market.is_paid(tid, acc[7]) and audit_market.task(tid).remaining == 5
    audit_market.add_escrow(tid, REWARD + FEE, acc[3])
    assert submit(audit_market, tid, *batch_calldata(items[2:]), acc[1]).accepted == [
        Web3.to_checksum_address(acc[7])]
    assert audit_market.task(tid).remaining == 5
    assert audit_market.total_held() == audit_market.ether_balance()


def test_pinned_input_enforced(audit_anvil, audit_market, audit_verifier, audit_prove):
    """A valid proof for another value of the pinned input is refused before verification."""
    w3 = audit_anvil
    acc = w3.eth.accounts
    tid = _task(w3, audit_market, audit_verifier.address, [acc[1]])
    other = _items(audit_prove, [acc[5]], v=V + 1)
    res = submit(audit_market, tid, *batch_calldata(other), acc[1])
    assert res.accepted == [] and res.rejected[0][2] == Reject.PINNED_MISMATCH


def test_cross_task_replay_without_binding(audit_anvil, audit_market, audit_verifier, audit_prove):
    """DOCUMENTED (Medium, design): tasks without aggregate binding and with equal pinned
    values accept the same proof again — nothing in the statement names the task.  If every
    server of the task signs, a DO's proof of an earlier round is replayed; an honest server
    refuses (its receipts are per task), so the replay needs all servers to collude.  Tasks with
    binding are safe (rho differs per task); without it the MO must pin a per-task nonce
    input."""
    w3 = audit_anvil
    acc = w3.eth.accounts
    items = _items(audit_prove, [acc[5]])
    t1 = _task(w3, audit_market, audit_verifier.address, [acc[1]])
    t2 = _task(w3, audit_market, audit_verifier.address, [acc[1]])
    honest = Server(audit_market, acc[1])
    honest.record(t1, items)
    assert honest.submit(t1, items).accepted
    (why,) = honest.vet(t2, items)
    assert why is not None and "did not produce it" in why
    with pytest.raises(ChainError, match="refuses to sign"):
        honest.attest(t2, items)
    assert submit(audit_market, t2, *batch_calldata(items), acc[1]).accepted  # replayed (all signed)
    t3 = _task(w3, audit_market, audit_verifier.address, [acc[1]], pinned_v=V + 1)
    res = submit(audit_market, t3, *batch_calldata(items), acc[1])
    assert res.rejected[0][2] == Reject.PINNED_MISMATCH


def test_malformed_proof_does_not_sink_the_batch(audit_anvil, audit_market, audit_verifier, audit_prove):
    """FIXED (Medium): a failing precompile consumes all gas it is given.  The batch verifier
    forwarded gas(), so one proof with C's coordinate >= q (or A/C off the curve, or B outside G2)
    burnt 63/64 of the gas: verifyBatch ran out of gas, and the market's fallback then had too
    little gas (before the Market fix: the valid proofs after it were recorded InvalidProof; after
    it: the whole submission reverted).  Precompile calls now forward a capped amount."""
    w3 = audit_anvil
    acc = w3.eth.accounts
    tid = _task(w3, audit_market, audit_verifier.address, [acc[1]])
    items = _items(audit_prove, acc[5:9])
    proofs, inputs = batch_calldata(items)
    proofs[8 + 6] += Q  # proof 1: c.x + q
    proofs[16 + 1] = (proofs[16 + 1] + 1) % Q  # proof 2: A off the curve
    gx, gy = twist_point_outside_subgroup()
    proofs[24 + 2:24 + 6] = [int(gx.coeffs[1]), int(gx.coeffs[0]), int(gy.coeffs[1]),
                             int(gy.coeffs[0])]  # proof 3: B outside G2
    v = audit_verifier.functions.verifyBatch(proofs, inputs)
    assert v.call({"gas": 30_000_000}) is False
    res = submit(audit_market, tid, proofs, inputs, acc[1])
    assert res.accepted == [Web3.to_checksum_address(acc[5])]
    assert sorted((i, r) for i, _, r in res.rejected) == [(1, Reject.INVALID_PROOF),
                                                          (2, Reject.INVALID_PROOF),
                                                          (3, Reject.INVALID_PROOF)]
    assert res.gas_used < 3_000_000  # no 63/64 burns: about batch + 4 single checks


def test_same_owner_invalid_then_valid_in_one_batch(audit_anvil, audit_market, audit_verifier, audit_prove):
    """A forged proof for DO X placed before X's real proof does not block it (isPaid is only
    set by a credited proof), and X is credited once."""
    w3 = audit_anvil
    acc = w3.eth.accounts
    tid = _task(w3, audit_market, audit_verifier.address, [acc[1]])
    (p, x), (q_, _) = _items(audit_prove, acc[5:7])
    forged = {**p, "pi_c": q_["pi_c"]}
    res = submit(audit_market, tid, *batch_calldata([(forged, x), (p, x), (p, x)]), acc[1])
    assert not res.batch_valid
    assert res.accepted == [Web3.to_checksum_address(acc[5])]
    assert [(i, r) for i, _, r in res.rejected] == [(0, Reject.INVALID_PROOF),
                                                    (2, Reject.ALREADY_PAID)]


def test_reward_overflow_only_blocks_that_task(audit_anvil, audit_market, audit_verifier, audit_prove):
    """reward + fee overflowing uint256 makes that task's submissions revert (checked
    arithmetic); nothing is credited and the owner reclaims after the delivery deadline."""
    w3 = audit_anvil
    acc = w3.eth.accounts
    tid = _task(w3, audit_market, audit_verifier.address, [acc[1]], reward=2**256 - 1, fee=1, ttl=60)
    items = _items(audit_prove, [acc[5]])
    with pytest.raises(ChainError):
        submit(audit_market, tid, *batch_calldata(items), acc[1])
    w3.provider.make_request("evm_increaseTime", [120 + 3600])  # past the delivery deadline
    w3.provider.make_request("evm_mine", [])
    assert audit_market.reclaim(tid, acc[0])[0] == 10**18
    assert audit_market.total_held() == audit_market.ether_balance()
