"""CLI: ``omnidsl r1cs info|print`` and ``omnidsl wtns check|export json`` (as snarkjs's).

    omnidsl r1cs info CIRCUIT            curve, wires, constraints, inputs, outputs, labels
    omnidsl r1cs print CIRCUIT [--sym F] every constraint as [A] * [B] - [C] = 0, with names
    omnidsl wtns check CIRCUIT W.wtns    does the witness satisfy every constraint?
    omnidsl wtns export json W.wtns OUT.json

CIRCUIT is a circom-format ``.r1cs`` (signal names from the ``.sym`` beside it, or ``--sym``)
or a rule (compiled as ``omnidsl compile`` would, with ``--param``/``-O``): a rule also gives
each constraint's source line.
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omnidsl.argparsing import add_verbs, describe
from omnidsl.errors import FormatError, ProofError
from omnidsl.field import R
from omnidsl.files import Outputs
from omnidsl.r1cs.system import R1CS

log = logging.getLogger(__name__)


@dataclass
class NamedR1CS:
    """An R1CS with what is known about it: wire names and the rule's source file."""

    r1cs: R1CS
    names: dict[int, str]  # wire → signal name
    source: str | None  # the rule file (constraint_line refers to its lines)


def load(path: str, params: list[str] | None, opt_level: int, cache: bool,
         sym: str | None) -> NamedR1CS:
    """A ``.r1cs`` (names from ``sym`` or the ``.sym`` beside it) or a compiled rule."""
    from omnidsl.groth16.keydir import load_circuit
    from omnidsl.groth16.keydir import params as parse_params

    r1cs = load_circuit(path, parse_params(params), opt_level, cache)
    names: dict[int, str] = {0: "one"}
    if Path(path).suffix == ".r1cs":
        sym_path = Path(sym) if sym else Path(path).with_suffix(".sym")
        if sym or sym_path.exists():
            from omnidsl.r1cs.symfile import read_sym

            for s in read_sym(sym_path):
                if s.wire >= 0:
                    names.setdefault(s.wire, s.name)
        return NamedR1CS(r1cs, names, None)
    w2l = (np.arange(r1cs.n_wires) if r1cs.wire_to_label is None
           else np.asarray(r1cs.wire_to_label))
    for wire, label in enumerate(w2l.tolist()):
        if label in r1cs.labels:
            names.setdefault(wire, r1cs.labels[label])
    return NamedR1CS(r1cs, names, path)


def _signed(v: int) -> str:
    """A field element as a short signed integer (values above r/2 are negative)."""
    return str(v - R) if v > R // 2 else str(v)


def lc_text(c: NamedR1CS, which: str, k: int) -> str:
    """Row ``k`` of matrix ``which`` as snarkjs prints it: ``3main.x +main.y -1``."""
    m = getattr(c.r1cs, which)
    out = ""
    for t in range(int(m.row_ptr[k]), int(m.row_ptr[k + 1])):
        wire = int(m.wire[t])
        name = c.names.get(wire, f"w{wire}")
        name = "" if wire == 0 else name
        v = _signed(c.r1cs.coeffs[int(m.coeff_id[t])])
        v = "" if v == "1" and name else "-" if v == "-1" and name else v
        if out and not v.startswith("-"):
            v = "+" + v
        out += (" " if out else "") + v + name
    return out


def constraint_text(c: NamedR1CS, k: int) -> str:
    return f"[ {lc_text(c, 'A', k)} ] * [ {lc_text(c, 'B', k)} ] - [ {lc_text(c, 'C', k)} ] = 0"


def where(c: NamedR1CS, k: int) -> str:
    """``rule.omni:12`` for constraint ``k`` when the rule is known, else ''."""
    lines = c.r1cs.constraint_line
    if c.source is None or lines is None or k >= len(lines) or int(lines[k]) <= 0:
        return ""
    return f"{c.source}:{int(lines[k])}"


# ------------------------------------------------------------------ commands


def _circuit(args: argparse.Namespace) -> NamedR1CS:
    return load(args.circuit, args.param, args.opt_level, not args.no_cache,
                getattr(args, "sym", None))


def info_command(args: argparse.Namespace) -> int:
    c = _circuit(args)
    r = c.r1cs
    n_labels = r.n_labels if r.n_labels is not None else r.n_wires
    print(f"Curve: bn-128\n# of Wires: {r.n_wires}\n# of Constraints: {r.n_constraints}\n"
          f"# of Private Inputs: {r.n_prv_in}\n# of Public Inputs: {r.n_pub_in}\n"
          f"# of Labels: {n_labels}\n# of Outputs: {r.n_pub_out}")
    return 0


def print_command(args: argparse.Namespace) -> int:
    c = _circuit(args)
    for k in range(c.r1cs.n_constraints):
        loc = where(c, k)
        print(constraint_text(c, k) + (f"   # {loc}" if loc else ""))
    return 0


def _limbs(values: bytes, k: int) -> int:
    return int.from_bytes(values[32 * k: 32 * k + 32], "little")


def check_witness(c: NamedR1CS, witness: np.ndarray, what: str) -> None:
    """Raise :class:`ProofError` naming the first constraint ``witness`` does not satisfy
    (its text with signal names, the three values, the rule line when known)."""
    from omnidsl.backend import get_backend
    from omnidsl.field import limbs_to_bytes

    r = c.r1cs
    if witness.shape[0] != r.n_wires:
        raise FormatError(f"{what}: {witness.shape[0]} values, the circuit has {r.n_wires} wires",
                          hint="the witness was computed for another circuit")
    z = limbs_to_bytes(witness)
    if _limbs(z, 0) != 1:
        raise ProofError(f"{what}: wire 0 (the constant one) is {_limbs(z, 0)}, not 1")
    backend = get_backend()
    vals = [backend.sparse_matvec(*r.matrix_limbs(m), z) for m in "ABC"]
    ab = backend.fr_mul(vals[0], vals[1])
    if ab == vals[2]:
        return
    bad = (np.frombuffer(ab, "<u8").reshape(-1, 4)
           != np.frombuffer(vals[2], "<u8").reshape(-1, 4)).any(axis=1)
    k = int(np.argmax(bad))
    a, b, cc = (_limbs(v, k) for v in vals)
    loc = where(c, k)
    raise ProofError(
        f"{what}: constraint #{k} of {r.n_constraints} does not hold"
        + (f" (from {loc})" if loc else "")
        + f": {constraint_text(c, k)}\n  A = {_signed(a)}, B = {_signed(b)}, "
          f"A*B = {_signed(a * b % R)}, C = {_signed(cc)}"
          f" ({int(bad.sum())} constraint(s) fail in all)",
        hint="was the witness computed for this circuit and these inputs?")


def wtns_check_command(args: argparse.Namespace) -> int:
    from omnidsl.r1cs.wtnsfile import read_wtns

    c = _circuit(args)
    w = read_wtns(args.witness)
    check_witness(c, w, args.witness)
    print(f"{args.witness}: OK, all {c.r1cs.n_constraints} constraints hold "
          f"({c.r1cs.n_wires} wires)")
    return 0


def wtns_export_json_command(args: argparse.Namespace) -> int:
    from omnidsl.r1cs.wtnsfile import read_wtns

    outputs = Outputs([args.out])
    w = read_wtns(args.witness)
    words = np.asarray(w, np.uint64)
    values = [str(int(x[0]) | int(x[1]) << 64 | int(x[2]) << 128 | int(x[3]) << 192)
              for x in words]
    with outputs.writing() as tmp:
        Path(tmp(args.out)).write_text(json.dumps(values, indent=1), encoding="utf-8")  # as snarkjs
    print(f"{len(values)} witness values written to {args.out}")
    return 0


# ------------------------------------------------------------------ parsers


def _circuit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("circuit", metavar="CIRCUIT", help="CIRCUIT.r1cs or RULE.omni")
    p.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="rule parameter (a rule only)")
    p.add_argument("-O", dest="opt_level", type=int, default=2, choices=(0, 1, 2),
                   help="optimisation level (a rule only)")
    p.add_argument("--no-cache", action="store_true", help="compile the rule afresh")


def register(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("r1cs", help="inspect a constraint system (info, print)",
                       **describe("Inspect a constraint system, as `snarkjs r1cs info|print`.",
                                  ["omnidsl r1cs info build/norm_bound.r1cs",
                                   "omnidsl r1cs print circuits/range.omni --param N=4"]))
    verbs = add_verbs(r, "verb", metavar="VERB")
    i = verbs.add_parser("info", help="curve, wires, constraints, inputs, outputs, labels",
                         **describe("Print the size of a constraint system.",
                                    ["omnidsl r1cs info build/norm_bound.r1cs"]))
    _circuit_args(i)
    i.set_defaults(func=info_command)
    p = verbs.add_parser("print", help="every constraint with signal names",
                         **describe("Print every constraint as [A] * [B] - [C] = 0 with signal "
                                    "names (and the rule line it comes from, for a rule).",
                                    ["omnidsl r1cs print build/norm_bound.r1cs",
                                     "omnidsl r1cs print circuits/norm_bound.omni --param D=2"]))
    _circuit_args(p)
    p.add_argument("--sym", help="signal names (.sym; default: the .sym beside a .r1cs)")
    p.set_defaults(func=print_command)

    w = sub.add_parser("wtns", help="check or export a witness (check, export json)",
                       **describe("Check or export a witness file (.wtns), as `snarkjs wtns`.",
                                  ["omnidsl wtns check build/norm_bound.r1cs w.wtns",
                                   "omnidsl wtns export json w.wtns w.json"]))
    wv = add_verbs(w, "verb", metavar="VERB")
    c = wv.add_parser("check", help="does the witness satisfy every constraint?",
                      **describe("Check that a witness satisfies every constraint; the first "
                                 "failing one is named with its signals, values and (for a "
                                 "rule) source line.  Exit 0 when all hold, 1 otherwise.",
                                 ["omnidsl wtns check build/norm_bound.r1cs w.wtns",
                                  "omnidsl wtns check circuits/norm_bound.omni w.wtns "
                                  "--param D=8"]))
    _circuit_args(c)
    c.add_argument("witness", metavar="W.wtns", help="witness file")
    c.add_argument("--sym", help="signal names (.sym; default: the .sym beside a .r1cs)")
    c.set_defaults(func=wtns_check_command)
    e = wv.add_parser("export", help="export a witness (json)",
                      **describe("Export a witness in another format.",
                                 ["omnidsl wtns export json w.wtns w.json"]))
    ev = add_verbs(e, "format", metavar="FORMAT")
    j = ev.add_parser("json", help="a JSON array of decimal strings (as snarkjs)",
                      **describe("Write the witness as a JSON array of decimal strings, one "
                                 "per wire (wire 0 is the constant 1), as "
                                 "`snarkjs wtns export json`.",
                                 ["omnidsl wtns export json w.wtns w.json"]))
    j.add_argument("witness", metavar="W.wtns", help="witness file")
    j.add_argument("out", metavar="OUT.json", help="output JSON")
    j.set_defaults(func=wtns_export_json_command)
