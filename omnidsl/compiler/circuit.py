"""compile_rule / compile_file and the :class:`Circuit` they return."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from omnidsl.errors import InputError, InternalError
from omnidsl.field import R, limbs_to_ints, signed
from omnidsl.lang.checker import CheckedRule
from omnidsl.r1cs.system import R1CS

from .builder import Builder, WitnessState
from .check import violated
from .lower import InputLayout, OutputLayout
from .poseidon import commit_vector


@dataclass
class Circuit:
    """A compiled rule: the (optimised) R1CS plus everything needed to compute witnesses."""

    r1cs: R1CS
    rule: CheckedRule
    inputs: list[InputLayout]
    outputs: list[OutputLayout]
    kept: np.ndarray  # optimised wire j = full wire kept[j]
    opt_level: int
    builder: Builder = field(repr=False)
    n_constraints_o0: int = 0

    @property
    def name(self) -> str:
        return self.rule.rule.name

    def __repr__(self) -> str:
        params = "".join(f", {k}={v}" for k, v in self.rule.params.items())
        return (f"Circuit({self.name}{params}: {self.r1cs.n_constraints} constraints, "
                f"{self.r1cs.n_wires} wires, {self.r1cs.n_public} public signals, "
                f"-O{self.opt_level})")

    # ------------------------------------------------------------ witness
    def witness(self, inputs: dict[str, Any], check_constraints: bool = True) -> np.ndarray:
        """The witness as (n_wires, 4) uint64 limbs for ``self.r1cs``.

        ``inputs`` maps every input name to a number (scalar) or a list (vector).  Numbers
        (int/float) are real values, encoded as round(v * 2^frac); strings ("123", "-5", "0x1f")
        are raw field elements, i.e. already-encoded integers (|x| < r, taken mod r).  A `field`
        input takes one raw field element 0 <= x < r (int, decimal or 0x string).  Raises
        InputError for bad input, AssertionFailed when a rule assertion does not hold."""
        wit = self.full_witness(inputs, wires=self.kept)
        if check_constraints:
            bad = violated(self.r1cs, wit)
            if bad.size:
                k = int(bad[0])
                line = int(self.r1cs.constraint_line[k]) if self.r1cs.constraint_line is not None \
                    else 0
                raise InternalError(f"witness violates {bad.size} constraint(s), first #{k} "
                                    f"(rule line {line})")
        return wit

    def full_witness(self, inputs: dict[str, Any], forge: bool = False,
                     force: dict[int, int] | None = None,
                     wires: np.ndarray | None = None) -> np.ndarray:
        """Witness of the unoptimised (-O0) system (only ``wires`` of it, if given).

        ``forge=True`` (soundness tests only): inputs are raw encoded integers taken as given,
        failed assertions and range checks are ignored (values wrapped into their bit width), so
        the result is the "best effort" witness an attacker would try; ``force`` additionally
        pins chosen wires (e.g. decision bits) to given values, with everything downstream
        recomputed from them."""
        b = self.builder
        if not isinstance(inputs, dict):
            raise InputError("the input must be a JSON object mapping input names to values")
        names = {lay.name for lay in self.inputs}
        names |= {f"{lay.name}.commitment" for lay in self.inputs if lay.commitment is not None}
        for key in inputs:
            if key not in names:
                raise InputError(f"unknown input '{key}'",
                                 hint="the rule's inputs are: " + ", ".join(sorted(names)))
        st = WitnessState(b.n_wires, b.bigmask(), b.table, permissive=forge)
        st.force = dict(force or {})
        for lay in self.inputs:
            if lay.name not in inputs:
                raise InputError(f"missing input '{lay.name}'", lay.info.span,
                                 f"add \"{lay.name}\" to the input JSON")
            if forge:
                vals = np.atleast_1d(np.array(inputs[lay.name], dtype=object))
            else:
                vals = encode_input(lay, inputs[lay.name])
            st.set(np.arange(lay.wire, lay.wire + vals.shape[0]), vals)
            if lay.commitment is not None:
                h = commitment(lay, vals, inputs.get(f"{lay.name}.commitment"), forge)
                st.set(np.array([lay.commitment]), np.array([h], dtype=object))
        for step in b.steps:
            step(st)
        return st.limbs(wires)

    def commitment(self, name: str, values: Any) -> int:
        """The public commitment of the ``committed`` input ``name`` for ``values`` (encoded as
        the witness encodes them): what a task pins and a data owner checks before proving."""
        lay = next((x for x in self.inputs if x.name == name), None)
        if lay is None or lay.commitment is None:
            committed = [x.name for x in self.inputs if x.commitment is not None]
            raise InputError(f"'{name}' is not a committed input of rule {self.name}",
                             hint="committed inputs: " + (", ".join(committed) or "none"))
        return commitment(lay, encode_input(lay, values), None)

    def public_signals(self, witness: np.ndarray) -> list[int]:
        """Outputs then public inputs, as field elements (snarkjs public.json order)."""
        return limbs_to_ints(witness[1 : 1 + self.r1cs.n_public])

    def decoded_outputs(self, witness: np.ndarray) -> dict[str, Any]:
        """Output values decoded to real numbers (floats) or ints (scale 0)."""
        vals = self.public_signals(witness)
        out: dict[str, Any] = {}
        pos = 0
        for o in self.outputs:
            n = o.length or 1
            if o.kind == "field":  # raw field elements
                dec = [int(v) for v in vals[pos : pos + n]]
            else:
                dec = [signed(v) / 2**o.scale if o.scale else signed(v)
                       for v in vals[pos : pos + n]]
            out[o.name] = dec if o.length is not None else dec[0]
            pos += n
        return out

    # ------------------------------------------------------------ report
    def report(self) -> str:
        r = self.r1cs
        src = self.rule.rule.source.splitlines()
        lines = [f"rule {self.name}: {r.n_constraints} constraints (-O{self.opt_level}; "
                 f"{self.n_constraints_o0} at -O0), {r.n_wires} wires",
                 f"  public outputs {r.n_pub_out}, public inputs {r.n_pub_in}, "
                 f"private inputs {r.n_prv_in}, internal "
                 f"{r.n_wires - 1 - r.n_pub_out - r.n_pub_in - r.n_prv_in}",
                 "  line  constraints  source"]
        if r.constraint_line is not None and r.n_constraints:
            counts = np.bincount(np.asarray(r.constraint_line, np.int64))
            for ln in np.nonzero(counts)[0].tolist():
                text = src[ln - 1].strip() if 1 <= ln <= len(src) else ""
                lines.append(f"  {ln:4d}  {int(counts[ln]):11d}  {text[:70]}")
        return "\n".join(lines)


def encode_input(lay: InputLayout, value: Any) -> np.ndarray:
    """Validate and encode one input's value(s) to integers (int64 or object array)."""
    info = lay.info
    where = f"input '{lay.name}'"
    if isinstance(value, np.ndarray | np.generic):  # numpy arrays/scalars as plain Python values
        value = value.tolist()
    elif isinstance(value, tuple):
        value = list(value)
    if info.base == "field":
        return encode_field(lay, value)
    if lay.length is None:
        if isinstance(value, list):
            raise InputError(f"{where} is a scalar but got a list of {len(value)}", info.span)
        items = [value]
    else:
        if not isinstance(value, list):
            raise InputError(f"{where} is a vector of {lay.length} but got a "
                             f"{type(value).__name__}", info.span)
        if len(value) != lay.length:
            raise InputError(f"{where} needs {lay.length} values, got {len(value)}", info.span)
        items = value
    lo, hi = info.lo, info.hi
    scale = 1 << lay.frac

    def name_at(j: int) -> str:
        return lay.name if lay.length is None else f"{lay.name}[{j}]"

    def out_of_range(j: int, shown: Any) -> InputError:
        return InputError(
            f"input {name_at(j)} = {shown} is out of range for {info.base} bits {lay.bits} "
            f"frac {lay.frac} (allowed: {lo / scale:g} .. {hi / scale:g})", info.span,
            "scale or clip the value, or declare a wider type")

    arr = None
    if lay.bits <= 52 and items and all(type(x) in (int, float) for x in items):
        try:
            arr = np.asarray(items, dtype=np.float64)
        except OverflowError:  # an int beyond float range: the exact path reports it
            arr = None
    if arr is not None:
        bad = ~np.isfinite(arr)
        if bad.any():
            j = int(np.argmax(bad))
            raise InputError(f"input {name_at(j)} is {items[j]} (not a finite number)", info.span)
        enc = np.rint(arr * float(scale))
        bad = (enc < lo) | (enc > hi)
        if bad.any():
            j = int(np.argmax(bad))
            raise out_of_range(j, items[j])
        return enc.astype(np.int64)
    out = []
    for j, x in enumerate(items):
        if isinstance(x, bool) or not isinstance(x, int | float | str):
            raise InputError(f"input {name_at(j)} must be a number or a field-element string, "
                             f"got {type(x).__name__}", info.span)
        if isinstance(x, str):
            raw = _parse_raw(x)
            if raw is None:
                raise InputError(f"input {name_at(j)} = {x[:80]!r} is not an integer string",
                                 info.span, "use decimal or 0x-hex field elements")
            if not -R < raw < R:
                raise InputError(f"input {name_at(j)} = {x} is not a field element (|x| < r)",
                                 info.span)
            v = signed(raw)
        elif isinstance(x, float):
            if not math.isfinite(x):
                raise InputError(f"input {name_at(j)} is {x} (not a finite number)", info.span)
            v = round(x * scale) if abs(x) < 2.0**60 else round(x) * scale
        else:
            v = x * scale
        if not lo <= v <= hi:
            raise out_of_range(j, x)
        out.append(v)
    if lay.bits <= 62:
        return np.array(out, dtype=np.int64)
    res = np.empty(len(out), dtype=object)
    res[:] = out
    return res


def commitment(lay: InputLayout, vals: np.ndarray, given: Any, forge: bool = False) -> int:
    """The Poseidon commitment of a committed vector's encoded entries (docs/dsl.md), checked
    against ``given`` (the optional input ``NAME.commitment``); ``forge``: ``given`` wins."""
    key = f"{lay.name}.commitment"
    want = None
    if given is not None:
        want = _parse_raw(given) if isinstance(given, str) else given
        if isinstance(want, bool) or not isinstance(want, int) or not 0 <= want < R:
            raise InputError(f"input '{key}' must be a field element 0 <= x < r (an integer or "
                             f"a decimal/0x string), got {str(given)[:80]!r}", lay.info.span)
        if forge:
            return want
    off = 1 << (lay.bits - 1)
    ints = [int(v) for v in vals]
    if forge:  # raw values: wrapped into the entry width, as the range check's bits would be
        ints = [(v + off) % (2 * off) - off for v in ints]
    h = commit_vector(ints, lay.bits)
    if want is not None and want != h:
        raise InputError(f"input '{lay.name}' does not match '{key}': its entries commit to "
                         f"{h}, not {want}", lay.info.span,
                         "the vector differs from the committed one (check it against the "
                         "published commitment)")
    return h


def encode_field(lay: InputLayout, value: Any) -> np.ndarray:
    """A `field` input: one raw field element 0 <= x < r, as an int or a decimal/0x string."""
    span = lay.info.span
    if isinstance(value, str):
        raw = _parse_raw(value)
        if raw is None:
            raise InputError(f"input {lay.name} = {value[:80]!r} is not an integer string", span,
                             "use a decimal or 0x-hex field element")
    elif isinstance(value, int) and not isinstance(value, bool):
        raw = value
    else:
        raise InputError(f"input {lay.name} is a field element (an integer or a decimal/0x "
                         f"string), got {type(value).__name__}", span,
                         "floats are not exact; pass the element as a string")
    if not 0 <= raw < R:
        shown = str(value) if len(str(value)) <= 90 else str(value)[:80] + "..."
        raise InputError(f"input {lay.name} = {shown} is not a field element (need 0 <= x < r)",
                         span, "reduce it mod r = " + str(R))
    out = np.empty(1, dtype=object)
    out[0] = raw
    return out


_RAW = re.compile(r"\s*(-?)(?:0[xX]([0-9a-fA-F]{1,80})|([0-9]{1,100}))\s*")


def _parse_raw(text: str) -> int | None:
    """A raw field-element string: optional '-', then ASCII decimal or 0x-hex (nothing else:
    no '0b'/'0o', underscores or non-ASCII digits, which other tools would read differently)."""
    m = _RAW.fullmatch(text)
    if m is None:
        return None
    v = int(m.group(2), 16) if m.group(2) is not None else int(m.group(3), 10)
    return -v if m.group(1) else v


def compile_checked(checked: CheckedRule, opt_level: int = 2) -> Circuit:
    """Lower, emit and optimise a checked rule (``Pipeline.from_checked(...).circuit``)."""
    from .pipeline import Pipeline

    return Pipeline.from_checked(checked, opt_level).circuit


def compile_rule(source: str, file: str = "<rule>", params: dict[str, int] | None = None,
                 opt_level: int = 2) -> Circuit:
    """Parse, check and compile a rule's source text (``Pipeline(...).circuit``)."""
    from .pipeline import Pipeline

    return Pipeline(source, file, params, opt_level).circuit


def compile_file(path: str | Path, params: dict[str, int] | None = None,
                 opt_level: int = 2) -> Circuit:
    """Read and compile a ``.omni`` file (``Pipeline.from_file(...).circuit``)."""
    from .pipeline import Pipeline

    return Pipeline.from_file(path, params, opt_level).circuit
