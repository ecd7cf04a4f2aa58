"""Points on the G2 twist outside the r-torsion subgroup (py_ecc arithmetic), for the verifier
and setup-check tests."""

from __future__ import annotations

import random

from py_ecc.fields import bn128_FQ2 as FQ2

from omnidsl.field import Q

B2 = FQ2([3, 0]) / FQ2([9, 1])  # the twist's b


def _fq2_sqrt(a: FQ2) -> FQ2 | None:
    """Square root in F_q² (q ≡ 3 mod 4), or None."""
    a1 = a ** ((Q - 3) // 4)
    alpha = a1 * a1 * a
    x0 = a1 * a
    if alpha == FQ2([Q - 1, 0]):
        x = FQ2([0, 1]) * x0
    else:
        x = (FQ2([1, 0]) + alpha) ** ((Q - 1) // 2) * x0
    return x if x * x == a else None


def twist_point_outside_subgroup(rng: random.Random):
    """A point on the twist E'(F_q²) that is (overwhelmingly likely) not in the r-torsion."""
    while True:
        x = FQ2([rng.randrange(Q), rng.randrange(Q)])
        y = _fq2_sqrt(x ** 3 + B2)
        if y is not None:
            return ((int(x.coeffs[0]), int(x.coeffs[1])), (int(y.coeffs[0]), int(y.coeffs[1])))
