"""Running snarkjs / circom2 from the project's node_modules (fails loudly if missing)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

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
