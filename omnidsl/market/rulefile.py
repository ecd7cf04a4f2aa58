"""A market rule from files: a rule source, its parameters and a key directory.

The model owner, every server operator and every data owner load the same three (``--rule FILE
--param D=8 --keys DIR``); each checks the task's on-chain ``ruleHash`` against the keys' hash
(:func:`check_task_rule`) before it bonds, shares or proves.  The layout of the public signals is
the market rule interface's (:mod:`omnidsl.market.interface`, docs/market.md); these commands set
one pinned public scalar (the norm rule's ``max_norm``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omnidsl.errors import ChainError, InputError
from omnidsl.market.client import MarketClient
from omnidsl.market.dsl_rule import DslRule
from omnidsl.market.interface import MarketInterface, market_interface

log = logging.getLogger(__name__)



@dataclass
class LoadedRule:
    """A compiled market rule with its keys and where they are on disk."""

    rule: DslRule
    keys: Path
    pk_path: Path
    pinned_name: str
    pinned_frac: int

    @property
    def rule_hash(self) -> bytes:
        return self.rule.rule_hash

    def pinned_value(self, value: float) -> int:
        """The pinned public value (a real number) as the field integer the task pins."""
        return self.rule.pinned_value(round(value * (1 << self.pinned_frac)))


def layout_of(circuit: Any, where: str) -> tuple[MarketInterface, str, int]:
    """(interface, pinned input name, its frac) of a compiled market rule: the market rule
    interface (omnidsl.market.interface: a located DSLTypeError names what is missing) with the
    one pinned scalar these commands set; InputError otherwise."""
    iface = market_interface(circuit.rule)
    if len(iface.pins) != 1 or iface.pins[0].kind != "scalar":
        raise InputError(f"{where}: the market commands pin exactly one public scalar, rule "
                         f"{iface.rule} pins {', '.join(p.name for p in iface.pins) or 'none'}",
                         hint="open tasks of rules with more pinned values or a committed "
                              "reference with omnidsl.market.tasks.open_task (docs/market.md)")
    pin = iface.pins[0]
    return iface, pin.name, int(pin.info.frac)


def load_rule(rule_file: Path, params: dict[str, int], keys: Path) -> LoadedRule:
    """Compile ``rule_file`` with ``params`` and load the key directory ``keys`` made for it
    (``omnidsl setup ... -o keys``); InputError/FormatError if they do not belong together."""
    from omnidsl.backend import get_backend
    from omnidsl.compiler.cache import compile_file_cached
    from omnidsl.groth16.keydir import PK_NAME, load_keys

    circuit = compile_file_cached(rule_file, params)
    iface, pinned, frac = layout_of(circuit, str(rule_file))
    pk = load_keys(str(keys))
    if (pk.r1cs.n_wires, pk.r1cs.n_public) != (circuit.r1cs.n_wires, circuit.r1cs.n_public):
        raise InputError(f"{keys}: these keys were not made for {rule_file} with "
                         f"{_params_text(params)} ({pk.r1cs.n_wires} wires, the rule "
                         f"{circuit.r1cs.n_wires})",
                         hint=f"omnidsl setup dev {rule_file} {_params_text(params)} -o {keys}")
    rule = DslRule(iface.dim, circuit, pk, get_backend(), iface)
    pk_path = keys / PK_NAME if keys.is_dir() else keys
    return LoadedRule(rule, keys, pk_path, pinned, frac)


def _params_text(params: dict[str, int]) -> str:
    return " ".join(f"--param {k}={v}" for k, v in params.items()) or "(no --param)"


def check_task_rule(market: MarketClient, task_id: int, rule: LoadedRule) -> None:
    """ChainError unless task ``task_id`` was opened for exactly these keys (its ruleHash)."""
    info = market.task(task_id)
    if info.rule_hash != rule.rule_hash:
        raise ChainError(f"task {task_id}: its rule hash {info.rule_hash.hex()[:16]}… is not the "
                         f"hash of the keys in {rule.keys} ({rule.rule_hash.hex()[:16]}…)",
                         hint="load the rule file, --param values and keys the task was opened "
                              "with")
    if info.n_public != rule.rule.layout.n_public:
        raise ChainError(f"task {task_id} has {info.n_public} public inputs, the rule "
                         f"{rule.rule.layout.n_public}")

