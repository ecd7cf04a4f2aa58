"""A key directory and the circuit a command names: the loaders every key command shares.

A key directory holds ``proving_key.bin`` (format in docs/groth16.md) and
``verification_key.json`` (snarkjs layout); a circuit is a rule (compiled through the compile
cache) or a circom-format ``.r1cs``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from omnidsl.errors import FormatError, InputError, UsageError

if TYPE_CHECKING:
    from omnidsl.groth16.keys import ProvingKey
    from omnidsl.r1cs.system import R1CS

PK_NAME = "proving_key.bin"
VK_NAME = "verification_key.json"
#: section 10 of an imported zkey (snarkjs's ceremony transcript), kept in the key directory
MPC_NAME = "snarkjs_mpc.bin"


def params(items: list[str] | None) -> dict[str, int]:
    """``--param NAME=INTEGER`` options → ``{name: value}`` (InputError on bad syntax)."""
    out: dict[str, int] = {}
    for it in items or []:
        name, eq, value = it.partition("=")
        try:
            if not eq:
                raise ValueError
            out[name.strip()] = int(value, 0)
        except ValueError:
            raise UsageError(f"--param {it!r}: expected NAME=INTEGER") from None
    return out


def load_circuit(path: str, params: dict[str, int], opt_level: int,
                 cache: bool = True) -> R1CS:
    """An R1CS from a rule (compiled, through the compile cache unless ``cache`` is false:
    omnidsl/compiler/cache.py) or a circom-format .r1cs file."""
    from omnidsl.r1cs.r1csfile import read_r1cs

    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.suffix == ".r1cs":
        return read_r1cs(p)
    from omnidsl import progress
    from omnidsl.compiler.cache import compiled_file

    with progress.task(f"compile {p.stem}"):  # stages: omnidsl/compiler/pipeline.py
        return compiled_file(p, params, opt_level, cache).r1cs


def load_keys(keys: str) -> ProvingKey:
    """The proving key in a key directory (or a proving-key file)."""
    from omnidsl.groth16.keys import read_proving_key

    p = Path(keys)
    if p.is_dir():
        p = p / PK_NAME
    if not p.exists():
        raise FormatError(f"{p}: no proving key here", hint="run `omnidsl setup ... -o DIR` first")
    return read_proving_key(p)
