"""CLI: ``omnidsl setup``, ``omnidsl prove``, ``omnidsl verify``.

    omnidsl setup RULE.omni|CIRCUIT.r1cs [--ptau FILE] [--param K=V ...] [-O N] [--no-cache] -o DIR
    omnidsl setup contribute DIR [--name NAME] [--entropy TEXT]
    omnidsl setup verify DIR --ptau FILE [--circuit RULE.omni|CIRCUIT.r1cs ...]
    omnidsl prove --keys DIR --witness W.wtns -o proof.json --public public.json
    omnidsl verify verification_key.json public.json proof.json

A key directory holds ``proving_key.bin`` (format in docs/groth16.md) and
``verification_key.json`` (snarkjs layout).

Extending ``prove`` (for ``omnidsl.mpc.commands``, registered after this module): the parser is
``subparsers.choices["prove"]``; add options to it and ``set_defaults(func=...)`` with a function
that handles the new mode and otherwise calls :func:`prove_command`.  :func:`load_keys` and
:func:`load_witness` give the inputs with the same checks and messages as here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from omnidsl.errors import FormatError, InputError, ProofError
from omnidsl.field import limbs_to_bytes
from omnidsl.files import Outputs

if TYPE_CHECKING:
    from omnidsl.backend.base import Backend
    from omnidsl.groth16.keys import ProvingKey
    from omnidsl.r1cs.system import R1CS

PK_NAME = "proving_key.bin"
VK_NAME = "verification_key.json"


class Progress:
    """A tqdm bar over named steps (hidden when stderr is not a terminal)."""

    def __init__(self, total: int, desc: str):
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc=desc, unit="step", leave=False, file=sys.stderr,
                        disable=None)

    def stage(self, name: str) -> AbstractContextManager[object]:
        @contextmanager
        def cm() -> Iterator[None]:
            self.bar.set_postfix_str(name)
            yield
            self.bar.update(1)

        return cm()

    def close(self) -> None:
        self.bar.close()


def _params(items: list[str] | None) -> dict[str, int]:
    out: dict[str, int] = {}
    for it in items or []:
        name, eq, value = it.partition("=")
        try:
            if not eq:
                raise ValueError
            out[name.strip()] = int(value, 0)
        except ValueError:
            raise InputError(f"--param {it!r}: expected NAME=INTEGER") from None
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
    from omnidsl.compiler.cache import compiled_file

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


def load_witness(path: str) -> bytes:
    """A .wtns file as n*32 bytes."""
    from omnidsl.r1cs.wtnsfile import read_wtns

    if not Path(path).exists():
        raise InputError(f"{path}: no such witness file")
    return limbs_to_bytes(read_wtns(path))


def _key_outputs(out: Path) -> Outputs:
    """The key pair's files in ``out``, checked before the (long) setup: written together."""
    return Outputs([out / PK_NAME, out / VK_NAME], make_dirs=True)


def _write_keys(pk: ProvingKey, out: Path, outputs: Outputs) -> None:
    from omnidsl.groth16.formats import write_vk
    from omnidsl.groth16.keys import write_proving_key

    with outputs.writing() as tmp:
        write_proving_key(pk, tmp(out / PK_NAME))
        write_vk(pk.vk, tmp(out / VK_NAME))


def setup_command(args: argparse.Namespace) -> int:
    from omnidsl.backend import get_backend
    from omnidsl.groth16 import setup as S

    backend = get_backend()
    if args.target == "contribute":
        if len(args.rest) != 1:
            raise InputError("usage: omnidsl setup contribute DIR [--name NAME] [--entropy TEXT]")
        S.check_contributor_name(args.name or "")
        key_dir = Path(args.rest[0]) if Path(args.rest[0]).is_dir() else Path(args.rest[0]).parent
        outputs = _key_outputs(key_dir)
        pk = load_keys(args.rest[0])
        prog = Progress(1, "contribute")
        try:
            pk = S.contribute(pk, backend, (args.entropy or "").encode(), args.name or "",
                              stage=prog.stage)
        finally:
            prog.close()
        _write_keys(pk, key_dir, outputs)
        print(f"contribution #{len(pk.contributions)} added to {args.rest[0]}")
        return 0
    if args.target == "verify":
        return _verify_setup(args, backend)
    if args.rest:
        raise InputError(f"unexpected arguments: {' '.join(args.rest)}")
    if not args.out:
        raise InputError("missing -o DIR (where to write the keys)")
    outputs = _key_outputs(Path(args.out))
    r1cs = load_circuit(args.target, _params(args.param), args.opt_level, not args.no_cache)
    if args.ptau:
        from omnidsl.groth16.ptau import read_ptau

        ptau = read_ptau(args.ptau)
        prog = Progress(3, "phase 2")
        try:
            pk = S.phase2_initial(r1cs, ptau, backend, stage=prog.stage)
        finally:
            prog.close()
            ptau.close()
        print("initial phase-2 key written (δ = 1): run `omnidsl setup contribute "
              f"{args.out}` at least once before use", file=sys.stderr)
    else:
        print("warning: dev setup — toxic waste from this machine's CSPRNG; keys are for "
              "testing only (use --ptau FILE and contributions for production)", file=sys.stderr)
        prog = Progress(2, "dev setup")
        try:
            pk = S.dev_setup(r1cs, backend, stage=prog.stage)
        finally:
            prog.close()
    _write_keys(pk, Path(args.out), outputs)
    print(f"keys for {r1cs.n_constraints} constraints (domain {pk.domain_size}) in {args.out}")
    return 0


def _verify_setup(args: argparse.Namespace, backend: Backend) -> int:
    from omnidsl.groth16 import setup as S
    from omnidsl.groth16.ptau import read_ptau
    from omnidsl.groth16.vkcheck import check_vk, check_vk_file

    if len(args.rest) != 1 or not args.ptau:
        raise InputError("usage: omnidsl setup verify DIR --ptau FILE [--circuit FILE]")
    pk_path = Path(args.rest[0])
    pk_path = pk_path / PK_NAME if pk_path.is_dir() else pk_path
    pk = load_keys(args.rest[0])
    # verifiers read verification_key.json, not the proving key: it must be the same key
    check_vk_file(pk_path.parent / VK_NAME, pk.vk, pk_path.name)
    r1cs = pk.r1cs
    if args.circuit:
        r1cs = load_circuit(args.circuit, _params(args.param), args.opt_level,
                            not args.no_cache)
        if not S.r1cs_equal(r1cs, pk.r1cs):
            raise ProofError(f"the keys in {args.rest[0]} are not for {args.circuit}")
    ptau = read_ptau(args.ptau)
    prog = Progress(6, "verify setup")
    try:
        initial = S.phase2_initial(r1cs, ptau, backend, stage=prog.stage)
        names = S.verify_transcript(pk, initial, backend, stage=prog.stage)
    finally:
        prog.close()
        ptau.close()
    if not names:
        raise ProofError("the key has no phase-2 contribution (δ = 1): anyone can forge proofs",
                         hint=f"run `omnidsl setup contribute {args.rest[0]}`")
    check_vk(pk.vk, backend, str(pk_path))  # e.g. a contribution with x = ±1
    print(f"setup OK: {len(names)} contribution(s) verified against {args.ptau}; "
          f"{VK_NAME} matches {PK_NAME}")
    return 0


def prove_command(args: argparse.Namespace) -> int:
    from omnidsl.backend import get_backend
    from omnidsl.groth16.formats import write_proof, write_public
    from omnidsl.groth16.prover import prove_plain, public_signals

    if not (args.keys and args.witness):
        raise InputError("prove needs --keys DIR and --witness FILE.wtns")
    outputs = Outputs([args.out, args.public])  # before proving: written together, or neither
    pk = load_keys(args.keys)
    z = load_witness(args.witness)
    if len(z) // 32 != pk.n_wires:
        raise FormatError(f"{args.witness}: {len(z) // 32} wires, but the keys in {args.keys} are "
                          f"for a circuit with {pk.n_wires}",
                          hint="the witness and the keys come from different circuits")
    backend = get_backend()
    prog = Progress(8, "prove")
    try:
        proof = prove_plain(pk, z, backend, stage=prog.stage)
    finally:
        prog.close()
    with outputs.writing() as tmp:
        write_proof(proof, tmp(args.out))
        if args.public:
            write_public(public_signals(pk, z), tmp(args.public))
    print(f"proof written to {args.out}")
    return 0


def verify_command(args: argparse.Namespace) -> int:
    from omnidsl.backend import get_backend
    from omnidsl.groth16.formats import read_proof, read_public, read_vk
    from omnidsl.groth16.verifier import verify
    from omnidsl.groth16.vkcheck import check_vk

    backend = get_backend()
    vk = read_vk(args.vk)
    check_vk(vk, backend, args.vk)
    public = read_public(args.public)
    proof = read_proof(args.proof)
    if len(public) != vk.n_public:
        print(f"INVALID: {args.public} has {len(public)} public signals, the key expects "
              f"{vk.n_public}", file=sys.stderr)
        return 1
    if verify(vk, public, proof, backend):
        print("OK: the proof is valid")
        return 0
    print("INVALID: the proof does not verify", file=sys.stderr)
    return 1


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("setup", help="Groth16 keys: dev setup, phase 2 from .ptau, contribute",
                       description=__doc__.split("\n\n")[1])
    s.add_argument("target", help="RULE.omni | CIRCUIT.r1cs | contribute | verify")
    s.add_argument("rest", nargs="*", help="key directory (for contribute / verify)")
    s.add_argument("--ptau", help="snarkjs .ptau (prepared) for a production phase 2")
    s.add_argument("--param", action="append", metavar="NAME=VALUE", help="rule parameter")
    s.add_argument("-O", dest="opt_level", type=int, default=2, choices=(0, 1, 2))
    s.add_argument("--no-cache", action="store_true",
                   help="compile the rule afresh (no compile cache: $OMNIDSL_CACHE)")
    s.add_argument("-o", "--out", help="output key directory")
    s.add_argument("--name", help="contributor name recorded in the transcript")
    s.add_argument("--entropy", help="extra entropy mixed into the OS randomness")
    s.add_argument("--circuit", help="(verify) check that the keys are for this circuit")
    s.set_defaults(func=setup_command)

    p = sub.add_parser("prove", help="prove a witness with a key directory")
    p.add_argument("--keys", required=True, help="key directory (or proving_key.bin)")
    p.add_argument("--witness", help="witness .wtns")
    p.add_argument("-o", "--out", default="proof.json", help="proof output (snarkjs JSON)")
    p.add_argument("--public", default="public.json", help="public signals output")
    p.set_defaults(func=prove_command)

    v = sub.add_parser("verify", help="verify a proof (exit 0 valid, 1 invalid)")
    v.add_argument("vk", help="verification_key.json")
    v.add_argument("public", help="public.json")
    v.add_argument("proof", help="proof.json")
    v.set_defaults(func=verify_command)
