"""`omnidsl market demo`: whole training rounds through the market contract.

Per round: the model owner (MO) computes its reference gradient and opens a task (escrow, the
round's L2 bound pinned as a public input); every data owner (DO) computes its gradient (malicious
ones attack), encodes it in fixed point and secret-shares it to the servers; the servers commit to
their shares and to secret seeds (and pin the shares for each server's prover process), then
reveal the seeds, which fixes the challenge ρ on-chain; every DO whose gradient satisfies the rule computes its witness and deals it to the
servers with its aggregation shares as the shares of the gradient wires, and the servers prove
collaboratively (``omnidsl serve`` processes, :mod:`omnidsl.mpc`) — each refuses unless its share
of the gradient is the one it committed to (a DO whose gradient breaks the rule has no witness, and
a malicious one then tries to steal an honest DO's proof by putting its own address in it); the
coordinating server collects every server's attestation — each signs only proofs its own prover
produced, so the stolen proofs are dropped — and submits one batch; the chain credits the valid
proofs; the MO closes submissions; each server posts its aggregate share sealed to the MO's key
(earning its fees and its bond back); the MO reconstructs the sum, checks it against the on-chain
fingerprints, and updates the model.  Everyone withdraws; after the delivery deadline the MO
reclaims the unspent escrow.

The ML side plugs in through :class:`GradientSource` (see :class:`DigitsSource`).
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from web3 import Web3
from web3.types import RPCEndpoint, Wei

from omnidsl import progress
from omnidsl.errors import ChainError, InputError, OmniDSLError
from omnidsl.market import batch_round, dsl_rule, model_pin, tasks
from omnidsl.market import circom_rule as cr
from omnidsl.market.batching import submit_attested, vet_by_all
from omnidsl.market.client import BatchResult, MarketClient
from omnidsl.market.contribute import prove_shared_vector
from omnidsl.market.owner import settle
from omnidsl.market.roles import DataOwner, ModelOwner, RuleLayout, Server
from omnidsl.ml.federated import DigitsSource
from omnidsl.mpc.cluster import ServerCluster
from omnidsl.procs import terminate_raises

logger = logging.getLogger(__name__)

#: demo provers: mpc = the DSL rule proved by the servers collaboratively (default); local = the
#: same rule proved on one machine from the servers' reconstructed shares; snarkjs = circom rule
PROVERS = ("mpc", "local", "snarkjs")
_ALIASES = {"omnidsl": "mpc"}

REWARD = 10**15  # wei per accepted gradient (0.001 ether)
FEE = 10**14  # wei per accepted gradient to every server that delivers its aggregate share
BOND = 10**15  # wei each server deposits with its commitment (forfeited if it withholds its share)


class MarketRule(Protocol):
    """A proving backend for the demo (circom_rule.SnarkjsRule or dsl_rule.DslRule)."""

    dim: int
    binding: bool  # True if the rule exposes rho and the fingerprint

    @property
    def layout(self) -> RuleLayout: ...
    @property
    def vk(self) -> dict[str, Any]: ...
    @property
    def rule_hash(self) -> bytes: ...
    def pinned_value(self, max_q: int) -> int: ...
    def satisfies(self, q: list[int], pinned: Any) -> bool: ...  # pinned: an int or the terms
    def witness_input(self, q: list[int], owner: str, rho: int, pinned: Any) -> dict[str, Any]: ...

    def prove_many(self, inputs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[str]]]:
        ...


class GradientSource(Protocol):
    """What the demo needs from the ML side (one instance per run)."""

    n_params: int
    #: malicious[i] is True for a malicious data owner i
    malicious: list[bool]

    def reference(self) -> np.ndarray:
        """Start a round: the MO publishes the round's model to the DOs (perturbed, with
        DigitsSource) and returns its reference gradient on its root data for that model."""
        ...

    def gradients(self) -> list[np.ndarray]:
        """Each DO's (possibly attacked) float gradient for the published model."""
        ...

    def apply(self, aggregate: np.ndarray, n_accepted: int) -> None:
        """Update the model with the decoded sum of the accepted gradients (the MO maps it
        back to its clear model's coordinates)."""
        ...

    def accuracy(self) -> float:
        """Test accuracy of the current model."""
        ...


@dataclass
class RoundReport:
    round: int
    task_id: int
    accepted: list[int]
    rejected: dict[int, str]
    batch_gas: int
    commit_gas: int  # commitments + seed reveals
    batch_size: int
    binding_ok: bool | None  # None: the rule has no aggregate binding
    accuracy: float
    reclaimed: int
    times: dict[str, float]
    #: collaborative proving: proofs, mean per-proof wall time, server CPU and MB sent per server
    mpc: dict[str, float] = field(default_factory=dict)


@dataclass
class MpcProvers:
    """The running server processes and the proving key file they know."""

    cluster: ServerCluster
    pk_path: Path


@dataclass
class Actors:
    mo: ModelOwner
    servers: list[Server]
    dos: list[DataOwner]


#: ``on_round(actors, report)``: after the market is deployed (None), then after every round.
RoundHook = Callable[[Actors, RoundReport | None], None]


def _local_accounts(w3: Web3, n: int, funder: str, amount: int) -> list[Any]:
    """``n`` fresh accounts (keys from the OS CSPRNG), funded, signing through a middleware."""
    from eth_account import Account
    from web3.middleware import SignAndSendRawMiddlewareBuilder

    accts = [Account.from_key(secrets.token_bytes(32)) for _ in range(n)]
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(accts), layer=0)
    for a in accts:
        tx = w3.eth.send_transaction({"from": funder, "to": a.address, "value": Wei(amount)})
        w3.eth.wait_for_transaction_receipt(tx)
    return accts


def advance_time(w3: Web3, seconds: int) -> bool:
    """Move the chain clock forward (eth-tester or anvil); False if the node cannot."""
    tester = getattr(w3.provider, "ethereum_tester", None)
    try:
        if tester is not None:
            tester.time_travel(int(w3.eth.get_block("latest")["timestamp"]) + seconds)
            tester.mine_blocks(1)
        else:
            w3.provider.make_request(RPCEndpoint("evm_increaseTime"), [seconds])
            w3.provider.make_request(RPCEndpoint("evm_mine"), [])
    except Exception:
        return False
    return True


@contextmanager
def _stage(times: dict[str, float], name: str) -> Iterator[None]:
    t0 = time.perf_counter()
    with progress.step(name):  # a stage of the round (omnidsl/progress.py)
        yield
    times[name] = times.get(name, 0.0) + time.perf_counter() - t0


def setup_actors(w3: Web3, rule: MarketRule, n_owners: int, n_servers: int,
                 gas_cap: int | None = None) -> Actors:
    """Deploy the market and the rule's verifier; create MO, servers and DOs, funded by the
    chain's configured sender (``w3.eth.default_account``, see omnidsl.chain.config)."""
    default = w3.eth.default_account
    if not default:
        raise ChainError("the market demo needs a funded signer on this chain",
                         hint="--key-file FILE or --key-env VAR (docs/chain.md)")
    funder = str(default)
    market = MarketClient.deploy(w3, sender=funder, gas_cap=gas_cap)
    extra = _local_accounts(w3, 1 + n_servers + n_owners, funder, 10**18)
    mo = ModelOwner(market, extra[0].address, rule.layout, rule.rule_hash)
    mo.deploy_verifier(rule.vk)
    servers = [Server(market, a.address, signer=a) for a in extra[1:1 + n_servers]]
    dos = [DataOwner(a.address) for a in extra[1 + n_servers:]]
    return Actors(mo, servers, dos)


def _prove_collaboratively(rule: Any, mpc: MpcProvers, task_id: int, rho: int, pinned: Any,
                           dos: list[DataOwner], encoded: dict[int, list[int]],
                           rejected: dict[int, str], times: dict[str, float],
                           log: Callable[[str], None]) -> tuple[list[int], list, dict[str, float]]:
    """Each DO with a witness deals it (its aggregation shares on the gradient wires) and the
    server processes prove; returns (provers, items, stats)."""
    provable, items = [], []
    cpu = sent = wall = 0.0
    for i, q in encoded.items():
        if not rule.satisfies(q, pinned):
            rejected[i] = "rule violated (no witness)"
            continue
        t0 = time.perf_counter()
        try:  # the `market do contribute` step
            item, res = prove_shared_vector(rule, mpc.cluster.cfg, mpc.pk_path, dos[i], task_id,
                                            rho, pinned)
        except OmniDSLError as exc:
            if "refuses to prove" not in exc.message:
                raise  # a dead or failing server is an infrastructure error, not a verdict on DO i
            rejected[i] = "the servers refused to prove it (not the shares they committed to)"
            log(f"  DO{i}: {exc.message}")
            continue
        total = time.perf_counter() - t0
        times["witness"] = times.get("witness", 0.0) + total - res.wall_s
        times["share/deal"] = times.get("share/deal", 0.0) + res.deal_s
        times["collab. prove"] = times.get("collab. prove", 0.0) + res.wall_s - res.deal_s
        provable.append(i)
        items.append(item)
        wall += res.wall_s - res.deal_s
        cpu += sum(r.cpu_s for r in res.reports) / len(res.reports)
        sent += max(r.bytes_sent for r in res.reports)
    k = len(items)
    stats = {"proofs": float(k), "prove_s": wall / k, "cpu_s": cpu / k, "mb_sent": sent / k / 1e6} \
        if k else {"proofs": 0.0}
    return provable, items, stats


def run_round(rnd: int, w3: Web3, rule: MarketRule, actors: Actors, source: GradientSource,
              norm_factor: float, log: Callable[[str], None],
              mpc: MpcProvers | None = None, batch_path: Any = None) -> RoundReport:
    times: dict[str, float] = {}
    mo, servers, dos = actors.mo, actors.servers, actors.dos
    market = mo.market
    with _stage(times, "train"):
        ref = source.reference()
        grads = source.gradients()
    now = int(w3.eth.get_block("latest")["timestamp"])
    escrow = len(dos) * (REWARD + len(servers) * FEE)
    pinned: Any  # the terms of a DSL rule (tasks.py), the snarkjs rule's one bound
    if isinstance(rule, dsl_rule.DslRule):  # a rule file: pins, published reference, DO check
        with _stage(times, "open task"):
            task_id, pinned = tasks.open_round(mo, rule, [s.account for s in servers], ref,
                                               norm_factor, escrow, now, REWARD, FEE, BOND,
                                               model=getattr(source, "published", None))
    else:
        pinned = rule.pinned_value(round(norm_factor * float(np.linalg.norm(ref)) * (1 << cr.FRAC)))
        with _stage(times, "open task"):  # the snarkjs rule: one pinned bound
            task_id = mo.open_task([s.account for s in servers], REWARD, FEE, escrow, now + 3600,
                                   pinned_value=pinned, deliver_by=now + 7200,
                                   bond=BOND if rule.binding else 0)
    if batch_path is not None:  # --batch-proof: the batch verifier, before any commitment
        batch_round.open_task(batch_path, mo, task_id)
    rejected: dict[int, str] = {}
    encoded: dict[int, list[int]] = {}
    with _stage(times, "share"):
        held = getattr(source, "published", None) if isinstance(rule, dsl_rule.DslRule) else None
        for i, (do, g) in enumerate(zip(dos, grads, strict=True)):
            if held is not None and (refused := model_pin.refusal(market, task_id, held)):
                rejected[i] = refused  # the DO's model is not the task's: it does not take part
                continue
            try:
                encoded[i] = do.encode(g)
            except InputError:
                rejected[i] = "not encodable (entry out of range)"
                continue
            do.share(task_id, encoded[i], servers)
    commit_gas = 0
    if rule.binding:
        with _stage(times, "commit"):
            commit_gas = sum(s.commit(task_id) for s in servers)
            commit_gas += sum(s.reveal(task_id) for s in servers)
    rho = market.task(task_id).rho
    log(f"round {rnd}: task {task_id} open, {len(encoded)} gradients shared"
        + (", challenge fixed" if rule.binding else ""))
    mpc_stats: dict[str, float] = {}
    if mpc is not None:
        # The servers prove what they committed to (their pins); each DO deals its own witness.
        with progress.step("collab. prove"):
            provable, items, mpc_stats = _prove_collaboratively(rule, mpc, task_id, rho, pinned,
                                                                dos, encoded, rejected, times, log)
    else:
        with _stage(times, "prove"):
            # STAND-IN (local/snarkjs): prove the gradient reconstructed from the committed shares.
            joint = {i: servers[0].joint_gradient(task_id, dos[i].account, servers[1:])
                     for i in encoded}
            provable = [i for i, q in joint.items() if rule.satisfies(q, pinned)]
            for i in encoded:
                if i not in provable:
                    rejected[i] = "rule violated (no witness)"
            inputs = [rule.witness_input(joint[i], dos[i].account, rho, pinned) for i in provable]
            items = rule.prove_many(inputs)
            for s in servers:  # the stand-in proved for all of them
                s.record(task_id, items)
    # Malicious DOs without a witness try to steal an honest DO's proof (swap in their address).
    honest_items = [it for i, it in zip(provable, items, strict=True) if not source.malicious[i]]
    owners_of_items = list(provable)
    for i in list(rejected):
        if source.malicious[i] and honest_items:
            proof, public = honest_items[len(owners_of_items) % len(honest_items)]
            stolen = list(public)
            stolen[rule.layout.owner_index] = str(int(dos[i].account, 16))
            items.append((proof, stolen))
            owners_of_items.append(i)
    # Every server attests only proofs its own prover produced: the stolen ones are dropped.
    keep, _ = vet_by_all(servers, task_id, items)
    for j in range(len(items)):
        if j not in keep:
            i = owners_of_items[j]
            before = f"{rejected[i]}, then " if i in rejected else ""
            rejected[i] = f"{before}its stolen proof was refused by the servers (not attested)"
    items = [items[j] for j in keep]
    log(f"round {rnd}: {len(provable)} proofs made, submitting a batch of {len(items)}")
    with _stage(times, "submit"):
        batch: BatchResult | None = None
        if items and batch_path is not None:  # one proof of the whole batch
            batch = batch_round.submit(batch_path, servers, task_id, items, rho, pinned)
        elif items:
            batch = submit_attested(servers[0], servers[1:], task_id, items)
    by_addr: dict[str, int] = {Web3.to_checksum_address(d.account): j for j, d in enumerate(dos)}
    accepted = [] if batch is None else sorted(by_addr[a] for a in batch.accepted)
    if batch is not None:
        for _, addr, why in batch.rejected:
            k = by_addr.get(Web3.to_checksum_address(addr)) if int(addr, 16) else None
            if k is not None and k not in accepted:
                before = f"{rejected[k]}, then " if k in rejected else ""
                what = "its stolen proof was" if before else "proof"
                rejected[k] = f"{before}{what} rejected on-chain ({why.name.lower()})"
    with _stage(times, "aggregate"):
        mo.close(task_id)
        for s in servers:
            s.deliver(task_id)
        settled = settle(mo, task_id, rule.dim, cr.FRAC)  # the `market mo check` step
        binding_ok = settled.matched if rule.binding else None
        if binding_ok is False:
            raise ChainError(f"round {rnd}: the servers' aggregate does not match the "
                             "accepted proofs' fingerprints; update refused")
        if settled.accepted:
            source.apply(settled.gradient, len(settled.accepted))
    with _stage(times, "payout"):
        for d in dos:
            batch_round.claim(market, task_id, d.account)  # credited by a batch proof
            d.withdraw(market)
        for s in servers:
            s.withdraw()
            s.forget(task_id)
        reclaimed = mo.reclaim(task_id) if advance_time(w3, 7201) else 0
    return RoundReport(rnd, task_id, accepted, rejected, 0 if batch is None else batch.gas_used,
                       commit_gas, len(items), binding_ok, source.accuracy(), reclaimed, times,
                       mpc_stats)


def format_summary(reports: list[RoundReport], malicious: list[bool], initial_acc: float) -> str:
    """The summary table printed at the end of the demo."""
    lines = ["", f"{'round':>5} {'accepted':>9} {'rejected':>9} {'batch':>6} {'gas/batch':>10} "
                 f"{'gas/DO':>9} {'commit gas':>10} {'binding':>8} {'accuracy':>9}"]
    for r in reports:
        per = r.batch_gas // len(r.accepted) if r.accepted else 0
        lines.append(f"{r.round:>5} {len(r.accepted):>9} {len(r.rejected):>9} {r.batch_size:>6} "
                     f"{r.batch_gas:>10,} {per:>9,} {r.commit_gas:>10,} "
                     f"{ {None: 'n/a', True: 'ok', False: 'FAIL'}[r.binding_ok]:>8} {r.accuracy:>9.3f}")
    lines.append(f"initial accuracy {initial_acc:.3f}; final {reports[-1].accuracy:.3f}"
                 if reports else "no rounds")
    stages: dict[str, float] = {}
    for r in reports:
        for k, v in r.times.items():
            stages[k] = stages.get(k, 0.0) + v
    lines.append("time per stage (all rounds): "
                 + ", ".join(f"{k} {v:.1f}s" for k, v in stages.items()))
    mp = [r.mpc for r in reports if r.mpc.get("proofs")]
    if mp:
        n = sum(m["proofs"] for m in mp)

        def mean(key: str) -> float:
            return sum(m[key] * m["proofs"] for m in mp) / n

        lines.append(f"collaborative proving: {int(n)} proofs by the servers, "
                     f"{mean('prove_s'):.2f}s per proof (wall), {mean('cpu_s'):.2f}s CPU and "
                     f"{mean('mb_sent'):.2f} MB sent per server per proof")
    lines.append("data owners (m = malicious):")
    for i, bad in enumerate(malicious):
        acc = sum(i in r.accepted for r in reports)
        why = sorted({r.rejected[i] for r in reports if i in r.rejected})
        lines.append(f"  DO{i}{' (m)' if bad else '    '} accepted in {acc}/{len(reports)} rounds"
                     + (f"; rejected: {', '.join(why)}" if why else ""))
    return "\n".join(lines)


def run_demo(w3: Web3, rounds: int = 3, owners: int = 8, malicious: int = 3, servers: int = 3,
             workdir: Path | None = None, attack: str = "mixed", norm_factor: float = 3.0,
             ptau: Path | None = None, source: GradientSource | None = None,
             prover: str = "mpc", gas_cap: int | None = None, model: str = "logreg",
             log: Callable[[str], None] | None = None, on_round: RoundHook | None = None,
             rule_file: Path | None = None, rule_params: dict[str, int] | None = None,
             rule_values: dict[str, Any] | None = None,
             model_noise: float = 0.0, batch_proof: bool = False) -> list[RoundReport]:
    """Run the demo on ``w3``; returns one report per round.  Progress goes to ``log`` (by
    default this module's logger at INFO; the CLI prints it); ``on_round(actors, report)`` is
    called once the market is deployed (report None) and after every round.  ``rule_file``: a
    market rule (mpc/local; D = the model's size), its terms per round: ``tasks.round_values``.
    ``model_noise`` σ: the default source publishes perturb(θ + n) (docs/privacy.md).
    ``batch_proof``: submit each round as one proof of the batch statement (batch_round.py)."""
    log, hook = log or logger.info, on_round or (lambda _a, _r: None)
    if not 0 <= malicious <= owners or owners < 1 or servers < 2 or rounds < 1:
        raise InputError("need owners >= 1, 0 <= malicious <= owners, servers >= 2, rounds >= 1")
    if source is not None and model_noise:
        raise InputError("model_noise applies to the default source only",
                         hint="set the noise on the source (DigitsSource(model_noise=...))")
    src = source or DigitsSource(owners, malicious, attack, model_name=model,  # the public
                                 norm_factor=norm_factor,  # terms an adaptive attacker knows
                                 tau=float((rule_values or {}).get("tau", 0.3)),
                                 model_noise=model_noise)
    work = workdir or Path.home() / ".cache" / "omnidsl" / "market"
    t0 = time.perf_counter()
    prover = _ALIASES.get(prover, prover)
    rule: MarketRule
    if prover in ("mpc", "local"):
        log(f"compiling the market rule (DSL) for {src.n_params} parameters, dev setup ...")
        rule = tasks.demo_rule(rule_file, src.n_params, rule_params, rule_values)
    elif prover == "snarkjs":
        log(f"setting up the market rule with aggregate fingerprint for {src.n_params} "
            f"parameters (circom2 + snarkjs, cached in {work}) ...")
        rule = cr.setup(src.n_params, work / f"rule_{src.n_params}", ptau=ptau)
    else:
        raise InputError(f"unknown prover {prover!r}", hint="choose " + ", ".join(PROVERS))
    actors = setup_actors(w3, rule, owners, servers, gas_cap)
    log(f"rule ready, market at {actors.mo.market.address}, verifier at {actors.mo.verifier} "
        f"({time.perf_counter() - t0:.1f}s)")
    path = None
    if batch_proof:
        if not isinstance(rule, dsl_rule.DslRule):
            raise InputError("--batch-proof needs a DSL rule", hint="--prover mpc or local")
        log(f"batch statement for k = {owners} slots: dev setup, verifier ...")
        path = batch_round.prepare(w3, rule, owners, actors.mo.account)
    hook(actors, None)
    tmp = Path(tempfile.mkdtemp(prefix="omnidsl-market-servers-")) if prover == "mpc" else None
    with terminate_raises():
        return _run_rounds(w3, rule, actors, src, rounds, servers, norm_factor, tmp, log, hook,
                           path)


def _run_rounds(w3: Web3, rule: MarketRule, actors: Actors, src: GradientSource, rounds: int,
                servers: int, norm_factor: float, tmp: Path | None,
                log: Callable[[str], None], hook: RoundHook,
                batch_path: Any = None) -> list[RoundReport]:
    mpc: MpcProvers | None = None
    try:
        if tmp is not None:
            assert isinstance(rule, dsl_rule.DslRule)
            pk_path = rule.write_proving_key(tmp / "keys")
            cluster = ServerCluster(tmp / "cluster", servers, {"market": tmp / "keys"}, bind=True)
            mpc = MpcProvers(cluster.start_all(), pk_path)
            for k, s in enumerate(actors.servers):
                s.binding = rule.binding_for(cluster.bind_dir(k))
            log(f"{servers} proving servers up on 127.0.0.1 (pids {cluster.pids()}, "
                f"config {cluster.config_path})")
        initial = src.accuracy()
        reports = []
        with progress.task("market demo", rounds) as demo:
            for rnd in range(1, rounds + 1):
                with demo.stage(f"round {rnd}"):
                    rep = run_round(rnd, w3, rule, actors, src, norm_factor, log, mpc,
                                    batch_path)
                log(f"round {rnd}: accepted {rep.accepted}, rejected {sorted(rep.rejected)}, "
                    f"gas {rep.batch_gas:,}, accuracy {rep.accuracy:.3f}")
                reports.append(rep)
                hook(actors, rep)
    finally:
        if mpc is not None:
            mpc.cluster.stop()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    log(format_summary(reports, src.malicious, initial))
    return reports
