"""Hand-written circom peers of the shipped rules (benchmarks/circom/) and their compilation.

``PEERS`` maps each rule of ``circuits/`` to the circom file that states exactly the same rule
(same inputs, encodings, range checks of every input, outputs), its template and its public
inputs; :func:`peer_constraints` compiles one with circom2 ``--O2`` and returns its constraint
count.  Used by ``compile_bench.py --rules`` (omnidsl against circom, per rule and per entry).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CIRCOM_DIR = ROOT / "benchmarks" / "circom"


@dataclass(frozen=True)
class Peer:
    rule: str  # circuits/<rule>.omni
    file: str  # benchmarks/circom/<file>
    template: str  # template name; instantiated as template(D[, extra...])
    public: tuple[str, ...]
    extra: tuple[int, ...] = ()  # further template arguments after D (the rule's defaults)


PEERS = [
    Peer("norm_bound", "norm_bound.circom", "NormBound", ("max_norm",)),
    Peer("range", "range.circom", "Range", ("lo", "hi")),
    Peer("mean_output", "mean_output.circom", "MeanOutput", ("clip",)),
    Peer("cosine", "cosine.circom", "Cosine", ("ref", "tau", "max_norm", "min_norm")),
    Peer("cosine_committed", "cosine_committed.circom", "CosineCommitted",
         ("refHash", "tau", "max_norm", "min_norm")),
    Peer("outliers", "outliers.circom", "Outliers", ("spread", "cap"), (8,)),
    Peer("market_norm", "market_norm.circom", "MarketNorm", ("owner", "rho", "max_norm")),
    Peer("market_cosine", "market_cosine.circom", "MarketCosine",
         ("owner", "rho", "refHash", "tau", "max_norm", "min_norm")),
]


def peer_constraints(peer: Peer, d: int, timeout: float = 300.0
                     ) -> tuple[int | None, float, str]:
    """(constraints, seconds, note) of ``peer`` at D = d, compiled by circom2 --O2."""
    from omnidsl.npm import node_package, npm_bin
    from omnidsl.r1cs.r1csfile import read_r1cs_header

    circom2 = npm_bin("circom2")
    lib = node_package("circomlib") / "circuits"
    with tempfile.TemporaryDirectory(prefix="circom_peer_") as tmp:
        work = Path(tmp)  # circom2 (WASI) only reads below its working directory
        shutil.copy(CIRCOM_DIR / peer.file, work / peer.file)
        shutil.copytree(lib, work / "lib" / "circomlib" / "circuits")
        args = ", ".join(str(a) for a in (d, *peer.extra))
        (work / "main.circom").write_text(
            f'pragma circom 2.0.0;\ninclude "{peer.file}";\n'
            f"component main {{public [{', '.join(peer.public)}]}} = {peer.template}({args});\n")
        t0 = time.perf_counter()
        try:
            proc = subprocess.run([str(circom2), "main.circom", "--r1cs", "--O2", "-l", "lib",
                                   "-o", "."], cwd=work, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, time.perf_counter() - t0, f"circom2 > {timeout:.0f} s (stopped)"
        dt = time.perf_counter() - t0
        if proc.returncode != 0 or not (work / "main.r1cs").exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["?"]
            return None, dt, f"circom2 failed: {tail[0][:80]}"
        return read_r1cs_header(work / "main.r1cs")["n_constraints"], dt, ""
