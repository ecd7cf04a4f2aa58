"""CLI: ``omnidsl setup``, ``omnidsl verify``.

    omnidsl setup dev RULE.omni|CIRCUIT.r1cs [--param K=V ...] [-O N] [--no-cache] -o DIR
                      [--zkey OUT.zkey]
    omnidsl setup phase2 RULE.omni|CIRCUIT.r1cs --ptau FILE [...] -o DIR
    omnidsl setup contribute DIR -o NEW_DIR [--name NAME] [--entropy TEXT]
    omnidsl setup verify DIR --ptau FILE [--circuit RULE.omni|CIRCUIT.r1cs ...]
    (``setup RULE [--ptau FILE] -o DIR`` is the older spelling of dev / phase2)
    omnidsl verify verification_key.json public.json proof.json

A key directory holds ``proving_key.bin`` (format in docs/groth16.md) and
``verification_key.json`` (snarkjs layout).

``omnidsl prove`` (every mode: plain, in process, servers) is ``omnidsl/proving/commands.py``;
:func:`load_keys` and :func:`load_witness` give its inputs with the same checks and messages.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from omnidsl.argparsing import add_verbs, describe
from omnidsl.errors import InputError, ProofError, UsageError
from omnidsl.field import limbs_to_bytes
from omnidsl.files import Outputs
from omnidsl.groth16.keydir import MPC_NAME, PK_NAME, VK_NAME, load_circuit, load_keys
from omnidsl.groth16.keydir import params as _params

__all__ = ["PK_NAME", "VK_NAME", "load_circuit", "load_keys", "load_witness"]

if TYPE_CHECKING:
    from omnidsl.groth16.keys import ProvingKey

log = logging.getLogger(__name__)


class Progress:
    """A progress task (omnidsl/progress.py) over ``total`` named steps; ``close()`` ends it."""

    def __init__(self, total: int, desc: str):
        from omnidsl import progress

        self._cm = progress.task(desc, total)
        self.task = self._cm.__enter__()

    def stage(self, name: str) -> AbstractContextManager[object]:
        return self.task.stage(name)

    def close(self) -> None:
        self._cm.__exit__(None, None, None)


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
    with outputs.writing() as tmp:
        _write_key_files(pk, out, tmp)


def _write_key_files(pk: ProvingKey, out: Path, tmp: Callable[[Path], Path]) -> None:
    from omnidsl.groth16.formats import write_vk
    from omnidsl.groth16.keys import write_proving_key

    write_proving_key(pk, tmp(out / PK_NAME))
    write_vk(pk.vk, tmp(out / VK_NAME))


def dev_command(args: argparse.Namespace) -> int:
    from omnidsl.backend import get_backend
    from omnidsl.groth16 import setup as S

    out = Path(args.out)
    outputs = Outputs([out / PK_NAME, out / VK_NAME, args.zkey], make_dirs=True)
    r1cs = load_circuit(args.circuit, _params(args.param), args.opt_level, not args.no_cache)
    log.warning("dev setup — toxic waste from this machine's CSPRNG; keys are for testing only "
                "(use `setup phase2` and contributions for production)")
    with outputs.writing() as tmp:
        prog = Progress(3 if args.zkey else 2, "dev setup")
        try:
            pk = S.dev_setup(r1cs, get_backend(), stage=prog.stage,
                             zkey=tmp(args.zkey) if args.zkey else None)
        finally:
            prog.close()
        _write_key_files(pk, out, tmp)
    print(f"keys for {r1cs.n_constraints} constraints (domain {pk.domain_size}) in {args.out}"
          + (f"; the same key as a snarkjs zkey in {args.zkey}" if args.zkey else ""))
    return 0


def phase2_command(args: argparse.Namespace) -> int:
    from omnidsl.backend import get_backend
    from omnidsl.groth16 import setup as S
    from omnidsl.groth16.ptau import read_ptau

    outputs = _key_outputs(Path(args.out))
    r1cs = load_circuit(args.circuit, _params(args.param), args.opt_level, not args.no_cache)
    ptau = read_ptau(args.ptau)
    prog = Progress(3, "phase 2")
    try:
        pk = S.phase2_initial(r1cs, ptau, get_backend(), stage=prog.stage)
    finally:
        prog.close()
        ptau.close()
    _write_keys(pk, Path(args.out), outputs)
    print(f"initial phase-2 key for {r1cs.n_constraints} constraints (domain "
          f"{pk.domain_size}, δ = 1) in {args.out}")
    log.warning("next: `omnidsl setup contribute %s -o %s_0001` at least once before use",
                args.out, args.out)
    return 0


def legacy_setup_command(args: argparse.Namespace) -> int:
    """``setup RULE [--ptau FILE] -o DIR``: the spelling before the sub-verbs."""
    if not args.ptau:
        args.zkey = None  # `setup dev --zkey` only
    return (phase2_command if args.ptau else dev_command)(args)


def contribute_command(args: argparse.Namespace) -> int:
    """A new key directory with one more contribution; the input key is never changed."""
    import hashlib

    from omnidsl.backend import get_backend
    from omnidsl.groth16 import setup as S
    from omnidsl.groth16.points import g1_to_bytes, g2_to_bytes

    src = Path(args.keys)
    src_dir = src if src.is_dir() else src.parent
    if not args.out:
        raise UsageError("setup contribute writes a new key directory: -o NEW_DIR is required",
                         hint=f"e.g. `omnidsl setup contribute {args.keys} -o "
                              f"{src_dir.name}_next` (the input key stays as it is)")
    out = Path(args.out)
    if out.resolve() == src_dir.resolve():
        raise UsageError(f"-o {args.out} is the input key directory: each contribution goes to "
                         "a new directory (the transcript keeps every earlier key verifiable)")
    if (out / PK_NAME).exists() or (out / VK_NAME).exists():
        raise InputError(f"{out} already holds a key: a contribution never overwrites one",
                         hint="choose a new directory for -o")
    if (src_dir / MPC_NAME).exists():
        raise InputError(f"{src_dir} was imported from a snarkjs zkey: its transcript is "
                         "snarkjs's, an omnidsl contribution could not be verified after it",
                         hint="contribute with snarkjs: `omnidsl zkey export DIR k.zkey`, "
                              "`snarkjs zkey contribute k.zkey k2.zkey`, then `omnidsl zkey "
                              "import k2.zkey NEW_DIR --circuit CIRCUIT`")
    S.check_contributor_name(args.name or "")
    outputs = _key_outputs(out)
    pk = load_keys(args.keys)
    prog = Progress(1, "contribute")
    try:
        pk = S.contribute(pk, get_backend(), (args.entropy or "").encode(), args.name or "",
                          stage=prog.stage)
    finally:
        prog.close()
    _write_keys(pk, out, outputs)
    c = pk.contributions[-1]
    digest = hashlib.sha256(g1_to_bytes(c.delta_g1) + g2_to_bytes(c.delta_g2)
                            + g1_to_bytes(c.pok_r) + c.pok_z.to_bytes(32, "little")
                            + c.name.encode()).hexdigest()
    print(f"contribution #{len(pk.contributions)} written to {out} ({args.keys} unchanged); "
          f"contribution hash {digest}")
    return 0


def verify_setup_command(args: argparse.Namespace) -> int:
    from omnidsl.backend import get_backend
    from omnidsl.groth16 import setup as S
    from omnidsl.groth16.ptau import read_ptau
    from omnidsl.groth16.vkcheck import check_vk, check_vk_file

    backend = get_backend()
    pk_path = Path(args.keys)
    pk_path = pk_path / PK_NAME if pk_path.is_dir() else pk_path
    if (pk_path.parent / MPC_NAME).exists():
        raise ProofError(f"{pk_path.parent} was imported from a snarkjs zkey: its transcript "
                         "is snarkjs's", hint=f"`omnidsl zkey export {args.keys} k.zkey`, then "
                         f"`snarkjs zkey verify CIRCUIT.r1cs {args.ptau} k.zkey`")
    pk = load_keys(args.keys)
    # verifiers read verification_key.json, not the proving key: it must be the same key
    check_vk_file(pk_path.parent / VK_NAME, pk.vk, pk_path.name)
    r1cs = pk.r1cs
    if args.circuit:
        r1cs = load_circuit(args.circuit, _params(args.param), args.opt_level,
                            not args.no_cache)
        if not S.r1cs_equal(r1cs, pk.r1cs):
            raise ProofError(f"the keys in {args.keys} are not for {args.circuit}")
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
                         hint=f"run `omnidsl setup contribute {args.keys} -o NEW_DIR`")
    check_vk(pk.vk, backend, str(pk_path))  # e.g. a contribution with x = ±1
    print(f"setup OK: {len(names)} contribution(s) verified against {args.ptau}; "
          f"{VK_NAME} matches {PK_NAME}")
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


def _circuit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("circuit", metavar="CIRCUIT", help="RULE.omni or CIRCUIT.r1cs")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="rule parameter")
    p.add_argument("-O", dest="opt_level", type=int, default=2, choices=(0, 1, 2),
                   help="optimisation level of the rule")
    p.add_argument("--no-cache", action="store_true",
                   help="compile the rule afresh (no compile cache: $OMNIDSL_CACHE)")


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser(
        "setup", help="Groth16 keys: dev, phase2 (from a .ptau), contribute, verify",
        **describe("Make Groth16 keys for a circuit.  Production: `setup phase2` from a "
                   "prepared snarkjs .ptau, then one `setup contribute` per participant (each "
                   "writes a new key directory), then `setup verify` checks the transcript.  "
                   "`setup dev` is for tests.  (`setup RULE [--ptau F] -o DIR` still works.)",
                   ["omnidsl setup dev circuits/norm_bound.omni --param D=8 -o keys",
                    "omnidsl setup phase2 circuits/norm_bound.omni --param D=8 "
                    "--ptau pot12.ptau -o keys_0000",
                    "omnidsl setup contribute keys_0000 -o keys_0001 --name alice",
                    "omnidsl setup verify keys_0001 --ptau pot12.ptau"]))
    verbs = add_verbs(s, "verb", default="rule",
                      metavar="{dev,phase2,contribute,verify}")
    d = verbs.add_parser(
        "dev", help="keys from this machine's randomness (tests only)",
        **describe("Keys from toxic waste drawn on this machine: whoever ran it could forge "
                   "proofs had they kept it.  For tests and development.",
                   ["omnidsl setup dev circuits/norm_bound.omni --param D=8 -o keys"]))
    _circuit_args(d)
    d.add_argument("-o", "--out", required=True, metavar="DIR", help="key directory to write")
    d.add_argument("--zkey", metavar="OUT.zkey",
                   help="also write the same key as a snarkjs .zkey (its H section from the "
                        "toxic waste: fast at any size, unlike `zkey export`)")
    d.set_defaults(func=dev_command)
    p2 = verbs.add_parser(
        "phase2", help="the initial phase-2 key from a snarkjs .ptau",
        **describe("The circuit's initial phase-2 key (δ = 1) from a prepared powers-of-tau "
                   "file (`snarkjs powersoftau prepare phase2`); contribute before use.  The "
                   "key exported with `zkey export` is the `snarkjs zkey new` of the circuit.",
                   ["omnidsl setup phase2 build/norm_bound.r1cs --ptau pot12.ptau -o keys_0000"]))
    _circuit_args(p2)
    p2.add_argument("--ptau", required=True, help="prepared snarkjs .ptau")
    p2.add_argument("-o", "--out", required=True, metavar="DIR", help="key directory to write")
    p2.set_defaults(func=phase2_command)
    legacy = verbs.add_parser("rule", prog="omnidsl setup",
                              description="setup RULE [--ptau FILE] -o DIR (older spelling of "
                                          "`setup dev` / `setup phase2`)")
    _circuit_args(legacy)
    legacy.add_argument("--ptau", help="prepared snarkjs .ptau (phase 2)")
    legacy.add_argument("-o", "--out", required=True, metavar="DIR",
                        help="key directory to write")
    legacy.set_defaults(func=legacy_setup_command)
    c = verbs.add_parser(
        "contribute", help="one phase-2 contribution, written to a new key directory",
        **describe("Multiply δ by a fresh secret (OS randomness mixed with --entropy) and "
                   "write the key with the whole transcript to a new directory; the input key "
                   "is left as it is, so every step of a ceremony stays on disk and verifiable.",
                   ["omnidsl setup contribute keys_0000 -o keys_0001 --name alice",
                    "omnidsl setup contribute keys_0001 -o keys_0002 --name bob "
                    "--entropy \"$(head -c 32 /dev/urandom | base64)\""]))
    c.add_argument("keys", metavar="DIR", help="key directory to contribute to (read only)")
    c.add_argument("-o", "--out", metavar="NEW_DIR",
                   help="(required) new key directory for the result")
    c.add_argument("--name", help="contributor name recorded in the transcript")
    c.add_argument("--entropy", help="extra entropy mixed into the OS randomness")
    c.set_defaults(func=contribute_command)
    v = verbs.add_parser(
        "verify", help="check a key's phase-2 transcript against the .ptau",
        **describe("Recompute the initial key from the .ptau (and --circuit, if given) and "
                   "check every contribution's proof of knowledge, δ, the L/H queries and that "
                   "verification_key.json is the proving key's.",
                   ["omnidsl setup verify keys_0002 --ptau pot12.ptau",
                    "omnidsl setup verify keys_0002 --ptau pot12.ptau --circuit "
                    "circuits/norm_bound.omni --param D=8"]))
    v.add_argument("keys", metavar="DIR", help="key directory")
    v.add_argument("--ptau", required=True, help="the prepared .ptau of phase 2")
    v.add_argument("--circuit", help="also check that the keys are for this circuit")
    v.add_argument("--param", action="append", metavar="NAME=VALUE", help="rule parameter")
    v.add_argument("-O", dest="opt_level", type=int, default=2, choices=(0, 1, 2),
                   help="optimisation level of the rule")
    v.add_argument("--no-cache", action="store_true", help="compile the rule afresh")
    v.set_defaults(func=verify_setup_command)

    v = sub.add_parser(
        "verify", help="verify a proof (exit 0 valid, 1 invalid)",
        **describe("Verify a Groth16 proof against a verification key (snarkjs JSON files, "
                   "as `snarkjs groth16 verify`).  The key is checked first (points on the "
                   "curve and in the subgroup, no degenerate δ/γ).  Exit 0 if valid, 1 if not.",
                   ["omnidsl verify keys/verification_key.json public.json proof.json"]))
    v.add_argument("vk", help="verification_key.json")
    v.add_argument("public", help="public.json")
    v.add_argument("proof", help="proof.json")
    v.set_defaults(func=verify_command)
