"""Fused input bounds: asserted bounds on an input reuse (or replace) its range check.

Every input is range-checked to its declared width (docs/gadgets.md).  When the rule also
asserts, unconditionally and for every entry, a bound on the input, the range check and the
bound check prove overlapping facts, and the hand-written optimum does only one of them:

* **constant bounds** (``assert all(abs(g[i]) <= 4.0 for i in 0..D)``, ``assert m > 0``): the
  input is range-checked to the intersection ``[lo, hi]`` of its declared range and the asserted
  bounds instead (``gadgets.interval``: k bits, plus one product when ``hi − lo = 2^(k−1)``), its
  lowered bound becomes ``[lo, hi]`` and the fused comparisons are statically true (not lowered
  again).  A failing entry still raises the assertion's own message (:class:`FusedBound`).
* **bounds by other values** (``assert all(x[i] >= lo and x[i] <= hi for i in 0..D)`` with
  ``lo``, ``hi`` range-checked inputs whose declared ranges lie inside x's, or the prover-chosen
  bounds of ``let hi = max(x[i] for i in 0..D)`` / ``min`` (``bounded.py``), range-checked to
  x's range): the two comparisons prove ``lo <= x <= hi`` in the field whatever x's wire holds
  (each is a bit decomposition of a difference at x's own scale), so x's declared range follows
  and x's own range check is dropped.

Only comparisons reached from an ``assert`` through ``and`` and ``all`` (over the whole index
range) are used: they hold in every satisfying assignment.  A fusion is made only where it
costs fewer constraints, and never for an input whose sign bit ``abs()`` reuses or that is
``committed`` (its packing needs the decomposition).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from math import ceil, floor

from omnidsl.lang import ast
from omnidsl.lang.checker import CheckedRule
from omnidsl.lang.types import InputInfo, dyadic_exponent

from . import bounded
from .bounded import Bounds

#: a comparison ``x op c`` (x the input side) as an interval on x's encoding
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


@dataclass
class FusedCheck:
    """One asserted comparison folded into an input's interval check (for its message)."""

    cmp: ast.Compare
    stmt: ast.Assert
    lo: int | None  # the encoding bound it asserts (None: none on that side)
    hi: int | None
    is_abs: bool
    scale: int  # the comparison's common scale (as the lowering would use it)


@dataclass
class FusedBound:
    """An input range-checked to ``[lo, hi]`` (encodings) instead of its declared range."""

    name: str
    lo: int
    hi: int
    checks: list[FusedCheck] = field(default_factory=list)


@dataclass
class Fusion:
    """What :func:`plan` decided: interval checks, dropped range checks, skipped comparisons."""

    bounds: dict[str, FusedBound] = field(default_factory=dict)
    #: inputs whose own range check is implied by asserted bounds by other values
    implied: set[str] = field(default_factory=set)
    #: ids of asserted comparisons that the interval checks prove (not lowered again)
    skip: set[int] = field(default_factory=set)


def interval_cost(lo: int, hi: int) -> int:
    """Constraints of ``gadgets.interval`` on ``[lo, hi]`` (booleanity and products)."""
    w = hi - lo
    k = w.bit_length()
    if w == (1 << k) - 1:
        return k
    return k + 1 if w == 1 << (k - 1) else 2 * k


def _asserted(stmt: ast.Assert) -> Iterator[tuple[ast.Compare, str | None]]:
    """The comparisons an assertion makes hold unconditionally, with their loop variable."""
    todo: list[tuple[ast.Expr, str | None]] = [(stmt.cond, None)]
    while todo:
        e, var = todo.pop()
        if isinstance(e, ast.BoolOp) and e.op == "and":
            todo += [(e.left, var), (e.right, var)]
        elif isinstance(e, ast.Generator) and e.func == "all" and var is None:
            todo.append((e.body, e.var))
        elif isinstance(e, ast.Compare) and e.op in _FLIP:
            yield e, var


def _whole_range(stmt: ast.Assert, var: str) -> tuple[int, int] | None:
    """(start, stop) of the ``all`` generator binding var in the assertion."""
    todo: list[ast.Expr] = [stmt.cond]
    while todo:
        e = todo.pop()
        if isinstance(e, ast.BoolOp):
            todo += [e.left, e.right]
        elif isinstance(e, ast.Generator) and e.var == var:
            return int(e.range.start.info.const), int(e.range.stop.info.const)
    return None


def _input_side(e: ast.Expr, var: str | None, stmt: ast.Assert,
                inputs: dict[str, InputInfo]) -> tuple[InputInfo, bool] | None:
    """(input, is_abs) when e is ``x``/``x[i]``/``abs(x[i])`` covering every entry of x."""
    is_abs = False
    if isinstance(e, ast.Call) and e.func == "abs" and len(e.args) == 1:
        is_abs, e = True, e.args[0]
    if isinstance(e, ast.Name) and var is None:
        inp = inputs.get(e.id)
        return (inp, is_abs) if inp is not None and inp.length is None else None
    if (isinstance(e, ast.Index) and isinstance(e.base, ast.Name) and var is not None
            and isinstance(e.index, ast.Name) and e.index.id == var):
        inp = inputs.get(e.base.id)
        if inp is None or inp.length is None:
            return None
        if _whole_range(stmt, var) != (0, inp.length):
            return None
        return inp, is_abs
    return None


def _const_bounds(op: str, c: Fraction, frac: int, is_abs: bool
                  ) -> tuple[int | None, int | None] | None:
    """``x op c`` (abs(x) op c) as inclusive bounds on x's encoding X = x·2^frac."""
    t = c * (1 << frac)
    if op in ("<=", "<"):
        hi = floor(t) if op == "<=" else ceil(t) - 1
        if is_abs:
            return (-hi, hi) if hi >= 0 else None
        return None, hi
    if is_abs:
        return None
    return (ceil(t) if op == ">=" else floor(t) + 1), None


def _uses_abs_of(rule: ast.Rule, skip_ids: set[int]) -> set[str]:
    """Inputs that appear as ``abs(x)``/``abs(x[..])`` outside the fused comparisons."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, ast.Compare) and id(node) in skip_ids:
            return
        if isinstance(node, ast.Call) and node.func == "abs" and node.args:
            a = node.args[0]
            base = a.base if isinstance(a, ast.Index) else a
            if isinstance(base, ast.Name):
                found.add(base.id)
        if isinstance(node, ast.Node):
            for v in vars(node).values():
                if isinstance(v, list):
                    for x in v:
                        walk(x)
                elif isinstance(v, ast.Node):
                    walk(v)

    for stmt in rule.body:
        walk(stmt)
    return found


def plan(checked: CheckedRule, chosen: Bounds | None = None) -> Fusion:
    """Decide the fusions of a checked rule (see the module docstring); ``chosen``: the
    rule's prover-chosen bounds (``bounded.plan``, computed when not given)."""
    if chosen is None:
        chosen = bounded.plan(checked)
    inputs = {i.name: i for i in checked.inputs if i.base != "field" and not i.committed}
    found: dict[str, FusedBound] = {}
    # non-constant bounds: input -> the scalar inputs bounding it from below / above
    lower: dict[str, set[str]] = {}
    upper: dict[str, set[str]] = {}
    for stmt in checked.rule.body:
        if not isinstance(stmt, ast.Assert):
            continue
        for cmp, var in _asserted(stmt):
            if cmp.left.info.kind != "num" or cmp.right.info.kind != "num":
                continue
            for side, other, op in ((cmp.left, cmp.right, cmp.op),
                                    (cmp.right, cmp.left, _FLIP[cmp.op])):
                hit = _input_side(side, var, stmt, inputs)
                if hit is None:
                    continue
                inp, is_abs = hit
                c = other.info.const
                if c is not None:
                    b = _const_bounds(op, c, inp.frac, is_abs)
                    e = dyadic_exponent(c)
                    if b is None or e is None:  # (the checker refuses non-dyadic literals)
                        continue
                    s = max(inp.frac, e)
                    fb = found.setdefault(inp.name, FusedBound(inp.name, inp.lo, inp.hi))
                    fb.lo = max(fb.lo, b[0]) if b[0] is not None else fb.lo
                    fb.hi = min(fb.hi, b[1]) if b[1] is not None else fb.hi
                    fb.checks.append(FusedCheck(cmp, stmt, b[0], b[1], is_abs, s))
                elif not is_abs and _bounded_by(inp, other, op, inputs):
                    assert isinstance(other, ast.Name)
                    (lower if op in (">", ">=") else upper).setdefault(inp.name, set()).add(
                        other.id)
    out = Fusion()
    for name, fb in found.items():
        inp = inputs[name]
        if fb.lo > fb.hi:  # never holds: the ordinary lowering reports it
            continue
        old = inp.bits + sum(_old_cost(inp, c) for c in fb.checks)
        if interval_cost(fb.lo, fb.hi) < old:
            out.bounds[name] = fb
            out.skip |= {id(c.cmp) for c in fb.checks}
    # an implied range needs range-checked bounds: none of them may be dropped in turn (the
    # chosen bounds of bounded.py are internal wires, always range-checked)
    cand = (set(lower) | chosen.lower) & (set(upper) | chosen.upper)
    for name in cand:
        deps = lower.get(name, set()) | upper.get(name, set())
        if name not in out.bounds and not deps & cand:
            out.implied.add(name)
    abs_users = _uses_abs_of(checked.rule, out.skip)
    for name in abs_users:
        if name in out.bounds:
            out.skip -= {id(c.cmp) for c in out.bounds.pop(name).checks}
        out.implied.discard(name)
    return out


def _old_cost(inp: InputInfo, c: FusedCheck) -> int:
    """Constraints the comparison costs when lowered on its own (input sign bit reused)."""
    if c.is_abs:  # |x| at its sign bit: 1 product, then hi − |x| >= 0
        top = max(-inp.lo, inp.hi)
        return 1 + (c.hi.bit_length() if c.hi is not None and top > c.hi else 0)
    if c.lo is not None:  # x − lo >= 0 with x − lo in [inp.lo − lo, inp.hi − lo]
        return (inp.hi - c.lo).bit_length() if inp.lo < c.lo else 0
    assert c.hi is not None
    return (c.hi - inp.lo).bit_length() if inp.hi > c.hi else 0


def _bounded_by(inp: InputInfo, other: ast.Expr, op: str, inputs: dict[str, InputInfo]
                ) -> bool:
    """Whether ``x op other`` (other a scalar input, range-checked) keeps x inside its
    declared range, and is decided by a bit decomposition of ``x − other`` at x's scale (not
    statically true from the declared bounds)."""
    if not isinstance(other, ast.Name) or other.id == inp.name:
        return False
    o = inputs.get(other.id)
    i = other.info
    if o is None or o.length is not None or i.scale > inp.frac or i.length is not None:
        return False
    k = 1 << (inp.frac - i.scale)
    olo, ohi = i.lo * k, i.hi * k  # the bound's interval at x's scale
    if op in (">", ">="):  # x >= other >= olo >= inp.lo; not statically true: inp.lo < ohi
        return olo >= inp.lo and inp.lo < ohi + (1 if op == ">" else 0)
    return ohi <= inp.hi and inp.hi > olo - (1 if op == "<" else 0)
