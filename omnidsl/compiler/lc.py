"""Batches of linear combinations, stored densely as (n, t) arrays of wires and coefficient ids.

Row k of an :class:`LC` is ``const + sum_j coeffs[cid[k, j]] * wire[k, j]``.  Coefficients are
exact signed integers kept once in a :class:`SignedCoeffTable`; the constant is shared by all rows
(the DSL has no per-element constants).  ``n == 1`` with ``scalar=True`` broadcasts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SMALL = 1 << 62


class SignedCoeffTable:
    """Distinct signed integer coefficients; ids are int32."""

    def __init__(self) -> None:
        self.values: list[int] = []
        self._ids: dict[int, int] = {}
        self._small: np.ndarray | None = None
        self._obj: np.ndarray | None = None
        self._small_mask: np.ndarray | None = None

    def id(self, v: int) -> int:
        i = self._ids.get(v)
        if i is None:
            i = len(self.values)
            self.values.append(v)
            self._ids[v] = i
            self._small = self._obj = None
        return i

    def small(self) -> np.ndarray:
        """int64 view of the table (only meaningful where |v| < 2^62)."""
        if self._small is None or len(self._small) != len(self.values):
            self._small = np.array([v if abs(v) < SMALL else 0 for v in self.values], np.int64)
        return self._small

    def is_small(self, cids: np.ndarray) -> bool:
        if cids.size == 0:
            return True
        if self._small_mask is None or len(self._small_mask) != len(self.values):
            self._small_mask = np.array([abs(v) < SMALL for v in self.values], bool)
        return bool(self._small_mask[cids].all())

    def obj(self) -> np.ndarray:
        if self._obj is None or len(self._obj) != len(self.values):
            o = np.empty(len(self.values), dtype=object)
            o[:] = self.values
            self._obj = o
        return self._obj

    def scaled(self, cids: np.ndarray, k: int) -> np.ndarray:
        """Ids of coeffs[cids] * k (vectorised over the few distinct ids)."""
        if cids.size == 0:
            return cids
        u, inv = np.unique(cids, return_inverse=True)
        new = np.array([self.id(self.values[int(i)] * k) for i in u], dtype=np.int32)
        return new[inv].reshape(cids.shape)


@dataclass
class LC:
    wires: np.ndarray  # (n, t) int64
    cids: np.ndarray  # (n, t) int32
    const: int = 0

    @property
    def n(self) -> int:
        return int(self.wires.shape[0])

    @property
    def t(self) -> int:
        return int(self.wires.shape[1])

    @staticmethod
    def constant(c: int, n: int = 1) -> LC:
        return LC(np.zeros((n, 0), np.int64), np.zeros((n, 0), np.int32), int(c))

    @staticmethod
    def of_wires(wires: np.ndarray, cid_one: int) -> LC:
        w = np.asarray(wires, np.int64).reshape(-1, 1)
        return LC(w, np.full(w.shape, cid_one, np.int32), 0)

    @property
    def is_const(self) -> bool:
        return self.t == 0

    def broadcast(self, n: int) -> LC:
        if self.n == n:
            return self
        if self.n != 1:
            raise ValueError(f"cannot broadcast {self.n} rows to {n}")
        return LC(np.repeat(self.wires, n, axis=0), np.repeat(self.cids, n, axis=0), self.const)

    def take(self, idx: np.ndarray) -> LC:
        return LC(self.wires[idx], self.cids[idx], self.const)

    def sum_rows(self) -> LC:
        n = self.n
        return LC(self.wires.reshape(1, -1), self.cids.reshape(1, -1), self.const * n)


def add(a: LC, b: LC, table: SignedCoeffTable, kb: int = 1) -> LC:
    """a + kb*b (rows broadcast)."""
    if kb != 1:
        b = scale(b, kb, table)
    n = max(a.n, b.n)
    a, b = a.broadcast(n), b.broadcast(n)
    return LC(np.concatenate([a.wires, b.wires], axis=1),
              np.concatenate([a.cids, b.cids], axis=1), a.const + b.const)


def scale(a: LC, k: int, table: SignedCoeffTable) -> LC:
    if k == 1:
        return a
    if k == 0:
        return LC.constant(0, a.n)
    return LC(a.wires, table.scaled(a.cids, k), a.const * k)
