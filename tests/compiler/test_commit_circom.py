"""benchmarks/circom/cosine_committed.circom states what circuits/cosine_committed.omni states:
circom2 compiles it, and its witness accepts exactly omnidsl's commitment of the reference."""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
import subprocess
from pathlib import Path

from omnidsl.compiler import compile_file
from omnidsl.compiler import poseidon as P
from omnidsl.errors import OmniDSLError
from omnidsl.field import R
from omnidsl.npm import node_package, npm_bin

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "benchmarks" / "circom" / "cosine_committed.circom"
D = 20


def _compile(work: Path) -> Path:
    shutil.copy(SRC, work / SRC.name)
    shutil.copytree(node_package("circomlib") / "circuits", work / "lib" / "circomlib" / "circuits")
    (work / "main.circom").write_text(
        f'pragma circom 2.0.0;\ninclude "{SRC.name}";\ncomponent main '
        f"{{public [refHash, tau, max_norm, min_norm]}} = CosineCommitted({D});\n")
    proc = subprocess.run([str(npm_bin("circom2")), "main.circom", "--r1cs", "--wasm", "--O2",
                           "-l", "lib", "-o", "."], cwd=work, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return work / "main_js"


def _accepts(js: Path, work: Path, inputs: dict) -> bool:
    (work / "in.json").write_text(json.dumps(inputs))
    node = shutil.which("node")
    assert node is not None, "node not found"
    proc = subprocess.run([node, str(js / "generate_witness.js"), str(js / "main.wasm"),
                           str(work / "in.json"), str(work / "w.wtns")], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0 or "Assert Failed" in proc.stderr + proc.stdout, proc.stderr
    return proc.returncode == 0


def _omnidsl_accepts(circuit, g: list[int], ref: list[int], h: int) -> bool:
    try:
        circuit.witness({"g": [str(x) for x in g], "ref": [str(x) for x in ref], "tau": 0.5,
                         "max_norm": 40.0, "min_norm": 409 / 4096, "ref.commitment": str(h)})
    except OmniDSLError:
        return False
    return True


def test_circom_version_states_the_same_rule(tmp_path):
    """Differential: circom (circomlib Poseidon) and omnidsl accept exactly the same cases."""
    js = _compile(tmp_path)
    circuit = compile_file(ROOT / "circuits" / "cosine_committed.omni", {"D": D})
    rng = random.Random(2)
    ref = [rng.randrange(-3000, 3000) for _ in range(D)]
    g = [x + rng.randrange(-300, 300) for x in ref]
    h = P.commit_vector(ref, 16)
    other = list(ref)
    other[13] += 1
    zero = [0] * D
    cases = {  # name: (g, ref entries, pinned commitment, expected)
        "honest": (g, ref, h, True),
        "wrong commitment": (g, ref, (h + 1) % R, False),
        "one entry differs": (g, other, h, False),
        "opposite update": ([-x for x in g], ref, h, False),
        "zero update": (zero, ref, h, False),
        "zero reference (cosine holds trivially)": (g, zero, P.commit_vector(zero, 16), True),
    }
    for name, (gg, rr, hh, want) in cases.items():
        inputs = {"g": [str(x % R) for x in gg], "ref": [str(x % R) for x in rr],
                  "refHash": str(hh), "tau": "2048", "max_norm": str(40 * 4096),
                  "min_norm": "409"}
        assert _accepts(js, tmp_path, inputs) is want, name
        assert _omnidsl_accepts(circuit, gg, rr, hh) is want, name


def test_commit_bench_runs_at_a_small_size(capsys):
    spec = importlib.util.spec_from_file_location("commit_bench",
                                                  ROOT / "benchmarks" / "commit_bench.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--sizes", "16", "--no-circom"])
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.split()[:1] == ["16"])
    cols = row.split()
    assert int(cols[3]) == 4 and int(cols[5]) == 16 + 3  # public signals: committed vs public
    assert int(cols[6]) == 240 + 1 - 1  # commitment of 16 entries: Poseidon(2)
