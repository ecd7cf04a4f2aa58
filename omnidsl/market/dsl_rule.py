"""Market rules written in the omnidsl DSL and proved with omnidsl's own Groth16 (compiler →
R1CS → dev setup → native prover, or the servers' collaborative prover).

Any rule file meeting the market rule interface (:mod:`omnidsl.market.interface`,
docs/market.md) is a market rule: :func:`setup_file` compiles it, checks the interface and
derives the task layout (``RuleLayout``) from the compiled rule.  The shipped rules are
``rules/market_norm.omni`` (``MarketNorm``, the default: public signals ``[fp, owner, rho,
max_norm]``, the same layout as the snarkjs rule) and ``rules/market_cosine.omni``
(``MarketCosine``, FLTrust's cosine against a committed reference: ``[fp, owner, rho,
ref.commitment, tau, max_norm, min_norm]``).  The fingerprint ``fp = Σ g_i·ρ^(i+1) +
mask·ρ^(D+1) mod r`` is the formula of :func:`omnidsl.market.aggregate.fingerprint` on the
aggregation vector (g, mask); witness inputs take that vector (D + 1 entries, the mask last).

A task's *terms* (:data:`Terms`) are the values of the rule's pinned inputs, encoded as the
witness encodes them: an integer per scalar, a list per vector (a committed vector's entries).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from omnidsl import progress
from omnidsl.errors import AssertionFailed, InputError, InternalError
from omnidsl.field import FR_BYTES, R, int_to_bytes
from omnidsl.market.interface import MarketInterface, market_interface
from omnidsl.market.roles import ProverBinding, RuleLayout

FRAC = 12
RULES = Path(__file__).resolve().with_name("rules")
#: the default market rule (norm bound) and the committed-cosine one, shipped with the package
NORM_RULE = RULES / "market_norm.omni"
COSINE_RULE = RULES / "market_cosine.omni"
SOURCE = NORM_RULE.read_text(encoding="utf-8")
#: public signals [fp, owner, rho, max_norm] of the default rule
LAYOUT = RuleLayout(n_public=4, owner_index=1, rho_index=2, fp_index=0, pinned_index=3,
                    pinned_indices=(3,))
#: pinned input name → encoded value (int for a scalar, list of ints for a vector)
Terms = dict[str, Any]


def layout_of(iface: MarketInterface) -> RuleLayout:
    """The task layout of a rule meeting the interface (``pinned_index`` set when it pins
    exactly one scalar, as the demo's norm bound)."""
    idx = tuple(i for p in iface.pins for i in range(p.index, p.index + p.count))
    single = iface.pins[0].index if len(iface.pins) == 1 and iface.pins[0].kind == "scalar" \
        else None
    return RuleLayout(iface.n_public, iface.owner_index, iface.rho_index, iface.fp_index,
                      single, idx)


@dataclass
class DslRule:
    """Compiled rule + its market interface + dev-setup keys (toxic waste from ``secrets``,
    discarded: demo/test only)."""

    dim: int
    circuit: Any  # omnidsl.compiler.circuit.Circuit
    pk: Any  # omnidsl.groth16.keys.ProvingKey
    backend: Any
    iface: MarketInterface
    binding: bool = True
    #: values of pinned inputs a round does not derive from the MO's reference (e.g. tau,
    #: min_norm): omnidsl.market.tasks.round_values
    fixed: dict[str, Any] = field(default_factory=dict)

    @property
    def layout(self) -> RuleLayout:
        return layout_of(self.iface)

    @property
    def vk(self) -> dict[str, Any]:
        from omnidsl.groth16.formats import vk_to_json

        return vk_to_json(self.pk.vk)

    @property
    def rule_hash(self) -> bytes:
        return hashlib.sha256(json.dumps(self.vk, sort_keys=True).encode()).digest()

    def pinned_value(self, max_q: int) -> int:
        """The public ``max_norm`` for an L2 bound of ``max_q`` (fixed point, frac 12)."""
        pin = self.iface.pin("max_norm")
        bits = pin.info.bits if pin is not None else 32
        if not 0 < max_q < (1 << (bits - 1)):
            raise InputError(f"L2 bound {max_q / (1 << FRAC)} does not fit max_norm's {bits} bits")
        return max_q

    def terms(self, pinned: int | Mapping[str, Any]) -> Terms:
        """``pinned`` as terms: a mapping of every pinned input (encoded values), or one int
        for a rule that pins a single scalar (the norm bound)."""
        pins = self.iface.pins
        if not isinstance(pinned, Mapping):
            if len(pins) != 1 or pins[0].kind != "scalar":
                raise InputError(f"rule {self.iface.rule} pins "
                                 f"{', '.join(p.name for p in pins) or 'nothing'}, not one scalar",
                                 hint="give the task's terms by name")
            return {pins[0].name: int(pinned)}
        missing = [p.name for p in pins if p.name not in pinned]
        if missing:
            raise InputError(f"the task's terms miss pinned input(s) {', '.join(missing)} of rule "
                             f"{self.iface.rule}", missing_span(self, missing[0]))
        return {p.name: pinned[p.name] for p in pins}

    def pins(self, pinned: int | Mapping[str, Any]) -> dict[int, int]:
        """Public-signal index → value the task pins (a committed vector: its commitment)."""
        terms = self.terms(pinned)
        out: dict[int, int] = {}
        for p in self.iface.pins:
            val = terms[p.name]
            if p.kind == "scalar":
                out[p.index] = int(val) % R
            elif p.kind == "vector":
                out.update({p.index + j: int(v) % R for j, v in enumerate(val)})
            else:
                out[p.index] = self.circuit.commitment(p.name, [str(int(v)) for v in val])
        return out

    def witness_input(self, v: list[int], owner: str, rho: int,
                      pinned: int | Mapping[str, Any]) -> dict[str, Any]:
        """Input JSON for the aggregation vector ``v`` = (g, mask) under the task's terms."""
        from omnidsl.market.circom_rule import split_vector

        g, mask = split_vector(v)
        if len(g) != self.dim:
            raise InputError(f"the aggregation vector has {len(g)} gradient entries, the rule "
                             f"{self.dim}")
        ifc = self.iface
        inp: dict[str, Any] = {ifc.gradient: [str(int(x)) for x in g],
                               "owner": str(int(owner, 16)), "rho": str(int(rho) % R),
                               ifc.mask: str(int(mask) % R)}
        terms = self.terms(pinned)
        for p in ifc.pins:
            val = terms[p.name]
            inp[p.name] = str(int(val)) if p.kind == "scalar" else [str(int(x)) for x in val]
        return inp

    def satisfies(self, q: list[int], pinned: int | Mapping[str, Any]) -> bool:
        """Whether a witness exists for the gradient ``q`` (D entries; a trailing mask of an
        aggregation vector is ignored) — the compiler's own witness generation decides."""
        try:
            self.circuit.witness(self.witness_input([*q[:self.dim], 0], "0x1", 0, pinned),
                                 check_constraints=False)
        except (AssertionFailed, InputError):
            return False
        return True

    def prove_many(self, inputs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[str]]]:
        from omnidsl.field import limbs_to_bytes
        from omnidsl.groth16.formats import proof_to_json, public_to_json
        from omnidsl.groth16.prover import prove_plain, public_signals

        out = []
        for inp in inputs:
            wit = limbs_to_bytes(self.circuit.witness(inp))
            proof = prove_plain(self.pk, wit, self.backend)
            out.append((proof_to_json(proof), public_to_json(public_signals(self.pk, wit))))
        return out

    # ---- collaborative proving (the market's servers, omnidsl.mpc)
    def gradient_wires(self) -> np.ndarray:
        """Witness indices of the aggregation vector (g[0..D-1], then mask) in the optimised
        system: the wires a server's committed share is bound to."""
        lay = next(x for x in self.circuit.inputs if x.name == self.iface.gradient)
        mask = next(x for x in self.circuit.inputs if x.name == self.iface.mask)
        full = np.append(np.arange(lay.wire, lay.wire + self.dim), mask.wire)
        kept = np.asarray(self.circuit.kept)
        idx = np.searchsorted(kept, full)
        if np.any(idx >= kept.size) or np.any(kept[np.minimum(idx, kept.size - 1)] != full) \
                or np.any(np.diff(idx) <= 0):
            raise InternalError("the gradient wires were optimised away or reordered")
        return idx.astype(np.int64)

    @property
    def owner_wire(self) -> int:
        """Witness index of the public ``owner`` (wire 0 is the constant 1)."""
        return 1 + self.layout.owner_index

    def binding_for(self, bind_dir: Path) -> ProverBinding:
        """What a server needs to pin its committed shares for its prover process."""
        return ProverBinding(np.asarray(self.gradient_wires(), dtype="<u4").tobytes(),
                             self.owner_wire, Path(bind_dir))

    def write_proving_key(self, directory: Path) -> Path:
        """Write the proving key (the servers find it by SHA-256 among their [circuits])."""
        from omnidsl.groth16.keys import write_proving_key

        directory.mkdir(parents=True, exist_ok=True)
        out = directory / "proving_key.bin"
        write_proving_key(self.pk, out)
        return out

    def prove_shared(self, cfg: Any, pk_path: Path, inp: dict[str, Any],
                     shares: list[list[int]], label: str) -> tuple[tuple[dict[str, Any],
                                                                         list[str]], Any]:
        """The data owner's side: compute the witness of ``inp``, deal it with ``shares`` (one
        vector per server, its aggregation share) as the fixed shares of the gradient wires, let
        the servers prove, verify.  Returns ((proof.json, public.json), ProofResult)."""
        from omnidsl.field import limbs_to_bytes
        from omnidsl.groth16.formats import proof_to_json, public_to_json
        from omnidsl.mpc.schemes import FixedShares
        from omnidsl.proving import prove

        wit = limbs_to_bytes(self.circuit.witness(inp))
        wires = self.gradient_wires()
        on_g = b"".join(wit[int(w) * FR_BYTES:(int(w) + 1) * FR_BYTES] for w in wires)
        vec = [*inp[self.iface.gradient], inp[self.iface.mask]]
        if on_g != b"".join(int_to_bytes(int(v) % R) for v in vec):
            raise InternalError("the gradient wires do not hold the aggregation vector")
        fixed = FixedShares([int(w) for w in wires],
                            [b"".join(int_to_bytes(int(v) % R) for v in sh) for sh in shares])
        res = prove(self.pk, wit, parties=cfg, pk_path=pk_path, backend=self.backend,
                    fixed=fixed, bind_label=label)
        return (proof_to_json(res.proof), public_to_json(res.public)), res


def missing_span(rule: DslRule, name: str) -> Any:
    """The declaration of input ``name`` in ``rule`` (for located errors), or None."""
    return next((lay.info.span for lay in rule.circuit.inputs if lay.name == name), None)


def setup_file(path: str | Path, params: dict[str, int] | None = None) -> DslRule:
    """Compile a market rule file, check the market interface (a located error names what is
    missing) and run a dev setup."""
    from omnidsl.backend import get_backend
    from omnidsl.compiler.pipeline import Pipeline
    from omnidsl.groth16.setup import dev_setup

    pipe = Pipeline.from_file(path, params)
    iface = market_interface(pipe.checked)  # before the (long) compilation
    with progress.task(f"compile {Path(path).stem}"):  # stages: compiler/pipeline.py
        circuit = pipe.circuit
    backend = get_backend()
    with progress.task("dev setup", 2) as task:
        pk = dev_setup(circuit.r1cs, backend, stage=task.stage)
    return DslRule(iface.dim, circuit, pk, backend, iface)


def setup(dim: int) -> DslRule:
    """The default rule (``MarketNorm``) for ``dim`` entries, with a dev setup (seconds)."""
    return setup_file(NORM_RULE, {"D": dim})
