"""The seam between the collaborative prover and a secret-sharing scheme.

A *scheme* is everything that depends on how the witness is shared: the data owner's dealing,
the per-server session material (its wire encoding and size checks), and the
:class:`~omnidsl.groth16.driver.Groth16Driver` a server runs the one Groth16 prover with.  The
server (``mpc/server.py``), the data owner (``mpc/coordinator.py``), the in-process runner
(``mpc/local.py``) and attribution (``mpc/attribution.py``) only talk to a scheme through the
:class:`Scheme` protocol below; transport, handshakes, admission and binding are shared.

Schemes are looked up by name (:func:`get_scheme`); the name travels in the ``scheme`` field of
the session message and of ``servers.toml`` (absent: ``"additive"``, the default).  One package
per scheme: ``schemes/additive/`` (N-out-of-N additive sharing, Beaver triples),
``schemes/shamir/`` (threshold sharing).  How to add one: ``omnidsl/mpc/README.md``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from omnidsl.errors import FormatError, ProofError

if TYPE_CHECKING:
    from omnidsl.backend.base import Backend
    from omnidsl.groth16.driver import Groth16Driver
    from omnidsl.groth16.keys import ProvingKey
    from omnidsl.mpc.network import Network

#: the scheme of a session message or servers.toml without a ``scheme`` field
DEFAULT_SCHEME = "additive"
#: the prover's step kinds (``<kind>#<k>``; docs/mpc.md): the unit :meth:`Scheme.quorum` is asked about
STEP_KINDS = ("mul_vec", "open_g1", "open_g2")
#: who computes π_A's and π_B(G2)'s witness MSMs; the first is the default (docs/mpc.md)
WITNESS_MSM_MODES = ("split", "servers")
#: how the witness is masked; the first is the default (docs/mpc.md)
SHARE_MODES = ("bounded", "uniform")


@dataclass(frozen=True)
class FixedShares:
    """Caller-chosen shares of some private wires: ``shares[i]`` is party i's share of
    ``wires`` (len(wires)*32 bytes); the shares must reconstruct the witness on those wires
    (the market: the aggregation shares a server committed to; docs/mpc.md, Binding)."""

    wires: Sequence[int]
    shares: Sequence[bytes]

    def wires_bytes(self) -> bytes:
        return np.asarray(self.wires, dtype="<u4").tobytes()


@dataclass(frozen=True)
class DealOptions:
    """The data owner's choices for one dealing (``omnidsl.proving.prove``'s keyword arguments)."""

    witness_msm: str = WITNESS_MSM_MODES[0]
    shares: str = SHARE_MODES[0]
    fixed: FixedShares | None = None
    bind_label: str | None = None

    def __post_init__(self) -> None:
        for what, value, modes in (("witness_msm", self.witness_msm, WITNESS_MSM_MODES),
                                   ("shares", self.shares, SHARE_MODES)):
            if value not in modes:
                raise ProofError(f"{what} must be one of {', '.join(modes)}, not {value!r}")


@runtime_checkable
class SessionMaterial(Protocol):
    """The fields of one server's material that the scheme-independent code reads."""

    session_id: bytes  # 16 bytes, fresh per session
    party_id: int
    n_parties: int
    public: bytes  # values of public wires 0..n_public−1 (wire 0 = 1), 32 bytes each
    bind_label: str | None  # what the fixed shares are bound to (mpc/binding.py)
    fixed_wires: bytes | None  # u32 LE wire indices whose share the caller chose
    fixed_share: bytes | None  # this party's share of them

    @property
    def scheme(self) -> str: ...

    @property
    def n_public(self) -> int: ...


@runtime_checkable
class Scheme(Protocol):
    """One secret-sharing scheme for the collaborative prover.

    Every method raising on bad input raises an :class:`~omnidsl.errors.OmniDSLError` subclass
    with a located message (never a bare exception): ``ProofError`` for the data owner's side,
    ``FormatError`` for malformed or oversized material a server received."""

    name: str

    def check_parties(self, n_parties: int) -> None:
        """Raise ProofError unless this scheme (with its parameters) runs with ``n_parties``."""
        ...

    def quorum(self, n_parties: int, step_kind: str) -> int:
        """How many parties must take part in a step of kind ``step_kind`` (:data:`STEP_KINDS`)
        for it to complete; the proof completes while that many servers stay up."""
        ...

    def deal(self, pk: ProvingKey, witness: bytes, n_parties: int, backend: Backend,
             options: DealOptions, timings: dict[str, float] | None = None
             ) -> list[SessionMaterial]:
        """The data owner's dealing: one material per party, from the full witness (already
        checked to satisfy ``pk``'s circuit).  ProofError if it cannot be dealt.  ``timings``
        (optional) receives named CPU seconds worth reporting (e.g. ``dealer_msm_cpu_s``)."""
        ...

    def encode_material(self, m: SessionMaterial) -> dict[str, Any]:
        """``m``'s fields as a codec message body (without ``kind``/``scheme``/``key_digest``,
        which ``mpc/messages.py`` adds)."""
        ...

    def decode_material(self, msg: Mapping[str, Any], pk: ProvingKey, n_parties: int,
                        party_id: int) -> SessionMaterial:
        """Parse a material message for server ``party_id`` of ``n_parties``: every size checked
        against what ``pk`` implies before anything is expanded, then consistency; FormatError."""
        ...

    def material_frame_limit(self, pk: ProvingKey) -> int:
        """Upper bound (bytes, sealed) of an honest material frame for ``pk``."""
        ...

    def peer_frame_limit(self, pk: ProvingKey, n_parties: int) -> int:
        """Upper bound (bytes, sealed) of a frame between two servers for ``pk``."""
        ...

    def driver(self, material: SessionMaterial, pk: ProvingKey, network: Network,
               backend: Backend) -> Groth16Driver:
        """The server's driver for one session: expands ``material`` (checking it is safe to
        hold, e.g. masked) and binds it to ``network``."""
        ...


#: name → "module:attribute" of a zero-argument-or-params factory, imported on first use
_FACTORIES: dict[str, str] = {
    "additive": "omnidsl.mpc.schemes.additive:AdditiveScheme",
    "shamir": "omnidsl.mpc.schemes.shamir:ShamirScheme",
}
_EXTRA: dict[str, Callable[..., Scheme]] = {}


def register(name: str, factory: Callable[..., Scheme]) -> None:
    """Make ``factory(**params)`` the scheme called ``name`` (tests, plug-ins)."""
    _EXTRA[name] = factory


def scheme_names() -> list[str]:
    return sorted({*_FACTORIES, *_EXTRA})


def get_scheme(name: str = DEFAULT_SCHEME, params: Mapping[str, Any] | None = None) -> Scheme:
    """The scheme called ``name`` with its parameters (FormatError for an unknown name or a bad
    parameter: names come from servers.toml and from the network)."""
    factory: Callable[..., Scheme] | None = _EXTRA.get(name)
    if factory is None and name in _FACTORIES:
        module, _, attr = _FACTORIES[name].partition(":")
        try:
            factory = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            factory = None
    if factory is None:
        raise FormatError(f"unknown sharing scheme {name!r}",
                          hint="known schemes: " + ", ".join(scheme_names()))
    try:
        return factory(**dict(params or {}))
    except TypeError as exc:
        raise FormatError(f"bad parameters for the {name} scheme: {exc}") from None


def max_failures(scheme: Scheme, n_parties: int) -> int:
    """How many servers may fail during a session and the proof still complete."""
    return n_parties - max(scheme.quorum(n_parties, k) for k in STEP_KINDS)


__all__ = ["DEFAULT_SCHEME", "SHARE_MODES", "STEP_KINDS", "WITNESS_MSM_MODES", "DealOptions",
           "FixedShares", "Scheme", "SessionMaterial", "get_scheme", "max_failures", "register",
           "scheme_names"]
