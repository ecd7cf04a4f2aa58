"""Running snarkjs / circom2 from the project's node_modules (fails loudly if missing)."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from omnidsl.compiler.circuit import Circuit
from omnidsl.errors import AssertionFailed
from omnidsl.lang.parser import parse_file
from omnidsl.npm import npm_bin

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run(tool: str, *args: str | Path, cwd: Path | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess:
    """Run an npm tool; stdout/stderr are text with colour codes stripped."""
    proc = subprocess.run([str(npm_bin(tool)), *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout)
    proc.stdout = _ANSI.sub("", proc.stdout)
    proc.stderr = _ANSI.sub("", proc.stderr)
    return proc


def r1cs_info(path: Path) -> dict[str, int]:
    """`snarkjs r1cs info` as a dict (keys: Wires, Constraints, Private Inputs, ...)."""
    proc = run("snarkjs", "r1cs", "info", path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = {}
    for m in re.finditer(r"# of ([A-Za-z ]+): (\d+)", proc.stdout):
        out[m.group(1)] = int(m.group(2))
    assert "Curve: bn-128" in proc.stdout, proc.stdout
    return out


def wtns_check(r1cs: Path, wtns: Path) -> bool:
    """`snarkjs wtns check`: True iff snarkjs says the witness is correct."""
    proc = run("snarkjs", "wtns", "check", r1cs, wtns)
    text = proc.stdout + proc.stderr
    ok = "WITNESS IS CORRECT" in text
    assert ok == (proc.returncode == 0), text
    assert ok or "WITNESS IS NOT CORRECT" in text, text  # rejected, not crashed
    return ok


def export_json(r1cs: Path) -> dict:
    out = r1cs.with_suffix(".json")
    proc = run("snarkjs", "r1cs", "export", "json", r1cs, out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text())


def circom_compile(source: Path, main: str, workdir: Path) -> Path:
    """Compile ``source``'s templates with ``main`` as the main component (circom2, --O2)."""
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, workdir / source.name)
    top = workdir / "main.circom"
    top.write_text(f'pragma circom 2.0.0;\ninclude "{source.name}";\n{main}\n')
    proc = run("circom2", top.name, "--r1cs", "--sym", "--wasm", "--O2", "-o", ".", cwd=workdir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return workdir / "main.r1cs"


CIRCUITS = Path(__file__).resolve().parents[2] / "circuits"
RULES = sorted(CIRCUITS.glob("*.omni"))


def small_params(path: Path) -> dict[str, int]:
    """Every parameter of the rule set to a small size (vectors of 5, counts of 2)."""
    return {p.name: (5 if p.name.upper().startswith("D") or p.name == "N" else 2)
            for p in parse_file(path).params}


def find_inputs(c: Circuit) -> dict[str, Any]:
    """Inputs that satisfy the rule: small positive private values, public scalars at their
    extremes, 0 or their smallest positive value (tried in every combination), public vectors
    like the private ones."""
    rng = np.random.default_rng(3)
    base: dict[str, Any] = {}
    scalars = []
    for lay in c.inputs:
        step = 1.0 / (1 << lay.frac)
        if lay.length is not None:
            base[lay.name] = [round(float(v), 3) for v in rng.uniform(0.05, 0.2, lay.length)]
        elif lay.info.base == "field":  # raw field elements (a challenge, a mask): small ints
            if lay.visibility == "private":
                base[lay.name] = 12345
            else:
                scalars.append((lay.name, 1, 7, 1))
        elif lay.visibility == "private":
            base[lay.name] = 0.1
        else:
            if lay.frac == 0:  # integers exactly (an address's 2^160 - 1 is not a float)
                scalars.append((lay.name, int(lay.info.lo), int(lay.info.hi), 1))
            else:
                scalars.append((lay.name, lay.info.lo * step, lay.info.hi * step, step))
    for choice in itertools.product((2, 1, 0, 3), repeat=len(scalars)):
        inputs = dict(base)
        for (name, lo, hi, step), k in zip(scalars, choice, strict=True):
            inputs[name] = (lo, 0.0, hi, step)[k]  # step: the smallest positive value
        try:
            c.witness(inputs)
        except AssertionFailed:
            continue
        return inputs
    raise AssertionError(f"no satisfying inputs found for rule {c.name}")
