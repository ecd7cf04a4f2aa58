"""snarkjs-compatible JSON: ``verification_key.json``, ``proof.json``, ``public.json``.

Points are projective decimal strings with z = "1" (G1 ``[x, y, "1"]``, G2
``[[x_c0, x_c1], [y_c0, y_c1], ["1", "0"]]``); the point at infinity is z = 0 (snarkjs writes
``["0", "1", "0"]``).  Parsing checks *structure* and raises :class:`FormatError` naming the field
path; *values* (ranges, curve membership) are the verifier's job, so a parsed-but-invalid proof
verifies as False instead of crashing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from omnidsl.backend.base import G1, G2
from omnidsl.errors import FormatError
from omnidsl.groth16.keys import Proof, VerifyingKey

# ------------------------------------------------------------------ encoding


def g1_json(p: G1) -> list[str]:
    if p is None:
        return ["0", "1", "0"]
    return [str(p[0]), str(p[1]), "1"]


def g2_json(p: G2) -> list[list[str]]:
    if p is None:
        return [["0", "0"], ["1", "0"], ["0", "0"]]
    (x0, x1), (y0, y1) = p
    return [[str(x0), str(x1)], [str(y0), str(y1)], ["1", "0"]]


def vk_to_json(vk: VerifyingKey) -> dict[str, Any]:
    return {
        "protocol": "groth16",
        "curve": "bn128",
        "nPublic": vk.n_public,
        "vk_alpha_1": g1_json(vk.alpha_g1),
        "vk_beta_2": g2_json(vk.beta_g2),
        "vk_gamma_2": g2_json(vk.gamma_g2),
        "vk_delta_2": g2_json(vk.delta_g2),
        "IC": [g1_json(p) for p in vk.ic],
    }


def proof_to_json(proof: Proof) -> dict[str, Any]:
    return {"pi_a": g1_json(proof.a), "pi_b": g2_json(proof.b), "pi_c": g1_json(proof.c),
            "protocol": "groth16", "curve": "bn128"}


def public_to_json(signals: list[int]) -> list[str]:
    return [str(x) for x in signals]


# ------------------------------------------------------------------ decoding


class _Ctx:
    def __init__(self, what: str):
        self.what = what

    def fail(self, path: str, msg: str) -> FormatError:
        return FormatError(f"{self.what}: {path}: {msg}")

    def integer(self, v: Any, path: str) -> int:
        if isinstance(v, bool):
            raise self.fail(path, "expected a decimal string, got a boolean")
        if isinstance(v, int):
            return v
        if isinstance(v, str):
            s = v.strip()
            body = s[1:] if s[:1] == "-" else s
            if body.isdigit() and body.isascii() and len(body) <= 200:
                return int(s)
            raise self.fail(path, f"expected a decimal integer string, got {v[:40]!r}")
        raise self.fail(path, f"expected a decimal string, got {type(v).__name__}")

    def seq(self, v: Any, n: int | None, path: str) -> list[Any]:
        if not isinstance(v, list):
            raise self.fail(path, f"expected a list, got {type(v).__name__}")
        if n is not None and len(v) != n:
            raise self.fail(path, f"expected {n} entries, got {len(v)}")
        return v

    def key(self, d: dict[str, Any], k: str) -> Any:
        if k not in d:
            raise self.fail(k, "missing")
        return d[k]

    def g1(self, v: Any, path: str) -> G1:
        items = self.seq(v, None, path)
        if len(items) not in (2, 3):
            raise self.fail(path, f"expected [x, y, z], got {len(items)} entries")
        x = self.integer(items[0], f"{path}[0]")
        y = self.integer(items[1], f"{path}[1]")
        z = self.integer(items[2], f"{path}[2]") if len(items) == 3 else 1
        if z == 0:
            return None
        if z != 1:
            raise self.fail(f"{path}[2]", "only affine points (z = 1) or infinity (z = 0)")
        return (x, y)

    def fq2(self, v: Any, path: str) -> tuple[int, int]:
        c = self.seq(v, 2, path)
        return (self.integer(c[0], f"{path}[0]"), self.integer(c[1], f"{path}[1]"))

    def g2(self, v: Any, path: str) -> G2:
        items = self.seq(v, None, path)
        if len(items) not in (2, 3):
            raise self.fail(path, f"expected [x, y, z], got {len(items)} entries")
        x = self.fq2(items[0], f"{path}[0]")
        y = self.fq2(items[1], f"{path}[1]")
        z = self.fq2(items[2], f"{path}[2]") if len(items) == 3 else (1, 0)
        if z == (0, 0):
            return None
        if z != (1, 0):
            raise self.fail(f"{path}[2]", "only affine points (z = [1, 0]) or infinity")
        return (x, y)

    def obj(self, v: Any) -> dict[str, Any]:
        if not isinstance(v, dict):
            raise FormatError(f"{self.what}: expected a JSON object, got {type(v).__name__}")
        return v

    def protocol(self, d: dict[str, Any]) -> None:
        if d.get("protocol", "groth16") != "groth16":
            raise self.fail("protocol", f"expected 'groth16', got {d.get('protocol')!r}")
        if d.get("curve", "bn128") not in ("bn128", "bn254"):
            raise self.fail("curve", f"expected 'bn128', got {d.get('curve')!r}")


def vk_from_json(data: Any, what: str = "verification key") -> VerifyingKey:
    ctx = _Ctx(what)
    d = ctx.obj(data)
    ctx.protocol(d)
    ic = [ctx.g1(p, f"IC[{i}]") for i, p in enumerate(ctx.seq(ctx.key(d, "IC"), None, "IC"))]
    if not ic:
        raise ctx.fail("IC", "empty")
    if "nPublic" in d and ctx.integer(d["nPublic"], "nPublic") != len(ic) - 1:
        raise ctx.fail("nPublic", f"says {d['nPublic']} but IC has {len(ic)} points")
    return VerifyingKey(
        alpha_g1=ctx.g1(ctx.key(d, "vk_alpha_1"), "vk_alpha_1"),
        beta_g2=ctx.g2(ctx.key(d, "vk_beta_2"), "vk_beta_2"),
        gamma_g2=ctx.g2(ctx.key(d, "vk_gamma_2"), "vk_gamma_2"),
        delta_g2=ctx.g2(ctx.key(d, "vk_delta_2"), "vk_delta_2"),
        ic=ic,
    )


def proof_from_json(data: Any, what: str = "proof") -> Proof:
    ctx = _Ctx(what)
    d = ctx.obj(data)
    ctx.protocol(d)
    return Proof(ctx.g1(ctx.key(d, "pi_a"), "pi_a"), ctx.g2(ctx.key(d, "pi_b"), "pi_b"),
                 ctx.g1(ctx.key(d, "pi_c"), "pi_c"))


#: public signals are EVM words (uint256); values in [r, 2^256) parse, the verifiers refuse them
WORD = 1 << 256
_DIGITS = re.compile(r"[0-9]{1,78}")


def public_signal(v: Any, where: str = "public signal") -> int:
    """One public signal, strictly: a string of ASCII decimal digits (snarkjs's public.json) or a
    JSON integer, non-negative and below 2^256.  No sign, '+', '_', spaces, hex or non-ASCII
    digits (Python's int() takes some of these, other tools read them differently).  The one
    parser of ``omnidsl verify`` and ``omnidsl verify-onchain`` (FormatError naming ``where``)."""
    if isinstance(v, bool) or not isinstance(v, int | str):
        raise FormatError(f"{where}: expected a decimal string, got {type(v).__name__}")
    if isinstance(v, str):
        if _DIGITS.fullmatch(v) is None:
            raise FormatError(f"{where}: expected a string of decimal digits 0-9, got "
                              f"{v[:40]!r}", hint="public signals are field elements written "
                              "as plain decimal strings, e.g. \"42\"")
        v = int(v)
    if v < 0:
        raise FormatError(f"{where}: {str(v)[:40]} is negative (a public signal is a field "
                          "element 0 <= x < r)")
    if v >= WORD:
        raise FormatError(f"{where}: {str(v)[:20]}... is wider than 256 bits (a public signal "
                          "is a field element 0 <= x < r)")
    return v


def public_from_json(data: Any, what: str = "public signals") -> list[int]:
    """A public.json document: a JSON list of :func:`public_signal` values."""
    ctx = _Ctx(what)
    return [public_signal(v, f"{what}: [{i}]")
            for i, v in enumerate(ctx.seq(data, None, "(top level)"))]


# ------------------------------------------------------------------ files


def _load(path: str | Path) -> Any:
    p = Path(path)
    try:
        return json.loads(p.read_text())
    except OSError as exc:
        raise FormatError(f"{p}: cannot read ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FormatError(f"{p}: not valid JSON ({exc})") from None


def _dump(obj: Any, path: str | Path) -> None:
    Path(path).write_text(json.dumps(obj, indent=1) + "\n")


def read_vk(path: str | Path) -> VerifyingKey:
    return vk_from_json(_load(path), str(path))


def read_proof(path: str | Path) -> Proof:
    return proof_from_json(_load(path), str(path))


def read_public(path: str | Path) -> list[int]:
    return public_from_json(_load(path), str(path))


def write_vk(vk: VerifyingKey, path: str | Path) -> None:
    _dump(vk_to_json(vk), path)


def write_proof(proof: Proof, path: str | Path) -> None:
    _dump(proof_to_json(proof), path)


def write_public(signals: list[int], path: str | Path) -> None:
    _dump(public_to_json(signals), path)
