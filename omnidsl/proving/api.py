"""``prove``: the one proving entry point — plain, N parties in this process, or N servers.

``prove(pk, witness)`` runs the single-machine prover; ``parties=N`` runs N parties of the
collaborative prover in this process over an in-process network (the oracle the N-server run must
match); ``parties=ServersConfig | "servers.toml"`` shares the witness among the servers that
file lists (``omnidsl serve``) and drives them over TCP.  Every mode returns a
:class:`~omnidsl.groth16.result.ProofResult` that was verified here, in one place, against the
proving key's verification key; a proof that does not verify is never returned.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omnidsl import progress
from omnidsl.errors import ProofError
from omnidsl.groth16.prover import Witness, as_witness
from omnidsl.groth16.result import ProofResult

if TYPE_CHECKING:
    from omnidsl.groth16.keys import ProvingKey
    from omnidsl.groth16.prover import StageHook
    from omnidsl.mpc.config import ServersConfig
    from omnidsl.mpc.schemes import Scheme

#: what ``parties`` may be
Parties = None | int | str | Path


def _key(pk: ProvingKey | str | Path, backend: Any,
         defer: tuple[str, ...] = ()) -> tuple[ProvingKey, Path | None]:
    """The key and its file; a key read here is this call's alone: it is streamed into
    ``backend`` (its points once, natively; ``defer``: arrays left in the file until used)."""
    if isinstance(pk, str | Path):
        from omnidsl.groth16.keydir import PK_NAME
        from omnidsl.groth16.keys import read_proving_key

        path = Path(pk) / PK_NAME if Path(pk).is_dir() else Path(pk)
        return read_proving_key(path, bases_only=backend, defer=defer), path
    return pk, None


def prove(pk: ProvingKey | str | Path, witness: Witness, parties: Parties | ServersConfig = None,
          *, pk_path: str | Path | None = None, backend: Any = None,
          stage: StageHook | None = None, scheme: str | Scheme | None = None,
          **deal_options: Any) -> ProofResult:
    """Prove ``witness`` with ``pk`` (a ProvingKey, a key file or a key directory) and verify.

    ``parties``: None or 1 — the plain prover; an int N ≥ 2 — N parties in this process
    (``scheme``: a sharing scheme or its name, default additive); a ServersConfig or the path of a
    servers.toml — the servers it lists (the scheme it names; ``pk_path``, the key file the
    servers know by its SHA-256, defaults to ``pk`` when that is a path).  ``deal_options``:
    ``witness_msm``, ``shares``, ``fixed``, ``bind_label`` (``omnidsl.mpc.schemes.DealOptions``).
    ``stage``: progress hook of the plain prover (default: the stages of the ``prove`` progress
    task, omnidsl/progress.py).  Raises ProofError (or NetworkError) with one located message;
    nothing is returned unless the proof verifies."""
    with progress.task(_task_name(parties), 9 if parties in (None, 1) else 3) as task:
        result = _prove(pk, witness, parties, pk_path, backend, stage or task.stage, scheme,
                        deal_options)
    return result


def _task_name(parties: object) -> str:
    if isinstance(parties, int) and not isinstance(parties, bool) and parties > 1:
        return f"prove ({parties} parties)"
    return "prove" if parties in (None, 1) else "prove (servers)"


def _prove(pk: ProvingKey | str | Path, witness: Witness, parties: Parties | ServersConfig,
           pk_path: str | Path | None, backend: Any, stage: StageHook,
           scheme: str | Scheme | None, deal_options: dict[str, Any]) -> ProofResult:
    """``prove``'s body, inside its progress task (``stage``: the task's or the caller's)."""
    from omnidsl.groth16 import prover
    from omnidsl.groth16.verifier import verify
    from omnidsl.mpc.schemes import DealOptions

    if backend is None:
        from omnidsl.backend import get_backend

        backend = get_backend()
    # a data owner driving servers computes at most the dealt MSMs (A, B in G2)
    servers = parties is not None and not isinstance(parties, int)
    key, path = _key(pk, backend, ("b1", "h", "l") if servers else ())
    z = as_witness(witness)
    prover.validate_witness(key, z)
    options = DealOptions(**deal_options)  # refuses unknown modes whatever the parties
    explain = None
    t0 = time.perf_counter()
    if isinstance(parties, bool):
        raise ProofError(f"parties={parties!r}: expected None, a number of parties, a "
                         "ServersConfig or the path of a servers.toml")
    if parties is None or parties == 1:
        if deal_options or scheme:
            raise ProofError("sharing options (" + ", ".join([*deal_options, *(
                ["scheme"] if scheme else [])]) + ") need parties (N ≥ 2 or servers)",
                hint="the plain prover shares nothing")
        proof = prover.prove_plain(key, z, backend, stage=stage)
        result = ProofResult(proof, prover.public_signals(key, z), parties=1,
                             wall_s=time.perf_counter() - t0)
    elif isinstance(parties, int):
        from omnidsl.mpc.local import prove_local
        from omnidsl.mpc.schemes import DEFAULT_SCHEME, get_scheme

        prover.check_satisfied(key, z, backend)
        chosen = (get_scheme(scheme or DEFAULT_SCHEME) if scheme is None or isinstance(scheme, str)
                  else scheme)
        result = prove_local(key, z, parties, backend, chosen, options)
    else:
        from omnidsl.mpc.config import load_config
        from omnidsl.mpc.coordinator import run_session

        if scheme:
            raise ProofError("the scheme of a server run is the one servers.toml names",
                             hint="set [scheme] in servers.toml")
        cfg = load_config(parties) if isinstance(parties, str | Path) else parties
        if not hasattr(cfg, "servers") and not hasattr(cfg, "scheme"):
            raise ProofError(f"parties={parties!r}: expected None, a number of parties, a "
                             "ServersConfig or the path of a servers.toml")
        where = Path(pk_path) if pk_path is not None else path
        if where is None:
            raise ProofError("proving with servers needs the proving-key file (pk_path=...): "
                             "the servers look the key up by its SHA-256")
        prover.check_satisfied(key, z, backend)  # a bad witness is the owner's error
        result, explain = run_session(cfg, where, z, backend, key, **deal_options)
    with stage("verify"):
        ok = verify(key.vk, result.public, result.proof, backend)
    if not ok:
        if explain is not None:
            explain(ProofError("the servers' proof does not verify; nothing was written or "
                               "submitted",
                               hint="no server could be singled out; retry with other servers"))
        raise ProofError(f"the proof of {result.parties} part{'ies' if result.parties > 1 else 'y'}"
                         " does not verify; nothing was written",
                         hint="a proving fault: report it with the keys and the witness")
    result.verified = True
    return result


__all__ = ["Parties", "ProofResult", "Witness", "as_witness", "prove"]
