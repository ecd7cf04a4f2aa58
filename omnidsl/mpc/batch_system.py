"""One Groth16 statement for a whole batch of k market contributions (docs/market.md, "One
proof per batch").

The batch system is k copies of a market rule's R1CS whose shared public values — ρ and every
pinned input (τ, bounds, a reference's commitment) — are single wires, while each slot keeps its
own public ``owner`` and fingerprint.  Public signals (circom order, outputs first):

    [fp_0 … fp_{k−1}, owner_0 … owner_{k−1}, s_0 … s_{m−1}]

where s are the rule's other public signals (ρ and the pins) in the rule's order.  Then each
slot's private inputs (slot by slot), then each slot's internal wires.  Every slot's constraints
are the rule's constraints on its own wires, so the system is satisfied iff every slot's rule
statement holds under the shared values (the composition renames wires and concatenates rows;
it adds and removes nothing).

A slot whose ``owner`` is 0 is *padding*: the contract credits nobody for it and does not add
its fingerprint (``Market.submitBatchProof``); its witness is any satisfying witness of the rule
(e.g. a copy of a real slot's input with owner 0, :func:`padding_input`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from omnidsl.errors import InputError
from omnidsl.field import limbs_to_ints
from omnidsl.r1cs.system import R1CS, SparseMatrix


@dataclass(frozen=True)
class BatchLayout:
    """Where a batch statement's public signals sit; ``shared`` are the rule's public-signal
    indices every slot shares (ρ and the pins), in the order they follow the owners."""

    k: int
    rule_public: int
    fp_index: int
    owner_index: int
    shared: tuple[int, ...]

    @property
    def n_public(self) -> int:
        return 2 * self.k + len(self.shared)

    def public(self, fps: Sequence[int], owners: Sequence[int],
               values: Mapping[int, int]) -> list[int]:
        """The batch's public signals from the slots' fingerprints and owners and the shared
        values by rule index (what the contract assembles from its calldata and storage)."""
        if len(fps) != self.k or len(owners) != self.k:
            raise InputError(f"a batch of {self.k} needs {self.k} fingerprints and owners, got "
                             f"{len(fps)} and {len(owners)}")
        missing = [i for i in self.shared if i not in values]
        if missing:
            raise InputError(f"no value for the shared public signal(s) {missing}")
        return [*map(int, fps), *map(int, owners), *(int(values[i]) for i in self.shared)]


@dataclass
class BatchSystem:
    """The composed system and, per slot, where the rule's wires went (``maps[j][w]``)."""

    layout: BatchLayout
    r1cs: R1CS
    maps: np.ndarray  # int64 (k, rule wires)

    @property
    def k(self) -> int:
        return self.layout.k

    def witness(self, slots: Sequence[np.ndarray]) -> np.ndarray:
        """The batch witness ((n_wires, 4) uint64 limbs) from the k slots' rule witnesses.

        Raises InputError naming the first slot whose shared public values (ρ, a pin) differ
        from slot 0's: one statement cannot hold two values of a shared wire."""
        lay = self.layout
        if len(slots) != lay.k:
            raise InputError(f"a batch of {lay.k} needs {lay.k} slot witnesses, got {len(slots)}")
        out = np.zeros((self.r1cs.n_wires, 4), np.uint64)
        shared_rows = [1 + i for i in lay.shared]
        first = np.asarray(slots[0])[shared_rows]
        for j, wit in enumerate(slots):
            w = np.asarray(wit, np.uint64)
            if w.shape != (self.maps.shape[1], 4):
                raise InputError(f"slot {j}: a witness of {w.shape[0]} wires, the rule has "
                                 f"{self.maps.shape[1]}")
            bad = np.flatnonzero(np.any(w[shared_rows] != first, axis=1))
            if bad.size:
                raise InputError(f"slot {j}: public signal {lay.shared[int(bad[0])]} differs from "
                                 "slot 0's (ρ and every pinned value are shared by the batch)")
            out[self.maps[j]] = w
        return out

    def slot_public(self, wit: np.ndarray) -> tuple[int, int]:
        """(fingerprint, owner) of one slot's rule witness."""
        lay = self.layout
        fp, owner = limbs_to_ints(np.asarray(wit)[[1 + lay.fp_index, 1 + lay.owner_index]])
        return int(fp), int(owner)


def layout(rule_public: int, fp_index: int, owner_index: int, k: int) -> BatchLayout:
    if k < 1:
        raise InputError(f"a batch needs at least one slot, not {k}")
    if not (0 <= fp_index < rule_public and 0 <= owner_index < rule_public) \
            or fp_index == owner_index:
        raise InputError(f"bad fingerprint/owner indices {fp_index}/{owner_index} of "
                         f"{rule_public} public signals")
    shared = tuple(i for i in range(rule_public) if i not in (fp_index, owner_index))
    return BatchLayout(k, rule_public, fp_index, owner_index, shared)


def compose(rule: R1CS, fp_index: int, owner_index: int, k: int) -> BatchSystem:
    """k copies of ``rule`` sharing every public signal except the fingerprint (an output) and
    the owner; ``fp_index``/``owner_index`` are public-signal indices (circom order)."""
    if rule.n_pub_out != 1 or fp_index != 0:
        raise InputError("a market rule has exactly one output, its fingerprint (public signal 0)")
    lay = layout(rule.n_public, fp_index, owner_index, k)
    n_pub = rule.n_public
    n_prv = rule.n_prv_in
    n_int = rule.n_wires - 1 - n_pub - n_prv
    base_prv = 1 + lay.n_public
    base_int = base_prv + k * n_prv
    n_wires = base_int + k * n_int
    pub_map = np.zeros(1 + n_pub, np.int64)  # wire 0 → 0
    for pos, i in enumerate(lay.shared):
        pub_map[1 + i] = 1 + 2 * k + pos
    maps = np.zeros((k, rule.n_wires), np.int64)
    prv = np.arange(n_prv, dtype=np.int64)
    internal = np.arange(n_int, dtype=np.int64)
    for j in range(k):
        m = maps[j]
        m[:1 + n_pub] = pub_map
        m[1 + fp_index] = 1 + j
        m[1 + owner_index] = 1 + k + j
        m[1 + n_pub:1 + n_pub + n_prv] = base_prv + j * n_prv + prv
        m[1 + n_pub + n_prv:] = base_int + j * n_int + internal
    mats = [_stack(getattr(rule, s), maps) for s in ("A", "B", "C")]
    bits = None
    if rule.wire_bits is not None:
        bits = np.zeros(n_wires, np.uint8)
        for j in range(k):
            bits[maps[j]] = rule.wire_bits
    lines = None if rule.constraint_line is None else np.tile(rule.constraint_line, k)
    system = R1CS(n_wires, k, lay.n_public - k, k * n_prv, mats[0], mats[1], mats[2],
                  list(rule.coeffs), prime=rule.prime, constraint_line=lines, wire_bits=bits)
    return BatchSystem(lay, system.canonicalise(), maps)


def _stack(m: SparseMatrix, maps: np.ndarray) -> SparseMatrix:
    """The rows of ``m`` once per slot, wires renamed by that slot's map."""
    k = maps.shape[0]
    nnz, rows = m.nnz, m.n_rows
    ptr = np.concatenate([np.asarray(m.row_ptr[:-1], np.int64) + j * nnz for j in range(k)]
                         + [np.array([k * nnz], np.int64)])
    wire = np.concatenate([maps[j][np.asarray(m.wire, np.int64)] for j in range(k)]) \
        if nnz else np.zeros(0, np.int64)
    cid = np.tile(np.asarray(m.coeff_id, np.int32), k)
    assert ptr.shape[0] == k * rows + 1
    return SparseMatrix(ptr, wire, cid)


def padding_input(inp: Mapping[str, Any], owner_name: str = "owner") -> dict[str, Any]:
    """A padding slot's rule input: ``inp`` (a real slot's, so every rule assertion holds) with
    owner 0 — the contract credits nobody for it and ignores its fingerprint."""
    return {**inp, owner_name: "0"}
