"""A cache of compiled circuits, so that ``omnidsl witness`` and ``omnidsl setup`` do not redo the
optimisation pass ``omnidsl compile`` (or an earlier call) already did.

An entry is keyed by the SHA-256 of (rule source, effective parameters, optimisation level,
compiler digest); the compiler digest hashes the package version and the source of
``omnidsl/lang``, ``omnidsl/compiler``, ``omnidsl/r1cs`` and ``omnidsl/field.py``, so any change
to the compiler misses instead of reusing a stale circuit.  An entry stores the optimised R1CS
(every array, including wire widths, constraint lines and labels) and ``kept``; the witness
program is not stored (Python closures): a hit skips lowering, ``to_r1cs`` and the optimiser
(``Pipeline.compiled``); a circuit for witnesses then lowers the rule again — linear and cheap —
and checks it has the recorded -O0 wire and constraint counts (``Pipeline.circuit``).

Location: ``$OMNIDSL_CACHE`` (``off`` disables it), else ``$XDG_CACHE_HOME/omnidsl`` or
``~/.cache/omnidsl``; entries live in ``compiled/<key>/`` (``meta.json`` plus one ``.npy`` per
array, written to a temporary folder and renamed into place).  The most recently used
:data:`MAX_ENTRIES` entries, :data:`MAX_BYTES` in all, are kept.  An unreadable or inconsistent entry is a miss (and is
removed).  Entries are trusted like any file in the user's cache folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import time
from pathlib import Path

import numpy as np

import omnidsl
from omnidsl.lang.checker import CheckedRule
from omnidsl.r1cs.system import R1CS, SparseMatrix

from .circuit import Circuit
from .pipeline import Compiled, Pipeline

FORMAT = 1
MAX_ENTRIES = 8
MAX_BYTES = 4 << 30  # and at most this much on disk (the newest entry is always kept)
_DIGEST: str | None = None


def cache_root() -> Path | None:
    """The cache folder, or None when ``$OMNIDSL_CACHE`` is ``off`` (or ``0``/``no``)."""
    env = os.environ.get("OMNIDSL_CACHE")
    if env is not None:
        return None if env.strip().lower() in ("", "off", "0", "no", "false") else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "omnidsl"


def compiler_digest() -> str:
    """SHA-256 over the package version and the compiler's source files."""
    global _DIGEST
    if _DIGEST is None:
        pkg = Path(omnidsl.__file__).resolve().parent
        h = hashlib.sha256(f"omnidsl {omnidsl.__version__} cache {FORMAT}".encode())
        files = [pkg / "field.py"]
        for sub in ("lang", "compiler", "r1cs"):
            files += sorted(p for p in (pkg / sub).iterdir() if p.suffix in (".py", ".lark"))
        for f in files:
            h.update(f.relative_to(pkg).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
        _DIGEST = h.hexdigest()
    return _DIGEST


def cache_key(checked: CheckedRule, opt_level: int) -> str:
    data = {"source": hashlib.sha256(checked.rule.source.encode("utf-8")).hexdigest(),
            "params": sorted(checked.params.items()), "opt_level": opt_level,
            "compiler": compiler_digest()}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def compile_cached(source: str, file: str, params: dict[str, int] | None = None,
                   opt_level: int = 2, root: Path | bool | None = True) -> Circuit:
    """Like :func:`compile_rule`, through the cache (``root=True``: :func:`cache_root`;
    ``None``/``False``: no cache)."""
    return Pipeline(source, file, params, opt_level, _folder(root)).circuit


def compile_file_cached(path: str | Path, params: dict[str, int] | None = None,
                        opt_level: int = 2, root: Path | bool | None = True) -> Circuit:
    return Pipeline.from_file(path, params, opt_level, _folder(root)).circuit


def compiled_file(path: str | Path, params: dict[str, int] | None = None, opt_level: int = 2,
                  root: Path | bool | None = True) -> Compiled:
    """The compiled output (optimised R1CS, ``kept``) of a rule file, through the cache: a hit
    neither lowers nor optimises (what ``omnidsl setup`` needs; no witness program)."""
    return Pipeline.from_file(path, params, opt_level, _folder(root)).compiled


def _folder(root: Path | bool | None) -> Path | None:
    folder = cache_root() if root is True else (root or None)
    return None if folder is None else Path(folder)


# ------------------------------------------------------------------ entries
_MATS = ("A", "B", "C")


def store_compiled(entry: Path, compiled: Compiled) -> None:
    """Write a compiled output as a cache entry (best effort: a failure only means no entry)."""
    r = compiled.r1cs
    arrays = {"kept": compiled.kept}
    for name in _MATS:
        m = getattr(r, name)
        arrays |= {f"{name}_ptr": m.row_ptr, f"{name}_wire": m.wire, f"{name}_cid": m.coeff_id}
    for name in ("wire_to_label", "constraint_line", "wire_bits"):
        if getattr(r, name) is not None:
            arrays[name] = np.asarray(getattr(r, name))
    meta = {"format": FORMAT, "n_wires": r.n_wires, "n_pub_out": r.n_pub_out,
            "n_pub_in": r.n_pub_in, "n_prv_in": r.n_prv_in, "n_labels": r.n_labels,
            "prime": str(r.prime), "coeffs": [str(c) for c in r.coeffs],
            "labels": {str(k): v for k, v in r.labels.items()},
            "n_wires_o0": compiled.n_wires_o0, "n_constraints_o0": compiled.n_constraints_o0,
            "arrays": sorted(arrays)}
    tmp = entry.parent / f".tmp-{secrets.token_hex(8)}"
    try:
        tmp.mkdir(parents=True)
        for name, arr in arrays.items():
            np.save(tmp / f"{name}.npy", arr, allow_pickle=False)
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp, entry)  # fails if another process stored it first: fine
    except OSError:
        pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _evict(entry.parent)


def load_compiled(entry: Path) -> Compiled | None:
    """The compiled output stored in ``entry``, or None (a broken entry is removed)."""
    if not (entry / "meta.json").is_file():
        return None
    try:
        meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError("format")
        arr = {n: np.load(entry / f"{n}.npy", allow_pickle=False) for n in meta["arrays"]}
        a, b, c = (SparseMatrix(arr[f"{n}_ptr"], arr[f"{n}_wire"], arr[f"{n}_cid"])
                   for n in _MATS)
        r1cs = R1CS(meta["n_wires"], meta["n_pub_out"], meta["n_pub_in"], meta["n_prv_in"],
                    a, b, c, [int(c) for c in meta["coeffs"]],
                    wire_to_label=arr.get("wire_to_label"), n_labels=meta["n_labels"],
                    prime=int(meta["prime"]), constraint_line=arr.get("constraint_line"),
                    labels={int(k): v for k, v in meta["labels"].items()},
                    wire_bits=arr.get("wire_bits"))
        kept = arr["kept"]
        _check_shapes(r1cs, kept, meta)
        compiled = Compiled(r1cs, kept, int(meta["n_wires_o0"]), int(meta["n_constraints_o0"]))
    except (OSError, ValueError, KeyError, TypeError):
        shutil.rmtree(entry, ignore_errors=True)
        return None
    now = time.time()
    os.utime(entry, (now, now))
    return compiled


def _check_shapes(r: R1CS, kept: np.ndarray, meta: dict) -> None:
    m = r.A.n_rows
    for mat in (r.A, r.B, r.C):
        if mat.n_rows != m or int(mat.row_ptr[-1]) != mat.nnz or mat.coeff_id.shape != \
                mat.wire.shape or (mat.nnz and (int(mat.wire.max()) >= r.n_wires or
                                                int(mat.coeff_id.max()) >= len(r.coeffs))):
            raise ValueError("matrix shapes")
    if kept.ndim != 1 or kept.shape[0] != r.n_wires or (
            kept.size and int(kept.max()) >= meta["n_wires_o0"]):
        raise ValueError("kept")


def _evict(compiled: Path) -> None:
    """Keep the most recently used entries (MAX_ENTRIES, MAX_BYTES); drop stale temporaries."""
    try:
        entries = [p for p in compiled.iterdir() if p.is_dir()]
        stale = [p for p in entries if p.name.startswith(".tmp-")
                 and p.stat().st_mtime < time.time() - 3600]  # left by a killed process
        entries = [p for p in entries if not p.name.startswith(".")]
        entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in stale:
        shutil.rmtree(old, ignore_errors=True)
    total = 0
    for k, entry in enumerate(entries):
        try:
            total += sum(f.stat().st_size for f in entry.iterdir())
        except OSError:
            continue
        if k and (k >= MAX_ENTRIES or total > MAX_BYTES):
            shutil.rmtree(entry, ignore_errors=True)
