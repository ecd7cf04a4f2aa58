"""Tasks of a market rule file: what the model owner pins and publishes, what a data owner checks.

- :func:`open_task` (MO): encode the task's terms (every pinned input of the rule), open the task
  with their public values pinned (a committed vector: its Poseidon commitment) and publish each
  committed vector's entries as calldata (``Market.publishReference``).
- :func:`task_terms` (DO, before proving): read the task from the chain, check it was opened for
  this rule, read the pins and the published references, recompute each reference's commitment
  and refuse (:class:`ReferenceMismatch`) when none matches its pin.
- :func:`check_reference` (DO): the same check for a reference the DO holds itself.
- :func:`round_values` (MO, each round): the demo's terms from the round's reference, which the
  MO computes from its small clean root set (FLTrust: :func:`omnidsl.ml.training.root_reference`,
  called by ``omnidsl.ml.federated.DigitsSource.reference`` on the model it publishes).

Publication format (docs/market.md, "Publishing the reference"): the entries of a committed
``fixed[D] bits B`` vector, each as ⌈B/8⌉ bytes of big-endian two's complement, concatenated.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from web3 import Web3

from omnidsl.errors import ChainError, InputError, UsageError
from omnidsl.field import signed
from omnidsl.market import model_pin
from omnidsl.market.client import MarketClient
from omnidsl.market.dsl_rule import DslRule, Terms, missing_span
from omnidsl.market.interface import Pin
from omnidsl.market.roles import ModelOwner

logger = logging.getLogger(__name__)
#: the contract name ModelOwner.deploy_verifier renders the rule's verifier under
VERIFIER_NAME = "MarketRuleVerifier"


class ReferenceMismatch(InputError):
    """A reference does not match the commitment the task pins: the data owner does not prove."""


# ------------------------------------------------------------------ publication format
def entry_bytes(bits: int) -> int:
    return (bits + 7) // 8


def pack_entries(values: Sequence[int], bits: int) -> bytes:
    """Signed ``bits``-bit entries as ⌈bits/8⌉-byte big-endian two's complement words."""
    n = entry_bytes(bits)
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    out = bytearray()
    for j, v in enumerate(values):
        v = int(v)
        if not lo <= v <= hi:
            raise InputError(f"reference entry {j} = {v} does not fit {bits} signed bits")
        out += v.to_bytes(n, "big", signed=True)
    return bytes(out)


def unpack_entries(data: bytes, bits: int, length: int) -> list[int]:
    """The inverse of :func:`pack_entries`; InputError on a wrong length or width."""
    n = entry_bytes(bits)
    if len(data) != n * length:
        raise InputError(f"a published reference of {len(data)} bytes is not {length} entries "
                         f"of {n} bytes")
    vals = [int.from_bytes(data[j * n:(j + 1) * n], "big", signed=True) for j in range(length)]
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    bad = next((j for j, v in enumerate(vals) if not lo <= v <= hi), None)
    if bad is not None:
        raise InputError(f"published reference entry {bad} = {vals[bad]} does not fit {bits} "
                         "signed bits")
    return vals


# ------------------------------------------------------------------ the model owner
def encode_terms(rule: DslRule, values: Mapping[str, Any]) -> Terms:
    """The task's terms from real-number values by pinned-input name (as in a witness input
    JSON: numbers are real values, strings raw encoded integers); names every missing or
    unknown input and every value out of its declared range."""
    from omnidsl.compiler.circuit import encode_input

    pins = {p.name: p for p in rule.iface.pins}
    unknown = sorted(set(values) - set(pins))
    if unknown:
        raise InputError(f"rule {rule.iface.rule} pins no input named {unknown[0]!r}",
                         hint="its pinned inputs: " + (", ".join(pins) or "none"))
    missing = [n for n in pins if n not in values]
    if missing:
        raise InputError(f"the task must pin {', '.join(missing)} (rule {rule.iface.rule})",
                         missing_span(rule, missing[0]), "give a value for every pinned input")
    lays = {lay.name: lay for lay in rule.circuit.inputs}
    out: Terms = {}
    for name, p in pins.items():
        enc = encode_input(lays[name], values[name])
        out[name] = int(enc[0]) if p.kind == "scalar" else [int(v) for v in enc]
    return out


def open_task(mo: ModelOwner, rule: DslRule, servers: Sequence[str], values: Mapping[str, Any],
              reward: int, fee: int, escrow: int, deadline: int, deliver_by: int | None = None,
              bond: int = 0, model: np.ndarray | None = None) -> int:
    """Open a task of ``rule`` with its pinned inputs set to ``values`` (by name; committed
    vectors: the reference entries), publish every committed vector and pin ``model`` (the
    round's published parameters, :mod:`omnidsl.market.model_pin`); returns the task id.
    The MO's verifier must be ``rule``'s (``mo.deploy_verifier(rule.vk)``)."""
    if mo.layout.n_public != rule.layout.n_public or mo.layout.owner_index != \
            rule.layout.owner_index:
        raise ChainError(f"the model owner's layout is not rule {rule.iface.rule}'s",
                         hint="ModelOwner(market, account, rule.layout, rule.rule_hash)")
    terms = encode_terms(rule, values)
    task_id = mo.open_task(servers, reward, fee, escrow, deadline, deliver_by=deliver_by,
                           bond=bond, pinned=rule.pins(terms))
    for p in rule.iface.committed:
        gas = publish(mo, task_id, p, terms[p.name])
        logger.info("task %d: published %s (%d entries) for %d gas", task_id, p.name,
                    len(terms[p.name]), gas)
    if model is not None:
        model_pin.publish_model(mo.market, task_id, model, mo.account)
    return task_id


def publish(mo: ModelOwner, task_id: int, pin: Pin, entries: Sequence[int]) -> int:
    """Publish a committed vector's entries for ``task_id``; returns the gas used."""
    data = pack_entries(entries, pin.info.bits)
    return mo.market.publish_reference(task_id, pin.index, data, mo.account).gas_used


# ------------------------------------------------------------------ the data owner
def check_task(market: MarketClient, task_id: int, rule: DslRule) -> None:
    """ChainError unless ``task_id`` was opened for ``rule`` (its key, layout and pins)."""
    info = market.task(task_id)
    lay = rule.layout
    if info.rule_hash != rule.rule_hash:
        raise ChainError(f"task {task_id} was opened for another rule (rule hash "
                         f"0x{info.rule_hash.hex()}, this rule's 0x{rule.rule_hash.hex()})")
    if (info.n_public, info.owner_index, info.rho_index, info.fp_index) != \
            (lay.n_public, lay.owner_index, lay.rho_index, lay.fp_index):
        raise ChainError(f"task {task_id}'s layout is not rule {rule.iface.rule}'s")
    pinned = market.pinned(task_id)
    loose = [p.name for p in rule.iface.pins
             if any(i not in pinned for i in range(p.index, p.index + p.count))]
    if loose:
        raise ChainError(f"task {task_id} does not pin {', '.join(loose)}: a proof could choose "
                         "it freely", hint="a data owner proves only under pinned terms")


@functools.cache
def _verifier_code(vk_json: str, name: str, batch: bool = True) -> bytes:
    """The runtime code omnidsl generates for the key (``batch``: the market's variant with
    ``verifyBatch``, what ``ModelOwner.deploy_verifier`` deploys; False: ``verifyProof`` alone)."""
    from omnidsl.solidity.render import compile_verifier

    cc = compile_verifier(json.loads(vk_json), name, batch=batch)
    return bytes.fromhex(cc.deployed_bytecode[2:])


def check_verifier(market: MarketClient, task_id: int, rule: DslRule,
                   name: str = VERIFIER_NAME) -> None:
    """ChainError unless the task's verifier runs exactly the code omnidsl generates for
    ``rule``'s verification key (the task's ``ruleHash`` is only the MO's claim: a verifier of
    another key would refuse the DO's valid proof, and the DO would work for nothing)."""
    info = market.task(task_id)
    code = bytes(market.w3.eth.get_code(Web3.to_checksum_address(info.verifier)))
    want = _verifier_code(json.dumps(rule.vk, sort_keys=True), name)
    if code != want:
        raise ChainError(f"task {task_id}: the verifier at {info.verifier} is not the verifier of "
                         f"rule {rule.iface.rule}'s key ({len(code)} bytes of code, expected "
                         f"{len(want)})", hint="the model owner deploys the rule's verifier with "
                         f"ModelOwner.deploy_verifier(rule.vk) (contract {name}, default EVM "
                         "version); a data owner does not prove for another")


def task_terms(market: MarketClient, task_id: int, rule: DslRule) -> Terms:
    """The terms a data owner proves under, read from the chain and checked: the task is
    ``rule``'s (its key hash, layout and verifier code), every pinned input is pinned, every
    committed vector's published entries commit to its pin (else :class:`ReferenceMismatch`: do
    not prove)."""
    check_task(market, task_id, rule)
    check_verifier(market, task_id, rule)
    pinned = market.pinned(task_id)
    terms: Terms = {}
    for p in rule.iface.pins:
        if p.kind == "scalar":
            terms[p.name] = signed(pinned[p.index])
        elif p.kind == "vector":
            terms[p.name] = [signed(pinned[p.index + j]) for j in range(p.count)]
        else:
            terms[p.name] = published_reference(market, task_id, rule, p, pinned[p.index])
    return terms


def published_reference(market: MarketClient, task_id: int, rule: DslRule, pin: Pin,
                        commitment: int) -> list[int]:
    """The published entries of committed vector ``pin`` that commit to ``commitment``."""
    length = int(pin.info.length or 0)
    found = market.published(task_id, pin.index)
    for data in found:
        try:
            vals = unpack_entries(data, pin.info.bits, length)
        except InputError:
            continue
        if rule.circuit.commitment(pin.name, [str(v) for v in vals]) == commitment:
            return vals
    what = f"{len(found)} publication(s), none of which commits" if found else "nothing"
    raise ReferenceMismatch(
        f"task {task_id}: the model owner published {what} to the pinned commitment "
        f"{commitment} of '{pin.name}'; refusing to prove", pin.info.span,
        "a proof against another reference cannot verify against the pin; ask the model owner "
        "to publish the reference it committed to")


def check_reference(rule: DslRule, name: str, entries: Sequence[int], commitment: int) -> None:
    """Raise :class:`ReferenceMismatch` unless ``entries`` (encoded) commit to ``commitment``."""
    h = rule.circuit.commitment(name, [str(int(v)) for v in entries])
    if h != commitment:
        pin = rule.iface.pin(name)
        raise ReferenceMismatch(
            f"the reference '{name}' held here commits to {h}, the task pins {commitment}: it is "
            "not the task's reference; refusing to prove", pin.info.span if pin else None,
            "use the reference published with the task (task_terms)")


# ------------------------------------------------------------------ the reference (FLTrust)
def round_values(rule: DslRule, reference: np.ndarray, norm_factor: float,
                 fixed: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The demo's terms for one round from the MO's reference gradient: ``max_norm`` =
    ``norm_factor``·‖reference‖, every committed vector = the reference (clipped to its
    range), and ``fixed`` for the rest (e.g. ``tau``, ``min_norm``)."""
    from omnidsl.ml.encoding import encode

    ifc = rule.iface
    out: dict[str, Any] = {}
    for p in ifc.pins:
        if p.kind == "commitment":
            q = encode(reference, p.info.frac, p.info.bits, clip=True)
            out[p.name] = [str(int(v)) for v in q]
        elif p.name == "max_norm":
            out[p.name] = norm_factor * float(np.linalg.norm(reference))
    out.update(fixed or {})
    return out


def open_round(mo: ModelOwner, rule: DslRule, servers: Sequence[str], reference: np.ndarray,
               norm_factor: float, escrow: int, now: int, reward: int, fee: int, bond: int,
               window: int = 3600, model: np.ndarray | None = None) -> tuple[int, Terms]:
    """The demo's round: open a task with :func:`round_values` (deadline ``now + window``,
    delivery by ``now + 2·window``; ``model``: the round's published model, pinned) and read its
    terms back as every DO does before proving (:func:`task_terms`: the published reference is
    checked against the pin)."""
    values = round_values(rule, reference, norm_factor, rule.fixed)
    task_id = open_task(mo, rule, servers, values, reward, fee, escrow, now + window,
                        deliver_by=now + 2 * window, bond=bond, model=model)
    return task_id, task_terms(mo.market, task_id, rule)


def demo_rule(rule_file: Any, dim: int, params: Mapping[str, int] | None = None,
              values: Mapping[str, Any] | None = None) -> DslRule:
    """The demo's DSL rule: the default norm rule, or ``rule_file`` compiled with ``D = dim``
    and ``params``; ``values`` pins what a round does not derive from the reference."""
    from omnidsl.market import dsl_rule

    rule = dsl_rule.setup(dim) if rule_file is None else dsl_rule.setup_file(
        rule_file, {"D": dim, **(params or {})})
    rule.fixed = dict(values or {})
    if rule.dim != dim:
        raise InputError(f"rule {rule.iface.rule} proves {rule.dim} gradient entries, the model "
                         f"has {dim}")
    return rule


def shipped_rule(name: str) -> Path:
    """``norm``/``cosine`` → the shipped rule files; anything else is a path."""
    from omnidsl.market import dsl_rule

    return {"norm": dsl_rule.NORM_RULE, "cosine": dsl_rule.COSINE_RULE}.get(name, Path(name))


def parse_values(items: Sequence[str] | None) -> dict[str, float]:
    """``["tau=0.3"]`` → ``{"tau": 0.3}`` (UsageError on bad syntax)."""
    out: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise UsageError(f"bad --pin {item!r}", hint="write --pin NAME=NUMBER") from None
    return out
