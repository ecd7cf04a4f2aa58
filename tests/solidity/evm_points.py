"""Curve points for the verifier and market audits (py_ecc form, as the EVM encodes them)."""

from __future__ import annotations

from py_ecc.bn128 import FQ2, b2, is_on_curve, multiply

from omnidsl.field import Q, R


def twist_point_outside_subgroup() -> tuple[FQ2, FQ2]:
    """A point of y^2 = x^3 + b2 over F_q^2 (the BN254 twist) that is not in G2 (cofactor != 1)."""
    x0 = 1
    while True:
        x = FQ2([x0, 1])
        rhs = x * x * x + b2
        if rhs ** ((Q * Q - 1) // 2) == FQ2.one():
            # q = 3 mod 4: the "complex method" square root in F_q^2
            a1 = rhs ** ((Q - 3) // 4)
            alpha = a1 * a1 * rhs
            x_ = a1 * rhs
            if alpha == FQ2([Q - 1, 0]):
                y = FQ2([0, 1]) * x_
            else:
                y = (alpha + FQ2.one()) ** ((Q - 1) // 2) * x_
            assert y * y == rhs and is_on_curve((x, y), b2)
            if multiply((x, y), R) is not None:
                return x, y
        x0 += 1
