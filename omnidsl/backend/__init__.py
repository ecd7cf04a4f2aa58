"""One interface for BN254 maths (see ``base.py``); ``get_backend`` picks an implementation."""

from __future__ import annotations

import os
from functools import cache

from omnidsl.backend.base import G1, G2, Backend

__all__ = ["G1", "G2", "Backend", "get_backend"]


@cache
def get_backend(name: str | None = None) -> Backend:
    """``native`` (default; Rust/arkworks) or ``reference`` (py-ecc, slow oracle).

    ``OMNIDSL_BACKEND`` overrides the default.
    """
    name = name or os.environ.get("OMNIDSL_BACKEND", "native")
    if name == "native":
        from omnidsl.backend.native import NativeBackend

        return NativeBackend()
    if name == "reference":
        from omnidsl.backend.reference import ReferenceBackend

        return ReferenceBackend()
    raise ValueError(f"unknown backend {name!r} (choose 'native' or 'reference')")
