"""A market rule's batch statement with its keys: witnesses from k slot inputs, one proof for
the batch (plain, or collaborative through ``omnidsl.prove``), the contract's calldata.

Keys: one Groth16 setup per (rule, k).  :func:`setup_batch` runs a dev setup (toxic waste from
``secrets``, discarded: tests, benchmarks, demos); a production batch key comes from a ceremony
over the batch R1CS like any rule's (``omnidsl setup`` phase 2 on a powers-of-tau file large
enough for k times the rule's constraints), and its generated verifier is what the task names
for batch size k (``Market.setBatchVerifier``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from omnidsl.errors import InputError
from omnidsl.market.dsl_rule import DslRule
from omnidsl.mpc.batch_system import BatchSystem, compose, padding_input


@dataclass(frozen=True)
class BatchProof:
    """One proof of a batch: the 8 proof words (``verifyProof``'s a, b, c flattened, b's Fp2
    pairs c1 first), each slot's owner (0 = padding) and fingerprint, the full public signals."""

    words: list[int]
    owners: list[int]
    fps: list[int]
    public: list[int]
    seconds: float


@dataclass
class BatchRule:
    """A market rule (``DslRule``) composed k times, with the batch's proving key."""

    rule: DslRule
    system: BatchSystem
    pk: Any  # omnidsl.groth16.keys.ProvingKey

    @property
    def k(self) -> int:
        return self.system.k

    @property
    def vk(self) -> dict[str, Any]:
        from omnidsl.groth16.formats import vk_to_json

        return vk_to_json(self.pk.vk)

    def witness(self, inputs: Sequence[Mapping[str, Any] | None],
                padding: Mapping[str, Any] | None = None) -> np.ndarray:
        """The batch witness of up to k slot inputs (rule witness inputs, as
        ``DslRule.witness_input`` builds them); missing or ``None`` slots are padding:
        ``padding`` (e.g. :func:`public_padding`), else the first real input with owner 0.
        Raises the rule's own error for a slot whose statement does not hold, prefixed with the
        slot."""
        real = [i for i in inputs if i is not None]
        if not real:
            raise InputError("a batch needs at least one real slot")
        if len(inputs) > self.k:
            raise InputError(f"{len(inputs)} slots for a batch of {self.k}")
        pad = padding_input(real[0]) if padding is None else padding
        wits = []
        for j, inp in enumerate([*inputs, *([None] * (self.k - len(inputs)))]):
            try:
                wits.append(self.rule.circuit.witness(dict(pad if inp is None else inp)))
            except InputError as exc:
                raise InputError(f"batch slot {j}: {exc.message}", hint=exc.hint) from exc
        return self.system.witness(wits)

    def prove(self, inputs: Sequence[Mapping[str, Any] | None], parties: Any = None,
              scheme: str | None = None, padding: Mapping[str, Any] | None = None) -> BatchProof:
        """Prove the batch (``parties``/``scheme`` as ``omnidsl.prove``: None = plain, 3 with
        scheme "shamir" = three parties in this process, the whole witness dealt by one dealer;
        ``batch_shamir.prove_local``: every DO deals only its slot); the proof is verified before
        return."""
        from omnidsl.field import limbs_to_ints
        from omnidsl.proving import prove

        wit = self.witness(inputs, padding)
        t0 = time.perf_counter()
        res = prove(self.pk, wit, parties=parties, backend=self.rule.backend, scheme=scheme)
        seconds = time.perf_counter() - t0
        public = [int(v) for v in limbs_to_ints(wit[1:1 + self.system.layout.n_public])]
        return BatchProof(proof_words(res.proof), public[self.k:2 * self.k], public[:self.k],
                          public, seconds)


def public_padding(rule: DslRule, owner_free_input: Mapping[str, Any]) -> dict[str, Any]:
    """A padding slot's input that is public (so no DO deals it and it hides nothing): owner 0,
    mask 0 and the first gradient among zero and the task's committed vectors (a reference) for
    which the rule holds, with ρ and the terms of ``owner_free_input`` (any slot's input).
    InputError if none holds."""
    from omnidsl.errors import AssertionFailed

    ifc = rule.iface
    candidates = [["0"] * rule.dim] + [list(owner_free_input[p.name]) for p in ifc.committed]
    for grad in candidates:
        inp = {**owner_free_input, ifc.gradient: grad, ifc.mask: "0", "owner": "0"}
        try:
            rule.circuit.witness(dict(inp))
        except (AssertionFailed, InputError):
            continue
        return inp
    raise InputError(f"rule {ifc.rule} holds for no public padding gradient (zero or a "
                     "committed reference)", hint="pad with a copy of a real slot "
                     "(BatchRule.prove without padding), which its DO must deal")


def proof_words(proof: Any) -> list[int]:
    """A proof's 8 calldata words: a.x, a.y, b.x_c1, b.x_c0, b.y_c1, b.y_c0, c.x, c.y."""
    from omnidsl.solidity.render import proof_calldata

    a, b, c, _ = proof_calldata(proof, [])
    return [int(a[0]), int(a[1]), int(b[0][0]), int(b[0][1]), int(b[1][0]), int(b[1][1]),
            int(c[0]), int(c[1])]


def setup_batch(rule: DslRule, k: int) -> BatchRule:
    """Compose ``rule`` k times and run a dev setup of the batch system."""
    from omnidsl.groth16.setup import dev_setup

    system = compose(rule.circuit.r1cs, rule.iface.fp_index, rule.iface.owner_index, k)
    return BatchRule(rule, system, dev_setup(system.r1cs, rule.backend))


def verifier_name(k: int) -> str:
    """The contract name of the batch verifier for k slots (its code depends on it)."""
    return f"MarketBatch{k}Verifier"


def deploy_batch_verifier(w3: Any, batch: BatchRule, sender: str) -> str:
    """Render, compile and deploy the generated verifier of ``batch``'s key (``verifyProof``
    with 2k + m public inputs); returns its address."""
    from omnidsl.chain import deploy
    from omnidsl.solidity.render import compile_verifier

    cc = compile_verifier(batch.vk, verifier_name(batch.k), batch=False)  # verifyProof alone
    return str(deploy(w3, cc.abi, cc.bytecode, sender=sender).address)

