"""The optional parts of omnidsl (``pip install 'omnidsl[EXTRA]'``) and the message a missing one
gives.  The core (compile, witness, r1cs/wtns, setup, prove — plain, in-process parties or
servers — verify, zkey) needs none of them; the extras are declared in pyproject.toml:

* ``chain``: web3 — export-verifier's selectors and calldata, JSON-RPC chains and anvil, market;
* ``tester``: the embedded chain (eth-tester + py-evm, coincurve) — ``--chain embedded``;
* ``ml``: scikit-learn — the market's datasets and the training experiment;
* ``plot``: matplotlib — ``--report`` charts;
* ``dashboard``: the market dashboard (``chain`` and its page);
* ``test``: the test tools (pytest, ruff, mypy, maturin, playwright).
"""

from __future__ import annotations

from omnidsl.errors import OmniDSLError

#: top-level module → the extra that installs it
MODULE_EXTRA: dict[str, str] = {
    "web3": "chain", "eth_utils": "chain", "eth_abi": "chain", "eth_account": "chain",
    "eth_typing": "chain", "eth_keys": "chain", "hexbytes": "chain",
    "eth_tester": "tester", "eth": "tester", "coincurve": "tester",
    "sklearn": "ml", "matplotlib": "plot", "playwright": "test",
}


class MissingExtra(OmniDSLError):
    """A feature needs an optional dependency that is not installed."""


def missing_extra(exc: ModuleNotFoundError) -> MissingExtra | None:
    """The user-facing error for a missing optional module, or None if ``exc`` is another
    (a real bug: the caller reports it as one)."""
    top = (exc.name or "").split(".")[0]
    extra = MODULE_EXTRA.get(top)
    if extra is None:
        return None
    return MissingExtra(f"this needs the optional dependency {top!r}, which is not installed",
                        hint=f"pip install 'omnidsl[{extra}]'")


#: the module whose presence shows an extra is installed
SENTINEL = {"chain": "web3", "tester": "eth_tester", "ml": "sklearn", "plot": "matplotlib",
            "dashboard": "web3", "test": "pytest"}


def require(extra: str) -> None:
    """Raise :class:`MissingExtra` unless ``extra`` is installed (checked before any work; a
    module another package happens to bring, such as eth_utils via py-ecc, is not enough)."""
    from importlib.util import find_spec

    module = SENTINEL[extra]
    if find_spec(module) is None:
        raise MissingExtra(f"this needs the optional dependency {module!r}, which is not "
                           "installed", hint=f"pip install 'omnidsl[{extra}]'")
