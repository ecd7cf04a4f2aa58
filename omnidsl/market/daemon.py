"""The server operator's process (``omnidsl market server run``): one :class:`ServerDaemon`.

It watches the market for tasks that list its account as a server and were opened for its rule
(ruleHash = its keys), and drives each through the role's steps (:class:`~omnidsl.market.roles.
Server`): receive sealed, signed shares on its inbox (:mod:`omnidsl.market.inbox`) → commit
(bond; pins the shares for its ``omnidsl serve --bind-dir`` process) once ``expect`` DOs' shares
are held or ``collect_s`` after the first → reveal its seed once every server committed → (the
DOs prove through the servers' ``omnidsl serve`` processes, which leave receipts in the bind
directory) → the task's first server (the *coordinator*) submits one batch once every committed
DO has a proof or ``prove_s`` after ρ was fixed, with every server's attestation fetched from
its peers' inboxes (a task with a batch verifier for the daemon's batch key: one proof per batch
of k DOs that dealt their slots, :mod:`omnidsl.market.daemon_batch`) → after submissions close: deliver the aggregate share sealed to the MO,
withdraw the fees, forget the task.

A failing step is logged as one located line (``task T: ...``): a reverted transaction ends the
work on that task (a bonded server still delivers after the close); a dead peer is retried at the
next poll.  With ``state_dir`` each task's shares, salt, seed and progress are kept on disk
(:mod:`omnidsl.market.daemon_state`), so a restarted server picks its tasks up again.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from web3 import Web3

from omnidsl.errors import ChainError, NetworkError, OmniDSLError
from omnidsl.market import batching, daemon_batch, daemon_state, inbox
from omnidsl.market.client import MarketClient
from omnidsl.market.roles import Server, bind_label
from omnidsl.market.rulefile import LoadedRule
from omnidsl.mpc.receipts import read_receipt

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Timing:
    """When a server commits and when the coordinator submits (seconds of wall time)."""

    expect: int | None = None  # commit as soon as this many DOs' shares are held
    collect_s: float = 30.0  # else this long after the first share arrived
    prove_s: float = 120.0  # submit at the latest this long after the challenge was fixed
    poll_s: float = 1.0


@dataclass
class TaskState:
    first_share: float | None = None
    committed: bool = False
    revealed: bool = False
    fixed_at: float | None = None
    submitted: bool = False
    delivered: bool = False
    delivering: bool = False  # the delivery was attempted
    done: str | None = None  # why this server stopped working on the task
    last_warning: str = ""


@dataclass
class ServerDaemon:
    """One market server: its role object, its signing account, its rule and its inbox."""

    server: Server
    account: Any  # eth_account LocalAccount (signs transactions, attestations, its card)
    rule: LoadedRule
    serve_id: int  # its `omnidsl serve` process's id in servers.toml
    peers: list[str] = field(default_factory=list)  # the other market servers' inbox URLs
    timing: Timing = field(default_factory=Timing)
    tasks: dict[int, TaskState] = field(default_factory=dict)
    state_dir: Path | None = None  # where the tasks' state is kept (daemon_state); None: memory
    lock: threading.RLock = field(default_factory=threading.RLock)
    batch: Any = None  # daemon_batch.BatchKeys: prove tasks with a batch verifier in batches
    slots: dict[int, dict[str, list[int]]] = field(default_factory=dict)  # announced slots

    def __post_init__(self) -> None:
        self.box_sk, self.box_pub = inbox.new_box_key()
        self.scanned = 0  # tasks 1..scanned were looked at
        self._peer_addr: dict[str, str] = {}  # server address -> inbox URL
        if self.state_dir is not None:
            self.tasks.update(daemon_state.load(self.state_dir, self.server, TaskState))
            for task_id, st in self.tasks.items():
                if self.server.shares.get(task_id) and not st.committed:
                    st.first_share = time.monotonic()

    def _save(self, task_id: int) -> None:
        if self.state_dir is not None:
            daemon_state.save(self.state_dir, task_id, self.server, self.tasks[task_id])

    def _finish(self, task_id: int, why: str) -> None:
        """Stop working on a task: drop its shares, pins, receipts and saved state."""
        self.tasks[task_id].done = why
        self.server.forget(task_id)
        if self.state_dir is not None:
            daemon_state.forget(self.state_dir, task_id)

    @property
    def market(self) -> MarketClient:
        return self.server.market

    @property
    def address(self) -> str:
        return str(Web3.to_checksum_address(self.server.account))

    # ------------------------------------------------------------ inbox handlers
    def card(self) -> dict[str, Any]:
        chain_id = int(self.market.w3.eth.chain_id)
        digest = inbox.card_digest(chain_id, self.market.address, self.address, self.serve_id,
                                   self.box_pub)
        return {"market": self.market.address, "chain_id": chain_id, "server": self.address,
                "serve_id": self.serve_id, "box_key": self.box_pub.hex(),
                "signature": inbox.sign(self.account, digest).hex()}

    def on_share(self, body: dict[str, Any]) -> dict[str, Any]:
        task_id, owner = int(body["task"]), Web3.to_checksum_address(str(body["owner"]))
        sealed, sig = bytes.fromhex(str(body["sealed"])), bytes.fromhex(str(body["signature"]))
        digest = inbox.share_digest(int(self.market.w3.eth.chain_id), self.market.address,
                                    task_id, self.address, owner, sealed)
        if inbox.recover(digest, sig) != owner:
            raise NetworkError(f"task {task_id}: the share is not signed by {owner}")
        with self.lock:
            self._discover()
            st = self.tasks.get(task_id)
            if st is None or st.done:
                why = st.done if st else "not a task of this server's rule"
                raise NetworkError(f"server {self.address} does not work in task {task_id} "
                                   f"({why})")
            ctx = inbox.seal_context(int(self.market.w3.eth.chain_id), self.market.address,
                                     task_id, self.address, owner)
            self.server.receive(task_id, owner, inbox.open_sealed(sealed, self.box_sk, ctx))
            st.first_share = st.first_share or time.monotonic()
            self._save(task_id)
            held = len(self.server.shares.get(task_id, {}))
        log.info("task %d: share of %s received (%d held)", task_id, owner, held)
        return {"ok": True, "held": held}

    def _items(self, task_id: int, owners: list[str]
               ) -> tuple[list[batching.Item], dict[str, str]]:
        """This server's own proofs (receipts) for ``owners``; owners without one → why."""
        items: list[batching.Item] = []
        missing: dict[str, str] = {}
        bind = self.server.binding
        for o in owners:
            found = read_receipt(bind.bind_dir, bind_label(task_id, o)) if bind else None
            if found is None:
                missing[o] = f"server {self.address}'s prover made no proof of {o}"
            else:
                items.append(found)
        return items, missing

    def on_vet(self, body: dict[str, Any]) -> dict[str, Any]:
        """Per item (a proof and its public signals): why this server would not attest it."""
        items = batching.items_of(body)
        with self.lock:
            return {"refused": self.server.vet(int(body["task"]), items)}

    def on_attest(self, body: dict[str, Any]) -> dict[str, Any]:
        """This server's attestation of exactly these items (refused unless it would attest
        every one: its own prover produced it, for a DO whose committed share it holds)."""
        task_id, items = int(body["task"]), batching.items_of(body)
        with self.lock:
            sig = self.server.attest(task_id, items)
        log.info("task %d: attested a batch of %d proofs", task_id, len(items))
        return {"signature": sig.hex()}

    # ------------------------------------------------------------ the loop
    def _discover(self) -> None:
        """Track new tasks listing this server whose ruleHash is this server's rule."""
        count = int(self.market._call(self.market.contract.functions.taskCount()))
        for task_id in range(self.scanned + 1, count + 1):
            if task_id in self.tasks or not self.market.is_server(task_id, self.address):
                continue
            info = self.market.task(task_id)
            if info.rule_hash != self.rule.rule_hash:
                log.warning("task %d lists this server but another rule (ruleHash %s…): ignored",
                            task_id, info.rule_hash.hex()[:16])
                continue
            try:
                self.server.check_terms(task_id, info)
            except ChainError as exc:
                log.warning("task %d: %s", task_id, exc.message)
                continue
            self.tasks[task_id] = TaskState()
            log.info("task %d: watching (deadline %d, %d servers)", task_id, info.deadline,
                     len(self.market.servers(task_id)))
        self.scanned = max(self.scanned, count)

    def step(self) -> None:
        """One poll: discover tasks, advance each (errors are logged, never raised)."""
        with self.lock:
            try:
                self._discover()
            except OmniDSLError as exc:
                log.error("%s", exc.message)
                return
            except OSError as exc:  # the node is unreachable (requests' errors are OSErrors)
                log.warning("the chain node did not answer (%s); retrying", exc)
                return
            for task_id, st in list(self.tasks.items()):
                if st.done:
                    continue
                try:
                    self._advance(task_id, st)
                except NetworkError as exc:  # a dead peer: try again at the next poll
                    self._warn(task_id, st, exc.message)
                except OSError as exc:  # the node is unreachable: the same
                    self._warn(task_id, st, f"the chain node did not answer ({exc})")
                except OmniDSLError as exc:  # a reverted transaction, a refused step
                    if st.committed and not st.delivering:
                        # bonded: skip what failed, but still deliver once submissions close
                        st.revealed = st.submitted = True
                        self._save(task_id)
                        log.error("task %d: %s (this server still delivers its aggregate "
                                  "share after the close)", task_id, exc.message)
                    else:
                        self._finish(task_id, exc.message)
                        log.error("task %d: %s (this server stops working on it)", task_id,
                                  exc.message)

    @staticmethod
    def _warn(task_id: int, st: TaskState, message: str) -> None:
        """Log a transient failure once (until it changes); the step is retried."""
        if message != st.last_warning:
            log.warning("task %d: %s (retried at the next poll)", task_id, message)
            st.last_warning = message

    def _advance(self, task_id: int, st: TaskState) -> None:
        info = self.market.task(task_id)
        now = int(self.market.w3.eth.get_block("latest")["timestamp"])
        is_open = not info.closed and now <= info.deadline
        held = self.server.shares.get(task_id, {})
        if not st.committed:
            if not is_open:
                self._finish(task_id, "submissions closed before it committed")
                log.info("task %d: closed before this server committed (%d shares held)",
                         task_id, len(held))
                return
            t = self.timing
            waited = st.first_share is not None and \
                time.monotonic() - st.first_share >= t.collect_s
            if held and ((t.expect is not None and len(held) >= t.expect) or waited):
                self.server.commitment(task_id)  # draws the salt: no share is accepted after it
                self.server.seeds.setdefault(task_id, secrets.token_bytes(32))
                self._save(task_id)  # the salt and seed are on disk before the commitment
                gas = self.server.commit(task_id)
                st.committed = True
                self._save(task_id)
                log.info("task %d: committed to %d shares (gas %d)", task_id, len(held), gas)
            return
        if not st.revealed and info.n_committed == len(self.market.servers(task_id)):
            gas = self.server.reveal(task_id)
            st.revealed = True
            self._save(task_id)
            log.info("task %d: seed revealed (gas %d)", task_id, gas)
            return
        if info.challenge_fixed and st.fixed_at is None:
            st.fixed_at = time.monotonic()
            log.info("task %d: challenge fixed; waiting for the data owners' proofs", task_id)
        if st.fixed_at is not None and not st.submitted and is_open and self._coordinates(task_id):
            if daemon_batch.uses_batch(self, task_id):
                daemon_batch.maybe_submit_batch(self, task_id, st, sorted(held))
            else:
                self._maybe_submit(task_id, st, sorted(held))
        if (not is_open) and not st.delivered and now <= info.deliver_by:
            st.delivering = True
            gas = self.server.deliver(task_id)
            st.delivered = True
            paid = self.server.withdraw()
            log.info("task %d: aggregate share delivered (gas %d); withdrew %d wei", task_id,
                     gas, paid)
            self._finish(task_id, "delivered")
        elif not is_open and not st.delivered and now > info.deliver_by:
            self._finish(task_id, "the delivery deadline passed")
            log.error("task %d: the delivery deadline passed before this server delivered",
                      task_id)

    def _coordinates(self, task_id: int) -> bool:
        return Web3.to_checksum_address(self.market.servers(task_id)[0]) == self.address

    def _maybe_submit(self, task_id: int, st: TaskState, owners: list[str]) -> None:
        items, missing = self._items(task_id, owners)
        late = st.fixed_at is not None and time.monotonic() - st.fixed_at >= self.timing.prove_s
        if missing and not late:
            return
        if not items:
            st.submitted = True
            log.info("task %d: no proof was made; nothing to submit", task_id)
            return
        ready = [o for o in owners if o not in missing]
        peers = [batching.RemotePeer(a, u) for a, u in self._peer_urls(task_id).items()]
        keep, refused = batching.vet_by_all([self.server, *peers], task_id, items)
        for j, why in refused.items():
            log.warning("task %d: proof of %s left out: %s", task_id, ready[j], why)
        items = [items[j] for j in keep]
        if not items:
            st.submitted = True
            return
        batch = batching.submit_attested(self.server, peers, task_id, items)
        st.submitted = True
        self._save(task_id)
        log.info("task %d: batch of %d submitted (gas %d): accepted %s, rejected %s", task_id,
                 len(items), batch.gas_used, batch.accepted or "none",
                 [(a, r.name) for _, a, r in batch.rejected] or "none")

    def _peer_urls(self, task_id: int) -> dict[str, str]:
        """Inbox URL of every other server of the task (from the peers' signed cards)."""
        chain_id = int(self.market.w3.eth.chain_id)
        for url in self.peers:
            if url in self._peer_addr.values():
                continue
            card = inbox.request(url, "/info")
            addr = verify_card(card, chain_id, self.market.address, url)
            self._peer_addr[addr] = url
        out: dict[str, str] = {}
        for s in self.market.servers(task_id):
            a = str(Web3.to_checksum_address(s))
            if a == self.address:
                continue
            if a not in self._peer_addr:
                raise NetworkError(f"no inbox URL for server {a} of task {task_id}",
                                   hint="give every other server's URL with --peer URL")
            out[a] = self._peer_addr[a]
        return out

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set."""
        while not stop.is_set():
            self.step()
            stop.wait(self.timing.poll_s)


def verify_card(card: dict[str, Any], chain_id: int, market: str, url: str) -> str:
    """The server address a card was signed by (NetworkError if it is for another market or
    chain, or its signature does not recover the address it names)."""
    try:
        server = Web3.to_checksum_address(str(card["server"]))
        box = bytes.fromhex(str(card["box_key"]))
        digest = inbox.card_digest(chain_id, market, server, int(card["serve_id"]), box)
        sig = bytes.fromhex(str(card["signature"]))
    except (KeyError, ValueError, TypeError) as exc:
        raise NetworkError(f"market server {url}: a malformed card ({exc})") from None
    if Web3.to_checksum_address(str(card.get("market", ""))) != Web3.to_checksum_address(market):
        raise NetworkError(f"market server {url} serves market {card.get('market')}, not "
                           f"{market}")
    if len(box) != 32 or inbox.recover(digest, sig) != server:
        raise NetworkError(f"market server {url}: its card is not signed by {server}")
    return server


def start_inbox(daemon: ServerDaemon, host: str, port: int) -> inbox.Inbox:
    """The daemon's HTTP inbox (started)."""
    return inbox.Inbox(host, port, daemon.card, {
        "/share": daemon.on_share, "/vet": daemon.on_vet, "/attest": daemon.on_attest,
        "/slot": lambda body: daemon_batch.on_slot(daemon, body),
        "/attest_batch": lambda body: daemon_batch.on_attest_batch(daemon, body)}).start()


def make_server(market: MarketClient, account: Any, rule: LoadedRule, bind_dir: Path) -> Server:
    """The role object of a market server whose prover pins in ``bind_dir``."""
    return Server(market, account.address, binding=rule.rule.binding_for(bind_dir),
                  signer=account)
