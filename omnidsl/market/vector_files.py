"""Vector files of the market's roles: a gradient (``market do contribute --gradient``), a reference
(``market mo open --reference``) or a model (``--model``) as ``.npy`` (a 1-D float array) or
``.json`` (a list of numbers, or an object holding it under one key)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from omnidsl.errors import InputError


def read_vector(path: Path, what: str, key: str, dim: int | None = None) -> np.ndarray:
    """``path`` as 1-D float64 finite numbers (``dim`` of them when given); an InputError naming
    the file otherwise.  ``what`` names the file's kind in messages, ``key`` the JSON object key."""
    try:
        if path.suffix == ".npy":
            arr = np.load(path, allow_pickle=False)
        elif path.suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            arr = np.asarray(data[key] if isinstance(data, dict) else data, dtype=float)
        else:
            raise InputError(f"{path}: a {what} file is .npy or .json")
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what} file") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a {what} ({exc})",
                         hint="a 1-D .npy float array, or a JSON list of numbers") from None
    if dim is not None and (arr.ndim != 1 or arr.shape[0] != dim or not np.all(np.isfinite(arr))):
        raise InputError(f"{path}: expected {dim} finite numbers, got shape {arr.shape}")
    if arr.ndim != 1 or not np.all(np.isfinite(arr)):
        raise InputError(f"{path}: a {what} is a 1-D vector of finite numbers, got shape "
                         f"{arr.shape}")
    return np.asarray(arr, dtype=np.float64)
