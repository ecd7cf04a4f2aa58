"""Helpers shared by the market tests (a unique module name, unlike conftest)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from web3 import Web3

from omnidsl.market.attestation import sign_digest
from omnidsl.market.client import BatchResult, MarketClient, TaskSpec

HERE = Path(__file__).resolve().parent
#: Public-input layout of the allow-list verifier's "rule": [fp, owner, rho, x].
FP, OWNER, RHO, X = 0, 1, 2, 3
N_PUBLIC = 4
#: A stand-in X25519 public key of the model owner (tasks need a non-zero one).
OWNER_KEY = b"\x22" * 32


def advance_time(w3: Web3, seconds: int) -> None:
    """Move the chain's clock forward and mine a block (eth-tester or anvil)."""
    provider = w3.provider
    tester = getattr(provider, "ethereum_tester", None)
    if tester is not None:
        now = int(w3.eth.get_block("latest")["timestamp"])
        tester.time_travel(now + seconds)
        tester.mine_blocks(1)
    else:
        w3.provider.make_request("evm_increaseTime", [seconds])
        w3.provider.make_request("evm_mine", [])


def now(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def account_keys(w3: Web3) -> dict[str, bytes]:
    """Private keys of the node's unlocked accounts, by checksum address.  eth-tester has no
    ``eth_sign``, so the tests sign with its keys; on a real node (anvil) this is empty and
    :func:`sign_batch` falls back to the node's ``eth_sign``."""
    tester = getattr(w3.provider, "ethereum_tester", None)
    if tester is None:
        return {}
    return {k.public_key.to_checksum_address(): k.to_bytes()
            for k in tester.backend.account_keys}


def sign_batch(market: MarketClient, task_id: int, proofs: Sequence[int], inputs: Sequence[int],
               keys: Mapping[str, Any] | None = None, signers: Sequence[str] | None = None
               ) -> bytes:
    """The attestation of a batch: one 65-byte signature per server of the task, in the task's
    server order (or by ``signers``, in that order), with ``keys`` (address -> private key; by
    default the node's own keys, see :func:`account_keys`)."""
    keys = account_keys(market.w3) if keys is None else keys
    digest = market.attestation_digest(task_id, [int(x) for x in proofs], [int(x) for x in inputs])
    order = market.servers(task_id) if signers is None else signers
    return b"".join(sign_digest(market.w3, s, digest, keys.get(Web3.to_checksum_address(s)))
                    for s in order)


def submit(market: MarketClient, task_id: int, proofs: Sequence[int], inputs: Sequence[int],
           sender: str, keys: Mapping[str, Any] | None = None, **kw: Any) -> BatchResult:
    """``submitBatch`` attested by every server of the task (see :func:`sign_batch`)."""
    sigs = sign_batch(market, task_id, proofs, inputs, keys)
    return market.submit_batch(task_id, list(proofs), list(inputs), sigs, sender, **kw)


@dataclass
class AllowList:
    """Handle on the deployed AllowListTestVerifier."""

    contract: object
    w3: Web3

    def proof(self, owner: str, rho: int = 0, fp: int = 0, valid: bool = True
              ) -> tuple[list[int], list[int]]:
        """Random proof words + public inputs; allow-listed (i.e. "valid") iff ``valid``."""
        words = [secrets.randbelow(2**254) for _ in range(8)]
        inputs = [0] * N_PUBLIC
        inputs[FP], inputs[OWNER], inputs[RHO], inputs[X] = fp, int(owner, 16), rho, 7
        if valid:
            digest = self.contract.functions.digestOf(words, inputs).call()
            tx = self.contract.functions.allow(digest).transact({"from": self.w3.eth.accounts[0]})
            self.w3.eth.wait_for_transaction_receipt(tx)
        return words, inputs


def make_spec(verifier: str, servers: list[str], deadline: int, reward: int = 1000,
              fee: int = 10, binding: bool = False, pinned: dict[int, int] | None = None,
              deliver_by: int | None = None, bond: int = 0) -> TaskSpec:
    return TaskSpec(verifier=verifier, n_public=N_PUBLIC, owner_index=OWNER, deadline=deadline,
                    reward_per_gradient=reward, server_fee=fee, servers=servers,
                    owner_key=OWNER_KEY, rule_hash=b"\x11" * 32,
                    rho_index=RHO if binding else None, fp_index=FP if binding else None,
                    pinned=pinned or {X: 7}, deliver_by=deliver_by, server_bond=bond)


def commit_and_reveal(market: MarketClient, task_id: int, servers: Sequence[str],
                      bond: int = 0) -> list[bytes]:
    """Every server commits (random commitment, fresh seed, ``bond``) and then reveals; returns
    the seeds.  The last reveal fixes rho."""
    from omnidsl.market.attestation import seed_hash

    seeds = [secrets.token_bytes(32) for _ in servers]
    for s, seed in zip(servers, seeds, strict=True):
        market.commit_shares(task_id, secrets.token_bytes(32), seed_hash(task_id, s, seed), s,
                             bond=bond)
    for s, seed in zip(servers, seeds, strict=True):
        market.reveal_seed(task_id, seed, s)
    return seeds


def binding_scenario(rule, witness_input, pinned_value: int, dim: int) -> None:
    """The aggregate-binding story, for any market rule (DSL or circom): three DOs share their
    aggregation vectors (gradient + fingerprint mask), the servers commit and reveal their
    seeds, ρ is fixed; a proof for another challenge is refused; a proof stolen by another DO is
    refused by every honest server and, even attested by all of them, on-chain (InvalidProof);
    the servers deliver their sealed aggregate shares and the MO opens them from the chain; the
    honest aggregate checks out, while a tampered share, an extra (unaccepted) DO and a dropped
    DO are detected, and auditing one server pins the culprit."""
    import pytest

    from omnidsl.chain import embedded_chain
    from omnidsl.errors import ChainError
    from omnidsl.field import R
    from omnidsl.market.aggregate import fingerprint
    from omnidsl.market.client import Reject
    from omnidsl.market.demo import FEE, REWARD, setup_actors
    from omnidsl.solidity.render import batch_calldata

    w3 = embedded_chain()
    actors = setup_actors(w3, rule, n_owners=3, n_servers=3)
    mo, servers, dos = actors.mo, actors.servers, actors.dos
    market = mo.market
    deadline = int(w3.eth.get_block("latest")["timestamp"]) + 600
    n = len(servers)
    tid = mo.open_task([s.account for s in servers], REWARD, FEE, 3 * (REWARD + n * FEE),
                       deadline, pinned_value=pinned_value)
    grads = [[(7 * i + 3 * j) % 200 - 100 for j in range(dim)] for i in range(3)]
    for do, q in zip(dos, grads, strict=True):
        do.share(tid, q, servers)
    for s in servers:
        s.commit(tid)
    assert not market.task(tid).challenge_fixed  # fixed by the last seed reveal
    for s in servers:
        s.reveal(tid)
    info = market.task(tid)
    assert info.challenge_fixed and info.rho_index == rule.layout.rho_index
    vecs = [d.vectors[tid] for d in dos]  # (gradient, mask): what each DO shared
    assert [v[:dim] for v in vecs] == grads and all(len(v) == dim + 1 for v in vecs)
    items = rule.prove_many([witness_input(v, d.account, info.rho, pinned_value)
                             for v, d in zip(vecs, dos, strict=True)])
    # a proof bound to another challenge is refused before any pairing
    bad = rule.prove_many([witness_input(vecs[2], dos[2].account, (info.rho + 1) % R,
                                         pinned_value)])
    batch = [items[0], items[1], bad[0]]
    for s in servers:  # the single-machine prover stands in for every server's own prover
        s.record(tid, batch)
    res = servers[1].submit(tid, batch, cosigners=[servers[0], servers[2]])
    assert res.batch_valid
    assert res.rejected == [(2, dos[2].account, Reject.WRONG_CHALLENGE)]
    assert sorted(res.accepted) == sorted([dos[0].account, dos[1].account])
    info = market.task(tid)
    assert info.fp_sum == (fingerprint(vecs[0], info.rho) + fingerprint(vecs[1], info.rho)) % R

    # DO 2 (not credited) puts its address into DO 0's proof: no honest server attests it ...
    thief = dos[2].account
    public = list(items[0][1])
    public[rule.layout.owner_index] = str(int(thief, 16))
    stolen = (items[0][0], public)
    for s in servers:
        (why,) = s.vet(tid, [stolen])
        assert why is not None and "did not produce it" in why
    with pytest.raises(ChainError, match="refuses to sign batch item 0"):
        servers[0].submit(tid, [stolen], cosigners=servers[1:])
    # ... and attested by every server anyway, the chain refuses it: the owner is in the proof
    proofs, inputs = batch_calldata([stolen])
    sigs = sign_batch(market, tid, proofs, inputs, keys={s.account: s.signer for s in servers})
    res = market.submit_batch(tid, proofs, inputs, sigs, servers[2].account)
    assert res.accepted == [] and res.rejected == [(0, thief, Reject.INVALID_PROOF)]
    assert market.task(tid).fp_sum == info.fp_sum and not market.is_paid(tid, thief)

    accepted = [dos[0].account, dos[1].account]
    shares = [s.aggregate_share(tid, accepted) for s in servers]
    # the servers deliver their aggregate shares sealed to the MO, who opens them from the chain
    mo.close(tid)
    for s in servers:
        s.deliver(tid)
    assert mo.collect(tid) == shares
    assert all(market.balance_of(s.account) == 2 * FEE for s in servers)
    total = mo.reconstruct(shares)
    assert total[:dim] == [a + b for a, b in zip(grads[0], grads[1], strict=True)]
    assert mo.check_aggregate(tid, total)
    # a server adds an error to its aggregate share; auditing one server pins the culprit
    tampered = [list(v) for v in shares]
    tampered[2][5] = (tampered[2][5] + 1) % R
    assert not mo.check_aggregate(tid, mo.reconstruct(tampered))
    assert mo.audit(tid, servers[0], accepted, shares[0])
    assert not mo.audit(tid, servers[2], accepted, tampered[2])
    # a server slips in the share of a data owner who was not accepted
    extra = [s.aggregate_share(tid, [*accepted, dos[2].account]) for s in servers]
    assert not mo.check_aggregate(tid, mo.reconstruct(extra))
    # a server drops one accepted data owner
    dropped = [*shares[:2], servers[2].aggregate_share(tid, accepted[:1])]
    assert not mo.check_aggregate(tid, mo.reconstruct(dropped))
    outcomes = list(market.contract.events.AggregateChecked().get_logs(from_block=0))
    assert [bool(e["args"]["matched"]) for e in outcomes] == [True, False, False, False]


#: Gradient length of the demo-round tests.
DIM = 8


@dataclass
class ToySource:
    """A tiny deterministic GradientSource: DO 0 scales its gradient far beyond the bound."""

    owners: int = 3
    n_params: int = DIM
    malicious: list[bool] = field(default_factory=list)
    applied: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.malicious = [i == 0 for i in range(self.owners)]
        self.base = np.linspace(-0.5, 0.5, DIM)

    def reference(self) -> np.ndarray:
        return self.base

    def gradients(self) -> list[np.ndarray]:
        gs = [self.base * (1 + 0.1 * i) for i in range(self.owners)]
        gs[0] = gs[0] * 10.0  # fits 16 bits, but breaks the L2 bound
        return gs

    def apply(self, aggregate: np.ndarray, n_accepted: int) -> None:
        self.applied.append(aggregate.copy())

    def accuracy(self) -> float:
        return float(len(self.applied))
