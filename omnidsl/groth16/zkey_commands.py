"""CLI: ``omnidsl zkey import|export`` — keys to and from snarkjs (format: zkey.py).

    omnidsl zkey export DIR OUT.zkey                  our key directory → snarkjs .zkey
    omnidsl zkey import IN.zkey DIR --circuit C.r1cs  a snarkjs .zkey → our key directory
    omnidsl zkey export verificationkey IN.zkey OUT.json
    omnidsl zkey export soliditycalldata PUBLIC.json PROOF.json

An imported key directory keeps the zkey's contributions section as ``snarkjs_mpc.bin``: a
later ``zkey export`` of the same key writes it back, so ``snarkjs zkey verify`` still checks
the ceremony.  omnidsl's own contributions (``setup contribute``) use another transcript that
only ``omnidsl setup verify`` checks.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from omnidsl.argparsing import add_verbs, describe
from omnidsl.errors import FormatError
from omnidsl.files import Outputs
from omnidsl.groth16.keydir import MPC_NAME

log = logging.getLogger(__name__)


def export_command(args: argparse.Namespace) -> int:
    from omnidsl.backend import get_backend
    from omnidsl.groth16 import zkey as Z
    from omnidsl.groth16.keydir import PK_NAME, load_keys
    from omnidsl.groth16.points import g1_to_bytes

    outputs = Outputs([args.out])
    pk = load_keys(args.keys)
    key_dir = Path(args.keys) if Path(args.keys).is_dir() else Path(args.keys).parent
    mpc = None
    sidecar = key_dir / MPC_NAME
    if sidecar.exists():
        raw = sidecar.read_bytes()
        try:
            last = Z.last_delta(raw)
        except (ValueError, IndexError):
            raise FormatError(f"{sidecar}: not a zkey contributions section") from None
        if last == g1_to_bytes(pk.delta_g1):
            mpc = raw
        else:
            log.warning("%s is the transcript of an earlier δ (the key was contributed to "
                        "since): not exported", sidecar)
    one = get_backend().g1_generator()
    if mpc is None and pk.contributions:
        log.warning("%s has %d omnidsl contribution(s): `snarkjs zkey verify` cannot check "
                    "them (their transcript is omnidsl's); check them with `omnidsl setup "
                    "verify`", key_dir / PK_NAME, len(pk.contributions))
    elif mpc is None and pk.delta_g1 != one:
        log.warning("a dev key (no transcript): `snarkjs zkey verify` will refuse it; for a "
                    "verifiable key use `omnidsl setup phase2`")
    with outputs.writing() as tmp:
        Z.write_zkey(pk, tmp(args.out), get_backend(), mpc)
    print(f"{args.out}: Groth16 zkey, {pk.n_wires} wires, {pk.n_public} public signals, "
          f"domain {pk.domain_size}")
    return 0


def import_command(args: argparse.Namespace) -> int:
    from omnidsl.backend import get_backend
    from omnidsl.groth16 import zkey as Z
    from omnidsl.groth16.formats import write_vk
    from omnidsl.groth16.keydir import PK_NAME, VK_NAME, load_circuit, params
    from omnidsl.groth16.keys import write_proving_key
    from omnidsl.groth16.vkcheck import check_vk

    out = Path(args.dir)
    outputs = Outputs([out / PK_NAME, out / VK_NAME, out / MPC_NAME], make_dirs=True)
    r1cs = load_circuit(args.circuit, params(args.param), args.opt_level, not args.no_cache)
    zk = Z.read_zkey(args.zkey)
    backend = get_backend()
    pk = Z.proving_key(zk, r1cs, backend, args.zkey)
    check_vk(pk.vk, backend, args.zkey)
    with outputs.writing() as tmp:
        write_proving_key(pk, tmp(out / PK_NAME))
        write_vk(pk.vk, tmp(out / VK_NAME))
        tmp(out / MPC_NAME).write_bytes(zk.mpc)
    who = ", ".join(n or "(unnamed)" for n in zk.contributions) or "none"
    print(f"keys for {r1cs.n_constraints} constraints imported into {out}; snarkjs "
          f"contributions: {who}")
    print(f"hint: check the ceremony with `snarkjs zkey verify CIRCUIT.r1cs POT.ptau "
          f"{args.zkey}`", file=sys.stderr)
    return 0


def export_vk_command(args: argparse.Namespace) -> int:
    from omnidsl.groth16 import zkey as Z
    from omnidsl.groth16.formats import write_vk

    outputs = Outputs([args.out])
    zk = Z.read_zkey(args.zkey, header_only=True)
    with outputs.writing() as tmp:
        write_vk(zk.vk, tmp(args.out))
    print(f"verification key written to {args.out}")
    return 0


def calldata(public: list[int], proof_json: dict) -> str:
    """The text of ``snarkjs zkey export soliditycalldata``: a, b (G2 coordinates c1 first),
    c and the public signals as 0x-prefixed 64-digit hex strings."""
    def h(v: str | int) -> str:
        return f'"0x{int(v):064x}"'

    a, b, c = proof_json["pi_a"], proof_json["pi_b"], proof_json["pi_c"]
    return (f"[{h(a[0])}, {h(a[1])}],"
            f"[[{h(b[0][1])}, {h(b[0][0])}],[{h(b[1][1])}, {h(b[1][0])}]],"
            f"[{h(c[0])}, {h(c[1])}],"
            f"[{','.join(h(x) for x in public)}]")


def calldata_command(args: argparse.Namespace) -> int:
    from omnidsl.groth16.formats import proof_to_json, read_proof, read_public

    public = read_public(args.public)
    proof = read_proof(args.proof)
    print(calldata(public, proof_to_json(proof)))
    return 0


def _circuit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--circuit", required=True, metavar="CIRCUIT",
                   help="the circuit the zkey is for: CIRCUIT.r1cs or RULE.omni (the zkey has "
                        "no C matrix)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="rule parameter (a rule only)")
    p.add_argument("-O", dest="opt_level", type=int, default=2, choices=(0, 1, 2),
                   help="optimisation level (a rule only)")
    p.add_argument("--no-cache", action="store_true", help="compile the rule afresh")


def register(sub: argparse._SubParsersAction) -> None:
    z = sub.add_parser(
        "zkey", help="snarkjs .zkey: import, export, verification key, Solidity calldata",
        **describe("Exchange Groth16 keys with snarkjs (.zkey, as snarkjs 0.7 writes it).",
                   ["omnidsl zkey export keys circuit.zkey",
                    "omnidsl zkey import circuit_final.zkey keys --circuit circuit.r1cs",
                    "omnidsl zkey export verificationkey circuit.zkey verification_key.json",
                    "omnidsl zkey export soliditycalldata public.json proof.json"]))
    verbs = add_verbs(z, "verb", metavar="VERB")
    i = verbs.add_parser(
        "import", help="a snarkjs .zkey → a key directory",
        **describe("Read a snarkjs Groth16 .zkey (e.g. from a snarkjs ceremony) into a key "
                   "directory for `omnidsl prove` (also with --servers).  Every point is "
                   "checked to be on its curve and in its group, the A/B coefficients against "
                   "the circuit; the ceremony itself is checked by `snarkjs zkey verify`.",
                   ["omnidsl zkey import circuit_final.zkey keys --circuit circuit.r1cs"]))
    i.add_argument("zkey", metavar="IN.zkey", help="snarkjs Groth16 zkey")
    i.add_argument("dir", metavar="DIR", help="key directory to write")
    _circuit_args(i)
    i.set_defaults(func=import_command)

    e = verbs.add_parser(
        "export", help="a key directory → .zkey; verificationkey; soliditycalldata",
        **describe("Write a key directory as a snarkjs .zkey (`zkey export DIR OUT.zkey`), a "
                   "zkey's verification key, or a proof as Solidity call data.",
                   ["omnidsl zkey export keys circuit.zkey",
                    "omnidsl zkey export verificationkey circuit.zkey vk.json",
                    "omnidsl zkey export soliditycalldata public.json proof.json"]))
    ev = add_verbs(e, "what", default="(keys)",
                   metavar="{DIR OUT.zkey,verificationkey,soliditycalldata}")
    # the default verb has no name a user would type (a key directory may be called "keys")
    k = ev.add_parser("(keys)", prog="omnidsl zkey export",
                      **describe("Write a key directory as a snarkjs .zkey: `snarkjs groth16 "
                                 "prove` proves with it; for an initial phase-2 key, or an "
                                 "imported one, `snarkjs zkey verify` accepts it.",
                                 ["omnidsl zkey export keys circuit.zkey"]))
    k.add_argument("keys", metavar="DIR", help="key directory (or proving_key.bin)")
    k.add_argument("out", metavar="OUT.zkey", help="zkey to write")
    k.set_defaults(func=export_command)
    v = ev.add_parser(
        "verificationkey", help="a .zkey's verification_key.json",
        **describe("Write the verification key of a .zkey (snarkjs JSON layout).",
                   ["omnidsl zkey export verificationkey circuit.zkey verification_key.json"]))
    v.add_argument("zkey", metavar="IN.zkey", help="Groth16 zkey")
    v.add_argument("out", metavar="OUT.json", help="verification key to write")
    v.set_defaults(func=export_vk_command)
    c = ev.add_parser(
        "soliditycalldata", help="a proof as Solidity call data (as snarkjs)",
        **describe("Print a proof and its public signals as the arguments of the verifier's "
                   "verifyProof(a, b, c, input), in snarkjs's format.",
                   ["omnidsl zkey export soliditycalldata public.json proof.json"]))
    c.add_argument("public", metavar="PUBLIC.json", help="public signals")
    c.add_argument("proof", metavar="PROOF.json", help="proof")
    c.set_defaults(func=calldata_command)
