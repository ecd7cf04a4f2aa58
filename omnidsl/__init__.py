"""omnidsl: gradient-validity rules → R1CS → Groth16 (collaborative) → Ethereum market.

The Python API (docs/api.md; ``omnidsl/api.py``): :func:`compile`, :func:`witness`,
:func:`setup`, :func:`prove`, :func:`verify`, :func:`export_verifier`, :func:`servers`,
:func:`open_task` (``omnidsl/market/api.py``).  Each is imported on first use, so ``import omnidsl`` stays fast and works
without the optional extras.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from omnidsl.errors import InternalError, OmniDSLError

if TYPE_CHECKING:
    from omnidsl.api import (
        compile,
        export_verifier,
        prove,
        servers,
        setup,
        verify,
        witness,
    )
    from omnidsl.market.api import open_task

#: public name → the module that defines it (imported on first use)
_LAZY = {"compile": "omnidsl.api", "witness": "omnidsl.api", "setup": "omnidsl.api",
         "prove": "omnidsl.api", "verify": "omnidsl.api", "export_verifier": "omnidsl.api",
         "servers": "omnidsl.api", "open_task": "omnidsl.market.api"}

__all__ = ["InternalError", "OmniDSLError", "compile", "export_verifier", "open_task", "prove",
           "servers", "setup", "verify", "witness"]


def __getattr__(name: str) -> object:
    """The API functions (``omnidsl.prove`` ...), imported on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'omnidsl' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__version__ = "0.1.0"
