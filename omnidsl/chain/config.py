"""One chain configuration for every command and library user: which chain, which signer.

:class:`ChainConfig` names the chain (``embedded``, ``anvil`` or a JSON-RPC URL), the chain id
it must have, where the signer's key comes from (a key file or an environment variable), the
EVM version and a gas cap.  :func:`open_chain` turns it into a :class:`Chain`: a connected
:class:`Web3` whose transactions are signed locally by that key and sent from its address.

The sender is never "whatever account the node has unlocked": on a JSON-RPC chain without a
configured key there is no sender (calls work, a transaction is a :class:`ChainError` asking for
``--key-file``/``--key-env``); the dev chains (embedded, anvil), whose funded accounts are this
process's own, send from their first account unless a key is configured, and then fund the
key's address from it first.  A configured chain id is checked against the node's
``eth_chainId`` before anything is signed (a key must not sign for another network).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.types import Wei

from omnidsl.chain import providers, tx
from omnidsl.errors import ChainError

#: Wei a configured key receives on a dev chain before its first transaction.
DEV_FUNDING = 10_000 * 10**18
KINDS = ("embedded", "anvil")


@dataclass(frozen=True)
class ChainConfig:
    """Where transactions go and who signs them (see the module docstring)."""

    chain: str = "embedded"  # "embedded" | "anvil" | "http(s)://host:port"
    chain_id: int | None = None  # the id the chain must have (anvil is started with it)
    key_file: Path | None = None  # a file holding one hex private key (mode 600)
    key_env: str | None = None  # or the name of an environment variable holding it
    evm_version: str | None = None  # hard fork of a dev chain and solc's target; None: defaults
    gas_cap: int | None = None  # most gas one transaction is offered (None: block gas limit)

    def __post_init__(self) -> None:
        if self.chain not in KINDS and not self.chain.startswith(("http://", "https://")):
            hint = "use http(s)://host:port" if "://" in self.chain else \
                "use embedded, anvil or an http(s):// URL"
            raise ChainError(f"--chain {self.chain!r}: not a chain omnidsl can use", hint=hint)
        if self.key_file is not None and self.key_env is not None:
            raise ChainError("give the signer's key once: --key-file or --key-env, not both")
        if self.evm_version is not None:
            providers.check_evm_version(self.evm_version)
        if self.chain_id is not None and self.chain_id <= 0:
            raise ChainError(f"--chain-id {self.chain_id}: a chain id is a positive integer")
        if self.gas_cap is not None and self.gas_cap < 21_000:
            raise ChainError(f"--gas-cap {self.gas_cap}: below the 21,000 of any transaction")

    @property
    def kind(self) -> str:
        """``embedded``, ``anvil`` or ``rpc``."""
        return self.chain if self.chain in KINDS else "rpc"

    def describe(self) -> str:
        """One phrase for logs: the chain, never the key."""
        if self.kind == "embedded":
            return "the embedded chain (eth-tester)"
        if self.kind == "anvil":
            return "a local anvil"
        return self.chain


@dataclass
class Chain:
    """A connected chain and its sender; the transaction helpers bound to both."""

    w3: Web3
    config: ChainConfig
    sender: str | None  # None: no signer configured on a JSON-RPC chain (read-only)
    account: Any = field(default=None, repr=False)  # the eth_account LocalAccount, if any

    def deploy(self, abi: list[dict[str, Any]], bytecode: str, *args: Any,
               label: str = "contract") -> Any:
        return tx.deploy(self.w3, abi, bytecode, *args, sender=self.sender,
                         gas_cap=self.config.gas_cap, label=label)

    def transact(self, fn: Any, value: int = 0, gas: int | None = None,
                 label: str | None = None) -> Any:
        return tx.transact(self.w3, fn, sender=self.sender, value=value, gas=gas,
                           gas_cap=self.config.gas_cap, label=label)

    def call(self, fn: Any, gas: int | None = None, label: str | None = None) -> Any:
        return tx.call(fn, sender=self.sender, gas=gas, label=label)

    def gas_limit(self) -> int:
        """The most gas one transaction may use here (block limit, capped by the config)."""
        return tx.gas_limit_of(self.w3, self.config.gas_cap)


def _parse_key(text: str, where: str) -> Any:
    from eth_account import Account

    raw = text.strip()
    body = raw[2:] if raw[:2].lower() == "0x" else raw
    if len(body) != 64 or any(c not in "0123456789abcdefABCDEF" for c in body):
        raise ChainError(f"{where}: not a private key (expected 64 hex digits, optionally 0x-"
                         "prefixed)")
    try:
        return Account.from_key(bytes.fromhex(body))
    except Exception as exc:  # zero or >= the curve order
        raise ChainError(f"{where}: not a valid secp256k1 private key") from exc


def load_signer(config: ChainConfig) -> Any:
    """The configured key as an ``eth_account`` LocalAccount, or None if none is configured.

    A key file must be readable by its owner only (like ssh's keys): a key that others on the
    machine can read is refused rather than used.
    """
    if config.key_file is not None:
        path = Path(config.key_file)
        try:
            mode = path.stat().st_mode
            text = path.read_text(encoding="ascii")
        except FileNotFoundError:
            raise ChainError(f"{path}: no such key file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ChainError(f"{path}: cannot read the key file ({exc})") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ChainError(f"{path}: the key file is accessible by other users "
                             f"(mode {stat.S_IMODE(mode):o})", hint=f"chmod 600 {path}")
        return _parse_key(text, str(path))
    if config.key_env is not None:
        value = os.environ.get(config.key_env)
        if not value:
            raise ChainError(f"${config.key_env} is not set or empty",
                             hint="export the signer's private key (64 hex digits) in it")
        return _parse_key(value, f"${config.key_env}")
    return None


def _check_chain_id(w3: Web3, config: ChainConfig) -> None:
    if config.chain_id is None:
        return
    actual = int(w3.eth.chain_id)
    if actual != config.chain_id:
        raise ChainError(f"{config.describe()} has chain id {actual}, expected --chain-id "
                         f"{config.chain_id}", hint="nothing was signed or sent")


def _install_signer(w3: Web3, account: Any, config: ChainConfig) -> None:
    """Sign ``account``'s transactions locally; on a dev chain fund it from the dev account."""
    from web3.middleware import SignAndSendRawMiddlewareBuilder

    dev = w3.eth.default_account if config.kind in KINDS else None
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(account), layer=0)
    if dev:
        h = w3.eth.send_transaction({"from": dev, "to": account.address,
                                      "value": Wei(DEV_FUNDING)})
        w3.eth.wait_for_transaction_receipt(h)
    w3.eth.default_account = account.address


@contextlib.contextmanager
def open_chain(config: ChainConfig) -> Iterator[Chain]:
    """Connect to (or start) the configured chain and install its signer; anvil processes
    started here are stopped on exit."""
    account = load_signer(config)  # a bad key fails before any node is started
    with contextlib.ExitStack() as stack:
        if config.kind == "embedded":
            w3 = providers.embedded_chain(evm_version=config.evm_version)
        elif config.kind == "anvil":
            w3 = stack.enter_context(providers.anvil(hardfork=config.evm_version,
                                                     chain_id=config.chain_id))
        else:
            w3 = providers.connect(config.chain)
        _check_chain_id(w3, config)
        if account is not None:
            _install_signer(w3, account, config)
        sender = str(w3.eth.default_account) if w3.eth.default_account else None
        yield Chain(w3, config, sender, account)
