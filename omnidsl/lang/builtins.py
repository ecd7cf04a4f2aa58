"""The built-in function registry: one :class:`Builtin` entry per function of the language.

An entry holds everything the tool chain knows about a built-in: its name, the argument counts
it accepts, the usage string of its errors, its type/bound rule (``check``, run by the checker),
its lowering (``lower``, run by the compiler), the optional generator form (``reduce_check`` /
``reduce_lower`` for ``f(body for i in a..b)``) and the line that documents it in
``docs/dsl.md`` (generated from this table: :func:`markdown_table`; a test keeps them equal).
How to add one: ``omnidsl/lang/README.md``.

The rules see the checker through :class:`CheckCtx` and the compiler through :class:`LowerCtx`
(duck-typed: ``lang`` does not import ``compiler``).  A lowering builds its values with
``low.value(kind, v, scale, length)`` from the gadgets in ``low.g``
(``omnidsl/compiler/gadgets.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

from omnidsl.errors import DSLBoundError, InternalError
from omnidsl.lang import ast
from omnidsl.lang.bounds import (
    abs_bounds,
    aligned,
    bool_info,
    const_info,
    convert_bounds,
    field_info,
    mul_bounds,
    rescaled_const,
)
from omnidsl.lang.types import MAX_SCALE, ExprInfo, NormProduct


class CheckCtx(Protocol):
    """What a type/bound rule may use of the checker (``omnidsl.lang.expressions``)."""

    output_call: ast.Call | None

    def ex(self, e: ast.Expr, loop: Any) -> ExprInfo: ...
    def need(self, node: ast.Expr, info: ExprInfo, kind: str, msg: str) -> None: ...
    def err(self, node: Any, msg: str, hint: str | None = None, cls: type = ...) -> Exception: ...
    def shape(self, node: ast.Expr, *infos: ExprInfo) -> int | None: ...
    def const_int(self, e: ast.Expr, what: str) -> int: ...
    def common_scale(self, e: ast.Expr, a: ExprInfo, b: ExprInfo) -> int: ...


class LowerCtx(Protocol):
    """What a lowering may use of the compiler (``omnidsl.compiler.lower.Lowerer``)."""

    b: Any  # the Builder: wires, constraint blocks, witness steps

    @property
    def g(self) -> Any: ...  # the gadget library, omnidsl.compiler.gadgets

    def lower(self, e: ast.Expr, loop: Any) -> Any: ...
    def value(self, kind: str, v: Any, scale: int = 0, length: int | None = None) -> Any: ...
    def at_scale(self, x: Any, s: int) -> Any: ...
    def fit(self, *vals: Any) -> list: ...
    def length_of(self, *xs: Any) -> int | None: ...
    def known_sign(self, x: Any) -> Any: ...


CheckFn = Callable[[CheckCtx, ast.Call, Any], ExprInfo]
LowerFn = Callable[[LowerCtx, ast.Call, Any], Any]
#: generator form: (checker, generator, body info, element count) -> info
ReduceCheckFn = Callable[[CheckCtx, ast.Generator, ExprInfo, int], ExprInfo]
#: generator form: (lowering, generator, body batch V with one row per element, body scale) -> LV
ReduceLowerFn = Callable[[LowerCtx, ast.Generator, Any, int], Any]
#: output form: (lowering, call, first wire of the output) -> LV whose value is on those wires
OutputLowerFn = Callable[[LowerCtx, ast.Call, int], Any]


@dataclass(frozen=True)
class Builtin:
    """One built-in function (see the module docstring)."""

    name: str
    arity: tuple[int, ...]
    usage: str
    #: docs/dsl.md row: the call forms and what they mean
    forms: str
    doc: str
    check: CheckFn
    lower: LowerFn
    reduce_check: ReduceCheckFn | None = None
    reduce_lower: ReduceLowerFn | None = None
    #: the call may only be the whole value of an output (``chk.output_call`` is it then)
    output_only: bool = False
    #: lower ``output o = f(...)`` straight into o's wires (no copy constraint); else ``lower``
    lower_output: OutputLowerFn | None = None

    @property
    def is_reduction(self) -> bool:
        """Whether ``name(body for i in a..b)`` is allowed."""
        return self.reduce_check is not None


# ------------------------------------------------------------------ shared rule pieces


def numbers(chk: CheckCtx, e: ast.Call, loop: Any) -> list[ExprInfo]:
    """Check every argument, each must be a number."""
    args = [chk.ex(a, loop) for a in e.args]
    for node, i in zip(e.args, args, strict=True):
        chk.need(node, i, "num", f"{e.func}() needs numbers")
    return args


def vectors(chk: CheckCtx, e: ast.Call, loop: Any) -> list[ExprInfo]:
    """Check every argument, each must be a non-constant numeric vector."""
    args = numbers(chk, e, loop)
    for node, i in zip(e.args, args, strict=True):
        if i.length is None:
            raise chk.err(node, f"{e.func}() needs a vector", "this is a scalar")
        if i.is_const:
            raise chk.err(node, f"{e.func}() needs a vector input")
    return args


def numeric_body(chk: CheckCtx, e: ast.Generator, body: ExprInfo) -> None:
    """A reduction's body must be a number that depends on an input."""
    chk.need(e.body, body, "num", f"{e.func}() needs numbers")
    if body.is_const:
        raise chk.err(e.body, f"{e.func}() over a constant body",
                      "the body must depend on an input")


def _no_lowering(low: LowerCtx, e: ast.Call, loop: Any) -> Any:
    """For built-ins the checker folds to a constant (len) or the comparison rules consume
    (norm): reaching the lowering is a compiler bug."""
    raise InternalError(f"cannot lower call {e.func}")


# ------------------------------------------------------------------ abs


def check_abs(chk: CheckCtx, e: ast.Call, loop: Any) -> ExprInfo:
    a = numbers(chk, e, loop)[0]
    if a.is_const:
        return const_info(abs(a.value))
    return ExprInfo("num", a.length, a.scale, *abs_bounds(a.lo, a.hi))


def lower_abs(low: LowerCtx, e: ast.Call, loop: Any) -> Any:
    x = low.lower(e.args[0], loop)
    sign = None if x.v.lo >= 0 or x.v.hi <= 0 else low.known_sign(x.v)
    return low.value("num", low.g.abs_value(low.b, x.v, sign), x.scale, x.length)


# ------------------------------------------------------------------ min / max


def check_minmax(chk: CheckCtx, e: ast.Call, loop: Any) -> ExprInfo:
    f, args = e.func, numbers(chk, e, loop)
    if len(args) == 1:
        a = args[0]
        if a.length is None:
            raise chk.err(e.args[0], f"{f}() of one argument needs a vector",
                          f"use {f}(a, b) for two scalars")
        return ExprInfo("num", None, a.scale, a.lo, a.hi)
    a, b = args
    n = chk.shape(e, a, b)
    if a.is_const and b.is_const:
        return const_info(min(a.value, b.value) if f == "min" else max(a.value, b.value))
    s = chk.common_scale(ast.Binary(e.span, "+", e.args[0], e.args[1]), a, b)
    alo, ahi = aligned(a, s)
    blo, bhi = aligned(b, s)
    if f == "min":
        return ExprInfo("num", n, s, min(alo, blo), min(ahi, bhi))
    return ExprInfo("num", n, s, max(alo, blo), max(ahi, bhi))


def lower_minmax(low: LowerCtx, e: ast.Call, loop: Any) -> Any:
    args = [low.lower(a, loop) for a in e.args]
    if len(args) == 1:
        return low.value("num", low.g.reduce_minmax(low.b, e.func, args[0].v), args[0].scale)
    s = e.info.scale
    xv, yv = low.fit(low.at_scale(args[0], s), low.at_scale(args[1], s))
    return low.value("num", low.g.minmax(low.b, e.func, xv, yv), s, low.length_of(*args))


def reduce_check_minmax(chk: CheckCtx, e: ast.Generator, body: ExprInfo, n: int) -> ExprInfo:
    numeric_body(chk, e, body)
    return ExprInfo("num", None, body.scale, body.lo, body.hi)


def reduce_lower_minmax(low: LowerCtx, e: ast.Generator, v: Any, scale: int) -> Any:
    return low.value("num", low.g.reduce_minmax(low.b, e.func, v), scale)


# ------------------------------------------------------------------ sum


def check_sum(chk: CheckCtx, e: ast.Call, loop: Any) -> ExprInfo:
    a = vectors(chk, e, loop)[0]
    return ExprInfo("num", None, a.scale, a.lo * a.size, a.hi * a.size)


def lower_sum(low: LowerCtx, e: ast.Call, loop: Any) -> Any:
    x = low.lower(e.args[0], loop)
    return low.value("num", low.g.sum_rows(x.v), x.scale)


def reduce_check_sum(chk: CheckCtx, e: ast.Generator, body: ExprInfo, n: int) -> ExprInfo:
    numeric_body(chk, e, body)
    return ExprInfo("num", None, body.scale, body.lo * n, body.hi * n)


def reduce_lower_sum(low: LowerCtx, e: ast.Generator, v: Any, scale: int) -> Any:
    return low.value("num", low.g.sum_rows(v), scale)


# ------------------------------------------------------------------ all / any


def check_allany(chk: CheckCtx, e: ast.Call, loop: Any) -> ExprInfo:
    a = chk.ex(e.args[0], loop)
    chk.need(e.args[0], a, "bool", f"{e.func}() needs conditions")
    return bool_info(None, a.const)


def lower_allany(low: LowerCtx, e: ast.Call, loop: Any) -> Any:
    x = low.lower(e.args[0], loop)
    return low.value("bool", low.g.reduce_bool(low.b, e.func, x.v))


def reduce_check_allany(chk: CheckCtx, e: ast.Generator, body: ExprInfo, n: int) -> ExprInfo:
    chk.need(e.body, body, "bool", f"{e.func}() needs a condition")
    return bool_info(None, body.const)


def reduce_lower_allany(low: LowerCtx, e: ast.Generator, v: Any, scale: int) -> Any:
    return low.value("bool", low.g.reduce_bool(low.b, e.func, v))


# ------------------------------------------------------------------ dot / norm2 / norm


def check_dot(chk: CheckCtx, e: ast.Call, loop: Any) -> ExprInfo:
    a, b = vectors(chk, e, loop)
    chk.shape(e, a, b)
    lo, hi = mul_bounds(a.lo, a.hi, b.lo, b.hi)
    return ExprInfo("num", None, a.scale + b.scale, lo * a.size, hi * a.size)


def lower_dot(low: LowerCtx, e: ast.Call, loop: Any) -> Any:
    u, w = (low.lower(a, None) for a in e.args)
    return low.value("num", low.g.dot(low.b, u.v, w.v), u.scale + w.scale)


def check_norm2(chk: CheckCtx, e: ast.Call, loop: Any) -> ExprInfo:
    a = vectors(chk, e, loop)[0]
    return ExprInfo("num", None, 2 * a.scale, 0, a.mag * a.mag * a.size)


def lower_norm2(low: LowerCtx, e: ast.Call, loop: Any) -> Any:
    u = low.lower(e.args[0], None)
    return low.value("num", low.g.dot(low.b, u.v, u.v, square=True), 2 * u.scale)


def check_norm(chk: CheckCtx, e: ast.Call, loop: Any) -> ExprInfo:
    """``norm(v)``: a marker the comparison rules (``norm_compare``) square away."""
    vectors(chk, e, loop)
    return ExprInfo("norm", norm=NormProduct([], [e.args[0]]))


# ------------------------------------------------------------------ rescale / len


def check_rescale(chk: CheckCtx, e: ast.Call, loop: Any) -> ExprInfo:
    x = chk.ex(e.args[0], loop)
    chk.need(e.args[0], x, "num", "rescale() needs a number")
    frac = chk.const_int(e.args[1], "rescale()'s scale")
    if not 0 <= frac <= MAX_SCALE:
        raise chk.err(e.args[1], f"scale {frac} is out of range", cls=DSLBoundError)
    if x.is_const:
        return const_info(rescaled_const(x.value, frac))
    lo, hi = convert_bounds(x.lo, x.hi, x.scale, frac)
    return ExprInfo("num", x.length, frac, lo, hi)


def lower_rescale(low: LowerCtx, e: ast.Call, loop: Any) -> Any:
    x = low.lower(e.args[0], loop)
    frac, g = e.info.scale, low.g
    if frac >= x.scale:
        return low.value("num", g.shift(low.b, x.v, frac - x.scale), frac, x.length)
    return low.value("num", g.div_floor(low.b, x.v, 1 << (x.scale - frac), 1), frac, x.length)


def check_len(chk: CheckCtx, e: ast.Call, loop: Any) -> ExprInfo:
    a = numbers(chk, e, loop)[0]
    if a.length is None:
        raise chk.err(e.args[0], "len() needs a vector")
    return const_info(Fraction(a.length))


# ------------------------------------------------------------------ fingerprint


def check_fingerprint(chk: CheckCtx, e: ast.Call, loop: Any) -> ExprInfo:
    """``fingerprint(v, rho)``: Σ_i v_i·ρ^(i+1) mod r, a field value (outputs only)."""
    if e is not chk.output_call:
        raise chk.err(e, "fingerprint() can only be the whole value of an output",
                      "write `output fp = fingerprint(g, rho);`")
    chk.output_call = None  # not again inside its own arguments
    v, rho = chk.ex(e.args[0], loop), chk.ex(e.args[1], loop)
    if v.kind in ("norm", "field"):
        chk.need(e.args[0], v, "num", "fingerprint() needs a numeric vector")
    if v.kind != "num":
        raise chk.err(e.args[0], "fingerprint() needs a numeric vector; this is a condition",
                      "pass the vector itself, e.g. fingerprint(g, rho)")
    if v.length is None or v.is_const:
        raise chk.err(e.args[0], "fingerprint() needs a vector", "this is a scalar"
                      if v.length is None else "pass a vector input, e.g. fingerprint(g, rho)")
    if rho.kind != "field":
        raise chk.err(e.args[1], "fingerprint()'s challenge must be a `field` value",
                      "declare it `public rho: field;` and pass rho")
    if len(e.args) > 2 and chk.ex(e.args[2], loop).kind != "field":
        raise chk.err(e.args[2], "fingerprint()'s mask must be a `field` value",
                      "declare it `private mask: field;` and pass mask")
    return field_info()


def lower_fingerprint(low: LowerCtx, e: ast.Call, loop: Any, out: int | None = None) -> Any:
    vec, rho = low.lower(e.args[0], None), low.lower(e.args[1], None)
    mask = low.lower(e.args[2], None).v if len(e.args) > 2 else None
    return low.value("field", low.g.fingerprint(low.b, vec.v, rho.v, out, mask))


def lower_fingerprint_output(low: LowerCtx, e: ast.Call, wire: int) -> Any:
    """Horner's last accumulator is the output wire itself."""
    return lower_fingerprint(low, e, None, wire)


# ------------------------------------------------------------------ poseidon


def check_poseidon(chk: CheckCtx, e: ast.Call, loop: Any) -> ExprInfo:
    """``poseidon(x1, ..., xn)``: circomlib's Poseidon of 1..16 scalars, a field value."""
    for node in e.args:
        info = chk.ex(node, loop)
        if info.kind not in ("num", "field"):
            chk.need(node, info, "num", "poseidon() hashes numbers or `field` values")
        if info.length is not None:
            raise chk.err(node, "poseidon() takes scalars, not vectors",
                          "hash entries one by one, or declare the vector `committed`")
    return field_info()


def lower_poseidon(low: LowerCtx, e: ast.Call, loop: Any) -> Any:
    args = [low.lower(a, None).v for a in e.args]
    return low.value("field", low.g.poseidon(low.b, args))


def entry_bits(info: ExprInfo) -> int:
    """B of ``commitment(v)``: the smallest signed width holding v's proven interval."""
    b = 1
    while info.lo < -(1 << (b - 1)) or info.hi >= 1 << (b - 1):
        b += 1
    return b


def check_commitment(chk: CheckCtx, e: ast.Call, loop: Any) -> ExprInfo:
    """``commitment(v)``: the Poseidon commitment of a vector (as a committed input's)."""
    (info,) = vectors(chk, e, loop)
    if entry_bits(info) > 253:  # unreachable below the 2^250 limit; kept for clarity
        raise chk.err(e.args[0], "commitment() entries wider than 253 bits")
    return field_info()


def lower_commitment(low: LowerCtx, e: ast.Call, loop: Any) -> Any:
    v = low.lower(e.args[0], None).v
    return low.value("field", low.g.commitment(low.b, v, entry_bits(e.args[0].info)))


_COMMITMENT_DOC = (
    "the commitment of a numeric vector, computed as for a `committed` input (§3): its "
    "encodings (at the vector's scale) packed ⌊253/B⌋ per field element, arity-16 Poseidon "
    "tree; B = the smallest signed width holding the vector's proven interval (an input's "
    "declared `bits`). A `field` value (an output). About 2.75 constraints per 16-bit entry "
    "(docs/gadgets.md)")

_POSEIDON_DOC = (
    "circomlib's Poseidon hash (npm circomlibjs `poseidon([...])`) of 1 to 16 scalars: numbers "
    "enter as their encodings X = v·2^F embedded in F_r (negatives as r − \\|X\\|), `field` "
    "values as they are; the result is a `field` value (an output, or an argument of another "
    "`poseidon`). 3 constraints per S-box: 3·(8t + R_P − 1) for t = n + 1 (240 for two "
    "inputs, docs/gadgets.md)")

# ------------------------------------------------------------------ the table

_FP_DOC = (
    "Σ_{i=0}^{D−1} v_i·ρ^(i+1) (+ mask·ρ^(D+1)) mod r over the entries' encodings (negatives "
    "as r − \\|v_i\\|); `rho` and `mask` must be `field` values; the result is a `field` value "
    "and the call must be **the whole value of an output**: `output fp = fingerprint(g, rho, "
    "mask);` (D constraints, D + 1 with a mask, docs/gadgets.md). With a private, uniformly "
    "random `mask` the public `fp` reveals nothing about `v` (docs/market.md)")

_TABLE = (
    Builtin("abs", (1,), "abs(x)", "`abs(x)`", "absolute value (elementwise on vectors)",
            check_abs, lower_abs),
    Builtin("min", (1, 2), "min(a, b), min(v) or min(f(i) for i in a..b)",
            "`min(a, b)`, `min(v)`, `min(f(i) for i in a..b)`",
            "smaller of two values (elementwise on vectors); smallest entry of a vector; "
            "smallest value of a generator's body",
            check_minmax, lower_minmax, reduce_check_minmax, reduce_lower_minmax),
    Builtin("max", (1, 2), "max(a, b), max(v) or max(f(i) for i in a..b)",
            "`max(a, b)`, `max(v)`, `max(f(i) for i in a..b)`",
            "larger of two values (elementwise on vectors); largest entry of a vector; largest "
            "value of a generator's body",
            check_minmax, lower_minmax, reduce_check_minmax, reduce_lower_minmax),
    Builtin("sum", (1,), "sum(v) or sum(f(i) for i in a..b)",
            "`sum(v)`, `sum(f(i) for i in a..b)`", "sum of a vector's entries / of the body's "
            "values", check_sum, lower_sum, reduce_check_sum, reduce_lower_sum),
    Builtin("all", (1,), "all(conds) or all(c(i) for i in a..b)",
            "`all(c)`, `all(c(i) for i in a..b)`", "every entry of a vector condition holds",
            check_allany, lower_allany, reduce_check_allany, reduce_lower_allany),
    Builtin("any", (1,), "any(conds) or any(c(i) for i in a..b)",
            "`any(c)`, `any(c(i) for i in a..b)`", "some entry of a vector condition holds",
            check_allany, lower_allany, reduce_check_allany, reduce_lower_allany),
    Builtin("dot", (2,), "dot(u, v)", "`dot(u, v)`",
            "inner product of two vectors of equal length (scale = sum of scales)",
            check_dot, lower_dot),
    Builtin("norm2", (1,), "norm2(v)", "`norm2(v)`", "squared L2 norm, `dot(v, v)`",
            check_norm2, lower_norm2),
    Builtin("norm", (1,), "a >= c * norm(u) * norm(v) (inside a comparison)", "`norm(v)`",
            "L2 norm — **only as a factor of one side of a comparison**, e.g. `dot(g, ref) >= "
            "tau * norm(g) * norm(ref)`; compiled without square roots (both sides squared, "
            "signs handled); `==`/`!=` are not allowed", check_norm, _no_lowering),
    Builtin("rescale", (2,), "rescale(x, F)", "`rescale(x, F)`",
            "truncate x to F fractional bits (floor)", check_rescale, lower_rescale),
    Builtin("len", (1,), "len(v)", "`len(v)`", "a vector's length (a constant)",
            check_len, _no_lowering),
    Builtin("fingerprint", (2, 3),
            "output fp = fingerprint(v, rho[, mask]);  (rho, mask: `field` inputs)",
            "`fingerprint(v, rho[, mask])`", _FP_DOC, check_fingerprint, lower_fingerprint,
            output_only=True, lower_output=lower_fingerprint_output),
    Builtin("poseidon", tuple(range(1, 17)), "poseidon(x1, ..., xn) with 1 <= n <= 16 scalars",
            "`poseidon(a, b, ...)`", _POSEIDON_DOC, check_poseidon, lower_poseidon),
    Builtin("commitment", (1,), "commitment(v) for a numeric vector v", "`commitment(v)`",
            _COMMITMENT_DOC, check_commitment, lower_commitment),
)

#: every built-in by name, in documentation order
REGISTRY: dict[str, Builtin] = {b.name: b for b in _TABLE}
#: the functions that accept a generator ``f(body for i in a..b)`` (at import; the parser and
#: the checker ask the registry, see :func:`generator_names`)
GENERATOR_FUNCS: frozenset[str] = frozenset(b.name for b in _TABLE if b.is_reduction)


def generator_names() -> list[str]:
    """The functions that accept a generator, in registry order."""
    return [name for name, b in REGISTRY.items() if b.is_reduction]


def markdown_table() -> str:
    """The built-in table of docs/dsl.md (§4 "Built-in functions"), one row per entry."""
    rows = ["| call | meaning |", "|---|---|"]
    rows += [f"| {b.forms} | {b.doc} |" for b in REGISTRY.values()]
    return "\n".join(rows) + "\n"
