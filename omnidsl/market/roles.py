"""The three market roles on top of :class:`~omnidsl.market.client.MarketClient`.

- :class:`ModelOwner` deploys the rule's verifier, opens a task per round with an escrow,
  reconstructs the aggregate from the servers' aggregate shares, checks the aggregate binding
  against the chain's fingerprint sum, and reclaims unspent escrow.
- :class:`DataOwner` encodes its gradient in fixed point, secret-shares it to the servers,
  prepares its witness input and withdraws its rewards.
- :class:`Server` holds shares only, commits to them (and to a secret seed, revealed once every
  server committed: the reveals fix the challenge), attests (signs) batches of proofs its own
  prover produced, submits them, and delivers its aggregate share sealed to the MO's key.

Proving: by default the servers prove collaboratively (``omnidsl serve`` processes,
:mod:`omnidsl.mpc`).  A server's aggregation share of a data owner *is* its witness share of the
rule's gradient wires: when a :class:`Server` with a :class:`ProverBinding` commits, it pins each
committed share for its own server process (``write_pin``), which then refuses to prove any
other share (docs/market.md).  The single-machine provers (``prove_many``) remain for comparison.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from web3 import Web3

from omnidsl.errors import ChainError, OmniDSLError
from omnidsl.market import aggregate as agg
from omnidsl.market import attestation as att
from omnidsl.market.client import BatchResult, MarketClient, TaskSpec


@dataclass(frozen=True)
class RuleLayout:
    """Where the market-relevant values sit in the rule's public inputs."""

    n_public: int
    owner_index: int
    rho_index: int | None
    fp_index: int | None
    pinned_index: int | None = None  # e.g. max_norm2, fixed by the MO per task
    #: every public input the task pins (a rule file's layout: omnidsl.market.interface)
    pinned_indices: tuple[int, ...] = ()


def bind_label(task_id: int, data_owner: str) -> str:
    """The label a data owner's shares of one task are pinned and proved under."""
    return f"task{task_id}-{Web3.to_checksum_address(data_owner)[2:].lower()}"


@dataclass(frozen=True)
class ProverBinding:
    """How a server's aggregation shares sit in the rule's witness: the gradient's wire indices
    (u32 LE, in gradient order), the public wire carrying the owner, and where the server's own
    prover process reads its pins (``omnidsl serve --bind-dir``)."""

    wires: bytes
    owner_wire: int
    bind_dir: Path


@dataclass
class ModelOwner:
    market: MarketClient
    account: str
    layout: RuleLayout
    rule_hash: bytes = b"\0" * 32
    verifier: str | None = None
    box_key: tuple[bytes, bytes] = field(default_factory=att.new_owner_key)  # X25519 (priv, pub)

    def deploy_verifier(self, vk: dict[str, Any], name: str = "MarketRuleVerifier") -> str:
        """Render, compile and deploy the rule's Groth16 verifier; returns its address."""
        from omnidsl.chain import deploy
        from omnidsl.solidity.render import compile_verifier

        cc = compile_verifier(vk, name, batch=True)  # the market calls verifyBatch
        self.verifier = str(deploy(self.market.w3, cc.abi, cc.bytecode, sender=self.account).address)
        return self.verifier

    def open_task(self, servers: Sequence[str], reward: int, fee: int, escrow: int,
                  deadline: int, pinned_value: int | None = None, deliver_by: int | None = None,
                  bond: int = 0, pinned: dict[int, int] | None = None) -> int:
        """Open one task (one training round); returns its id.  ``fee`` is paid per accepted
        gradient to every server that delivers its aggregate share by ``deliver_by``; ``bond``
        is what each server deposits with its commitment (forfeited to the MO if it withholds
        its share).  ``pinned`` (index → value) fixes public inputs, as ``pinned_value`` does
        the layout's one ``pinned_index``; a rule file's task: :func:`omnidsl.market.tasks.open_task`."""
        if self.verifier is None:
            raise ChainError("deploy the rule's verifier before opening a task")
        lay = self.layout
        pinned = dict(pinned or {})
        if lay.pinned_index is not None and pinned_value is not None:
            pinned[lay.pinned_index] = pinned_value
        spec = TaskSpec(verifier=self.verifier, n_public=lay.n_public, owner_index=lay.owner_index,
                        deadline=deadline, reward_per_gradient=reward, server_fee=fee,
                        servers=list(servers), owner_key=self.box_key[1],
                        rule_hash=self.rule_hash, rho_index=lay.rho_index, fp_index=lay.fp_index,
                        pinned=pinned, deliver_by=deliver_by, server_bond=bond)
        task_id, _ = self.market.create_task(spec, escrow, self.account)
        return task_id

    def close(self, task_id: int) -> None:
        """End the submission phase: the accepted set is final, servers may deliver."""
        self.market.close_submissions(task_id, self.account)

    def delivered_shares(self, task_id: int) -> dict[str, list[int]]:
        """The aggregate shares delivered on-chain so far (server → share), opened with this
        MO's key; raises ChainError naming a server whose delivery does not open."""
        m = self.market
        chain_id = int(m.w3.eth.chain_id)
        out: dict[str, list[int]] = {}
        logs = m.contract.events.AggregateDelivered().get_logs(
            from_block=0, argument_filters={"taskId": task_id})
        for log in logs:
            server = str(log["args"]["server"])
            tx = m.w3.eth.get_transaction(log["transactionHash"])
            _, args = m.contract.decode_function_input(tx["input"])
            out[server] = att.open_share(bytes(args["sealedShare"]), self.box_key[0], chain_id,
                                         m.address, task_id, server)
        return out

    def collect(self, task_id: int) -> list[list[int]]:
        """All servers' aggregate shares in the task's server order; raises ChainError naming
        the servers that have not delivered."""
        got = self.delivered_shares(task_id)
        order = self.market.servers(task_id)
        missing = [s for s in order if s not in got]
        if missing:
            raise ChainError(f"task {task_id}: server(s) {', '.join(missing)} have not delivered "
                             "their aggregate share",
                             hint="after the delivery deadline `reclaim` returns their fees and "
                                  "bonds to the model owner")
        return [got[s] for s in order]

    def reconstruct(self, aggregate_shares: Sequence[Sequence[int]]) -> list[int]:
        """The fixed-point aggregate (signed integers) from all servers' aggregate shares."""
        return agg.reconstruct(aggregate_shares)

    def check_aggregate(self, task_id: int, aggregate: Sequence[int], report: bool = True) -> bool:
        """Compare the aggregate with the on-chain fingerprint sum; optionally record the result."""
        info = self.market.task(task_id)
        if info.rho_index is None:
            raise ChainError(f"task {task_id} has no aggregate binding")
        ok = agg.binding_holds(aggregate, info.rho, info.fp_sum)
        if report:
            self.market.report_aggregate(task_id, ok, self.account)
        return ok

    def audit(self, task_id: int, server: Server, accepted: Sequence[str],
              aggregate_share: Sequence[int]) -> bool:
        """Open ONE server's commitment and check its aggregate share (see docs/market.md).
        The audit is named on-chain first (``requestAudit``: after submissions close, at most
        N - 1 servers per task); a server opens only if the chain names it."""
        if not self.market.is_audited(task_id, server.account):
            self.market.request_audit(task_id, server.account, self.account)
        held, salt = server.opening(task_id)
        commitment = self.market.commitment_of(task_id, server.account)
        return agg.opening_is_valid(task_id, server.account, commitment, held, salt, accepted,
                                    aggregate_share)

    def reclaim(self, task_id: int) -> int:
        """After the delivery deadline: take back the unspent escrow, and the fees and bonds of
        servers that withheld their aggregate share (0 if there is nothing)."""
        if self.market.reclaimable(task_id) == 0:
            return 0
        amount, _ = self.market.reclaim(task_id, self.account)
        return amount


@dataclass
class DataOwner:
    account: str
    bits: int = 16
    frac: int = 12

    def encode(self, gradient: np.ndarray) -> list[int]:
        """Fixed-point integers; raises InputError when an entry does not fit."""
        from omnidsl.ml.encoding import encode

        return [int(v) for v in encode(gradient, self.frac, self.bits)]

    dealt: dict[int, list[list[int]]] = field(default_factory=dict)
    vectors: dict[int, list[int]] = field(default_factory=dict)

    def share(self, task_id: int, q: Sequence[int], servers: Sequence[Server],
              hiding: bool = True) -> list[list[int]]:
        """Split the aggregation vector into additive shares over F_r, one per server (fresh
        CSPRNG), and send them.  With ``hiding`` (the market rules) the vector is ``q`` followed
        by a fresh uniformly random field element, the fingerprint mask: the public fingerprint
        then reveals nothing about ``q``, and the model owner drops that coordinate of the
        aggregate.  The DO keeps the vector (``vectors``) and the shares (``dealt``) to deal its
        witness with exactly these shares on the bound wires."""
        v = [*(int(x) for x in q), secrets.randbelow(agg.R)] if hiding else [int(x) for x in q]
        pieces = agg.share_vector(v, len(servers))
        for server, piece in zip(servers, pieces, strict=True):
            server.receive(task_id, self.account, piece)
        self.vectors[task_id] = v
        self.dealt[task_id] = pieces
        return pieces

    def withdraw(self, market: MarketClient) -> int:
        if market.balance_of(self.account) == 0:
            return 0
        amount, _ = market.withdraw(self.account)
        return amount


@dataclass
class Server:
    """A server operator: ``account`` sends its transactions; ``signer`` (an ``eth_account``
    LocalAccount or raw key for ``account``; None = the node's ``eth_sign``) signs attestations."""

    market: MarketClient
    account: str
    shares: dict[int, dict[str, list[int]]] = field(default_factory=dict)
    salts: dict[int, bytes] = field(default_factory=dict)
    seeds: dict[int, bytes] = field(default_factory=dict)
    binding: ProverBinding | None = None  # set when this server proves collaboratively
    signer: Any = None
    receipts: att.Receipts = field(default_factory=att.Receipts)
    #: shortest delivery window (deliverBy - deadline, seconds) this server accepts: it must be
    #: able to get its delivery mined, or its fees and bond are forfeited to the MO
    min_delivery_window: int = 300

    def check_terms(self, task_id: int, info: Any = None) -> None:
        """Refuse (ChainError) a task in which this server could not deliver its aggregate
        share — and so would forfeit its bond and fees to the MO: an owner key no share can be
        sealed to, or a delivery window too short to be sure a block falls in it."""
        info = self.market.task(task_id) if info is None else info
        window = info.deliver_by - info.deadline
        if window < self.min_delivery_window:
            raise ChainError(f"server {self.account} will not work in task {task_id}: its "
                             f"delivery window is {window} s (< {self.min_delivery_window} s), "
                             "a delivery might find no block in it",
                             hint="the model owner must leave time between the deadline and "
                                  "deliverBy")
        try:
            att.check_owner_key(info.owner_key)
        except ChainError as exc:
            raise ChainError(f"server {self.account} will not work in task {task_id}: "
                             f"{exc.message}", hint=exc.hint) from None

    def receive(self, task_id: int, data_owner: str, share: list[int]) -> None:
        """Store one data owner's share (before the commitment only)."""
        if task_id in self.salts:
            raise ChainError(f"server {self.account} already committed to its shares of task "
                             f"{task_id}; late shares are refused")
        if self.binding is not None and len(share) != len(self.binding.wires) // 4:
            raise ChainError(f"server {self.account} refuses a share of {len(share)} entries "
                             f"from {data_owner}: its prover has {len(self.binding.wires) // 4} "
                             "bound wires")
        self.shares.setdefault(task_id, {})[Web3.to_checksum_address(data_owner)] = list(share)

    def commitment(self, task_id: int) -> bytes:
        held = sorted(self.shares.get(task_id, {}).items())
        salt = self.salts.setdefault(task_id, secrets.token_bytes(32))
        return agg.share_commitment(task_id, self.account, held, salt)

    def commit(self, task_id: int) -> int:
        """Commit on-chain to the shares held and to a fresh secret seed, depositing the task's
        bond (and pin the shares for this server's prover process: from now on it proves each
        DO's gradient only with exactly the committed share on the gradient wires); returns the
        gas used."""
        info = self.market.task(task_id)
        self.check_terms(task_id, info)  # before any bond moves
        seed = self.seeds.setdefault(task_id, secrets.token_bytes(32))
        bond = info.server_bond
        gas = self.market.commit_shares(task_id, self.commitment(task_id),
                                        att.seed_hash(task_id, self.account, seed), self.account,
                                        bond=bond).gas_used
        if self.binding is not None:
            self.pin(task_id)
        return gas

    def reveal(self, task_id: int) -> int:
        """Reveal the seed, only once every server has committed (so no committed party knew
        the challenge); the last reveal fixes it.  Returns the gas used."""
        info = self.market.task(task_id)
        if info.n_committed != len(self.market.servers(task_id)):
            raise ChainError(f"server {self.account} will not reveal its seed of task {task_id} "
                             f"before every server has committed ({info.n_committed} so far)")
        if task_id not in self.seeds:
            raise ChainError(f"server {self.account} has not committed in task {task_id}")
        return self.market.reveal_seed(task_id, self.seeds[task_id], self.account).gas_used

    def pin(self, task_id: int) -> None:
        """Write this server's pins for the shares it committed to in ``task_id``."""
        from omnidsl.field import int_to_bytes
        from omnidsl.mpc.binding import write_pin

        b = self.binding
        if b is None or task_id not in self.salts:
            raise ChainError(f"server {self.account} has no committed shares to pin")
        for owner, vec in self.shares.get(task_id, {}).items():
            write_pin(b.bind_dir, bind_label(task_id, owner), b.wires,
                      b"".join(int_to_bytes(int(v)) for v in vec),
                      public={b.owner_wire: int(owner, 16)})

    def record(self, task_id: int, items: Sequence[tuple[dict[str, Any], Sequence[Any]]]) -> None:
        """Record proofs this server produced itself (single-machine stand-ins; bound servers'
        proofs are recorded by their own ``omnidsl serve`` process)."""
        owner_index = self.market.task(task_id).owner_index
        for proof, public in items:
            owner = f"0x{int(public[owner_index]):040x}"
            self.receipts.record(bind_label(task_id, owner), proof, public)

    def _produced(self, label: str) -> tuple[list[int], list[int]] | None:
        """The proof this server's prover produced under ``label`` (its process's receipt in the
        bind directory, or one recorded in memory)."""
        found = self.receipts.lookup(label)
        if found is None and self.binding is not None:
            found = att.Receipts(self.binding.bind_dir).lookup(label)
        return found

    def _committed(self, task_id: int, owner: str) -> str | None:
        """Why this server cannot vouch for a proof of ``owner`` in a task with aggregate
        binding (None if it can): it must hold a committed share of that DO — else it could not
        deliver its aggregate share — and, when bound, its pin of that share must still be on
        disk unchanged: a label names only task and DO, so another market's task with the same
        id (same serve process) or a stale pin could otherwise have produced the receipt."""
        from omnidsl.field import int_to_bytes
        from omnidsl.mpc.binding import binding_digest

        key = Web3.to_checksum_address(owner)
        share = self.shares.get(task_id, {}).get(key)
        if task_id not in self.salts or share is None:
            return f"server {self.account} holds no committed share of {key} in task {task_id}"
        b = self.binding
        if b is None:
            return None
        label = bind_label(task_id, key)
        expected = binding_digest(b.wires, b"".join(int_to_bytes(int(v)) for v in share)).hex()
        try:
            pinned = json.loads((b.bind_dir / f"{label}.json").read_text()).get("digest")
        except (OSError, ValueError, AttributeError):
            pinned = None
        if pinned != expected:
            return (f"server {self.account}'s pin {label} is no longer the share it committed "
                    "to (replaced, e.g. by another market's task with the same id, or removed)")
        return None

    def vet(self, task_id: int, items: Sequence[tuple[dict[str, Any], Sequence[Any]]]
            ) -> list[str | None]:
        """Per item: None if this server would attest it, else why not.  It attests exactly
        the words and public inputs of a proof its own prover produced for that DO in this
        task; with aggregate binding, also only for a DO whose committed share it holds and
        still has pinned (:meth:`_committed`)."""
        from omnidsl.field import R
        from omnidsl.solidity.render import batch_calldata

        info = self.market.task(task_id)
        out: list[str | None] = []
        for proof, public in items:
            try:
                proofs, inputs = batch_calldata([(proof, list(public))])
                words, xs = [int(x) for x in proofs], [int(x) for x in inputs]
                owner = xs[info.owner_index]
            except (OmniDSLError, ValueError, KeyError, TypeError, IndexError):
                out.append("not a well-formed proof")
                continue
            if len(xs) != info.n_public or any(x >= R for x in xs):
                out.append("a public input is not < r (or their number is not the task's)")
            elif owner == 0 or owner >> 160:
                out.append("no data owner address")
            elif self._produced(bind_label(task_id, f"0x{owner:040x}")) != (words, xs):
                out.append(f"server {self.account}'s prover did not produce it")
            elif info.rho_index is not None:
                out.append(self._committed(task_id, f"0x{owner:040x}"))
            else:
                out.append(None)
        return out

    def attest(self, task_id: int, items: Sequence[tuple[dict[str, Any], Sequence[Any]]]
               ) -> bytes:
        """Sign the batch ``items`` — only if every proof in it is exactly one this server's own
        prover produced for that data owner in this task; raises ChainError naming the first
        item it refuses."""
        self.check_terms(task_id)
        for j, why in enumerate(self.vet(task_id, items)):
            if why is not None:
                raise ChainError(f"server {self.account} refuses to sign batch item {j}: {why}")
        from omnidsl.solidity.render import batch_calldata

        proofs, inputs = batch_calldata(list(items))
        digest = self.market.attestation_digest(task_id, [int(x) for x in proofs],
                                                [int(x) for x in inputs])
        return att.sign_digest(self.market.w3, self.account, digest, self.signer)

    def submit(self, task_id: int, items: Sequence[tuple[dict[str, Any], Sequence[Any]]],
               cosigners: Sequence[Server] = (), signatures: bytes | None = None) -> BatchResult:
        """Submit proofs (snarkjs proof.json, public.json) as one batch, with the attestation of
        every server of the task: this server's and its ``cosigners``' (or ``signatures``)."""
        from omnidsl.solidity.render import batch_calldata

        proofs, inputs = batch_calldata(list(items))
        if signatures is None:
            by_addr: dict[str, Server] = {Web3.to_checksum_address(s.account): s
                                          for s in (self, *cosigners)}
            order = self.market.servers(task_id)
            missing = [a for a in order if a not in by_addr]
            if missing:
                raise ChainError(f"no attestation from server(s) {', '.join(missing)}")
            signatures = b"".join(by_addr[a].attest(task_id, items) for a in order)
        return self.market.submit_batch(task_id, [int(x) for x in proofs],
                                        [int(x) for x in inputs], signatures, self.account)

    def aggregate_share(self, task_id: int, accepted: Sequence[str]) -> list[int]:
        """Σ of this server's shares over the accepted data owners (sent to the MO only).  With
        nobody accepted it is the zero vector (a round where every DO was refused, or none could
        even share: the server still delivers, and gets its bond back)."""
        held = self.shares.get(task_id, {})
        if not held and accepted:
            raise ChainError(f"server {self.account} holds no shares of task {task_id}")
        missing = [a for a in accepted if Web3.to_checksum_address(a) not in held]
        if missing:
            raise ChainError(f"server {self.account} holds no share of accepted data owner "
                             f"{missing[0]} in task {task_id}")
        vectors = [held[Web3.to_checksum_address(a)] for a in accepted]
        # the dimension of what was accepted (never of the first share received: a DO that is
        # never accepted must not be able to break the sum, and with it this server's delivery)
        dims = {len(v) for v in vectors}
        if len(dims) > 1:
            raise ChainError(f"server {self.account}: the accepted data owners' shares of task "
                             f"{task_id} have different lengths {sorted(dims)}")
        if dims:
            dim = dims.pop()
        elif self.binding is not None:
            dim = len(self.binding.wires) // 4
        else:
            dim = max((len(v) for v in held.values()), default=0)
        return agg.add_vectors(vectors, dim)

    def accepted(self, task_id: int) -> list[str]:
        """The data owners the chain credited in ``task_id`` (from the ProofAccepted events)."""
        logs = self.market.contract.events.ProofAccepted().get_logs(
            from_block=0, argument_filters={"taskId": task_id})
        return [str(e["args"]["dataOwner"]) for e in logs]

    def deliver(self, task_id: int, share: Sequence[int] | None = None) -> int:
        """After submissions close: seal the aggregate share over the accepted data owners (or
        ``share``) to the MO's key and post it on-chain (fees + bond are then credited).
        Returns the gas used."""
        m = self.market
        info = m.task(task_id)
        if share is None:
            share = self.aggregate_share(task_id, self.accepted(task_id))
        sealed = att.seal_share(share, info.owner_key, int(m.w3.eth.chain_id), m.address,
                                task_id, self.account)
        return m.deliver_aggregate(task_id, sealed, self.account).gas_used

    def opening(self, task_id: int) -> tuple[list[tuple[str, list[int]]], bytes]:
        """(shares held, salt): what this server reveals when the MO audits it — only if the
        chain records that audit (``requestAudit``, at most N - 1 servers per task): a MO that
        opened every server would reconstruct every DO's vector."""
        if task_id not in self.salts:
            raise ChainError(f"server {self.account} has not committed in task {task_id}")
        if not self.market.is_audited(task_id, self.account):
            raise ChainError(f"server {self.account} is not audited in task {task_id} on-chain; "
                             "it keeps its shares closed",
                             hint="the model owner names the audited server with requestAudit "
                                  "(after submissions close, at most N - 1 servers per task)")
        return sorted(self.shares.get(task_id, {}).items()), self.salts[task_id]

    def joint_gradient(self, task_id: int, data_owner: str, others: Sequence[Server]) -> list[int]:
        """STAND-IN for collaborative proving: the gradient the servers jointly prove about is
        the sum of the shares they committed to (never what a DO claims afterwards).  The MPC
        prover (omnidsl.mpc) computes on these shares without reconstructing them; the demo's
        snarkjs prover needs the clear vector, so this reconstructs it."""
        key = Web3.to_checksum_address(data_owner)
        parts = [s.shares.get(task_id, {}).get(key) for s in (self, *others)]
        if any(p is None for p in parts):
            raise ChainError(f"not every server holds a share of {data_owner} in task {task_id}")
        return agg.reconstruct([p for p in parts if p is not None])

    def withdraw(self) -> int:
        if self.market.balance_of(self.account) == 0:
            return 0
        amount, _ = self.market.withdraw(self.account)
        return amount

    def forget(self, task_id: int) -> None:
        """Drop a finished task's shares (and their pins and receipts)."""
        held = self.shares.pop(task_id, None) or {}
        self.salts.pop(task_id, None)
        self.seeds.pop(task_id, None)
        for owner in held:
            label = bind_label(task_id, owner)
            self.receipts.forget(label)
            if self.binding is not None:
                att.Receipts(self.binding.bind_dir).forget(label)
                (self.binding.bind_dir / f"{label}.json").unlink(missing_ok=True)
