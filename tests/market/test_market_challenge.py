"""Issue 10, item 2: challenge grinding.  With ρ = keccak(commitments, previous block hash) the
last server to commit could compute ρ for every commitment it might send and pick one it likes.
Now every server commits to keccak(task, server, seed) of a fresh secret seed with its shares and
reveals the seed only once EVERY server has committed; ρ = keccak(task, commitments, XOR of the
seeds).  What a committing party knows when it commits (all commitments, its own seed) does not
determine ρ while one other server keeps its seed secret."""

from __future__ import annotations

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak
from market_helpers import make_spec, now

from omnidsl.chain import deploy, embedded_chain
from omnidsl.errors import ChainError
from omnidsl.field import R
from omnidsl.market.attestation import seed_hash
from omnidsl.market.client import MarketClient
from omnidsl.solidity.compile import compile_sources

SEED_A, SEED_B = b"\xa1" * 32, b"\xb2" * 32
COMMIT_A, COMMIT_B = b"\x0a" * 32, b"\x0b" * 32


def _chain_with_market() -> tuple[object, str, MarketClient]:
    """A fresh embedded chain with the allow-list test verifier and a Market."""
    from market_helpers import HERE

    w3 = embedded_chain()
    src = (HERE / "contracts" / "AllowListTestVerifier.sol").read_text()
    cc = compile_sources({"AllowListTestVerifier.sol": src})["AllowListTestVerifier"]
    return w3, deploy(w3, cc.abi, cc.bytecode).address, MarketClient.deploy(w3)


def _fresh(seed_of_honest: bytes) -> tuple[MarketClient, int, list[str], int]:
    """A fresh chain; honest server A and attacker B commit (B last, identical choices every
    time); returns (market, task, servers, the ρ B would predict from what it knows)."""
    w3, verifier, market = _chain_with_market()
    acc = w3.eth.accounts  # type: ignore[attr-defined]
    a, b = acc[1], acc[2]
    spec = make_spec(verifier, [a, b], now(w3) + 600, binding=True)
    tid, _ = market.create_task(spec, 10_000, acc[0])
    market.commit_shares(tid, COMMIT_A, seed_hash(tid, a, seed_of_honest), a)
    # B commits last: it knows every commitment now, and its own seed
    market.commit_shares(tid, COMMIT_B, seed_hash(tid, b, SEED_B), b)
    acc_hash = b"\0" * 32
    for who, c, h in ((a, COMMIT_A, seed_hash(tid, a, seed_of_honest)),
                      (b, COMMIT_B, seed_hash(tid, b, SEED_B))):
        acc_hash = keccak(abi_encode(["bytes32", "address", "bytes32", "bytes32"],
                                     [acc_hash, who, c, h]))
    # B's best guess without A's seed (e.g. pretend A's seed is zero)
    guess = int.from_bytes(keccak(abi_encode(["uint256", "bytes32", "bytes32"],
                                             [tid, acc_hash, SEED_B])), "big") % R
    return market, tid, [a, b], guess


@pytest.mark.chain
def test_the_last_committer_cannot_predict_rho():
    rhos = []
    for honest_seed in (SEED_A, b"\xa2" * 32):
        market, tid, (a, b), guess = _fresh(honest_seed)
        assert not market.task(tid).challenge_fixed
        # nobody can reveal before every server committed, and reveals must match the hash
        with pytest.raises(ChainError, match="does not match its hash"):
            market.reveal_seed(tid, SEED_A if honest_seed != SEED_A else b"\x00" * 32, a)
        market.reveal_seed(tid, SEED_B, b)
        assert not market.task(tid).challenge_fixed  # B revealed: ρ still open until A does
        market.reveal_seed(tid, honest_seed, a)
        info = market.task(tid)
        assert info.challenge_fixed and info.n_revealed == 2
        assert info.rho != guess
        rhos.append(info.rho)
    # B's commitments, seed, address and task were identical: only A's secret seed changed ρ
    assert rhos[0] != rhos[1]


@pytest.mark.chain
def test_reveal_rules():
    w3, verifier, market = _chain_with_market()
    acc = w3.eth.accounts  # type: ignore[attr-defined]
    a, b, outsider = acc[1], acc[2], acc[3]
    tid, _ = market.create_task(make_spec(verifier, [a, b], now(w3) + 600, binding=True),
                                10_000, acc[0])
    market.commit_shares(tid, COMMIT_A, seed_hash(tid, a, SEED_A), a)
    with pytest.raises(ChainError, match="not every server has committed"):
        market.reveal_seed(tid, SEED_A, a)
    # copying another server's seed hash is useless: the hash binds the server's address
    market.commit_shares(tid, COMMIT_B, seed_hash(tid, a, SEED_A), b)
    market.reveal_seed(tid, SEED_A, a)
    with pytest.raises(ChainError, match="does not match its hash"):
        market.reveal_seed(tid, SEED_A, b)  # would cancel A's seed in the XOR
    with pytest.raises(ChainError, match="already revealed"):
        market.reveal_seed(tid, SEED_A, a)
    with pytest.raises(ChainError, match="not a registered server"):
        market.reveal_seed(tid, SEED_A, outsider)
    with pytest.raises(ChainError, match="already committed"):
        market.commit_shares(tid, COMMIT_A, seed_hash(tid, a, SEED_B), a)
    with pytest.raises(ChainError, match="challenge not fixed"):
        market.submit_batch(tid, [1] * 8, [0] * 4, b"\0" * 130, a)
    assert not market.task(tid).challenge_fixed  # B can only withhold (see docs/market.md)
