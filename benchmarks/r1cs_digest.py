"""Digests of the compiler's output, to show a refactor is behaviour-preserving.

    python benchmarks/r1cs_digest.py > before.txt     # on the old tree
    python benchmarks/r1cs_digest.py > after.txt      # on the new tree
    diff before.txt after.txt                         # empty: byte-identical

One line per (rule, parameters, -O level): the constraint count and a SHA-256 over every array
of the R1CS (A, B, C in CSR form, coefficients, sizes, labels, constraint lines, wire widths)
and the wire map ``kept``.  Rules: every ``circuits/*.omni`` and the market rule, at their
default parameters and at D = 37, at -O0/-O1/-O2; then a corpus of small rules that uses every
built-in in every form, and misuses each (for those the line is the full error message with its
location, so error texts and spans are compared too).  A few seconds.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

HEADER = ("rule Z(D = 5) { private x: fixed bits 10 frac 3; public y: int bits 6; "
          "private v: fixed[D] bits 8 frac 2; private w: fixed[D] bits 9 frac 1; "
          "public rho: field; private mask: field; public t: fixed bits 12 frac 4; ")
CORPUS = [
    "output a = abs(x); output b = abs(v); output c = abs(x - y);",
    "output a = min(x, y); output b = max(v); output c = min(v[i] * x for i in 0..D); "
    "output d = max(v, w);",
    "output a = sum(v); output b = sum(v[i] * w[i] for i in 1..D); "
    "assert all(v[i] <= w[i] + 20 for i in 0..D);",
    "output a = all(v >= 0); output b = any(v[i] > x for i in 0..D); assert any(v > 0); "
    "output c = all(v[i] < 3 for i in 0..2);",
    "output a = dot(v, w); output b = norm2(v); output c = len(v) * x;",
    "assert dot(v, w) >= t * norm(v) * norm(w); output a = x * norm(v) < 3 * norm(w);",
    "assert -t * norm(v) <= dot(v, w), \"cos\"; output q = 2 > norm(v) * norm(w);",
    "output r = rescale(x * y, 1); output s = rescale(x, 9); output u = rescale(v * w, 0);",
    "output fp = fingerprint(v, rho); output fq = fingerprint(w * 2, rho, mask);",
    "let z = v * x + w; assert abs(y) < 20 and x != 1; output o: fixed frac 2 = sum(z) / 3; "
    "output p = x if y > 0 else -x;",
    "output a = max(abs(v[i] - w[i]) for i in 0..D) <= t; assert x == y or x > 2;",
    "output a = sum(sum(v[j] for j in 0..D) for i in 0..D);",
    "output h = poseidon(x, y); output k = poseidon(rho, poseidon(v[0]), t * 2);",
    # misuse: the error message and location are the digest
    "output a = fingerprint(v, x);", "output a = min(x);", "output a = dot(v);",
    "output a = foo(x);", "output a = sum(x);", "let f = fingerprint(v, rho);",
    "output a = abs(v for i in 0..D);", "output a = len(x);", "output a = rescale(x, y);",
    "output a = norm2(v[0]);", "output a = all(x);", "output a = any(v[i] for i in 0..D);",
    "output a = sum(1 for i in 0..D);", "output a = mnx(v);", "output a = abs(x, y);",
    "output a = fingerprint(v, rho, x);", "output abs = 3;", "output a = norm(v);",
    "output a = rescale(x, 300);", "output a = dot(v, x);", "output a = max(v, 1, 2);",
    "output h = poseidon(v);", "output h = poseidon(x > 1);", "let h = poseidon(x) + 1;",
]


def digest(circuit) -> str:
    r = circuit.r1cs
    h = hashlib.sha256()
    for m in (r.A, r.B, r.C):
        for a in (m.row_ptr, m.wire, m.coeff_id):
            h.update(np.ascontiguousarray(a).tobytes())
    h.update(repr((r.n_wires, r.n_pub_out, r.n_pub_in, r.n_prv_in, r.n_labels,
                   [int(c) for c in r.coeffs], sorted(r.labels.items()))).encode())
    for a in (r.wire_to_label, r.constraint_line, r.wire_bits, circuit.kept):
        h.update(b"-" if a is None else np.ascontiguousarray(a).tobytes())
    return f"{r.n_constraints} {h.hexdigest()}"


def main() -> None:
    from omnidsl.compiler import compile_rule
    from omnidsl.errors import OmniDSLError
    from omnidsl.market.dsl_rule import SOURCE

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--levels", default="0,1,2", help="comma-separated -O levels")
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    rules = [(p.read_text(encoding="utf-8"), p.name)
             for p in sorted((ROOT / "circuits").glob("*.omni"))]
    rules.append((SOURCE, "market_norm.omni"))
    for src, name in rules:
        for params in ({}, {"D": 37}):
            for level in levels:
                print(name, params, f"-O{level}", digest(compile_rule(src, name, params, level)))
    for k, body in enumerate(CORPUS):
        for level in levels:
            try:
                out = digest(compile_rule(HEADER + body + " }", "z.omni", {}, level))
            except OmniDSLError as exc:
                out = f"{type(exc).__name__}: " + " | ".join(str(exc).splitlines())
            print(f"corpus[{k}] -O{level} {out}")


if __name__ == "__main__":
    main()
