"""A market rule from files: a rule source, its parameters and a key directory.

The model owner, every server operator and every data owner load the same three (``--rule FILE
--param D=8 --keys DIR``); each checks the task's on-chain ``ruleHash`` against the keys' hash
(:func:`check_task_rule`) before it bonds, shares or proves.  The layout of the public signals is
read from the compiled rule by name: ``owner`` (the DO's address), ``rho`` (the challenge), the
output ``fp`` (the aggregate fingerprint) and one pinned public value (today's norm rule:
``max_norm``), the vector ``g`` (the gradient) and the private ``mask``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omnidsl.errors import ChainError, InputError
from omnidsl.market.client import MarketClient
from omnidsl.market.dsl_rule import DslRule
from omnidsl.market.roles import RuleLayout

log = logging.getLogger(__name__)

#: the names the market reads in a rule (see the module docstring)
OWNER, RHO, FP, GRADIENT, MASK = "owner", "rho", "fp", "g", "mask"


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


def layout_of(circuit: Any, where: str) -> tuple[RuleLayout, str, int, int]:
    """(layout, pinned signal name, its frac, D) of a compiled market rule; InputError naming
    what is missing."""
    outputs = list(circuit.outputs)
    inputs = list(circuit.inputs)
    names = [o.name for o in outputs] + [i.name for i in inputs if i.visibility == "public"]
    vectors = [o.name for o in outputs if o.length is not None] + \
        [i.name for i in inputs if i.visibility == "public" and i.length is not None]
    if vectors:
        raise InputError(f"{where}: public vector signal(s) {', '.join(vectors)}: a market rule's "
                         "public signals are scalars (declare a vector `committed`)")
    by_name = {i.name: i for i in inputs}
    missing = [n for n in (OWNER, RHO) if n not in names] + \
        ([FP] if FP not in [o.name for o in outputs] else []) + \
        [n for n in (GRADIENT, MASK) if n not in by_name or by_name[n].visibility != "private"]
    if missing:
        raise InputError(f"{where}: not a market rule: no {', '.join(missing)}",
                         hint="a market rule has public `owner`, `rho`, output `fp`, private "
                              "vector `g` and private `mask` (docs/market.md)")
    pinned = [n for n in names if n not in (OWNER, RHO, FP)]
    if len(pinned) != 1:
        raise InputError(f"{where}: the market commands pin exactly one public value, the rule "
                         f"has {len(pinned)} ({', '.join(pinned) or 'none'})")
    grad = by_name[GRADIENT]
    if grad.length is None:
        raise InputError(f"{where}: `g` is a scalar, a market rule's gradient is a vector")
    layout = RuleLayout(n_public=len(names), owner_index=names.index(OWNER),
                        rho_index=names.index(RHO), fp_index=names.index(FP),
                        pinned_index=names.index(pinned[0]))
    return layout, pinned[0], int(by_name[pinned[0]].frac), int(grad.length)


def load_rule(rule_file: Path, params: dict[str, int], keys: Path) -> LoadedRule:
    """Compile ``rule_file`` with ``params`` and load the key directory ``keys`` made for it
    (``omnidsl setup ... -o keys``); InputError/FormatError if they do not belong together."""
    from omnidsl.backend import get_backend
    from omnidsl.compiler.cache import compile_file_cached
    from omnidsl.groth16.keydir import PK_NAME, load_keys

    circuit = compile_file_cached(rule_file, params)
    layout, pinned, frac, dim = layout_of(circuit, str(rule_file))
    pk = load_keys(str(keys))
    if (pk.r1cs.n_wires, pk.r1cs.n_public) != (circuit.r1cs.n_wires, circuit.r1cs.n_public):
        raise InputError(f"{keys}: these keys were not made for {rule_file} with "
                         f"{_params_text(params)} ({pk.r1cs.n_wires} wires, the rule "
                         f"{circuit.r1cs.n_wires})",
                         hint=f"omnidsl setup dev {rule_file} {_params_text(params)} -o {keys}")
    rule = DslRule(dim, circuit, pk, get_backend(), layout=layout)
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

