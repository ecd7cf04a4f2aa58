"""Audit: constant-folded expressions follow the runtime semantics (rescale floors, it does not
truncate toward zero: rescale(-0.5, 0) = -1, as for a runtime value)."""

from __future__ import annotations

import pytest

from omnidsl.compiler import compile_rule
from omnidsl.errors import DSLBoundError


@pytest.mark.parametrize("const,frac", [("-0.5", 0), ("-0.75", 1), ("-0.125", 2), ("0.75", 1),
                                        ("-3", 0), ("-2.5", 0)])
def test_constant_rescale_floors_like_runtime(const, frac):
    src = f"""rule Z {{ private x: fixed bits 8 frac 3;
      output k = rescale({const}, {frac}); output r = rescale(x, {frac}); }}"""
    c = compile_rule(src, "z.omni", None, 0)
    out = c.decoded_outputs(c.witness({"x": float(const)}))
    assert out["k"] == out["r"]


def test_huge_generator_range_is_a_located_error():
    """A rule author's `0..10^12` must not exhaust the compiling data owner's memory."""
    src = "rule G { private x: int bits 4; output o = sum(x for i in 0..1000000000000); }"
    with pytest.raises(DSLBoundError, match="at most"):
        compile_rule(src, "g.omni", None, 0)
