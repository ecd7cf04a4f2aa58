"""The market rule interface (docs/market.md, "The market rule interface").

Any rule can open a market task if its declarations say, by well-known names, where the market's
values are:

- ``public owner: int bits 161;`` (or ``field``) — the data owner's address (``ownerIndex``);
- ``public rho: field;`` — the task's challenge ρ (``rhoIndex``);
- exactly one output, ``output <name> = fingerprint(<gradient>, rho, <mask>);`` — the aggregate
  fingerprint (``fpIndex``) of the private gradient vector under ρ, hidden by the private
  ``field`` mask;
- every other public input is **pinned** by the task: a scalar (τ, a norm bound, ...), a public
  vector (entry by entry) or a ``committed`` vector (its Poseidon commitment: one pinned value).

Nothing else: no other output (it would publish a function of the private gradient on-chain) and
no other private input (the servers bind only the gradient and the mask to what was shared).
:func:`market_interface` checks a :class:`~omnidsl.lang.checker.CheckedRule` and raises a located
:class:`~omnidsl.errors.DSLTypeError` naming what is missing or wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from omnidsl.errors import DSLTypeError, SourceSpan
from omnidsl.lang import ast
from omnidsl.lang.checker import CheckedRule
from omnidsl.lang.types import InputInfo

OWNER = "owner"
RHO = "rho"
#: the smallest signed `int` width holding every 160-bit address
OWNER_BITS = 161


@dataclass(frozen=True)
class Pin:
    """A public input the task fixes: ``index`` is its (first) public-signal index."""

    name: str
    index: int
    kind: str  # "scalar" | "vector" (entry by entry) | "commitment" (a committed vector)
    info: InputInfo

    @property
    def count(self) -> int:
        """Public signals it occupies."""
        return (self.info.length or 1) if self.kind == "vector" else 1


@dataclass(frozen=True)
class MarketInterface:
    """Where a market rule's values sit (public-signal indices, circom order: outputs first)."""

    rule: str
    n_public: int
    owner_index: int
    rho_index: int
    fp_index: int
    fp: str  # the fingerprint output's name
    gradient: str  # the fingerprinted private vector
    dim: int
    grad_bits: int
    grad_frac: int
    mask: str
    pins: tuple[Pin, ...]

    def pin(self, name: str) -> Pin | None:
        return next((p for p in self.pins if p.name == name), None)

    @property
    def committed(self) -> tuple[Pin, ...]:
        """The committed vectors (references) the task publishes."""
        return tuple(p for p in self.pins if p.kind == "commitment")


def _err(where: ast.Node | SourceSpan, msg: str, hint: str) -> DSLTypeError:
    span = where if isinstance(where, SourceSpan) else where.span
    return DSLTypeError(msg, span, hint)


def market_interface(checked: CheckedRule) -> MarketInterface:
    """Check that ``checked`` meets the market rule interface; returns where its values sit."""
    rule = checked.rule
    decls = {d.name: d for d in rule.inputs}
    infos = {i.name: i for i in checked.inputs}
    what = f"market rule {rule.name}"
    owner = decls.get(OWNER)
    if owner is None:
        raise _err(rule, f"{what} has no `{OWNER}` input (the data owner's address, which "
                   "binds each proof to the DO it pays)", f"declare `public {OWNER}: int bits "
                   f"{OWNER_BITS};`")
    oi = infos[OWNER]
    if oi.visibility != "public" or oi.length is not None or not (
            oi.base == "field" or (oi.base == "int" and oi.bits >= OWNER_BITS and oi.frac == 0)):
        raise _err(owner, f"{what}: `{OWNER}` must be a public scalar holding a 160-bit address",
                   f"declare `public {OWNER}: int bits {OWNER_BITS};` (or `field`)")
    rho = decls.get(RHO)
    if rho is None:
        raise _err(rule, f"{what} has no `{RHO}` input (the task's challenge ρ, fixed on-chain "
                   "after the servers committed)", f"declare `public {RHO}: field;`")
    ri = infos[RHO]
    if ri.visibility != "public" or ri.base != "field" or ri.length is not None:
        raise _err(rho, f"{what}: `{RHO}` must be a public `field` scalar",
                   f"declare `public {RHO}: field;`")
    fp_stmt, grad, mask = _fingerprint(checked, what)
    for stmt in rule.body:
        if isinstance(stmt, ast.Output) and stmt is not fp_stmt:
            raise _err(stmt.name_span or stmt, f"{what}: output '{stmt.name}' would publish a "
                       "function of the data owner's private gradient on-chain",
                       "a market rule's only output is its fingerprint; turn it into an "
                       "assertion or a `let`")
    for d in rule.inputs:
        info = infos[d.name]
        if info.visibility == "private" and d.name not in (grad.name, mask.name):
            raise _err(d, f"{what}: private input '{d.name}' is neither the fingerprinted "
                       "gradient nor its mask, so the servers' pins would not bind it (the data "
                       "owner could choose it freely after ρ)",
                       "make it public (the task pins it) or compute it with `let`")
    n_out = sum(o.length or 1 for o in checked.outputs)
    fp_index = 0
    for o in checked.outputs:
        if o.name == fp_stmt.name:
            break
        fp_index += o.length or 1
    index = n_out
    pins: list[Pin] = []
    where: dict[str, int] = {}
    for info in checked.inputs:
        if info.visibility != "public":
            continue
        where[info.name] = index
        if info.name not in (OWNER, RHO):
            kind = "commitment" if info.committed else ("scalar" if info.length is None
                                                       else "vector")
            pins.append(Pin(info.name, index, kind, info))
        index += info.n_public
    return MarketInterface(rule.name, index, where[OWNER], where[RHO], fp_index, fp_stmt.name,
                           grad.name, int(grad.length or 0), grad.bits, grad.frac, mask.name,
                           tuple(pins))


def _fingerprint(checked: CheckedRule, what: str) -> tuple[ast.Output, InputInfo, InputInfo]:
    """The fingerprint output and its gradient and mask inputs."""
    rule = checked.rule
    infos = {i.name: i for i in checked.inputs}
    outs = [s for s in rule.body if isinstance(s, ast.Output)
            and isinstance(s.value, ast.Call) and s.value.func == "fingerprint"]
    if not outs:
        raise _err(rule, f"{what} has no aggregate-fingerprint output (the chain sums it so the "
                   "model owner can check the aggregate)",
                   f"add `output fp = fingerprint(g, {RHO}, mask);` with `private mask: field;`")
    if len(outs) > 1:
        raise _err(outs[1].name_span or outs[1], f"{what} has a second fingerprint output",
                   "a market rule has exactly one")
    stmt = outs[0]
    call = stmt.value
    assert isinstance(call, ast.Call)
    if len(call.args) < 3:
        raise _err(call, f"{what}: the fingerprint has no mask, so it would reveal the gradient "
                   "to anyone who can test a guess", f"write fingerprint(g, {RHO}, mask) with "
                   "`private mask: field;` (fresh per data owner and task)")
    g, r, m = call.args[:3]
    if not isinstance(r, ast.Name) or r.id != RHO:
        raise _err(r, f"{what}: the fingerprint's challenge must be the input `{RHO}`",
                   f"write fingerprint(g, {RHO}, mask)")
    grad = infos.get(g.id) if isinstance(g, ast.Name) else None
    if grad is None or grad.visibility != "private" or grad.length is None or grad.base == "field":
        raise _err(g, f"{what}: the fingerprint must cover a private numeric vector input (the "
                   "data owner's gradient) as a whole", "e.g. `private g: fixed[D] bits 16 frac "
                   "12;` and fingerprint(g, rho, mask)")
    mask = infos.get(m.id) if isinstance(m, ast.Name) else None
    if mask is None or mask.visibility != "private" or mask.base != "field" \
            or mask.length is not None:
        raise _err(m, f"{what}: the fingerprint's mask must be a private `field` input",
                   "declare `private mask: field;` and pass mask")
    return stmt, grad, mask
