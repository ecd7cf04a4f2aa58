"""Render the Groth16 Solidity verifier (``templates/verifier_groth16.sol.j2``) for one key.

Input is a verification key in snarkjs's JSON layout (``verification_key.json``), read by the one
model of that layout (:mod:`omnidsl.groth16.formats`), or a parsed key.  Public API::

    render_verifier(vk, contract_name="Groth16Verifier", batch=False) -> str   # Solidity source
    compile_verifier(vk, contract_name=..., batch=False) -> CompiledContract   # + EIP-170 check
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

import omnidsl
from omnidsl import progress
from omnidsl.chain.artifacts import CompiledContract
from omnidsl.errors import ChainError, FormatError
from omnidsl.field import Q, R
from omnidsl.files import not_text_error
from omnidsl.groth16.formats import proof_from_json, public_signal, vk_from_json
from omnidsl.groth16.keys import Proof, VerifyingKey
from omnidsl.solidity.compile import DEFAULT_EVM_VERSION, compile_sources

#: the templates ship inside the package (omnidsl/templates/): found from a checkout or a wheel
TEMPLATE_PACKAGE = ("omnidsl", "templates")
TEMPLATE = "verifier_groth16.sol.j2"
#: EIP-170: maximum size of deployed (runtime) bytecode.
EIP170_LIMIT = 24_576
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _neg_g2_words(p: Any) -> list[str]:
    """−P as the precompile's four words (x_c1, x_c0, y_c1, y_c0), as 0x-hex literals."""
    (x0, x1), (y0, y1) = p
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


def parse_vk(vk: dict[str, Any] | VerifyingKey, source: str = "verification key"
             ) -> VerifyingKey:
    """A sound :class:`VerifyingKey` from snarkjs-layout JSON (or one already parsed).

    The layout is read by the one snarkjs JSON model (:func:`omnidsl.groth16.formats.
    vk_from_json`); the points must then pass :func:`omnidsl.groth16.vkcheck.check_vk`
    (coordinates < q, on the curve, G2 points in the subgroup, γ₂ ≠ ±δ₂, δ₂ ≠ ±G₂, ...): a
    contract for a degenerate key would accept forged proofs.  Errors read ``<source>: ...``.
    """
    from omnidsl.backend import get_backend
    from omnidsl.groth16.vkcheck import check_vk

    key = vk if isinstance(vk, VerifyingKey) else vk_from_json(vk, source)
    check_vk(key, get_backend(), source)
    return key


def vk_constants(vk: dict[str, Any] | VerifyingKey, source: str = "verification key"
                 ) -> dict[str, Any]:
    """Validated template constants of a verification key (see :func:`parse_vk`)."""
    key = parse_vk(vk, source)
    assert key.alpha_g1 is not None and all(p is not None for p in key.ic)  # check_vk
    alpha = key.alpha_g1
    ic = [p for p in key.ic if p is not None]
    g2s = [p for p in (key.beta_g2, key.gamma_g2, key.delta_g2) if p is not None]
    assert len(g2s) == 3  # check_vk
    words = [*alpha, *(c for p in g2s for xy in p for c in xy), *(c for pt in ic for c in pt)]
    blob = b"".join(v.to_bytes(32, "big") for v in words)
    return {
        "n": key.n_public,
        "q": _hex(Q),
        "r": _hex(R),
        "alpha": [_hex(alpha[0]), _hex(alpha[1])],
        "neg_beta": _neg_g2_words(key.beta_g2),
        "neg_gamma": _neg_g2_words(key.gamma_g2),
        "neg_delta": _neg_g2_words(key.delta_g2),
        "ic": [[_hex(x), _hex(y)] for x, y in ic],
        "ic_table": "".join(f"{x:064x}{y:064x}" for x, y in ic),
        "vk_hash": "0x" + keccak(blob).hex(),
    }


def gas_requirements(n: int) -> dict[str, int]:
    """Gas bounds the verifier demands up front (see GAS_* in the template).

    Precompile prices are fixed by EIP-1108 (ecAdd 150, ecMul 6,000, pairing 45,000 + 34,000 per
    pair); the rest is a measured upper bound of the surrounding code with a safety margin (for
    the single proof: the loop over the IC table, the table copy and the quadratic memory cost).
    """
    words = 40 + 2 * (n + 1)
    single = 181_000 + 6_150 * n + 6_000 + 550 * n + 3 * words + words * words // 512
    batch_base = 45_000 + 3 * 34_000 + 6_000 * (n + 2) + 150 * n + 6_000 + 500 * n
    batch_per_proof = 34_000 + 12_000 + 150 + 2_500 + 150 * n
    return {"gas_single": -(-single * 64 // 63), "gas_batch_base": batch_base,
            "gas_batch_per_proof": batch_per_proof}


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader(*TEMPLATE_PACKAGE),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              autoescape=False)


def render_verifier(vk: dict[str, Any] | VerifyingKey, contract_name: str = "Groth16Verifier",
                    *, batch: bool = False, source: str = "verification key") -> str:
    """Solidity source of a verifier contract for ``vk`` (snarkjs verification_key.json dict).

    By default only ``verifyProof`` (snarkjs's ABI; deploying it costs less than snarkjs's own
    verifier); ``batch=True`` adds ``verifyBatch`` and the reverting variants (what the market
    deploys).  ``source`` (e.g. the file name) prefixes errors about the key.
    """
    if not _IDENT.match(contract_name):
        raise FormatError(f"contract name {contract_name!r} is not a Solidity identifier")
    consts = vk_constants(vk, source)
    return _env().get_template(TEMPLATE).render(
        contract_name=contract_name, generator_version=omnidsl.__version__, batch=batch,
        **gas_requirements(consts["n"]), **consts)


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


def compile_verifier(vk: dict[str, Any] | VerifyingKey, contract_name: str = "Groth16Verifier",
                     optimize: bool = True, *, batch: bool = False,
                     source: str = "verification key",
                     evm_version: str | None = None) -> CompiledContract:
    """Render (``batch`` as in :func:`render_verifier`) and compile the verifier for ``vk``;
    checks the EIP-170 code-size limit.  ``evm_version`` is solc's target (default
    :data:`DEFAULT_EVM_VERSION`)."""
    code = render_verifier(vk, contract_name, batch=batch, source=source)
    with progress.task(f"solc {contract_name}"):  # seconds (solc-js): shown as progress
        out = compile_sources({f"{contract_name}.sol": code}, optimize=optimize,
                              evm_version=evm_version or DEFAULT_EVM_VERSION)
    cc = out[contract_name]
    check_code_size(contract_name, cc.deployed_bytecode, parse_vk(vk, source).n_public)
    return cc


# -- proof encoding --------------------------------------------------------------------------

def proof_calldata(proof: dict[str, Any] | Proof, public: Sequence[Any]
                   ) -> tuple[list[int], list[list[int]], list[int], list[int]]:
    """``verifyProof`` arguments (a, b, c, input) from a proof (snarkjs proof.json dict, read
    by :func:`omnidsl.groth16.formats.proof_from_json`, or a parsed :class:`Proof`) and its
    public signals (:func:`~omnidsl.groth16.formats.public_signal`: uint256 words).

    Values are passed through unreduced (a tampered or out-of-range value stays out of range,
    so the contract's own checks see it); the point at infinity is all-zero words.
    """
    p = proof if isinstance(proof, Proof) else proof_from_json(proof, "proof.json")
    a = [0, 0] if p.a is None else [p.a[0], p.a[1]]
    c = [0, 0] if p.c is None else [p.c[0], p.c[1]]
    if p.b is None:
        bb = [[0, 0], [0, 0]]
    else:
        (x0, x1), (y0, y1) = p.b
        bb = [[x1, x0], [y1, y0]]  # the precompile's order: c1 first
    inputs = [public_signal(x, f"public[{i}]") for i, x in enumerate(public)]
    return a, bb, c, inputs


def batch_calldata(items: Sequence[tuple[dict[str, Any] | Proof, Sequence[Any]]]
                   ) -> tuple[list[int], list[int]]:
    """``verifyBatch`` arguments (proofs: k*8 words, inputs: k*N words) for (proof, public)s."""
    proofs: list[int] = []
    inputs: list[int] = []
    for proof, public in items:
        a, bb, c, xs = proof_calldata(proof, public)
        proofs += [*a, *bb[0], *bb[1], *c]
        inputs += xs
    return proofs, inputs
