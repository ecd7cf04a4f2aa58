"""Aggregate binding: the model owner checks that the sum it reconstructs from the servers'
aggregate shares equals the sum of the gradients the chain accepted.

Convention (shared with the rule and Market.sol): the fingerprint of a gradient g ∈ F_r^D under
the challenge ρ is ``f(g, ρ) = Σ_{i=0}^{D-1} g_i · ρ^(i+1) mod r`` (a public output of the rule;
ρ is a public input pinned by the contract to the task's challenge).  The contract sums the
fingerprints of credited proofs into ``fpSum``; by linearity the aggregate G = Σ_j g_j satisfies
``f(G, ρ) = fpSum``.  Any error e ≠ 0 in G that was fixed before ρ was drawn passes with
probability at most D/r (a non-zero polynomial of degree ≤ D has at most D roots).

Before ρ exists each server commits to the shares it holds (:func:`share_commitment`) and to
the hash of a secret seed; once every server committed the seeds are revealed and ρ is derived
on-chain from all commitments and the seeds (commit–reveal).  The market rules fingerprint the
aggregation vector (g, mask): the mask is one more entry.  See docs/market.md for the argument.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from eth_utils import keccak

from omnidsl.errors import OmniDSLError
from omnidsl.field import R, int_to_bytes, signed


class AggregateMismatch(OmniDSLError):
    """The reconstructed aggregate does not match the on-chain fingerprint sum (tampering)."""


def _as_ints(values: Sequence[int] | np.ndarray) -> list[int]:
    return [int(v) % R for v in np.asarray(values, dtype=object).ravel()]


def fingerprint(g: Sequence[int] | np.ndarray, rho: int) -> int:
    """``Σ_i g_i · ρ^(i+1) mod r`` (g entries are integers of any sign, embedded mod r)."""
    acc = 0
    for v in reversed(_as_ints(g)):  # Horner: ((g_{D-1}ρ + g_{D-2})ρ + ...)ρ
        acc = (acc + v) * rho % R
    return acc


def share_vector(g: Sequence[int] | np.ndarray, n: int) -> list[list[int]]:
    """Additive shares over F_r of the vector ``g`` for ``n`` parties (fresh CSPRNG randomness;
    the additive scheme's sharing, ``mpc/schemes/additive/shares.py``)."""
    from omnidsl.mpc.schemes.additive.shares import split_ints

    return split_ints(_as_ints(g), n)


def add_vectors(vectors: Sequence[Sequence[int]], dim: int) -> list[int]:
    """Entry-wise sum mod r of share vectors (an empty list gives the zero vector)."""
    out = [0] * dim
    for vec in vectors:
        if len(vec) != dim:
            raise ValueError(f"vector of length {len(vec)}, expected {dim}")
        out = [(a + int(b)) % R for a, b in zip(out, vec, strict=True)]
    return out


def reconstruct(aggregate_shares: Sequence[Sequence[int]]) -> list[int]:
    """Sum of the servers' aggregate shares, as signed integers (the fixed-point aggregate)."""
    if not aggregate_shares:
        raise ValueError("no aggregate shares")
    total = add_vectors(aggregate_shares, len(aggregate_shares[0]))
    return [signed(v) for v in total]


def share_commitment(task_id: int, server: str, shares: Sequence[tuple[str, Sequence[int]]],
                     salt: bytes) -> bytes:
    """A server's 32-byte commitment to the shares it holds, in the order given:
    keccak(task id ‖ server ‖ salt ‖ for each (data owner, share vector): owner ‖ entries)."""
    if len(salt) != 32:
        raise ValueError("salt must be 32 bytes")
    parts = [task_id.to_bytes(32, "big"), bytes.fromhex(server.removeprefix("0x")), salt]
    for owner, vec in shares:
        parts.append(bytes.fromhex(owner.removeprefix("0x")))
        parts.append(b"".join(int_to_bytes(int(v)) for v in vec))
    return keccak(b"".join(parts))


def opening_is_valid(task_id: int, server: str, commitment: bytes,
                     held: Sequence[tuple[str, Sequence[int]]], salt: bytes,
                     accepted: Sequence[str], aggregate_share: Sequence[int]) -> bool:
    """Audit of ONE server: its opened shares match its on-chain commitment and its aggregate
    share is exactly the sum of its shares of the accepted data owners.  One server's shares are
    uniformly random, so an audit reveals nothing as long as at least one other server's shares
    of every data owner stay closed."""
    if share_commitment(task_id, server, held, salt) != bytes(commitment):
        return False
    table = {owner.lower(): vec for owner, vec in held}
    if any(a.lower() not in table for a in accepted) or not held:
        return False
    dim = len(held[0][1])
    expected = add_vectors([table[a.lower()] for a in accepted], dim)
    return [int(v) % R for v in aggregate_share] == expected


def binding_holds(aggregate: Sequence[int] | np.ndarray, rho: int, fp_sum: int) -> bool:
    """True iff ``f(aggregate, ρ) == fpSum (mod r)``."""
    return fingerprint(aggregate, rho) == fp_sum % R


def check_aggregate(aggregate: Sequence[int] | np.ndarray, rho: int, fp_sum: int,
                  task_id: int | None = None) -> None:
    """Raise :class:`AggregateMismatch` unless the aggregate matches the on-chain fingerprints."""
    if not binding_holds(aggregate, rho, fp_sum):
        where = f" of task {task_id}" if task_id is not None else ""
        raise AggregateMismatch(
            f"the aggregate{where} reconstructed from the servers' shares does not match the "
            "fingerprints of the accepted proofs",
            hint="a server reported a wrong aggregate share; audit the servers' commitments")
