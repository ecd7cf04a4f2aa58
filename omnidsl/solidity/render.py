"""Render the Groth16 Solidity verifier (``templates/verifier_groth16.sol.j2``) for one key.

Input is a verification key in snarkjs's JSON layout (``verification_key.json``).  Public API::

    render_verifier(vk, contract_name="Groth16Verifier") -> str          # Solidity source
    compile_verifier(vk, contract_name=...) -> CompiledContract          # + EIP-170 size check
    proof_calldata(proof, public) -> (a, b, c, inputs)                   # verifyProof arguments
    batch_calldata([(proof, public), ...]) -> (proofs, inputs)           # verifyBatch arguments
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2
from eth_utils import keccak
from py_ecc.bn128 import FQ, FQ2, b, b2, is_on_curve

import omnidsl
from omnidsl.backend.base import G1 as G1Point
from omnidsl.backend.base import G2 as G2Point
from omnidsl.chain.artifacts import CompiledContract
from omnidsl.errors import ChainError, FormatError
from omnidsl.field import Q, R
from omnidsl.files import not_text_error
from omnidsl.solidity.compile import DEFAULT_EVM_VERSION, compile_sources

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"
TEMPLATE = "verifier_groth16.sol.j2"
#: EIP-170: maximum size of deployed (runtime) bytecode.
EIP170_LIMIT = 24_576
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _int(v: Any, what: str) -> int:
    """An integer field value (decimal or 0x-hex string, or a number); ``what`` names it."""
    try:
        if isinstance(v, bool | float):
            raise TypeError
        x = int(str(v), 0) if isinstance(v, str) and v.lower().startswith("0x") else int(str(v))
    except (TypeError, ValueError) as exc:
        raise FormatError(f"{what} is not an integer: {v!r:.80}") from exc
    if not 0 <= x < Q:
        raise FormatError(f"{what} is not a base-field element (< q)")
    return x


def _g1(v: Any, what: str) -> tuple[int, int]:
    if not isinstance(v, list) or len(v) not in (2, 3):
        raise FormatError(f"{what} must be [x, y, \"1\"]")
    if len(v) == 3 and str(v[2]) == "0":
        return 0, 0  # the point at infinity (snarkjs writes ["0", "1", "0"]); (0, 0) on-chain
    x, y = _int(v[0], f"{what}.x"), _int(v[1], f"{what}.y")
    if len(v) == 3 and str(v[2]) != "1":
        raise FormatError(f"{what} is not in affine form (z != 1)")
    if (x, y) != (0, 0) and not is_on_curve((FQ(x), FQ(y)), b):
        raise FormatError(f"{what} is not a point of BN254 G1")
    return x, y


def _g2(v: Any, what: str) -> tuple[int, int, int, int]:
    """(x_c0, x_c1, y_c0, y_c1) from snarkjs's [[x_c0, x_c1], [y_c0, y_c1], ["1", "0"]]."""
    if not isinstance(v, list) or len(v) not in (2, 3) or any(
            not isinstance(e, list) or len(e) != 2 for e in v[:2]):
        raise FormatError(f"{what} must be [[x_c0, x_c1], [y_c0, y_c1], [\"1\", \"0\"]]")
    x0, x1 = _int(v[0][0], f"{what}.x.c0"), _int(v[0][1], f"{what}.x.c1")
    y0, y1 = _int(v[1][0], f"{what}.y.c0"), _int(v[1][1], f"{what}.y.c1")
    if len(v) == 3 and [str(e) for e in v[2]] != ["1", "0"]:
        raise FormatError(f"{what} is not in affine form (z != 1)")
    if not is_on_curve((FQ2([x0, x1]), FQ2([y0, y1])), b2):
        raise FormatError(f"{what} is not a point of BN254 G2")
    return x0, x1, y0, y1


def _check_sound(alpha: tuple[int, int], beta: tuple[int, int, int, int],
                 gamma: tuple[int, int, int, int], delta: tuple[int, int, int, int],
                 ic: list[tuple[int, int]], source: str) -> None:
    """The groth16 verifier's key checks (subgroup, degenerate relations) on parsed points."""
    from omnidsl.backend import get_backend
    from omnidsl.groth16.keys import VerifyingKey
    from omnidsl.groth16.vkcheck import check_vk

    def g1(p: tuple[int, int]) -> G1Point:
        return None if p == (0, 0) else p

    def g2(p: tuple[int, int, int, int]) -> G2Point:
        return ((p[0], p[1]), (p[2], p[3]))

    check_vk(VerifyingKey(g1(alpha), g2(beta), g2(gamma), g2(delta), [g1(p) for p in ic]),
             get_backend(), source)


def _neg_g2_words(p: tuple[int, int, int, int]) -> list[str]:
    """−P as the precompile's four words (x_c1, x_c0, y_c1, y_c0), as 0x-hex literals."""
    x0, x1, y0, y1 = p
    return [_hex(x1), _hex(x0), _hex((Q - y1) % Q), _hex((Q - y0) % Q)]


def _hex(v: int) -> str:
    return f"0x{v:064x}"


def vk_file(path: str | Path) -> Path:
    """``path`` itself, or ``path/verification_key.json`` for a key directory."""
    p = Path(path)
    return p / "verification_key.json" if p.is_dir() else p


def load_vk(path: str | Path) -> dict[str, Any]:
    """Read ``verification_key.json`` (or a key directory containing it)."""
    p = vk_file(path)
    try:
        data = p.read_bytes()
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise not_text_error(p, data, exc, "verification key") from None
    except FileNotFoundError as exc:
        raise FormatError(f"{p}: no such verification key file",
                          hint="pass verification_key.json or the key directory") from exc
    except json.JSONDecodeError as exc:
        raise FormatError(f"{p}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from exc


def vk_constants(vk: dict[str, Any], source: str = "verification key") -> dict[str, Any]:
    """Validated template constants from a snarkjs-layout verification key.

    Besides the layout, the key must pass :func:`omnidsl.groth16.vkcheck.check_vk` (G2 points
    in the subgroup, γ₂ ≠ ±δ₂, δ₂ ≠ ±G₂, ...): a contract for a degenerate key would accept
    forged proofs.  Errors read ``<source>: <field> ...``.
    """
    if not isinstance(vk, dict):
        raise FormatError(f"{source} must be a JSON object")
    proto = vk.get("protocol", "groth16")
    if proto != "groth16":
        raise FormatError(f"{source}: protocol is {proto!r}, expected 'groth16'")
    curve = str(vk.get("curve", "bn128")).lower()
    if curve not in ("bn128", "bn254", "altbn128"):
        raise FormatError(f"{source}: curve is {curve!r}, expected bn128 (BN254)")
    for key in ("vk_alpha_1", "vk_beta_2", "vk_gamma_2", "vk_delta_2", "IC"):
        if key not in vk:
            raise FormatError(f"{source}: missing field {key!r}")
    ic_raw = vk["IC"]
    if not isinstance(ic_raw, list) or not ic_raw:
        raise FormatError(f"{source}: IC must be a non-empty list of G1 points")
    n = _int(vk.get("nPublic", len(ic_raw) - 1), f"{source}: nPublic")
    if len(ic_raw) != n + 1:
        raise FormatError(f"{source}: nPublic = {n} but IC has {len(ic_raw)} points "
                          f"(expected nPublic + 1)")
    alpha = _g1(vk["vk_alpha_1"], f"{source}: vk_alpha_1")
    ic = [_g1(p, f"{source}: IC[{i}]") for i, p in enumerate(ic_raw)]
    beta = _g2(vk["vk_beta_2"], f"{source}: vk_beta_2")
    gamma = _g2(vk["vk_gamma_2"], f"{source}: vk_gamma_2")
    delta = _g2(vk["vk_delta_2"], f"{source}: vk_delta_2")
    _check_sound(alpha, beta, gamma, delta, ic, source)
    blob = b"".join(v.to_bytes(32, "big") for v in (*alpha, *beta, *gamma, *delta,
                                                   *(c for pt in ic for c in pt)))
    return {
        "n": n,
        "q": _hex(Q),
        "r": _hex(R),
        "alpha": [_hex(alpha[0]), _hex(alpha[1])],
        "neg_beta": _neg_g2_words(beta),
        "neg_gamma": _neg_g2_words(gamma),
        "neg_delta": _neg_g2_words(delta),
        "ic": [[_hex(x), _hex(y)] for x, y in ic],
        "ic_table": "".join(f"{x:064x}{y:064x}" for x, y in ic),
        "vk_hash": "0x" + keccak(blob).hex(),
    }


#: Up to this many public inputs the single-proof path is unrolled with inline constants (cheapest);
#: above it the IC points are read from a table in a loop (≈ 60 bytes less code per input, so keys
#: with up to ≈ 300 public inputs stay under EIP-170).
UNROLL_MAX = 96


def gas_requirements(n: int, unrolled: bool = True) -> dict[str, int]:
    """Gas bounds the verifier demands up front (see GAS_* in the template).

    Precompile prices are fixed by EIP-1108 (ecAdd 150, ecMul 6,000, pairing 45,000 + 34,000 per
    pair); the rest is a measured upper bound of the surrounding code with a safety margin.
    """
    single = 181_000 + 6_150 * n + 4_000 + 400 * n
    if not unrolled:  # loop overhead, table copy and its (quadratic) memory cost
        words = 40 + 2 * (n + 1)
        single += 2_000 + 150 * n + 3 * words + words * words // 512
    batch_base = 45_000 + 3 * 34_000 + 6_000 * (n + 2) + 150 * n + 6_000 + 500 * n
    batch_per_proof = 34_000 + 12_000 + 150 + 2_500 + 150 * n
    return {"gas_single": -(-single * 64 // 63), "gas_batch_base": batch_base,
            "gas_batch_per_proof": batch_per_proof}


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              autoescape=False)


def render_verifier(vk: dict[str, Any], contract_name: str = "Groth16Verifier",
                    unroll_max: int = UNROLL_MAX, source: str = "verification key") -> str:
    """Solidity source of a verifier contract for ``vk`` (snarkjs verification_key.json dict).

    Keys with at most ``unroll_max`` public inputs get the unrolled single-proof path.
    ``source`` (e.g. the file name) prefixes errors about the key.
    """
    if not _IDENT.match(contract_name):
        raise FormatError(f"contract name {contract_name!r} is not a Solidity identifier")
    consts = vk_constants(vk, source)
    unrolled = consts["n"] <= unroll_max
    return _env().get_template(TEMPLATE).render(
        contract_name=contract_name, generator_version=omnidsl.__version__, unrolled=unrolled,
        **gas_requirements(consts["n"], unrolled), **consts)


def check_code_size(name: str, deployed_bytecode: str, n_public: int | None = None) -> None:
    """Raise :class:`ChainError` if runtime bytecode exceeds EIP-170's 24,576 bytes."""
    size = (len(deployed_bytecode) - 2) // 2 if deployed_bytecode.startswith("0x") \
        else len(deployed_bytecode) // 2
    if size > EIP170_LIMIT:
        extra = f" with {n_public} public inputs" if n_public is not None else ""
        raise ChainError(
            f"contract {name}{extra} has {size} bytes of runtime code, above the EIP-170 limit "
            f"of {EIP170_LIMIT} bytes; it cannot be deployed on Ethereum",
            hint="reduce the number of public inputs (e.g. expose one hash of them and check it "
                 "inside the circuit), or deploy on a chain started without the code-size limit")


def compile_verifier(vk: dict[str, Any], contract_name: str = "Groth16Verifier",
                     optimize: bool = True, unroll_max: int = UNROLL_MAX,
                     source: str = "verification key",
                     evm_version: str | None = None) -> CompiledContract:
    """Render and compile the verifier for ``vk``; checks the EIP-170 code-size limit.
    ``evm_version`` is solc's target (default :data:`DEFAULT_EVM_VERSION`)."""
    code = render_verifier(vk, contract_name, unroll_max, source)
    out = compile_sources({f"{contract_name}.sol": code}, optimize=optimize,
                          evm_version=evm_version or DEFAULT_EVM_VERSION)
    cc = out[contract_name]
    check_code_size(contract_name, cc.deployed_bytecode, int(vk.get("nPublic", 0)))
    return cc


# -- proof encoding --------------------------------------------------------------------------

def _field(v: Any, what: str) -> int:
    try:
        return int(str(v))
    except (TypeError, ValueError) as exc:
        raise FormatError(f"{what} is not an integer: {v!r:.80}") from exc


def proof_calldata(proof: dict[str, Any], public: Sequence[Any]
                   ) -> tuple[list[int], list[list[int]], list[int], list[int]]:
    """``verifyProof`` arguments (a, b, c, input) from snarkjs proof.json / public.json.

    Values are passed through unreduced (a tampered or out-of-range value stays out of range,
    so the contract's own checks see it).
    """
    try:
        pa, pb, pc = proof["pi_a"], proof["pi_b"], proof["pi_c"]
        a = [_field(pa[0], "pi_a.x"), _field(pa[1], "pi_a.y")]
        bb = [[_field(pb[0][1], "pi_b.x.c1"), _field(pb[0][0], "pi_b.x.c0")],
              [_field(pb[1][1], "pi_b.y.c1"), _field(pb[1][0], "pi_b.y.c0")]]
        c = [_field(pc[0], "pi_c.x"), _field(pc[1], "pi_c.y")]
        # the point at infinity (z = 0 in snarkjs JSON) is all-zero words for the precompiles
        if len(pa) == 3 and str(pa[2]) == "0":
            a = [0, 0]
        if len(pb) == 3 and [str(e) for e in pb[2]] == ["0", "0"]:
            bb = [[0, 0], [0, 0]]
        if len(pc) == 3 and str(pc[2]) == "0":
            c = [0, 0]
    except (KeyError, IndexError, TypeError) as exc:
        raise FormatError(f"proof is not in snarkjs proof.json layout ({exc!r:.60})") from exc
    inputs = [_field(x, f"public[{i}]") for i, x in enumerate(public)]
    return a, bb, c, inputs


def batch_calldata(items: Sequence[tuple[dict[str, Any], Sequence[Any]]]
                   ) -> tuple[list[int], list[int]]:
    """``verifyBatch`` arguments (proofs: k*8 words, inputs: k*N words) for (proof, public)s."""
    proofs: list[int] = []
    inputs: list[int] = []
    for proof, public in items:
        a, bb, c, xs = proof_calldata(proof, public)
        proofs += [*a, *bb[0], *bb[1], *c]
        inputs += xs
    return proofs, inputs
