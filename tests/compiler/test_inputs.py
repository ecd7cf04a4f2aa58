"""Audit: witness input handling — raw field elements beyond the declared width, wrap-around
encodings, non-finite numbers, huge integers and exotic integer spellings are rejected with an
InputError (never a raw exception, never accepted)."""

from __future__ import annotations

import numpy as np
import pytest

from omnidsl.compiler import compile_rule
from omnidsl.compiler.check import violated
from omnidsl.errors import InputError
from omnidsl.field import R, ints_to_limbs

SRC = ("rule I { private x: fixed bits 16 frac 8; private y: int bits 100; public p: int bits 8; "
       "output o = x + y + p; }")


@pytest.fixture(scope="module")
def circ():
    return compile_rule(SRC, "i.omni", None, 2)


def run(c, **kw):
    inputs = {"x": 0, "y": 0, "p": 0} | kw
    return c.decoded_outputs(c.witness(inputs))


BAD = {
    "x": [10**400, -(10**400), float("nan"), float("inf"), -float("inf"), "0x8000", "-0x8001",
          str(R - (1 << 15) - 1), str(R), str(-R), str((R + 1) // 2), "nan", "1e3", "0b11",
          "1_000", "\u0663", "", "0x", "--1", "1.0", True, None, {"a": 1}],
    "y": [10**400, str(1 << 99), str(-(1 << 99) - 1), str(R - (1 << 99) - 1), str(1 << 200),
          float(1 << 99), "0o7"],
    "p": [128, -129, "128", str(R - 129), 2**63, 1e300],
}


@pytest.mark.parametrize("key,value", [(k, v) for k, vs in BAD.items() for v in vs],
                         ids=lambda v: repr(v)[:24])
def test_bad_inputs_rejected(circ, key, value):
    with pytest.raises(InputError):
        run(circ, **{key: value})


@pytest.mark.parametrize("key,value,want", [
    ("x", "0x7fff", 127.99609375), ("x", "-0x8000", -128.0), ("x", str(R - 1), -1 / 256),
    ("x", " 007 ", 7 / 256), ("y", str(R - (1 << 99)), -(1 << 99)), ("y", str((1 << 99) - 1),
                                                                       (1 << 99) - 1),
    ("p", "-128", -128), ("p", 127, 127),
])
def test_edge_inputs_accepted(circ, key, value, want):
    assert run(circ, **{key: value})["o"] == pytest.approx(want, rel=1e-15)


def test_raw_values_beyond_width_forged_violate(circ):
    """The witness generator refuses them; a prover who skips it still fails the R1CS: with the
    dependent wires recomputed (forging mode), or with the input wire overwritten by a field
    element that is "small" modulo r (r − 2^15 − 1 ≡ −2^15 − 1, r − 129 ≡ −129, 2^200)."""
    for key, raw in (("x", 1 << 15), ("x", -(1 << 15) - 1), ("y", 1 << 99), ("p", -129),
                     ("p", 128)):
        raw_inputs = {"x": 0, "y": 0, "p": 0} | {key: raw}
        w = circ.full_witness(raw_inputs, forge=True)[circ.kept]
        assert violated(circ.r1cs, w).size > 0, (key, raw)
    honest = circ.witness({"x": 0, "y": 0, "p": 0})
    pos = {lay.name: int(np.flatnonzero(circ.kept == lay.wire)[0]) for lay in circ.inputs}
    for key, raw in (("x", R - (1 << 15) - 1), ("p", R - 129), ("p", 1 << 200),
                     ("y", (R + 1) // 2)):
        w = honest.copy()
        w[pos[key]] = ints_to_limbs([raw])[0]
        assert violated(circ.r1cs, w).size > 0, (key, raw)
