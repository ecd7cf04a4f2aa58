"""snarkjs as a reference: circuits, keys, proofs and snarkjs's own Solidity verifier.

Used by the tests and by ``benchmarks/gas_bench.py`` to compare our verifier with snarkjs's
(same circuit, same ℓ) and to get proofs before/independently of omnidsl's own prover.
Everything runs the project's pinned npm tools (:mod:`omnidsl.npm`) on tiny parameters.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omnidsl.field import R
from omnidsl.npm import ToolError, node_package, npm_bin

PROVE_MANY_JS = Path(__file__).with_name("snarkjs_prove_many.js")
VERIFIER_JS = Path(__file__).with_name("snarkjs_verifier.js")


def run_tool(args: list[str | Path], cwd: Path | None = None, timeout: float = 600) -> str:
    """Run an npm tool; a non-zero exit raises :class:`ToolError` with its output tail."""
    proc = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip())[-1500:]
        raise ToolError(f"`{Path(str(args[0])).name} {' '.join(map(str, args[1:3]))}` failed: {tail}")
    return proc.stdout


def tiny_ptau(workdir: Path, power: int = 8) -> Path:
    """A small prepared powers-of-tau file (2^power), one random contribution (seconds)."""
    workdir.mkdir(parents=True, exist_ok=True)
    snarkjs = npm_bin("snarkjs")
    p0, p1, final = (workdir / f"pot{power}_{i}.ptau" for i in ("0", "1", "final"))
    run_tool([snarkjs, "powersoftau", "new", "bn128", str(power), p0])
    run_tool([snarkjs, "powersoftau", "contribute", p0, p1, "--name=omnidsl-test",
              f"-e={secrets.token_hex(32)}"])
    run_tool([snarkjs, "powersoftau", "prepare", "phase2", p1, final])
    return final


@dataclass
class SnarkjsCircuit:
    """A circom circuit set up with snarkjs: r1cs, wasm, zkey and verification key."""

    workdir: Path
    n_public: int
    r1cs: Path
    wasm: Path
    zkey: Path
    vk_path: Path

    @property
    def vk(self) -> dict[str, Any]:
        return json.loads(self.vk_path.read_text())

    def prove_many(self, inputs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[str]]]:
        """snarkjs proofs (proof.json dict, public.json list) for each input, one node process."""
        node = shutil.which("node")
        if node is None:
            raise ToolError("node not found")
        tag = secrets.token_hex(4)
        inp = self.workdir / f"inputs_{tag}.json"
        out = self.workdir / f"proofs_{tag}.json"
        inp.write_text(json.dumps(inputs))
        run_tool([node, PROVE_MANY_JS, node_package("snarkjs"), self.wasm, self.zkey, inp, out])
        return [(p["proof"], p["publicSignals"]) for p in json.loads(out.read_text())]

    def verifier_source(self) -> str:
        """snarkjs's own exported Solidity verifier for this zkey."""
        dst = self.workdir / "SnarkjsVerifier.sol"
        run_tool([npm_bin("snarkjs"), "zkey", "export", "solidityverifier", self.zkey, dst])
        return dst.read_text()


def verifier_source_for_vk(vk: dict[str, Any], workdir: Path) -> str:
    """snarkjs's exported Solidity verifier for a verification key (snarkjs's own template
    rendered with ejs as ``snarkjs zkey export solidityverifier`` renders it, without a zkey);
    the pragma is widened so that the project's solc 0.8.37 compiles it."""
    node = shutil.which("node")
    if node is None:
        raise ToolError("node not found")
    workdir.mkdir(parents=True, exist_ok=True)
    tag = secrets.token_hex(4)
    vk_path, out = workdir / f"vk_{tag}.json", workdir / f"SnarkjsVerifier_{tag}.sol"
    vk_path.write_text(json.dumps(vk))
    run_tool([node, VERIFIER_JS, node_package("snarkjs"), vk_path, out])
    return widen_pragma(out.read_text())


def widen_pragma(source: str) -> str:
    """snarkjs's verifier with its pragma line set to ``>=0.7.0 <0.9.0`` (its template's own)."""
    return re.sub(r"pragma solidity [^;]+;", "pragma solidity >=0.7.0 <0.9.0;", source, count=1)


def build_circuit(circom_file: Path, workdir: Path, ptau: Path, n_public: int,
                  include: list[Path] | None = None) -> SnarkjsCircuit:
    """Compile ``circom_file`` (inside ``workdir``) with circom2, run groth16 setup + one zkey contribution, export vk."""
    workdir.mkdir(parents=True, exist_ok=True)
    # circom2 runs as wasm/wasi with the current directory preopened: use relative paths.
    args: list[str | Path] = [npm_bin("circom2"), circom_file.resolve().relative_to(workdir.resolve()),
                              "--r1cs", "--wasm", "-o", "."]
    for inc in include or []:
        args += ["-l", inc]
    run_tool(args, cwd=workdir)
    stem = circom_file.stem
    r1cs = workdir / f"{stem}.r1cs"
    wasm = workdir / f"{stem}_js" / f"{stem}.wasm"
    snarkjs = npm_bin("snarkjs")
    z0, z1 = workdir / f"{stem}_0.zkey", workdir / f"{stem}.zkey"
    run_tool([snarkjs, "groth16", "setup", r1cs, ptau, z0])
    run_tool([snarkjs, "zkey", "contribute", z0, z1, "--name=omnidsl-test",
              f"-e={secrets.token_hex(32)}"])
    vk = workdir / "verification_key.json"
    run_tool([snarkjs, "zkey", "export", "verificationkey", z1, vk])
    return SnarkjsCircuit(workdir, n_public, r1cs, wasm, z1, vk)


def toy_main(fixture: Path, n_public: int, workdir: Path) -> Path:
    """A main file instantiating the ``Toy(L)`` fixture template with L = n_public."""
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(fixture, workdir / fixture.name)  # circom2 (wasi) sees only its cwd
    main = workdir / f"toy{n_public}.circom"
    main.write_text('pragma circom 2.0.0;\n'
                    f'include "{fixture.name}";\n'
                    f'component main {{public [x]}} = Toy({n_public});\n')
    return main


def toy_input(n_public: int) -> dict[str, Any]:
    """A random satisfying input for ``Toy(n_public)``: a = sum(x) mod r (a != 0)."""
    while True:
        xs = [secrets.randbelow(1 << 64) for _ in range(n_public)]
        a = sum(xs) % R
        if a:
            return {"a": str(a), "x": [str(v) for v in xs]}
