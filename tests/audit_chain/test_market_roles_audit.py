"""Chain audit of Market.sol: reentrancy through reclaim, isolation of a malicious verifier,
server-fee front-running, and the predictability of rho to the last committer (anvil)."""

from __future__ import annotations

import secrets

import pytest
from eth_abi import encode
from eth_utils import keccak
from web3 import Web3

from omnidsl.errors import ChainError
from omnidsl.field import R
from omnidsl.market import chains
from omnidsl.market.client import CONTRACTS_DIR, TaskSpec
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
                    rho_index=2 if binding else None, fp_index=3 if binding else None,
                    pinned={} if binding else {1: V})


def test_reclaim_and_withdraw_not_reentrant(audit_anvil, market, verifier, attackers):
    w3 = audit_anvil
    acc = w3.eth.accounts
    cc = attackers["ReentrantOwner"]
    mo = chains.deploy(w3, cc.abi, cc.bytecode, market.address)
    spec = _spec(w3, verifier.address, [acc[1]], ttl=60)
    chains.transact(w3, mo.functions.open(spec.as_tuple()), value=5000)
    tid = mo.functions.taskId().call()
    w3.provider.make_request("evm_increaseTime", [120])
    w3.provider.make_request("evm_mine", [])
    for mode in (1, 2):
        chains.transact(w3, mo.functions.setMode(mode))
        with pytest.raises(ChainError):
            chains.transact(w3, mo.functions.doReclaim(), gas=1_000_000)
        assert market.task(tid).remaining == 5000
    chains.transact(w3, mo.functions.setMode(0))
    chains.transact(w3, mo.functions.doReclaim())
    assert market.task(tid).remaining == 0 and w3.eth.get_balance(mo.address) == 5000
    assert market.total_held() == market.ether_balance()


def test_malicious_verifier_only_drains_its_own_task(audit_anvil, market, verifier, attackers,
                                                     prove):
    w3 = audit_anvil
    acc = w3.eth.accounts
    yes = chains.deploy(w3, attackers["YesVerifier"].abi, attackers["YesVerifier"].bytecode)
    no = chains.deploy(w3, attackers["RevertingVerifier"].abi,
                       attackers["RevertingVerifier"].bytecode)
    honest, _ = market.create_task(_spec(w3, verifier.address, [acc[1]]), 50_000, acc[0])
    evil, _ = market.create_task(_spec(w3, yes.address, [acc[1]]), 3 * 1010 + 7, acc[3])
    broken, _ = market.create_task(_spec(w3, no.address, [acc[1]]), 1010, acc[3])
    fake_owners = [int.from_bytes(secrets.token_bytes(20), "big") | 1 for _ in range(6)]
    junk = [secrets.randbelow(2**250) for _ in range(8 * 6)]
    inputs = [w for o in fake_owners for w in (o, V)]
    res = market.submit_batch(evil, junk, inputs, acc[1])
    assert len(res.accepted) == 3  # junk credited, but only up to that task's escrow
    assert market.task(evil).remaining == 7
    assert market.task(honest).remaining == 50_000
    # the same junk on the honest task earns nothing
    assert market.submit_batch(honest, junk, inputs, acc[1]).accepted == []
    with pytest.raises(ChainError, match="RevertingVerifier: no"):
        market.submit_batch(broken, junk[:8], inputs[:2], acc[1])
    # and an honest proof still works on the honest task
    items = prove([(int(acc[5], 16), V)])
    assert market.submit_batch(honest, *batch_calldata(items), acc[1]).accepted
    assert market.total_held() == market.ether_balance()


def test_server_fee_goes_to_whoever_submits_first(audit_anvil, market, verifier, prove):
    """DOCUMENTED (Low, design): the fee is paid to msg.sender.  Another registered server that
    copies a pending batch from the mempool and front-runs it takes the fee; the DOs are paid
    the same (their address is bound in the proof), the original submitter gets AlreadyPaid."""
    w3 = audit_anvil
    acc = w3.eth.accounts
    tid, _ = market.create_task(_spec(w3, verifier.address, [acc[1], acc[2]]), 10**6, acc[0])
    proofs, inputs = batch_calldata(prove([(int(acc[5], 16), V), (int(acc[6], 16), V)]))
    before = market.balance_of(acc[2])
    thief = market.submit_batch(tid, proofs, inputs, acc[2])  # copied calldata
    assert len(thief.accepted) == 2 and market.balance_of(acc[2]) == before + 20
    late = market.submit_batch(tid, proofs, inputs, acc[1])
    assert late.accepted == [] and len(late.rejected) == 2


def test_rho_is_known_to_the_last_committer(audit_anvil, market, verifier):
    """DOCUMENTED (Low): rho = keccak(task, chained commitments, parent block hash) mod r is
    computable by the last server before it commits, so it can grind its (salted) commitment to
    choose among many rho values.  Each try is one fresh random rho for committed shares, so a
    server making Q tries defeats the fingerprint with probability <= Q*D/r (2^-170 for Q = 2^64,
    D = 2^13): acceptable.  Also: rho (and every binding submission) waits for ALL servers to
    commit; a silent server stalls the task until the deadline (the MO then reclaims)."""
    w3 = audit_anvil
    acc = w3.eth.accounts
    s1, s2 = acc[1], acc[2]
    tid, _ = market.create_task(_spec(w3, verifier.address, [s1, s2], n_public=4, binding=True),
                                10**6, acc[0])
    with pytest.raises(ChainError, match="challenge not fixed yet"):
        market.submit_batch(tid, [1] * 8, [int(acc[5], 16), 0, 0, 0], s1)
    c1 = secrets.token_bytes(32)
    market.commit_shares(tid, c1, s1)
    acc1 = keccak(encode(["bytes32", "address", "bytes32"], [b"\0" * 32, s1, c1]))
    parent = w3.eth.get_block("latest")["hash"]  # anvil mines the next tx on top of it

    def rho_for(c2: bytes) -> int:
        acc2 = keccak(encode(["bytes32", "address", "bytes32"], [acc1, s2, c2]))
        return int.from_bytes(keccak(encode(["uint256", "bytes32", "bytes32"],
                                            [tid, acc2, bytes(parent)])), "big") % R

    best = min((secrets.token_bytes(32) for _ in range(256)), key=rho_for)  # grinding
    res = market.commit_shares(tid, best, s2)
    fixed = res.named("ChallengeFixed")[0].args["rho"]
    assert fixed == rho_for(best) and fixed < R // 16
    assert market.task(tid).challenge_fixed
    with pytest.raises(ChainError, match="already committed"):
        market.commit_shares(tid, secrets.token_bytes(32), s2)
    assert Web3.to_checksum_address(s2) in market.servers(tid)
