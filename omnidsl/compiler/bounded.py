"""Prover-chosen bounds: ``let v = max(...)`` / ``min(...)`` used only monotonically.

A maximum is computed exactly by a comparison tree (n − 1 decisions and selects).  When every
use of the ``let`` is an asserted comparison that only gets *harder* as v grows (``hi <= c``,
``hi - lo <= c``, ``top < cap``: v on the smaller side with a positive sign, or on the larger
side with a negative one, through ``+ - * c / c rescale`` and ``let``s built so), the exact
value is not needed: the prover supplies a wire u, range-checked to v's interval, with
``u >= t`` for every term t of the reduction.  Sound: every satisfying u is ≥ the true maximum, and the assertions are monotone, so
they hold for the maximum too.  Complete: u = the maximum satisfies everything the rule accepts.
``min`` is the mirror image (``l <= t``, uses that get harder as v falls).

The terms of ``max(body for i in a..b)`` are the body's rows; a body that is itself a maximum
(``max(a, b)`` or ``a if a > b else b`` and its mirrored forms) contributes both operands, so
``max(x[i] if x[i] > 0 else 0 for i ...)`` has the terms x[i] (each i) and 0.  A term already
bounded by an earlier chosen bound of the same kind (same structure, same range) is bounded
through it: ``u2 >= u1`` once instead of ``u2 >= t`` per row (when all of the earlier bound's
terms are among this one's, so its honest value is not beyond this one's).  A direct upper and
lower bound on every entry of an input (within its declared range) also proves that input's
range, which ``fuse.plan`` then drops (docs/gadgets.md).  Anything else keeps the exact tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from omnidsl.lang import ast
from omnidsl.lang.checker import CheckedRule

from . import gadgets as g
from .builder import width
from .gadgets import V
from .lc import SMALL
from .values import LV, Loop

_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


@dataclass
class Term:
    """One term of a chosen bound: an expression (lowered in the reduction's loop), or the
    earlier bound ``share`` (a let name) that already bounds it."""

    expr: ast.Expr
    key: tuple | None
    share: str | None = None


@dataclass
class BoundPlan:
    """A ``let`` lowered as a prover-chosen bound."""

    name: str
    func: str  # "max": u >= every term; "min": u <= every term
    value: ast.Expr
    terms: list[Term]
    var: str | None  # the generator's variable (None: ``max(v)`` of a vector)
    start: int
    stop: int


@dataclass
class Bounds:
    """What :func:`plan` decided."""

    lets: dict[str, BoundPlan] = field(default_factory=dict)
    #: inputs whose every entry is directly ≤ (upper) / ≥ (lower) a chosen bound whose
    #: interval lies inside the input's declared range (at the input's scale)
    upper: set[str] = field(default_factory=set)
    lower: set[str] = field(default_factory=set)


# ---------------------------------------------------------------- structure


def expr_key(e: ast.Expr, var: str | None) -> tuple | None:
    """A hashable structural key of e (the loop variable as ``("$",)``); None if unsupported."""
    if isinstance(e, ast.Num):
        return ("num", e.value)
    if isinstance(e, ast.Name):
        return ("$",) if e.id == var else ("name", e.id)
    parts: list[Any]
    if isinstance(e, ast.Index):
        parts = ["idx", e.base, e.index]
    elif isinstance(e, ast.Unary):
        parts = ["un", e.op, e.operand]
    elif isinstance(e, (ast.Binary, ast.Compare, ast.BoolOp)):
        parts = [type(e).__name__, e.op, e.left, e.right]
    elif isinstance(e, ast.Call):
        parts = ["call", e.func, *e.args]
    elif isinstance(e, ast.Cond):
        parts = ["cond", e.cond, e.then, e.other]
    else:
        return None
    out: list[Any] = []
    for p in parts:
        if isinstance(p, ast.Expr):
            k = expr_key(p, var)
            if k is None:
                return None
            out.append(k)
        else:
            out.append(p)
    return tuple(out)


def _mentions(k: tuple, atom: tuple) -> bool:
    return k == atom or any(isinstance(p, tuple) and _mentions(p, atom) for p in k)


def _is_pair(e: ast.Cond, func: str, var: str | None) -> bool:
    """Whether ``then if cond else other`` is max(then, other) (func "max") / min(...)."""
    c = e.cond
    if not isinstance(c, ast.Compare) or c.op not in _MIRROR:
        return False
    if c.left.info.kind != "num" or c.right.info.kind != "num":
        return False
    keys = [expr_key(x, var) for x in (c.left, c.right, e.then, e.other)]
    if None in keys:
        return False
    left, right, then, other = keys
    op = c.op if (left, right) == (then, other) else (
        _MIRROR[c.op] if (left, right) == (other, then) else None)
    if op is None:  # the condition does not compare the two branches
        return False
    return op in (">", ">=") if func == "max" else op in ("<", "<=")


def flatten(e: ast.Expr, func: str, var: str | None) -> list[ast.Expr]:
    """The terms whose maximum (minimum) e is: through ``max(a, b)`` and ``a if a > b else b``."""
    if isinstance(e, ast.Call) and e.func == func and len(e.args) == 2:
        return flatten(e.args[0], func, var) + flatten(e.args[1], func, var)
    if isinstance(e, ast.Cond) and _is_pair(e, func, var):
        return flatten(e.then, func, var) + flatten(e.other, func, var)
    return [e]


def _term_key(t: ast.Expr, var: str | None, start: int, stop: int) -> tuple | None:
    """The identity of a term's set of values, for sharing bounds (None: never shared)."""
    if var is None:  # max(v): the entries of v
        if isinstance(t, ast.Name):
            return ("entries", t.id)
        k = expr_key(t, None)
        return None if k is None else ("vec", k)
    if (isinstance(t, ast.Index) and isinstance(t.base, ast.Name) and isinstance(t.index, ast.Name)
            and t.index.id == var and (start, stop) == (0, t.base.info.length)):
        return ("entries", t.base.id)
    k = expr_key(t, var)
    if k is None or not _mentions(k, ("$",)):
        return None  # loop-invariant terms cost one comparison: nothing to share
    return ("gen", k, start, stop)


# ---------------------------------------------------------------- monotone uses


def _signs(e: ast.Expr, name: str) -> set[int] | None:
    """Signs with which the let ``name`` moves e (+1: e grows with it); None: not monotone."""
    if isinstance(e, ast.Name):
        return {1} if e.id == name else set()
    if isinstance(e, ast.Num):
        return set()
    if isinstance(e, ast.Unary) and e.op == "-":
        s = _signs(e.operand, name)
        return None if s is None else {-x for x in s}
    if isinstance(e, ast.Binary):
        left, right = _signs(e.left, name), _signs(e.right, name)
        if left is None or right is None:
            return None
        if e.op == "+":
            return left | right
        if e.op == "-":
            return left | {-x for x in right}
        if e.op == "*":  # a constant factor keeps (or flips) the direction
            if not (left or right):
                return set()
            if e.left.info.is_const:
                return _flip(right, e.left.info.value)
            if e.right.info.is_const:
                return _flip(left, e.right.info.value)
            return None
        if right or not e.right.info.is_const:  # division by a constant: floor(x·q/p)
            return None
        return _flip(left, e.right.info.value)
    if isinstance(e, ast.Call) and e.func == "rescale":
        return _signs(e.args[0], name)
    return None if _uses(e, name) else set()


def _flip(signs: set[int], c: Any) -> set[int]:
    """The signs of c·v for the signs of v."""
    return set() if c == 0 else {x if c > 0 else -x for x in signs}


def _uses(node: Any, name: str) -> int:
    """How many times the Name ``name`` occurs below node."""
    if isinstance(node, ast.Name):
        return int(node.id == name)
    if isinstance(node, list):
        return sum(_uses(x, name) for x in node)
    if isinstance(node, ast.Node):
        return sum(_uses(v, name) for v in vars(node).values() if isinstance(v, (list, ast.Node)))
    return 0


def _asserted(cond: ast.Expr) -> list[ast.Compare]:
    """The comparisons an assertion makes hold (through ``and`` and ``all``)."""
    out: list[ast.Compare] = []
    todo = [cond]
    while todo:
        e = todo.pop()
        if isinstance(e, ast.BoolOp) and e.op == "and":
            todo += [e.left, e.right]
        elif isinstance(e, ast.Generator) and e.func == "all":
            todo.append(e.body)
        elif isinstance(e, ast.Call) and e.func == "all" and e.args[0].info.kind == "bool":
            todo.append(e.args[0])
        elif isinstance(e, ast.Compare):
            out.append(e)
    return out


def monotone(name: str, want: int, later: list[ast.Stmt]) -> bool:
    """Whether every use of ``name`` in ``later`` moves an asserted comparison's
    (larger − smaller) with sign ``want`` only (−1: harder as the value rises, for a maximum;
    +1 for a minimum): directly, or through a ``let`` monotone in it whose own uses do so."""
    total = _uses(later, name)
    ok = 0
    for k, stmt in enumerate(later):
        if isinstance(stmt, ast.Let) and _uses(stmt.value, name):
            signs = _signs(stmt.value, name)
            if signs is None or len(signs) != 1:
                return False
            if not monotone(stmt.name, want * signs.pop(), later[k + 1:]):
                return False
            ok += _uses(stmt.value, name)
            continue
        if not isinstance(stmt, ast.Assert):
            continue
        for c in _asserted(stmt.cond):
            n = _uses(c, name)
            if not n:
                continue
            if c.op not in _MIRROR or c.left.info.kind != "num" or c.right.info.kind != "num":
                return False
            big, small = (c.right, c.left) if c.op in ("<", "<=") else (c.left, c.right)
            sb, ss = _signs(big, name), _signs(small, name)
            if sb is None or ss is None or (sb | {-x for x in ss}) - {want}:
                return False
            ok += n
    return ok == total


# ---------------------------------------------------------------- the plan


def _reduction(v: ast.Expr) -> tuple[str, list[ast.Expr], str | None, int, int] | None:
    """(func, terms, var, start, stop) of a max/min reduction, else None."""
    if isinstance(v, ast.Generator) and v.func in ("max", "min"):
        start, stop = int(v.range.start.info.value), int(v.range.stop.info.value)
        return v.func, flatten(v.body, v.func, v.var), v.var, start, stop
    if (isinstance(v, ast.Call) and v.func in ("max", "min") and len(v.args) == 1
            and v.args[0].info.length is not None):
        return v.func, [v.args[0]], None, 0, int(v.args[0].info.length)
    return None


def plan(checked: CheckedRule) -> Bounds:
    """Decide which ``let`` reductions become chosen bounds (see the module docstring)."""
    out = Bounds()
    body = checked.rule.body
    inputs = {i.name: i for i in checked.inputs if i.base != "field" and not i.committed}
    first: dict[tuple, list[str]] = {}  # (func, term key) -> the chosen bounds over it
    for k, stmt in enumerate(body):
        if not isinstance(stmt, ast.Let) or stmt.value.info.is_const:
            continue
        red = _reduction(stmt.value)
        if red is None or stmt.value.info.kind != "num":
            continue
        func, exprs, var, start, stop = red
        if not monotone(stmt.name, -1 if func == "max" else 1, body[k + 1:]):
            continue
        info = stmt.value.info
        keys = [_term_key(e, var, start, stop) for e in exprs]
        terms = []
        for e, key in zip(exprs, keys, strict=True):
            share = next((n for n in first.get((func, key), [])
                          if _may_share(out.lets[n], info.scale, keys)), None)
            terms.append(Term(e, key, share))
            if key is None or share is not None:
                continue
            first.setdefault((func, key), []).append(stmt.name)
            inp = inputs.get(key[1]) if key[0] == "entries" else None
            if (inp is not None and info.scale == inp.frac and inp.lo <= info.lo
                    and info.hi <= inp.hi and e.info.scale == inp.frac):
                (out.upper if func == "max" else out.lower).add(inp.name)
        out.lets[stmt.name] = BoundPlan(stmt.name, func, stmt.value, terms, var, start, stop)
    return out


def _may_share(earlier: BoundPlan, scale: int, keys: list[tuple | None]) -> bool:
    """Whether a bound over ``keys`` at ``scale`` may bound a common term through ``earlier``:
    its scale is not finer (alignment only shifts up), and every one of its terms is among
    ``keys`` — then the honest earlier value, the extreme of its own terms, is not beyond the
    extreme of these (``max(max(x[i], 3) ...)`` must not force ``max(x[i], 0 ...)`` ≥ 3)."""
    return earlier.value.info.scale <= scale and all(
        t.key is not None and t.key in keys for t in earlier.terms)


# ---------------------------------------------------------------- the lowering


class BoundLowering:
    """``lower_bound``: a planned let as a prover-chosen bound (a mixin of ``Lowerer``)."""

    b: Any
    env: dict[str, LV]

    if TYPE_CHECKING:  # provided by Lowerer
        def lower(self, e: ast.Expr, loop: Loop | None) -> LV: ...
        def at_scale(self, x: LV, s: int) -> V: ...
        def fit(self, *vals: V) -> list[V]: ...

    def lower_bound(self, p: BoundPlan) -> LV:
        b, info = self.b, p.value.info
        s, lo, hi = info.scale, info.lo, info.hi
        loop = None if p.var is None else Loop(p.var, np.arange(p.start, p.stop, dtype=np.int64))
        rows = [self.at_scale(self.env[t.share] if t.share is not None else
                              self.lower(t.expr, loop), s) for t in p.terms]
        big = max(abs(lo), abs(hi)) >= SMALL
        u = b.alloc(1, big=big, bits=width(lo, hi))
        b.labels[int(u[0])] = f"main.{p.name}"
        uv = V(b.wires_lc(u), lo, hi)
        pick, reduce = (max, np.max) if p.func == "max" else (min, np.min)

        def step(w: Any) -> None:
            v = pick(int(reduce(w.eval(r.lc))) for r in rows)
            v = min(max(v, lo), hi)  # (clamped only for forged terms)
            w.set(u, np.array([v], dtype=object if big else np.int64))

        b.step(step)
        g.interval(b, uv, lo, hi)
        for r in rows:
            uu, rr = self.fit(uv, r)
            d = g.lin(b, uu, 1, rr, -1) if p.func == "max" else g.lin(b, rr, 1, uu, -1)
            g.assert_nonneg(b, d)
        return LV("num", uv, s, None)
