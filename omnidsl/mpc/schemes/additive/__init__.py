"""The additive sharing scheme (N-out-of-N over F_r, Beaver triples dealt by the data owner).

Modules, in dependency order: ``shares`` (sharing, bounded masks, the masked-share guard),
``beaver`` (Beaver steps), ``material`` (one server's session material and its expansion),
``dealer`` (the data owner's dealing), ``wire`` (message fields and size limits), ``driver``
(``AdditiveDriver``), ``scheme`` (``AdditiveScheme``, the :class:`~omnidsl.mpc.schemes.Scheme`).
"""

from omnidsl.mpc.schemes.additive import shares  # noqa: I001  (dependency order)
from omnidsl.mpc.schemes.additive import beaver
from omnidsl.mpc.schemes.additive import material
from omnidsl.mpc.schemes.additive import dealer
from omnidsl.mpc.schemes.additive import wire
from omnidsl.mpc.schemes.additive.driver import AdditiveDriver
from omnidsl.mpc.schemes.additive.scheme import AdditiveScheme

__all__ = ["AdditiveDriver", "AdditiveScheme", "beaver", "dealer", "material", "shares", "wire"]
