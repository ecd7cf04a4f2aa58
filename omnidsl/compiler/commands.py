"""CLI: ``omnidsl compile`` and ``omnidsl witness``.

    omnidsl compile RULE.omni [-O0|-O1|-O2] [--param D=100 ...] [-o DIR] [--report [html]]
        writes DIR/<stem>.r1cs, DIR/<stem>.sym and DIR/<stem>.json (circuit description) and
        fills the compile cache (omnidsl/compiler/cache.py; --no-cache: neither use nor fill it)
    omnidsl witness RULE.omni input.json -o W.wtns [-O N] [--param ...] [--public public.json]
                    [--circuit DIR/<stem>.json]   (reuse a compile: no optimisation pass)
        input.json maps input names to numbers (real values, encoded to fixed point) or strings
        (raw field elements); prints the decoded outputs.  Without --circuit the compiled circuit
        comes from the compile cache when an earlier compile/witness/setup of the same rule,
        params, -O and compiler left it there (only the lowering runs again).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from omnidsl import progress
from omnidsl.argparsing import describe as verb_help
from omnidsl.errors import FormatError, InputError, SourceSpan, UsageError
from omnidsl.files import Outputs, read_text

from .cache import compile_file_cached
from .circuit import Circuit
from .pipeline import Pipeline


def parse_params(items: list[str] | None) -> dict[str, int]:
    """``["D=100", "K=3"]`` → ``{"D": 100, "K": 3}`` (InputError on bad syntax)."""
    out: dict[str, int] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"bad --param {item!r}", hint="write --param NAME=INTEGER")
        try:
            out[name.strip()] = int(value.strip(), 0)
        except ValueError:
            raise UsageError(f"--param {name.strip()} needs an integer, got {value!r}") from None
    return out


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def describe(circuit: Circuit, params: dict[str, int]) -> dict[str, Any]:
    """A small JSON description of a compiled circuit (layout of its public signals)."""
    r = circuit.r1cs
    return {
        "rule": circuit.name,
        "source_sha256": _sha256(circuit.rule.rule.source),
        "kept_file": None,
        "r1cs_file": None,
        "file": circuit.rule.rule.file,
        "params": circuit.rule.params,
        "param_overrides": params,
        "opt_level": circuit.opt_level,
        "n_constraints": r.n_constraints,
        "n_wires": r.n_wires,
        # the -O0 layout that ``kept`` indexes (a different compiler version may lower the same
        # source differently; --circuit then refuses instead of mapping the wrong wires)
        "n_wires_o0": circuit.builder.n_wires,
        "n_constraints_o0": circuit.n_constraints_o0,
        "outputs": [{"name": o.name, "length": o.length, "scale": o.scale}
                    for o in circuit.outputs],
        "inputs": [{"name": i.name, "visibility": i.visibility, "length": i.length,
                    "bits": i.bits, "frac": i.frac, "base": i.info.base,
                    "committed": i.commitment is not None}
                   for i in circuit.inputs],
    }


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("-O", dest="opt", type=int, choices=(0, 1, 2), default=2,
                   help="linear-constraint elimination level")
    p.add_argument("--param", action="append", metavar="NAME=V", help="override a rule param")
    p.add_argument("--no-cache", action="store_true",
                   help="neither use nor fill the compile cache ($OMNIDSL_CACHE, "
                        "default ~/.cache/omnidsl)")


def compile_command(args: argparse.Namespace) -> int:
    from omnidsl.r1cs.r1csfile import write_r1cs
    from omnidsl.r1cs.symfile import write_sym

    params = parse_params(args.param)
    out = Path(args.output)
    stem = Path(args.rule).stem
    exts = ("r1cs", "sym", "kept.npy", "json") + (("report.html",) if args.report == "html" else ())
    files = {ext: out / f"{stem}.{ext}" for ext in exts}
    outputs = Outputs(list(files.values()), make_dirs=True)  # before compiling
    with progress.task(f"compile {stem}"):  # stages: omnidsl/compiler/pipeline.py
        circuit = compile_file_cached(args.rule, params, args.opt, not args.no_cache)
    desc = describe(circuit, params)
    desc["kept_file"] = files["kept.npy"].name
    desc["r1cs_file"] = files["r1cs"].name
    with outputs.writing() as tmp:
        write_r1cs(tmp(files["r1cs"]), circuit.r1cs)
        write_sym(tmp(files["sym"]), circuit.r1cs)
        np.save(tmp(files["kept.npy"]), circuit.kept)
        tmp(files["json"]).write_text(json.dumps(desc, indent=2) + "\n", encoding="utf-8")
        if "report.html" in files:
            from omnidsl.compiler.report_html import source_report_html

            tmp(files["report.html"]).write_text(source_report_html(circuit), encoding="utf-8")
    r = circuit.r1cs
    print(f"{circuit.name}: {r.n_constraints} constraints, {r.n_wires} wires, "
          f"{r.n_public} public signals -> {out / stem}.r1cs")
    if args.report == "text":
        print(circuit.report())
    elif args.report == "html":
        print(f"per-line constraint costs: {files['report.html']}")
    return 0


def load_input_json(path: str) -> dict[str, Any]:
    text = read_text(path, "input JSON")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        span = SourceSpan(path, exc.lineno, exc.colno, source=text)
        raise InputError(f"invalid JSON: {exc.msg}", span) from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: the input must be a JSON object of name: value pairs")
    return data


def witness_command(args: argparse.Namespace) -> int:
    from omnidsl.r1cs.wtnsfile import write_wtns

    params = parse_params(args.param)
    outputs = Outputs([args.output, args.public])  # before compiling
    data = load_input_json(args.input)
    with progress.task(f"witness {Path(args.rule).stem}", 1 if args.circuit else 2) as task:
        if args.circuit:
            with task.stage("load the compiled circuit"):
                circuit, wit = _witness_from_description(args, params, data)
        else:
            with task.stage("compile"):
                circuit = compile_file_cached(args.rule, params, args.opt, not args.no_cache)
            with task.stage("compute and check"):
                wit = circuit.witness(data)
    with outputs.writing() as tmp:
        write_wtns(tmp(args.output), wit)
        if args.public:
            signals = [str(s) for s in circuit.public_signals(wit)]
            tmp(args.public).write_text(json.dumps(signals, indent=1) + "\n", encoding="utf-8")
    outs = circuit.decoded_outputs(wit)
    shown = ", ".join(f"{k} = {_short(v)}" for k, v in outs.items())
    print(f"{circuit.name}: witness of {wit.shape[0]} wires, all constraints satisfied "
          f"-> {args.output}"
          + (f"; outputs: {shown}" if shown else ""))
    return 0


def _witness_from_description(args: argparse.Namespace, params: dict[str, int],
                              data: dict[str, Any]) -> tuple[Circuit, np.ndarray]:
    """Witness for a circuit compiled earlier (its .json + .kept.npy): the rule is lowered and
    emitted at -O0 only (no optimisation pass), the full witness is checked against the -O0
    system and restricted to the optimised wires.  (Reading the compiled .r1cs instead costs
    more than emitting it again from the lowered blocks: 2× the time, 2.6× the peak memory.)"""
    path = Path(args.circuit)
    try:
        desc = json.loads(path.read_text(encoding="utf-8"))
        kept = np.load(path.parent / desc["kept_file"])
    except (OSError, ValueError, KeyError, TypeError) as exc:  # UnicodeDecodeError included
        raise FormatError(f"{path}: not a circuit description written by `omnidsl compile` "
                          f"({exc})") from None
    if not params and desc.get("param_overrides"):
        params = {k: int(v) for k, v in desc["param_overrides"].items()}
    pipe = Pipeline.from_file(args.rule, params, 0)
    checked = pipe.checked
    if desc.get("source_sha256") != _sha256(checked.rule.source) or desc.get("params") != \
            checked.params:
        raise FormatError(f"{path} was compiled from a different rule text or parameters",
                          hint="re-run `omnidsl compile`, or omit --circuit")
    b = pipe.lowered.builder
    if desc.get("n_wires_o0") != b.n_wires or desc.get("n_constraints_o0") != \
            b.n_constraints():
        raise FormatError(f"{path}: compiled by a different omnidsl version (its wire layout "
                          "differs)", hint="re-run `omnidsl compile`, or omit --circuit")
    if kept.ndim != 1 or kept.shape[0] != desc.get("n_wires") or (
            kept.size and (int(kept.max()) >= b.n_wires or int(kept.min()) < 0)):
        raise FormatError(f"{path}: its wire map does not fit the rule")
    circuit = pipe.circuit
    full = circuit.witness(data)
    return circuit, full[kept]


def _short(v: Any) -> str:
    """A compact rendering of a decoded output: exact for ints (field outputs), %g for reals."""
    if isinstance(v, list):
        head = ", ".join(_short(x) for x in v[:4])
        return f"[{head}{', ...' if len(v) > 4 else ''}]"
    return str(v) if isinstance(v, int) else f"{v:g}"


def check_command(args: argparse.Namespace) -> int:
    """Parse and type-check a rule (no compilation); with ``--market`` also the market rule
    interface (docs/market.md), printing where the market's values sit."""
    from omnidsl.files import read_text
    from omnidsl.lang.checker import check
    from omnidsl.lang.parser import parse

    checked = check(parse(read_text(Path(args.rule), "rule"), args.rule), parse_params(args.param))
    if not args.market:
        print(f"{checked.name}: ok ({len(checked.inputs)} inputs, {len(checked.outputs)} outputs)")
        return 0
    from omnidsl.market.interface import market_interface

    ifc = market_interface(checked)
    names = [""] * ifc.n_public
    names[ifc.fp_index], names[ifc.owner_index], names[ifc.rho_index] = ifc.fp, "owner", "rho"
    for p in ifc.pins:
        for j in range(p.count):
            names[p.index + j] = (f"{p.name}.commitment" if p.kind == "commitment" else
                                  p.name if p.kind == "scalar" else f"{p.name}[{j}]")
    print(f"{ifc.rule}: meets the market rule interface; public signals [{', '.join(names)}]")
    print(f"  gradient {ifc.gradient} ({ifc.dim} entries, bits {ifc.grad_bits} frac "
          f"{ifc.grad_frac}), fingerprint mask {ifc.mask}")
    print("  pinned by the task: " + (", ".join(f"{p.name} ({p.kind})" for p in ifc.pins)
                                      or "nothing"))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser(
        "check", help="check a rule (types, bounds; --market: the market interface)",
        **verb_help("Parse and type-check a DSL rule without compiling it.  With --market, also "
                   "check that it meets the market rule interface (docs/market.md: public "
                   "`owner` and `rho`, one output `fingerprint(g, rho, mask)`, every other "
                   "public input pinned by the task) and print its public-signal layout; a "
                   "missing element is a located error.",
                   ["omnidsl check circuits/cosine.omni",
                    "omnidsl check circuits/market_cosine.omni --market --param D=16"]))
    c.add_argument("rule", help="RULE.omni")
    c.add_argument("--market", action="store_true", help="check the market rule interface")
    c.add_argument("--param", action="append", metavar="NAME=V", help="override a rule param")
    c.set_defaults(func=check_command)
    p = sub.add_parser(
        "compile", help="compile a rule to .r1cs/.sym",
        **verb_help("Compile a DSL rule to an R1CS: DIR/<stem>.r1cs (iden3 v1, as circom writes "
                   "it), DIR/<stem>.sym, and DIR/<stem>.json + .kept.npy (the circuit's layout, "
                   "for `witness --circuit`).  Fills the compile cache ($OMNIDSL_CACHE).",
                   ["omnidsl compile circuits/norm_bound.omni --param D=8 -o build --report",
                    "omnidsl compile circuits/norm_bound.omni --param D=8 -o build --report html",
                    "omnidsl compile circuits/cosine.omni -O1 -o build"]))
    p.add_argument("rule", help="RULE.omni")
    add_common(p)
    p.add_argument("-o", "--output", default=".", help="output directory")
    p.add_argument("--report", nargs="?", const="text", choices=("text", "html"), default=None,
                   help="constraints per DSL line: text (printed; --report alone) or html "
                        "(DIR/<stem>.report.html: the source with each line's cost)")
    p.set_defaults(func=compile_command)
    w = sub.add_parser(
        "witness", help="compute a witness (.wtns) from an input JSON",
        **verb_help("Compute a witness for RULE.omni from input.json (names → numbers, encoded "
                   "to fixed point, or strings: raw field elements), check every assertion and "
                   "constraint, and print the decoded outputs.",
                   ["omnidsl witness circuits/norm_bound.omni circuits/norm_bound.input.json "
                    "--param D=8 -o w.wtns",
                    "omnidsl witness circuits/norm_bound.omni in.json --param D=8 -o w.wtns "
                    "--public public.json --circuit build/norm_bound.json"]))
    w.add_argument("rule", help="RULE.omni")
    w.add_argument("input", help="input JSON: {name: number | [numbers] | \"field element\"}")
    w.add_argument("-o", "--output", required=True, help="witness file (.wtns)")
    w.add_argument("--public", help="also write the public signals (snarkjs public.json)")
    w.add_argument("--circuit", metavar="DIR/RULE.json",
                   help="reuse `omnidsl compile` output (skips the optimisation pass)")
    add_common(w)
    w.set_defaults(func=witness_command)

