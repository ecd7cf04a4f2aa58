"""Vectorised field arithmetic on coefficient *ids* (indices into a table of distinct elements).

Circuits use few distinct coefficients, so an operation on millions of terms is done by
``np.unique`` over the (id, id) pairs, one Python big-int operation per *distinct* pair, and a
gather.  This keeps the optimiser and canonicalisation free of per-term Python.
"""

from __future__ import annotations

import numpy as np

from omnidsl.field import R


class CoeffTable:
    """A growable table of distinct field elements with vectorised id arithmetic."""

    def __init__(self, values: list[int] | None = None, prime: int = R):
        self.p = prime
        self.values: list[int] = []
        self.index: dict[int, int] = {}
        self._first_id: list[int] = []  # id of the first entry with the same value (dedup)
        self._n_dups = 0  # entries whose value an earlier entry already holds
        for v in values or []:
            self._append(v % prime)

    def _append(self, v: int) -> int:
        i = len(self.values)
        self.values.append(v)
        first = self.index.setdefault(v, i)
        self._first_id.append(first)
        self._n_dups += first != i
        return i

    def __len__(self) -> int:
        return len(self.values)

    def intern(self, v: int) -> int:
        """Id of value ``v mod p`` (added if new)."""
        v %= self.p
        i = self.index.get(v)
        return self._append(v) if i is None else i

    def canonical_ids(self, ids: np.ndarray) -> np.ndarray:
        """Map ids to the first id holding the same value (tables may contain duplicates)."""
        if not self._n_dups:
            return np.asarray(ids, np.int32)
        return np.asarray(self._first_id, np.int32)[ids] if len(ids) else ids.astype(np.int32)

    def zero_mask(self) -> np.ndarray:
        """Boolean array over the table: entry is zero."""
        return np.array([v == 0 for v in self.values], dtype=bool)

    def _distinct(self, ids: np.ndarray) -> np.ndarray:
        """Sorted distinct ids (O(n) via bincount: ids are small integers)."""
        return np.flatnonzero(np.bincount(ids, minlength=len(self.values)))

    def _unary(self, ids: np.ndarray, fn) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.size == 0:
            return np.zeros(0, np.int32)
        u = self._distinct(ids.reshape(-1))
        res = np.zeros(len(self.values), np.int32)
        res[u] = [self.intern(fn(self.values[int(i)])) for i in u]
        return res[ids]

    def _binary(self, a: np.ndarray, b: np.ndarray | int, fn) -> np.ndarray:
        a = np.asarray(a)
        b = np.asarray(b)
        if a.size == 0 or b.size == 0:
            return np.zeros(np.broadcast_shapes(a.shape, b.shape), np.int32).reshape(-1)
        n = max(len(self.values), 1)
        vals = self.values
        if b.ndim == 0 or b.size == 1:  # one right operand: a unary map
            y = vals[int(b.reshape(-1)[0])]
            return self._unary(a, lambda x: fn(x, y)).reshape(-1)
        a, b = np.broadcast_arrays(a, b)
        a, b = a.reshape(-1), b.reshape(-1)
        ua, ub = self._distinct(a), self._distinct(b)
        if ua.size * ub.size <= 1 << 14:  # dense table over the distinct values present
            pa = np.zeros(n, np.intp)
            pa[ua] = np.arange(ua.size) * ub.size
            pb = np.zeros(n, np.intp)
            pb[ub] = np.arange(ub.size)
            dense = np.array([self.intern(fn(vals[int(x)], vals[int(y)]))
                              for x in ua for y in ub], np.int32)
            idx = pa[a]
            idx += pb[b]
            return dense[idx]
        key = a.astype(np.int64) * n + b
        u, inv = np.unique(key, return_inverse=True)
        res = np.array([self.intern(fn(vals[int(k // n)], vals[int(k % n)])) for k in u],
                       np.int32)
        return res[inv.reshape(-1)]

    def mul(self, a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
        """Elementwise product of ids (``b`` may be a single id)."""
        p = self.p
        return self._binary(a, b, lambda x, y: x * y % p)

    def add(self, a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
        p = self.p
        return self._binary(a, b, lambda x, y: (x + y) % p)

    def neg(self, ids: np.ndarray) -> np.ndarray:
        p = self.p
        return self._unary(ids, lambda x: -x % p)

    def inv(self, ids: np.ndarray) -> np.ndarray:
        """Multiplicative inverses (ids of zero are an error)."""
        p = self.p

        def _inv(x: int) -> int:
            if x == 0:
                raise ZeroDivisionError("inverse of zero coefficient")
            return pow(x, -1, p)

        return self._unary(ids, _inv)

    def sum_runs(self, ids: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """Sum of each run ``ids[starts[k]:starts[k+1]]`` (last run to the end), as ids."""
        ids = np.asarray(ids)
        n = ids.shape[0]
        counts = np.diff(np.append(starts, n))
        out = ids[starts].astype(np.int32)
        multi = np.flatnonzero(counts > 1)
        if multi.size:
            out[multi] = self.sum_long_runs(ids, starts[multi], counts[multi])
        return out

    def sum_long_runs(self, ids: np.ndarray, run_start: np.ndarray,
                      run_cnt: np.ndarray) -> np.ndarray:
        """Sum of each run ``ids[run_start[k] : run_start[k] + run_cnt[k]]`` (counts >= 1).

        Pairwise tree reduction, vectorised across all runs: log2(longest run) levels, each
        one :meth:`add` over the pairs still to be summed (O(total terms) overall)."""
        run_cnt = np.asarray(run_cnt, np.int64)
        first = np.cumsum(run_cnt) - run_cnt
        run = np.repeat(np.arange(run_cnt.shape[0]), run_cnt)
        rank = np.arange(run.shape[0], dtype=np.int64) - first[run]
        vals = np.asarray(ids)[np.asarray(run_start, np.int64)[run] + rank].astype(np.int64)
        length = run_cnt.copy()
        while vals.shape[0] > length.shape[0]:  # some run still has two or more terms
            even = rank % 2 == 0
            pair = np.flatnonzero(even & (rank + 1 < length[run]))
            vals[pair] = self.add(vals[pair], vals[pair + 1])
            vals, run, rank = vals[even], run[even], rank[even] // 2
            length = (length + 1) // 2
        return vals.astype(np.int32)
