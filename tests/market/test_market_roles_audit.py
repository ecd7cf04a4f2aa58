"""Chain audit of Market.sol: reentrancy through reclaim, isolation of a malicious verifier,
server-fee front-running, and who can predict (or steer) rho under commit-reveal (anvil)."""

from __future__ import annotations

import dataclasses
import secrets

import pytest
from eth_abi import encode
from eth_utils import keccak
from market_helpers import OWNER_KEY, sign_batch, submit
from web3 import Web3

from omnidsl import chain as chains
from omnidsl.errors import ChainError
from omnidsl.field import R
from omnidsl.market.attestation import seed_hash
from omnidsl.market.client import TaskSpec
from omnidsl.solidity.artifacts import CONTRACTS_DIR
from omnidsl.solidity.compile import compile_sources
from omnidsl.solidity.render import batch_calldata

pytestmark = pytest.mark.chain

HERE = __import__("pathlib").Path(__file__).resolve().parent
V = 77


@pytest.fixture(scope="module")
def attackers():
    sources = {p.name: p.read_text() for p in sorted(CONTRACTS_DIR.glob("*.sol"))}
    sources["AuditAttackers.sol"] = (HERE / "contracts" / "AuditAttackers.sol").read_text()
    return compile_sources(sources)


def _spec(w3, verifier: str, servers: list[str], n_public: int = 2, binding: bool = False,
          ttl: int = 3600, reward: int = 1000, fee: int = 10) -> TaskSpec:
    now = int(w3.eth.get_block("latest")["timestamp"])
    return TaskSpec(verifier=verifier, n_public=n_public, owner_index=0, deadline=now + ttl,
                    reward_per_gradient=reward, server_fee=fee, servers=servers,
                    owner_key=OWNER_KEY, rho_index=2 if binding else None,
                    fp_index=3 if binding else None, pinned={} if binding else {1: V})


def test_reclaim_and_withdraw_not_reentrant(audit_anvil, audit_market, audit_verifier, attackers):
    w3 = audit_anvil
    acc = w3.eth.accounts
    cc = attackers["ReentrantOwner"]
    mo = chains.deploy(w3, cc.abi, cc.bytecode, audit_market.address)
    spec = _spec(w3, audit_verifier.address, [acc[1]], ttl=60)
    chains.transact(w3, mo.functions.open(spec.as_tuple()), value=5000)
    tid = mo.functions.taskId().call()
    w3.provider.make_request("evm_increaseTime", [120 + 3600])  # past the delivery deadline
    w3.provider.make_request("evm_mine", [])
    for mode in (1, 2):
        chains.transact(w3, mo.functions.setMode(mode))
        with pytest.raises(ChainError):
            chains.transact(w3, mo.functions.doReclaim(), gas=1_000_000)
        assert audit_market.task(tid).remaining == 5000
    assert not audit_market.task(tid).settled
    chains.transact(w3, mo.functions.setMode(0))
    chains.transact(w3, mo.functions.doReclaim())
    assert audit_market.task(tid).remaining == 0 and w3.eth.get_balance(mo.address) == 5000
    assert audit_market.task(tid).settled
    with pytest.raises(ChainError):  # "Market: already reclaimed"
        chains.transact(w3, mo.functions.doReclaim(), gas=1_000_000)
    assert w3.eth.get_balance(mo.address) == 5000
    assert audit_market.total_held() == audit_market.ether_balance()


def test_malicious_verifier_only_drains_its_own_task(audit_anvil, audit_market, audit_verifier, attackers,
                                                     audit_prove):
    w3 = audit_anvil
    acc = w3.eth.accounts
    yes = chains.deploy(w3, attackers["YesVerifier"].abi, attackers["YesVerifier"].bytecode)
    no = chains.deploy(w3, attackers["RevertingVerifier"].abi,
                       attackers["RevertingVerifier"].bytecode)
    honest, _ = audit_market.create_task(_spec(w3, audit_verifier.address, [acc[1]]), 50_000, acc[0])
    evil, _ = audit_market.create_task(_spec(w3, yes.address, [acc[1]]), 3 * 1010 + 7, acc[3])
    broken, _ = audit_market.create_task(_spec(w3, no.address, [acc[1]]), 1010, acc[3])
    fake_owners = [int.from_bytes(secrets.token_bytes(20), "big") | 1 for _ in range(6)]
    junk = [secrets.randbelow(2**250) for _ in range(8 * 6)]
    inputs = [w for o in fake_owners for w in (o, V)]
    res = submit(audit_market, evil, junk, inputs, acc[1])
    assert len(res.accepted) == 3  # junk credited, but only up to that task's escrow
    assert audit_market.task(evil).remaining == 7
    assert audit_market.task(honest).remaining == 50_000
    # the same junk on the honest task earns nothing
    assert submit(audit_market, honest, junk, inputs, acc[1]).accepted == []
    with pytest.raises(ChainError, match="RevertingVerifier: no"):
        submit(audit_market, broken, junk[:8], inputs[:2], acc[1])
    # and an honest proof still works on the honest task
    items = audit_prove([(int(acc[5], 16), V)])
    assert submit(audit_market, honest, *batch_calldata(items), acc[1]).accepted
    assert audit_market.total_held() == audit_market.ether_balance()


def test_server_fee_does_not_depend_on_who_submits(audit_anvil, audit_market, audit_verifier, audit_prove):
    """Was DOCUMENTED (Low, design): the fee was paid to msg.sender, so another registered server
    that copied a pending batch from the mempool and front-ran it took the fee.  Now the fee of
    every accepted gradient goes to EVERY server that delivers its aggregate share: the copied
    batch (attestation included) credits the DOs the same, the front-runner earns nothing by
    submitting, and the original submitter gets AlreadyPaid but the same fee."""
    w3 = audit_anvil
    acc = w3.eth.accounts
    tid, _ = audit_market.create_task(_spec(w3, audit_verifier.address, [acc[1], acc[2]]), 10**6, acc[0])
    proofs, inputs = batch_calldata(audit_prove([(int(acc[5], 16), V), (int(acc[6], 16), V)]))
    sigs = sign_batch(audit_market, tid, proofs, inputs)
    before = {s: audit_market.balance_of(s) for s in acc[1:3]}
    thief = audit_market.submit_batch(tid, proofs, inputs, sigs, acc[2])  # copied calldata
    assert len(thief.accepted) == 2 and audit_market.balance_of(acc[2]) == before[acc[2]]
    late = audit_market.submit_batch(tid, proofs, inputs, sigs, acc[1])
    assert late.accepted == [] and len(late.rejected) == 2
    assert audit_market.task(tid).remaining == 10**6 - 2 * (1000 + 2 * 10)
    audit_market.close_submissions(tid, acc[0])
    for s in acc[1:3]:
        audit_market.deliver_aggregate(tid, b"sealed share", s)
        assert audit_market.balance_of(s) == before[s] + 2 * 10


def test_rho_is_fixed_by_the_seed_reveals(audit_anvil, audit_market, audit_verifier):
    """Was DOCUMENTED (Low): rho = keccak(task, chained commitments, parent block hash) was
    computable by the last committer, who could grind its commitment to choose rho.  Now rho =
    keccak(task, chained (commitment, seed hash), XOR of the revealed seeds) mod r: nobody knows
    it before every server has committed (it depends on the others' secret seeds), and after
    that each seed is fixed by its hash, so grinding the commitment gains nothing.
    DOCUMENTED (Low, design): the LAST revealer learns rho before revealing and can only abort
    by withholding its seed; the task then stalls until the deadline (no binding submission is
    possible), and — as the bond covers only the delivery — that server still gets its bond back
    by delivering after the deadline."""
    w3 = audit_anvil
    acc = w3.eth.accounts
    s1, s2 = acc[1], acc[2]
    bond = 1000
    spec = _spec(w3, audit_verifier.address, [s1, s2], n_public=4, binding=True, ttl=600)
    tid, _ = audit_market.create_task(dataclasses.replace(spec, server_bond=bond), 10**6, acc[0])
    proofs, inputs = [1] * 8, [int(acc[5], 16), 0, 0, 0]
    with pytest.raises(ChainError, match="challenge not fixed yet"):
        submit(audit_market, tid, proofs, inputs, s1)
    c1, seed1 = secrets.token_bytes(32), secrets.token_bytes(32)
    audit_market.commit_shares(tid, c1, seed_hash(tid, s1, seed1), s1, bond=bond)
    acc1 = keccak(encode(["bytes32", "address", "bytes32", "bytes32"],
                         [b"\0" * 32, s1, c1, seed_hash(tid, s1, seed1)]))
    seed2 = secrets.token_bytes(32)

    def rho_for(c2: bytes, seed_xor: bytes) -> int:
        acc2 = keccak(encode(["bytes32", "address", "bytes32", "bytes32"],
                             [acc1, s2, c2, seed_hash(tid, s2, seed2)]))
        return int.from_bytes(keccak(encode(["uint256", "bytes32", "bytes32"],
                                            [tid, acc2, seed_xor])), "big") % R

    # the last committer grinds its commitment against its best guess of the other's seed
    guess = seed2  # the XOR of the seeds if the other's were zero
    best = min((secrets.token_bytes(32) for _ in range(256)), key=lambda c: rho_for(c, guess))
    res = audit_market.commit_shares(tid, best, seed_hash(tid, s2, seed2), s2, bond=bond)
    assert not res.named("ChallengeFixed") and not audit_market.task(tid).challenge_fixed
    with pytest.raises(ChainError, match="already committed"):
        audit_market.commit_shares(tid, secrets.token_bytes(32), seed_hash(tid, s2, seed2), s2,
                             bond=bond)
    with pytest.raises(ChainError, match="seed does not match"):  # no second choice of seed
        audit_market.reveal_seed(tid, secrets.token_bytes(32), s2)
    audit_market.reveal_seed(tid, seed1, s1)
    # s1's seed is public now: the last revealer knows rho before revealing ...
    xor = bytes(a ^ b for a, b in zip(seed1, seed2, strict=True))
    expected = rho_for(best, xor)
    assert expected != rho_for(best, guess)  # ... but its grinding was blind
    res = audit_market.reveal_seed(tid, seed2, s2)
    assert res.named("ChallengeFixed")[0].args["rho"] == expected == audit_market.task(tid).rho
    assert audit_market.task(tid).challenge_fixed
    assert Web3.to_checksum_address(s2) in audit_market.servers(tid)

    # a server that withholds its reveal stalls the task; it still recovers its bond
    t2, _ = audit_market.create_task(dataclasses.replace(
        _spec(w3, audit_verifier.address, [s1, s2], n_public=4, binding=True, ttl=600),
        server_bond=bond), 10**6, acc[0])
    seeds = {s: secrets.token_bytes(32) for s in (s1, s2)}
    for s in (s1, s2):
        audit_market.commit_shares(t2, secrets.token_bytes(32), seed_hash(t2, s, seeds[s]), s,
                             bond=bond)
    audit_market.reveal_seed(t2, seeds[s1], s1)  # s2 never reveals
    with pytest.raises(ChainError, match="challenge not fixed yet"):
        submit(audit_market, t2, proofs, inputs, s1)
    w3.provider.make_request("evm_increaseTime", [601])
    w3.provider.make_request("evm_mine", [])
    before = audit_market.balance_of(s2)
    audit_market.deliver_aggregate(t2, b"sealed share", s2)
    assert audit_market.balance_of(s2) - before == bond
    assert audit_market.total_held() == audit_market.ether_balance()
