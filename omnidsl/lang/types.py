"""Static information the checker attaches to every expression: kind, shape, scale, bound.

A numeric value of scale ``s`` is represented by the integer ``X = v * 2**s`` (its *encoding*);
``lo``/``hi`` bound ``X`` (inclusive).  Booleans are 0/1 with scale 0.  Index expressions are
affine functions ``a*i + b`` of the enclosing loop variable ``i`` (``a == 0`` for constants).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

from omnidsl.errors import InternalError

#: Defaults for omitted ``bits`` / ``frac`` in a type (documented in docs/dsl.md / gadgets.md).
DEFAULT_BITS = {"fixed": 32, "int": 32}
DEFAULT_FRAC = {"fixed": 16, "int": 0}
#: No expression may exceed this magnitude (bits); keeps every integer far from wrapping mod r.
MAX_BOUND_BITS = 250
MAX_BOUND = 1 << MAX_BOUND_BITS
#: Largest input width and scale accepted in a declaration.
MAX_INPUT_BITS = 240
MAX_SCALE = 240

#: ``field``: a raw element of F_r (a ``field`` input or ``fingerprint()``), with no integer bound;
#: it may only be passed to ``fingerprint()`` or bound to an output.
Kind = Literal["num", "bool", "index", "norm", "field"]
#: declared width of a ``field`` input (informational: field inputs are not range-checked)
FIELD_BITS = 254


@dataclass
class NormProduct:
    """``c * norm(u) * norm(v) ...``: ordinary factors and the vectors under ``norm``."""

    factors: list[Any] = field(default_factory=list)  # ast.Expr (kind num, scalar)
    norms: list[Any] = field(default_factory=list)  # ast.Expr (kind num, vector)


@dataclass
class ExprInfo:
    kind: Kind
    length: int | None = None  # None: scalar (or one element inside a generator)
    scale: int = 0
    lo: int = 0
    hi: int = 0
    #: compile-time value (real number for num, 0/1 for bool, int for index constants)
    const: Fraction | None = None
    #: index expressions: (a, b) meaning a*var + b
    affine: tuple[int, int] | None = None
    norm: NormProduct | None = None

    @property
    def is_const(self) -> bool:
        return self.const is not None

    @property
    def mag(self) -> int:
        return max(abs(self.lo), abs(self.hi))

    @property
    def value(self) -> Fraction:
        """The compile-time value of a constant (callers check :attr:`is_const` first)."""
        if self.const is None:
            raise InternalError("the value of a non-constant expression was read")
        return self.const

    @property
    def size(self) -> int:
        """The length of a vector (callers check that it is one first)."""
        if self.length is None:
            raise InternalError("the length of a scalar was read")
        return self.length

    @property
    def parts(self) -> NormProduct:
        """The factors and norms of a ``norm`` expression (callers check the kind first)."""
        if self.norm is None:
            raise InternalError(f"the norm parts of a {self.kind!r} expression were read")
        return self.norm


@dataclass
class InputInfo:
    """Resolved layout of a declared input."""

    name: str
    visibility: str
    base: str
    length: int | None
    bits: int
    frac: int
    span: Any
    #: a public vector given by its commitment (one public signal; the entries are private)
    committed: bool = False

    @property
    def count(self) -> int:
        return 1 if self.length is None else self.length

    @property
    def n_public(self) -> int:
        """Public signals: the commitment of a committed vector, else every public entry."""
        if self.committed:
            return 1
        return self.count if self.visibility == "public" else 0

    @property
    def n_private(self) -> int:
        return self.count if self.committed or self.visibility == "private" else 0

    @property
    def lo(self) -> int:
        return -(1 << (self.bits - 1))

    @property
    def hi(self) -> int:
        return (1 << (self.bits - 1)) - 1


def dyadic_exponent(value: Fraction) -> int | None:
    """Smallest e >= 0 with value * 2**e an integer, or None if value is not dyadic."""
    den = value.denominator
    if den & (den - 1):
        return None
    return den.bit_length() - 1


def encode_const(value: Fraction, scale: int) -> int:
    """The exact integer value * 2**scale (caller guarantees exactness)."""
    x = value * (1 << scale)
    assert x.denominator == 1
    return int(x)
