"""The Shamir (N, t) sharing scheme (2t + 1 ≤ N): privacy against t colluding servers, proofs
that complete while 2t + 1 servers stay up.  README.md here; spec: docs/mpc.md, "Shamir scheme".

Modules, in dependency order: ``poly`` (points, Lagrange, opening, consistency), ``bounded``
(bounded integer shares of Δ·w), ``dealer``
(dealing, material, digests, expansion), ``driver`` (``ShamirDriver``), ``wire`` (message fields
and sizes), ``scheme`` (``ShamirScheme``, the :class:`~omnidsl.mpc.schemes.Scheme`), ``local``
(N parties as threads).
"""

from omnidsl.mpc.schemes.shamir import poly  # noqa: I001  (dependency order)
from omnidsl.mpc.schemes.shamir import dealer
from omnidsl.mpc.schemes.shamir.driver import ShamirDriver
from omnidsl.mpc.schemes.shamir import wire
from omnidsl.mpc.schemes.shamir.scheme import ShamirScheme

__all__ = ["ShamirDriver", "ShamirScheme", "dealer", "poly", "wire"]
