"""The Python API: one call per step of the pipeline, re-exported from ``omnidsl`` (docs/api.md).

    circuit = omnidsl.compile("circuits/norm_bound.omni", {"D": 8})   # or the rule's source
    w = omnidsl.witness(circuit, {"g": [...], "max_norm": 6.0})        # or "input.json"
    pk = omnidsl.setup(circuit, "keys")                                 # dev keys (+ files)
    result = omnidsl.prove(pk, w)                    # parties=3: in process; servers: below
    omnidsl.verify(pk, result)                                          # True
    sol = omnidsl.export_verifier(pk, "Verifier.sol")                   # Solidity source

Types are the library's own: :class:`~omnidsl.compiler.circuit.Circuit`, the witness as
(n_wires, 4) uint64 limbs (what ``Circuit.witness`` returns), :class:`ProvingKey` /
:class:`VerifyingKey`, :class:`ProofResult`.  Wherever a key, proof or public signals are
taken, a file (or key directory) path works too.  Errors are :class:`~omnidsl.errors.OmniDSLError`
subclasses with one located message.  Every module is imported on first use, so
``import omnidsl`` stays fast and needs no optional extra.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omnidsl import progress
from omnidsl.errors import InputError

if TYPE_CHECKING:
    import numpy as np

    from omnidsl.compiler.circuit import Circuit
    from omnidsl.groth16.keys import Proof, ProvingKey, VerifyingKey
    from omnidsl.groth16.prover import Witness
    from omnidsl.groth16.result import ProofResult
    from omnidsl.mpc.cluster import ServerCluster
    from omnidsl.mpc.config import ServersConfig
    from omnidsl.r1cs.system import R1CS

log = logging.getLogger(__name__)

PathLike = str | Path


def _is_source(rule: str | Path) -> bool:
    """A str with a brace or a line break is rule source; any other str or a Path is a file."""
    return isinstance(rule, str) and ("{" in rule or "\n" in rule)


def compile(rule: str | Path, params: Mapping[str, int] | None = None, *,
            opt_level: int = 2, cache: PathLike | None = None) -> Circuit:
    """Compile a rule: its source text (a str containing ``{``) or its ``.omni`` file.

    ``params`` override the rule's parameters (``{"D": 8}``); ``opt_level`` 0–2; ``cache``: a
    compile-cache folder (omnidsl/compiler/cache.py) or None.  Returns the
    :class:`~omnidsl.compiler.circuit.Circuit` (its ``r1cs``, ``witness(inputs)``, ``report()``).
    Raises the language's located errors (file:line:column, excerpt, hint)."""
    from omnidsl.compiler.pipeline import Pipeline

    where = None if cache is None else Path(cache)
    if _is_source(rule):
        pipe = Pipeline(str(rule), "<rule>", dict(params or {}), opt_level, where)
    else:
        if not Path(rule).is_file():
            raise InputError(f"{rule}: no such rule file",
                             hint="give a .omni file, or the rule's source text")
        pipe = Pipeline.from_file(rule, dict(params or {}), opt_level, where)
    with progress.task(f"compile {pipe.file}"):
        return pipe.circuit


def witness(circuit: Circuit, inputs: Mapping[str, Any] | PathLike) -> np.ndarray:
    """The witness of ``circuit`` for ``inputs``: a dict (input name → number or list; strings
    are raw field elements, see ``Circuit.witness``) or the path of an input JSON file.
    Raises InputError (a bad or missing input) or AssertionFailed (a rule assertion fails:
    the rule's own message and line)."""
    if isinstance(inputs, str | Path):
        from omnidsl.files import read_text

        text = read_text(inputs, "input")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{inputs}:{exc.lineno}:{exc.colno}: not valid JSON: "
                             f"{exc.msg}") from None
    else:
        data = dict(inputs)
    return circuit.witness(data)


def _r1cs(circuit: Circuit | R1CS) -> R1CS:
    from omnidsl.r1cs.system import R1CS

    return circuit if isinstance(circuit, R1CS) else circuit.r1cs


def setup(circuit: Circuit | R1CS, out: PathLike | None = None) -> ProvingKey:
    """Development keys for ``circuit`` (toxic waste from this machine's CSPRNG: testing only;
    production keys come from ``omnidsl setup phase2`` and contributions).  With ``out``, the
    key directory (``proving_key.bin`` + snarkjs ``verification_key.json``) is written too, both
    files or neither.  Returns the :class:`ProvingKey` (its verifying key is ``pk.vk``)."""
    from omnidsl.backend import get_backend
    from omnidsl.groth16.setup import dev_setup

    outputs = None
    if out is not None:
        from omnidsl.files import Outputs
        from omnidsl.groth16.keydir import PK_NAME, VK_NAME

        outputs = Outputs([Path(out) / PK_NAME, Path(out) / VK_NAME], make_dirs=True)
    with progress.task("dev setup", 2) as task:
        pk = dev_setup(_r1cs(circuit), get_backend(), stage=task.stage)
    if outputs is not None:
        from omnidsl.groth16.formats import write_vk
        from omnidsl.groth16.keys import write_proving_key

        with outputs.writing() as tmp:
            write_proving_key(pk, tmp(outputs.targets[0]))
            write_vk(pk.vk, tmp(outputs.targets[1]))
    return pk


def prove(pk: ProvingKey | PathLike, witness: Witness,
          parties: int | PathLike | ServersConfig | ServerCluster | None = None,
          **options: Any) -> ProofResult:
    """Prove and verify: ``parties`` None — this process alone; N — N parties of the
    collaborative prover in this process; a servers.toml path, a ServersConfig or a running
    :func:`servers` cluster — those servers (``pk`` must then be the key directory or file the
    servers list, or give ``pk_path=``).  ``options``: as :func:`omnidsl.proving.prove`
    (``scheme``, ``witness_msm``, ``shares``, ...).  Returns a verified :class:`ProofResult`
    (``.proof``, ``.public``, per-party ``.reports``); raises ProofError/NetworkError."""
    from omnidsl.proving import prove as _prove

    target: Any = parties
    if parties is not None and not isinstance(parties, int | str | Path):
        from omnidsl.mpc.cluster import ServerCluster

        if isinstance(parties, ServerCluster):
            target = parties.config_path
    return _prove(pk, witness, target, **options)


def _vk(key: ProvingKey | VerifyingKey | PathLike) -> VerifyingKey:
    from omnidsl.groth16.keys import ProvingKey, VerifyingKey

    if isinstance(key, VerifyingKey):
        return key
    if isinstance(key, ProvingKey):
        return key.vk
    p = Path(key)
    from omnidsl.groth16.keydir import PK_NAME, VK_NAME

    if p.is_dir():
        p = p / VK_NAME
    if not p.exists():
        raise InputError(f"{p}: no such key file",
                         hint=f"give a key directory, its {VK_NAME} or {PK_NAME}")
    if p.suffix == ".json":
        from omnidsl.groth16.formats import read_vk

        return read_vk(p)
    from omnidsl.groth16.keys import read_proving_key

    return read_proving_key(p).vk


def verify(key: ProvingKey | VerifyingKey | PathLike, proof: ProofResult | Proof | PathLike,
           public: Sequence[int | str] | PathLike | None = None) -> bool:
    """True iff ``proof`` verifies for ``public`` under ``key``.  ``proof``: a ProofResult
    (its public signals are used unless ``public`` is given), a Proof, or a proof.json path;
    ``public``: field elements (ints or decimal strings) or a public.json path.  A malformed
    key or file raises FormatError; a wrong proof is simply False."""
    from omnidsl.backend import get_backend
    from omnidsl.groth16 import formats
    from omnidsl.groth16.keys import Proof
    from omnidsl.groth16.result import ProofResult
    from omnidsl.groth16.verifier import verify as _verify

    signals: Any = public
    if isinstance(proof, ProofResult):
        signals = proof.public if public is None else public
        proof = proof.proof
    elif not isinstance(proof, Proof):
        proof = formats.read_proof(proof)
    if signals is None:
        raise InputError("verify needs the public signals (public=...) with a Proof or a file")
    if isinstance(signals, str | Path):
        signals = formats.read_public(signals)
    else:
        signals = formats.public_from_json([str(s) for s in signals])
    return _verify(_vk(key), signals, proof, get_backend())


def export_verifier(key: ProvingKey | VerifyingKey | PathLike, out: PathLike | None = None, *,
                    contract_name: str = "Groth16Verifier", batch: bool = False) -> str:
    """The Solidity verifier contract for ``key`` (docs/verifier.md; ``batch=True``: with
    ``verifyBatch``, as the market deploys it); also written to ``out`` when given.  Returns the
    source."""
    from omnidsl.solidity.render import render_verifier

    source = render_verifier(_vk(key), contract_name, batch=batch)
    if out is not None:
        from omnidsl.files import Outputs

        outputs = Outputs([out])
        with outputs.writing() as tmp:
            tmp(out).write_text(source, encoding="utf-8")
    return source


def servers(keys: PathLike, n: int = 3, directory: PathLike | None = None, *,
            scheme: str = "additive", name: str = "rule") -> ServerCluster:
    """Start ``n`` ``omnidsl serve`` processes on 127.0.0.1 that know the key directory
    ``keys`` (a fresh servers.toml in ``directory``, default a temporary folder) and return the
    running cluster: use it as a context manager (the processes stop when the block ends) and
    pass it as ``parties`` to :func:`prove`."""
    from omnidsl.mpc.cluster import ServerCluster

    if directory is None:
        import tempfile

        directory = tempfile.mkdtemp(prefix="omnidsl-servers-")
    cluster = ServerCluster(Path(directory), n, {name: Path(keys).resolve()}, scheme=scheme)
    return cluster.start_all()


__all__ = ["compile", "export_verifier", "prove", "servers", "setup", "verify", "witness"]
