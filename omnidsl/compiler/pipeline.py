"""The compile pipeline: one rule through its stages, each computed at most once.

    source ─parse→ rule ─check→ checked ─lower→ lowered ─emit, optimise→ compiled ─→ circuit
                                                 (witness program)    (R1CS + kept; cached)

:class:`Pipeline` holds the stages as cached properties (``rule``, ``checked``, ``lowered``,
``compiled``, ``circuit``): asking for one runs only the stages it needs, once.  ``compiled`` —
the optimised R1CS and the wire map ``kept`` — is what the compile cache stores
(``cache.py``) and what ``omnidsl compile`` writes; with a cache folder a hit skips lowering,
emission and the optimiser (``omnidsl setup`` needs nothing else), and ``circuit`` then lowers
the rule only for its witness program (and checks that it lowers to the -O0 sizes the entry
recorded).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from omnidsl import progress
from omnidsl.lang import ast
from omnidsl.lang.checker import CheckedRule, check
from omnidsl.lang.parser import parse
from omnidsl.r1cs.system import R1CS

from .builder import Builder
from .circuit import Circuit
from .lower import InputLayout, Lowerer, OutputLayout

log = logging.getLogger(__name__)


@dataclass
class Lowered:
    """The lowered rule: the builder (wires, -O0 constraint blocks, witness steps) and layouts.

    The constraint blocks are consumed when the compiled stage emits them (or dropped when it
    comes from the cache); the witness program (``builder.steps``) stays."""

    builder: Builder
    inputs: list[InputLayout]
    outputs: list[OutputLayout]

    def counts(self) -> tuple[int, int, int]:
        """(public outputs, public inputs, private inputs), in wires."""
        return (sum(o.length or 1 for o in self.outputs),
                sum(i.info.n_public for i in self.inputs),
                sum(i.info.n_private for i in self.inputs))


@dataclass
class Compiled:
    """The compiled output: the optimised R1CS, ``kept`` (optimised wire j = -O0 wire kept[j])
    and the -O0 sizes it was derived from (a witness program must match them)."""

    r1cs: R1CS
    kept: np.ndarray
    n_wires_o0: int
    n_constraints_o0: int


def compile_lowered(lowered: Lowered, opt_level: int) -> Compiled:
    """Emit the -O0 system from the lowered blocks (consuming them) and optimise it."""
    b = lowered.builder
    with progress.step("emit"):
        full = b.to_r1cs(*lowered.counts())
    b.blocks.clear()  # the constraint blocks live on in ``full``; keep peak memory down
    b.cache.clear()
    n_o0 = full.n_constraints
    if opt_level == 0:
        return Compiled(full, np.arange(full.n_wires, dtype=np.int64), b.n_wires, n_o0)
    from .optimise import optimise

    with progress.step(f"optimise -O{opt_level}"):
        r1cs, kept = optimise(full, opt_level, consume=True)  # -O0 is not needed afterwards
    del full
    return Compiled(r1cs, kept, b.n_wires, n_o0)


class Pipeline:
    """One rule (source, file name, parameter overrides, -O level) and its stages."""

    def __init__(self, source: str, file: str = "<rule>", params: dict[str, int] | None = None,
                 opt_level: int = 2, cache: Path | None = None):
        if opt_level not in (0, 1, 2):
            raise ValueError(f"optimisation level must be 0, 1 or 2, not {opt_level}")
        self.source = source
        self.file = file
        self.params = dict(params or {})
        self.opt_level = opt_level
        #: the compile cache folder (None: no cache)
        self.cache = cache
        self._entry: Path | None = None  # the cache entry ``compiled`` came from

    @classmethod
    def from_file(cls, path: str | Path, params: dict[str, int] | None = None,
                  opt_level: int = 2, cache: Path | None = None) -> Pipeline:
        from omnidsl.files import read_text

        p = Path(path)
        return cls(read_text(p, "rule"), str(p), params, opt_level, cache)

    @classmethod
    def from_checked(cls, checked: CheckedRule, opt_level: int = 2) -> Pipeline:
        """A pipeline whose front-end stages are done already."""
        pipe = cls(checked.rule.source, checked.rule.file, checked.params, opt_level)
        pipe.__dict__["rule"] = checked.rule
        pipe.__dict__["checked"] = checked
        return pipe

    # ------------------------------------------------------------ stages
    @cached_property
    def rule(self) -> ast.Rule:
        with progress.step("parse"):
            return parse(self.source, self.file)

    @cached_property
    def checked(self) -> CheckedRule:
        rule = self.rule
        with progress.step("check"):
            return check(rule, self.params)

    @cached_property
    def lowered(self) -> Lowered:
        checked = self.checked
        with progress.step("lower"):
            low = Lowerer(checked)
            b = low.run()
        return Lowered(b, low.inputs, low.outputs)

    @cached_property
    def compiled(self) -> Compiled:
        if self.cache is not None:
            from .cache import cache_key, load_compiled

            entry = self.cache / "compiled" / cache_key(self.checked, self.opt_level)
            hit = load_compiled(entry)
            if hit is not None:
                log.debug("compile cache hit %s", entry.name)
                self._entry = entry
                return hit
            compiled = compile_lowered(self.lowered, self.opt_level)
            from .cache import store_compiled

            store_compiled(entry, compiled)
            return compiled
        return compile_lowered(self.lowered, self.opt_level)

    @cached_property
    def circuit(self) -> Circuit:
        lowered = self.lowered
        compiled = self.compiled
        b = lowered.builder
        if b.blocks:  # the compiled output came from the cache: check that it fits
            if (b.n_wires, b.n_constraints()) != (compiled.n_wires_o0, compiled.n_constraints_o0):
                # cannot happen for one compiler version (the key covers it): be safe
                log.warning("compile cache entry %s does not fit the rule; compiling again",
                            self._entry)
                if self._entry is not None:
                    shutil.rmtree(self._entry, ignore_errors=True)
                compiled = self.__dict__["compiled"] = compile_lowered(lowered, self.opt_level)
                if self._entry is not None:
                    from .cache import store_compiled

                    store_compiled(self._entry, compiled)
            b.blocks.clear()  # not needed: the compiled system exists
            b.cache.clear()
        return Circuit(compiled.r1cs, self.checked, lowered.inputs, lowered.outputs,
                       compiled.kept, self.opt_level, b, compiled.n_constraints_o0)
