"""A market rule from files: a rule source, its parameters and a key directory.

The model owner, every server operator and every data owner load the same three (``--rule FILE
--param D=8 --keys DIR``); each checks the task's on-chain ``ruleHash`` against the keys' hash
(:func:`check_task_rule`) before it bonds, shares or proves.  The layout of the public signals is
the market rule interface's (:mod:`omnidsl.market.interface`, docs/market.md): a task pins every
other public input (scalars, vectors, committed references), :mod:`omnidsl.market.tasks`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from omnidsl.errors import ChainError, InputError
from omnidsl.market.client import MarketClient
from omnidsl.market.dsl_rule import DslRule
from omnidsl.market.interface import market_interface

log = logging.getLogger(__name__)


@dataclass
class LoadedRule:
    """A compiled market rule with its keys and where they are on disk."""

    rule: DslRule
    keys: Path
    pk_path: Path

    @property
    def rule_hash(self) -> bytes:
        return self.rule.rule_hash

    @property
    def frac(self) -> int:
        """The gradient's fixed-point fraction bits."""
        lay = next(x for x in self.rule.circuit.inputs if x.name == self.rule.iface.gradient)
        return int(lay.frac)


def load_rule(rule_file: Path, params: dict[str, int], keys: Path) -> LoadedRule:
    """Compile ``rule_file`` with ``params`` and load the key directory ``keys`` made for it
    (``omnidsl setup ... -o keys``); InputError/FormatError if they do not belong together."""
    from omnidsl.backend import get_backend
    from omnidsl.compiler.cache import compile_file_cached
    from omnidsl.groth16.keydir import PK_NAME, load_keys

    circuit = compile_file_cached(rule_file, params)
    iface = market_interface(circuit.rule)  # a located error names what is missing
    pk = load_keys(str(keys))
    if (pk.r1cs.n_wires, pk.r1cs.n_public) != (circuit.r1cs.n_wires, circuit.r1cs.n_public):
        raise InputError(f"{keys}: these keys were not made for {rule_file} with "
                         f"{_params_text(params)} ({pk.r1cs.n_wires} wires, the rule "
                         f"{circuit.r1cs.n_wires})",
                         hint=f"omnidsl setup dev {rule_file} {_params_text(params)} -o {keys}")
    rule = DslRule(iface.dim, circuit, pk, get_backend(), iface)
    pk_path = keys / PK_NAME if keys.is_dir() else keys
    return LoadedRule(rule, keys, pk_path)


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

