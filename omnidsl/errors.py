"""The one error hierarchy of omnidsl.

User mistakes (bad DSL, bad input JSON, malformed key/proof files, a failing server, a reverted
transaction) raise an :class:`OmniDSLError` subclass.  Its ``str()`` is what the CLI prints: one
line ``file:line:col: error: message`` followed, when a source location is known, by the source
line with a caret under the column, and a ``hint:`` line when one helps.

Bugs in omnidsl itself raise :class:`InternalError` (never caught silently by the CLI's one-line
error path: it asks the user to report it).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SourceSpan:
    """A region of a source file; lines and columns are 1-based, end is exclusive."""

    file: str
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None
    # the whole text of ``file`` when known (for the excerpt); not in the repr (issue 13)
    source: str | None = field(default=None, repr=False)

    def excerpt(self) -> str:
        """The source line and a caret (``^~~~``) under the span, or '' if unknown."""
        if self.source is None:
            return ""
        lines = self.source.splitlines()
        if not 1 <= self.line <= len(lines):
            return ""
        text = lines[self.line - 1].rstrip("\n").replace("\t", " ")
        width = 1
        if self.end_line == self.line and self.end_column and self.end_column > self.column:
            width = self.end_column - self.column
        caret = " " * (self.column - 1) + "^" + "~" * (width - 1)
        return f"{text}\n{caret}"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class OmniDSLError(Exception):
    """A user-facing error with an optional location and hint."""

    kind = "error"

    def __init__(self, message: str, span: SourceSpan | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint

    def __str__(self) -> str:
        where = f"{self.span}: " if self.span is not None else ""
        out = f"{where}{self.kind}: {self.message}"
        if self.span is not None:
            ex = self.span.excerpt()
            if ex:
                out += "\n" + ex
        if self.hint:
            out += f"\nhint: {self.hint}"
        return out


class DSLSyntaxError(OmniDSLError):
    """The rule text does not parse."""


class DSLTypeError(OmniDSLError):
    """Names, types, arity, vector lengths or fixed-point scales do not fit."""


class DSLBoundError(OmniDSLError):
    """An expression could exceed the 2^250 magnitude limit (or a declared width is invalid)."""


class InputError(OmniDSLError):
    """An input JSON / witness input is missing a key, has a wrong length, NaN or out-of-range value."""


class AssertionFailed(OmniDSLError):
    """A rule's assertion does not hold for the given inputs (witness generation)."""

    kind = "assertion failed"


class FormatError(OmniDSLError):
    """A file (.r1cs, .wtns, key, proof, vk, ptau, config) is malformed or does not match."""


class ProofError(OmniDSLError):
    """Setup, proving or verification could not be carried out."""


class NetworkError(OmniDSLError):
    """A server died, timed out, sent a bad frame or an unauthenticated one."""


class ChainError(OmniDSLError):
    """A transaction reverted, a node cannot be reached, a contract does not compile/deploy."""


class InternalError(Exception):
    """A bug in omnidsl (an invariant broke); not the user's fault."""


class UsageError(InputError):
    """The command line is wrong in a way argparse cannot check (exit status 2, as argparse's
    own usage errors)."""
