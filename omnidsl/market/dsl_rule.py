"""The market's norm-bound rule written in the omnidsl DSL and proved with omnidsl's own Groth16
(compiler → R1CS → dev setup → native prover), as a demo proving backend.

It binds the data owner (public input ``owner``), pins the round's L2 bound and exposes the
aggregate fingerprint ``fp = Σ g_i·ρ^(i+1) + mask·ρ^(D+1) mod r`` (the DSL's
``fingerprint(g, rho, mask)``, the formula of :func:`omnidsl.market.aggregate.fingerprint` on the
aggregation vector (g, mask)) under the task's challenge ``rho``, so tasks opened with it run with
aggregate binding; the private, uniformly random ``mask`` makes ``fp`` hiding.  Public signals
(circom order, outputs first): ``[fp, owner, rho, max_norm]`` — the same layout as the snarkjs
rule.  Witness inputs take the aggregation vector (D + 1 entries, the mask last).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from omnidsl.errors import AssertionFailed, InputError, InternalError
from omnidsl.field import FR_BYTES, R, int_to_bytes
from omnidsl.market.roles import ProverBinding, RuleLayout

FRAC = 12
SOURCE = """// Market rule: a bounded gradient, bound to its data owner and to the round's aggregate.
rule MarketNorm(D = 650) {
    private g: fixed[D] bits 16 frac 12;        // the gradient update
    public  owner: int bits 161;                // the data owner's address (signed: 161 bits)
    public  rho: field;                         // the task's challenge, fixed on-chain
    public  max_norm: fixed bits 32 frac 12;    // the round's L2 bound, pinned by the task
    private mask: field;                        // uniformly random: hides g in fp

    assert all(abs(g[i]) <= 4.0 for i in 0..D), "a gradient entry exceeds 4.0 in magnitude";
    assert sum(g[i] * g[i] for i in 0..D) <= max_norm * max_norm, "L2 norm too large";
    output fp = fingerprint(g, rho, mask);      // sum_i g_i * rho^(i+1) + mask * rho^(D+1)
}
"""
#: public signals [fp, owner, rho, max_norm]
LAYOUT = RuleLayout(n_public=4, owner_index=1, rho_index=2, fp_index=0, pinned_index=3)


@dataclass
class DslRule:
    """Compiled rule + dev-setup keys (toxic waste from ``secrets``, discarded: demo/test only)."""

    dim: int
    circuit: Any  # omnidsl.compiler.circuit.Circuit
    pk: Any  # omnidsl.groth16.keys.ProvingKey
    backend: Any
    layout: RuleLayout = LAYOUT
    binding: bool = True

    @property
    def vk(self) -> dict[str, Any]:
        from omnidsl.groth16.formats import vk_to_json

        return vk_to_json(self.pk.vk)

    @property
    def rule_hash(self) -> bytes:
        return hashlib.sha256(json.dumps(self.vk, sort_keys=True).encode()).digest()

    def pinned_value(self, max_q: int) -> int:
        """The public ``max_norm`` for an L2 bound of ``max_q`` (fixed point, frac 12)."""
        if not 0 < max_q < (1 << 31):
            raise InputError(f"L2 bound {max_q / (1 << FRAC)} does not fit max_norm's 32 bits")
        return max_q

    def witness_input(self, v: list[int], owner: str, rho: int, pinned: int) -> dict[str, Any]:
        """Input JSON for the aggregation vector ``v`` = (g, mask)."""
        from omnidsl.market.circom_rule import split_vector

        g, mask = split_vector(v)
        if len(g) != self.dim:
            raise InputError(f"the aggregation vector has {len(g)} gradient entries, the rule "
                             f"{self.dim}")
        return {"g": [str(int(x)) for x in g], "owner": str(int(owner, 16)),
                "rho": str(int(rho) % R), "max_norm": str(pinned), "mask": str(int(mask) % R)}

    def satisfies(self, q: list[int], pinned: int) -> bool:
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
        lay = next(x for x in self.circuit.inputs if x.name == "g")
        mask = next(x for x in self.circuit.inputs if x.name == "mask")
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
        if on_g != b"".join(int_to_bytes(int(v) % R) for v in [*inp["g"], inp["mask"]]):
            raise InternalError("the gradient wires do not hold the aggregation vector")
        fixed = FixedShares([int(w) for w in wires],
                            [b"".join(int_to_bytes(int(v) % R) for v in sh) for sh in shares])
        res = prove(self.pk, wit, parties=cfg, pk_path=pk_path, backend=self.backend,
                    fixed=fixed, bind_label=label)
        return (proof_to_json(res.proof), public_to_json(res.public)), res


def setup(dim: int) -> DslRule:
    """Compile :data:`SOURCE` for ``dim`` entries and run a dev setup (seconds)."""
    from omnidsl.backend import get_backend
    from omnidsl.compiler.circuit import compile_rule
    from omnidsl.groth16.setup import dev_setup

    circuit = compile_rule(SOURCE, "market_norm.omni", {"D": dim})
    backend = get_backend()
    return DslRule(dim, circuit, dev_setup(circuit.r1cs, backend), backend)

