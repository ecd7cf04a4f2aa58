"""What the servers sign and seal for the market contract.

- **Batch attestation.** Every server of a task signs, per batch, the 32-byte digest
  ``keccak256(abi.encode(ATTEST_TAG, chainid, market, taskId, keccak256(proofs), keccak256(inputs)))``
  (``Market.attestationDigest``) as an EIP-191 personal message; ``submitBatch`` requires one
  signature of every server, in the task's server order.  An honest server signs only proofs
  that its own bound prover process produced (:class:`Receipts`), so a proof made anywhere else
  is never credited while one server is honest (docs/market.md).
- **Challenge seeds.** Each server commits ``keccak256(abi.encode(taskId, server, seed))`` with
  its share commitment and reveals ``seed`` once every server has committed.
- **Aggregate delivery.** A server's aggregate share is sealed to the model owner's X25519 key
  (:func:`seal_share` / :func:`open_share`) and posted on-chain with ``deliverAggregate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_abi import encode as abi_encode
from eth_utils import keccak
from hexbytes import HexBytes
from web3 import Web3

from omnidsl.errors import ChainError, OmniDSLError
from omnidsl.field import R
from omnidsl.mpc.receipts import read_receipt, receipt_path

ATTEST_TAG = keccak(b"omnidsl.market.batch/v1")
BATCH_PROOF_TAG = keccak(b"omnidsl.market.batchproof/v1")
SEAL_INFO = b"omnidsl-market/aggregate/v1"
#: secp256k1 group order (signatures are normalised to low s, as the contract requires).
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _words(values: Sequence[int]) -> bytes:
    return b"".join(int(v).to_bytes(32, "big") for v in values)


def batch_digest(chain_id: int, market: str, task_id: int, proofs: Sequence[int],
                 inputs: Sequence[int]) -> bytes:
    """``Market.attestationDigest`` computed off-chain."""
    return keccak(abi_encode(
        ["bytes32", "uint256", "address", "uint256", "bytes32", "bytes32"],
        [ATTEST_TAG, chain_id, Web3.to_checksum_address(market), task_id,
         keccak(_words(proofs)), keccak(_words(inputs))]))


def batch_proof_digest(chain_id: int, market: str, task_id: int, proof: Sequence[int],
                       owners: Sequence[int], fps: Sequence[int]) -> bytes:
    """``Market.batchProofDigest`` computed off-chain: what every server signs to attest one
    proof of a whole batch (its 8 words, every slot's owner and fingerprint)."""
    return keccak(abi_encode(
        ["bytes32", "uint256", "address", "uint256", "bytes32", "bytes32", "bytes32"],
        [BATCH_PROOF_TAG, chain_id, Web3.to_checksum_address(market), task_id,
         keccak(_words(proof)), keccak(_words(owners)), keccak(_words(fps))]))


def seed_hash(task_id: int, server: str, seed: bytes) -> bytes:
    """``keccak256(abi.encode(taskId, server, seed))``: what a server commits for its seed."""
    if len(seed) != 32:
        raise ValueError("a challenge seed is 32 bytes")
    return keccak(abi_encode(["uint256", "address", "bytes32"],
                             [task_id, Web3.to_checksum_address(server), seed]))


def sign_digest(w3: Web3, account: str, digest: bytes, key: Any = None) -> bytes:
    """65-byte EIP-191 signature (r ‖ s ‖ v, v ∈ {27, 28}, low s) of the 32-byte ``digest``,
    with a local key (``eth_account`` LocalAccount or raw 32 bytes) or the node's ``eth_sign``."""
    from eth_account import Account
    from eth_account.messages import encode_defunct

    if key is not None:
        raw = getattr(key, "key", key)
        sig = bytes(Account.sign_message(encode_defunct(primitive=digest), raw).signature)
    else:
        try:
            sig = bytes(HexBytes(w3.eth.sign(Web3.to_checksum_address(account), data=digest)))
        except Exception as exc:
            raise ChainError(f"cannot sign as {account}: the node refused eth_sign ({exc})",
                             hint="give the server its private key (Server(signer=...))") from exc
    if len(sig) != 65:
        raise ChainError(f"signature of {account} has {len(sig)} bytes, expected 65")
    r, s, v = sig[:32], int.from_bytes(sig[32:64], "big"), sig[64]
    if v < 27:
        v += 27
    if s > SECP256K1_N // 2:  # the same signature with low s (the contract refuses high s)
        s, v = SECP256K1_N - s, 55 - v
    return r + s.to_bytes(32, "big") + bytes([v])


# ---------------------------------------------------------------- receipts


def calldata_of(proof: dict[str, Any], public: Sequence[Any]) -> tuple[list[int], list[int]]:
    """The (8 proof words, public inputs) the contract sees for one snarkjs proof."""
    from omnidsl.solidity.render import batch_calldata

    proofs, inputs = batch_calldata([(proof, list(public))])
    return [int(x) for x in proofs], [int(x) % R for x in inputs]


class Receipts:
    """The proofs one server's prover produced: read from its bind directory (written by its
    ``omnidsl serve --bind-dir`` process) or recorded in memory (single-machine stand-ins)."""

    def __init__(self, bind_dir: Path | None = None) -> None:
        self.bind_dir = bind_dir
        self._mem: dict[str, tuple[list[int], list[int]]] = {}

    def record(self, label: str, proof: dict[str, Any], public: Sequence[Any]) -> None:
        self._mem[label] = calldata_of(proof, public)

    def record_words(self, label: str, words: Sequence[int], public: Sequence[int]) -> None:
        """Record a proof already as its 8 calldata words and public inputs (a batch proof)."""
        self._mem[label] = ([int(x) for x in words], [int(x) % R for x in public])

    def lookup(self, label: str) -> tuple[list[int], list[int]] | None:
        if label in self._mem:
            return self._mem[label]
        if self.bind_dir is None:
            return None
        found = read_receipt(self.bind_dir, label)
        if found is None:
            return None
        try:
            return calldata_of(*found)
        except (OmniDSLError, ValueError, KeyError, TypeError, IndexError):
            return None

    def forget(self, label: str) -> None:
        self._mem.pop(label, None)
        if self.bind_dir is not None:
            receipt_path(self.bind_dir, label).unlink(missing_ok=True)


# ---------------------------------------------------------------- sealed aggregate shares


def new_owner_key() -> tuple[bytes, bytes]:
    """(private, public) raw X25519 keys for the model owner."""
    sk = X25519PrivateKey.generate()
    pub = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    priv = sk.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    return priv, pub


def _seal_key(shared: bytes, eph: bytes, owner_pub: bytes, context: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=eph + owner_pub,
                info=SEAL_INFO + context).derive(shared)


def _context(chain_id: int, market: str, task_id: int, server: str) -> bytes:
    return abi_encode(["uint256", "address", "uint256", "address"],
                      [chain_id, Web3.to_checksum_address(market), task_id,
                       Web3.to_checksum_address(server)])


def _exchange(eph: X25519PrivateKey, owner_pub: bytes) -> bytes:
    try:
        return eph.exchange(X25519PublicKey.from_public_bytes(bytes(owner_pub)))
    except ValueError:  # not 32 bytes, or a point of small order (all-zero shared secret)
        raise ChainError("the task's owner key is not a usable X25519 public key (small order "
                         "or malformed): no aggregate share can be sealed to it",
                         hint="a server must not commit (bond) or attest in such a task") from None


def check_owner_key(owner_pub: bytes) -> None:
    """Raise ChainError unless aggregate shares can be sealed to ``owner_pub`` (a malicious
    model owner's small-order key would make every delivery fail, and the servers' bonds and
    fees would be forfeited to it)."""
    _exchange(X25519PrivateKey.generate(), owner_pub)


def seal_share(share: Sequence[int], owner_pub: bytes, chain_id: int, market: str,
               task_id: int, server: str) -> bytes:
    """ephemeral X25519 public key (32) ‖ ChaCha20-Poly1305(entries as 32-byte big-endian)."""
    eph = X25519PrivateKey.generate()
    eph_pub = eph.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
    ctx = _context(chain_id, market, task_id, server)
    key = _seal_key(_exchange(eph, owner_pub), eph_pub, owner_pub, ctx)
    return eph_pub + ChaCha20Poly1305(key).encrypt(b"\0" * 12, _words(share), ctx)


def open_share(sealed: bytes, owner_priv: bytes, chain_id: int, market: str, task_id: int,
               server: str) -> list[int]:
    """Decrypt a sealed aggregate share; raises ChainError if it was not sealed to this key for
    this (chain, market, task, server) or its entries are not field elements."""
    from cryptography.exceptions import InvalidTag

    if len(sealed) < 48 or (len(sealed) - 48) % 32:
        raise ChainError(f"server {server} delivered {len(sealed)} bytes, not a sealed share")
    sk = X25519PrivateKey.from_private_bytes(owner_priv)
    owner_pub = sk.public_key().public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw)
    ctx = _context(chain_id, market, task_id, server)
    eph = sealed[:32]
    key = _seal_key(sk.exchange(X25519PublicKey.from_public_bytes(eph)), eph, owner_pub, ctx)
    try:
        plain = ChaCha20Poly1305(key).decrypt(b"\0" * 12, sealed[32:], ctx)
    except InvalidTag:
        raise ChainError(f"the aggregate share delivered by server {server} in task {task_id} "
                         "does not open with the model owner's key") from None
    out = [int.from_bytes(plain[i:i + 32], "big") for i in range(0, len(plain), 32)]
    if any(v >= R for v in out):
        raise ChainError(f"server {server} delivered an aggregate share entry ≥ r")
    return out
