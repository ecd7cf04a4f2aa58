"""Charts beside the benchmarks' tables: each bench hands its rows to one function here, which
writes a PNG to ``bench-out/`` (``$OMNIDSL_BENCH_OUT`` to change it) and prints its path.

- :func:`prove_time_chart` (prove_bench): Groth16 prove time against constraints, omnidsl and
  snarkjs;
- :func:`collaborative_cost_chart` (mpc_bench): collaborative proving cost against the number of
  servers N (wall time and CPU per server; the plain prover as the N = 1 point);
- :func:`gas_chart` (gas_bench): verifier gas against the number of public inputs, omnidsl and
  snarkjs.

A PNG is written to a temporary file and renamed (never half a chart); without matplotlib (the
``[plot]`` extra) the bench prints one line saying so and its tables stay as they are.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from omnidsl.errors import OmniDSLError  # noqa: E402
from omnidsl.report import plots  # noqa: E402


def out_dir() -> Path:
    return Path(os.environ.get("OMNIDSL_BENCH_OUT") or ROOT / "bench-out")


def _save(name: str, draw: Callable[[Path], Any]) -> Path | None:
    """Draw to a temporary file beside ``out_dir()/name``, then rename; print the path."""
    out = out_dir()
    out.mkdir(parents=True, exist_ok=True)
    target = out / name
    tmp = out / f".{name}.{secrets.token_hex(4)}.tmp.png"
    try:
        draw(tmp)
        os.replace(tmp, target)
    except OmniDSLError as exc:  # matplotlib missing: the tables are still there
        print(f"chart {name} not drawn: {exc.message} ({exc.hint})")
        return None
    finally:
        tmp.unlink(missing_ok=True)
    print(f"chart: {target}")
    return target


def prove_time_chart(rows: Sequence[dict[str, Any]], name: str = "prove_time.png"
                     ) -> Path | None:
    """prove_bench rows: ``constraints``, ``snarkjs_prove_s``, ``omnidsl_prove_cli_s``,
    ``omnidsl_prove_inprocess_s``."""
    x = [r["constraints"] for r in rows]
    return _save(name, lambda p: plots.line_chart(
        p, x, {"snarkjs groth16 prove": [r["snarkjs_prove_s"] for r in rows],
               "omnidsl prove (CLI)": [r["omnidsl_prove_cli_s"] for r in rows],
               "omnidsl prove (in process)": [r["omnidsl_prove_inprocess_s"] for r in rows]},
        "Groth16 prove time (norm_bound)", "constraints", "seconds (median)", logx=True,
        logy=True))


def collaborative_cost_chart(rows: Sequence[dict[str, Any]], name: str = "collaborative_cost.png"
                             ) -> Path | None:
    """mpc_bench rows: ``d``, ``n`` (1 = plain), ``config``, ``wall``, ``cpu`` (per server)."""
    ns = sorted({r["n"] for r in rows})
    plain = {r["d"]: r for r in rows if r["n"] == 1}
    series: dict[str, list[float | None]] = {}
    for r in rows:
        if r["n"] == 1:
            continue
        for what, key in (("wall", "wall"), ("CPU/server", "cpu")):
            ys = series.setdefault(f"D={r['d']} {r['config']} {what}", [None] * len(ns))
            ys[ns.index(r["n"])] = r[key]
            if r["d"] in plain:  # the plain prover is every configuration's N = 1 point
                ys[ns.index(1)] = plain[r["d"]][key]
    return _save(name, lambda p: plots.line_chart(
        p, ns, series, "Collaborative proving cost against N (N = 1: plain prover)",
        "servers N", "seconds (median)", integer_x=True))


def gas_chart(rows: Sequence[dict[str, Any]], name: str = "verifier_gas.png") -> Path | None:
    """gas_bench rows: ``ell`` (public inputs), ``ours_tx``, ``snarkjs_tx``, ``target``."""
    x = [r["ell"] for r in rows]
    return _save(name, lambda p: plots.line_chart(
        p, x, {"omnidsl verifyProof": [r["ours_tx"] for r in rows],
               "snarkjs verifyProof": [r["snarkjs_tx"] for r in rows],
               "target 200k + 6.3k·ℓ": [r["target"] for r in rows]},
        "Verifier gas against public inputs (anvil, tx gasUsed)", "public inputs ℓ", "gas",
        integer_x=True))
