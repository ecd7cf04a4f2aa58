"""Helpers shared by the market tests (a unique module name, unlike conftest)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from web3 import Web3

from omnidsl.market.client import TaskSpec

HERE = Path(__file__).resolve().parent
#: Public-input layout of the allow-list verifier's "rule": [fp, owner, rho, x].
FP, OWNER, RHO, X = 0, 1, 2, 3
N_PUBLIC = 4


def advance_time(w3: Web3, seconds: int) -> None:
    """Move the chain's clock forward and mine a block (eth-tester or anvil)."""
    provider = w3.provider
    tester = getattr(provider, "ethereum_tester", None)
    if tester is not None:
        now = int(w3.eth.get_block("latest")["timestamp"])
        tester.time_travel(now + seconds)
        tester.mine_blocks(1)
    else:
        w3.provider.make_request("evm_increaseTime", [seconds])
        w3.provider.make_request("evm_mine", [])


def now(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


@dataclass
class AllowList:
    """Handle on the deployed AllowListTestVerifier."""

    contract: object
    w3: Web3

    def proof(self, owner: str, rho: int = 0, fp: int = 0, valid: bool = True
              ) -> tuple[list[int], list[int]]:
        """Random proof words + public inputs; allow-listed (i.e. "valid") iff ``valid``."""
        words = [secrets.randbelow(2**254) for _ in range(8)]
        inputs = [0] * N_PUBLIC
        inputs[FP], inputs[OWNER], inputs[RHO], inputs[X] = fp, int(owner, 16), rho, 7
        if valid:
            digest = self.contract.functions.digestOf(words, inputs).call()
            tx = self.contract.functions.allow(digest).transact({"from": self.w3.eth.accounts[0]})
            self.w3.eth.wait_for_transaction_receipt(tx)
        return words, inputs


def make_spec(verifier: str, servers: list[str], deadline: int, reward: int = 1000,
              fee: int = 10, binding: bool = False, pinned: dict[int, int] | None = None
              ) -> TaskSpec:
    return TaskSpec(verifier=verifier, n_public=N_PUBLIC, owner_index=OWNER, deadline=deadline,
                    reward_per_gradient=reward, server_fee=fee, servers=servers,
                    rule_hash=b"\x11" * 32, rho_index=RHO if binding else None,
                    fp_index=FP if binding else None, pinned=pinned or {X: 7})
