"""The chain options every command that touches a chain takes (one set, one meaning).

``--chain embedded|anvil|URL  --chain-id N  --key-file FILE | --key-env VAR
--evm-version shanghai|cancun|prague  --gas-cap GAS`` -> :class:`~omnidsl.chain.config.ChainConfig`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omnidsl.chain.config import ChainConfig

#: EVM versions (hard forks) a dev chain can run and solc can target, oldest first.
EVM_VERSIONS = ("shanghai", "cancun", "prague")


def add_chain_options(parser: argparse.ArgumentParser) -> None:
    """Add the chain options to ``parser`` (their own help section)."""
    g = parser.add_argument_group("chain", "where transactions go and who signs them "
                                           "(docs/chain.md)")
    g.add_argument("--chain", default="embedded", metavar="embedded|anvil|URL",
                   help="embedded: in-process eth-tester chain (default); anvil: start the "
                        "project's anvil on 127.0.0.1 for this command; or a JSON-RPC URL")
    g.add_argument("--chain-id", type=int, default=None, metavar="N",
                   help="refuse a chain whose id differs (anvil is started with it)")
    key = g.add_mutually_exclusive_group()
    key.add_argument("--key-file", type=Path, default=None, metavar="FILE",
                     help="the signer's private key (64 hex digits; file mode 600)")
    key.add_argument("--key-env", default=None, metavar="VAR",
                     help="environment variable holding the signer's private key")
    g.add_argument("--evm-version", choices=EVM_VERSIONS, default=None,
                   help="hard fork of the embedded/anvil chain and solc's target "
                        "(default: the chain's latest, solc cancun)")
    g.add_argument("--gas-cap", type=int, default=None, metavar="GAS",
                   help="most gas offered to one transaction (default: the block gas limit)")


def config_from_args(args: argparse.Namespace) -> ChainConfig:
    """The :class:`ChainConfig` of parsed chain options (validated)."""
    from omnidsl.chain.config import ChainConfig

    return ChainConfig(chain=args.chain, chain_id=args.chain_id, key_file=args.key_file,
                       key_env=args.key_env, evm_version=args.evm_version,
                       gas_cap=args.gas_cap)
