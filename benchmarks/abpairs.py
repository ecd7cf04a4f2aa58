"""Alternating A/B repetitions for side-by-side benchmarks (issue 14, item 6).

Running every repetition of A and then every repetition of B lets load drift on a shared
machine land on one side only (prove_bench's ratio once moved from 3.6x to 5.8x between two
runs that way).  :func:`alternate` interleaves them — A B, B A, A B, … — so that drift hits
both alike, and :class:`Pairs` reports both medians, the ratio of the medians and every
per-pair ratio (with their median), which shows how stable the comparison was.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

A = TypeVar("A")
B = TypeVar("B")


def alternate(run_a: Callable[[], A], run_b: Callable[[], B], reps: int
              ) -> tuple[list[A], list[B]]:
    """``reps`` pairs of one A and one B run, the order swapped every pair."""
    out_a: list[A] = []
    out_b: list[B] = []
    for k in range(reps):
        if k % 2 == 0:
            out_a.append(run_a())
            out_b.append(run_b())
        else:
            out_b.append(run_b())
            out_a.append(run_a())
    return out_a, out_b


@dataclass
class Pairs:
    """Paired measurements ``a[k]``, ``b[k]`` (same pair k) of one quantity."""

    a: list[float] = field(default_factory=list)
    b: list[float] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        return [x / y for x, y in zip(self.a, self.b, strict=True) if y > 0]

    @property
    def median_a(self) -> float:
        return statistics.median(self.a)

    @property
    def median_b(self) -> float:
        return statistics.median(self.b)

    @property
    def median_ratio(self) -> float:
        """The median of the per-pair ratios a/b."""
        return statistics.median(self.ratios)

    def line(self, name_a: str, name_b: str, unit: str = "s") -> str:
        """One printable summary: medians, ratio of medians, per-pair ratios."""
        per = ", ".join(f"{r:.2f}" for r in self.ratios)
        return (f"{name_a} median {self.median_a:.3f} {unit}, {name_b} median "
                f"{self.median_b:.3f} {unit}; {name_a}/{name_b}: ratio of medians "
                f"{self.median_a / self.median_b:.2f}x, per pair [{per}], median per-pair "
                f"{self.median_ratio:.2f}x ({len(self.a)} alternating pairs)")
