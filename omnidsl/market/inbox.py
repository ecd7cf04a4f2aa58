"""A market server's inbox: how data owners hand it their shares and peers ask for attestations.

Each ``omnidsl market server run`` listens on HTTP (127.0.0.1 by default) with three endpoints,
JSON in and out (docs/market.md, "Running a market"):

- ``GET /info`` — the server's card: market, chain id, its Ethereum address, the id of its
  ``omnidsl serve`` process in servers.toml, and a fresh X25519 *box key*, signed (EIP-191) by
  the server's Ethereum key over :func:`card_digest`.  A data owner accepts a card only if the
  signature recovers an address the task lists as a server.
- ``POST /share`` — ``{task, owner, sealed, signature}``: the DO's aggregation share sealed to the
  box key (:func:`seal`, context = chain, market, task, server, owner) and signed by the DO's
  Ethereum key over :func:`share_digest`; the server stores it only if the signature recovers
  ``owner`` (nobody can replace another DO's share) and only before it commits.
- ``POST /vet`` and ``POST /attest`` — ``{task, owners}``: per owner, why this server would not
  sign (or null), and the signature of the batch of those owners' proofs its own prover made.

Confidentiality does not rely on the transport: shares are sealed end to end, signatures are
public anyway.  The request size is capped (:data:`MAX_BODY`).
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_abi import encode as abi_encode
from eth_utils import keccak
from web3 import Web3

from omnidsl.errors import NetworkError, OmniDSLError
from omnidsl.field import R

log = logging.getLogger(__name__)

CARD_TAG = keccak(b"omnidsl.market.card/v1")
SHARE_TAG = keccak(b"omnidsl.market.share/v1")
SEAL_INFO = b"omnidsl-market/share/v1"
#: largest request body a server reads (a share of D = 100,000 entries is ~6.4 MB as hex)
MAX_BODY = 16 << 20
TIMEOUT_S = 30.0


def card_digest(chain_id: int, market: str, server: str, serve_id: int, box_key: bytes) -> bytes:
    return keccak(abi_encode(["bytes32", "uint256", "address", "address", "uint256", "bytes32"],
                             [CARD_TAG, chain_id, Web3.to_checksum_address(market),
                              Web3.to_checksum_address(server), serve_id, box_key]))


def share_digest(chain_id: int, market: str, task_id: int, server: str, owner: str,
                 sealed: bytes) -> bytes:
    return keccak(abi_encode(["bytes32", "uint256", "address", "uint256", "address", "address",
                              "bytes32"],
                             [SHARE_TAG, chain_id, Web3.to_checksum_address(market), task_id,
                              Web3.to_checksum_address(server), Web3.to_checksum_address(owner),
                              keccak(sealed)]))


def recover(digest: bytes, signature: bytes) -> str:
    """The address whose EIP-191 signature of ``digest`` this is (NetworkError if malformed)."""
    from eth_account import Account
    from eth_account.messages import encode_defunct

    try:
        return str(Account.recover_message(encode_defunct(primitive=digest),
                                           signature=signature))
    except Exception as exc:
        raise NetworkError(f"a malformed signature ({exc})") from None


def sign(account: Any, digest: bytes) -> bytes:
    """EIP-191 signature of ``digest`` with a LocalAccount."""
    from eth_account.messages import encode_defunct

    return bytes(account.sign_message(encode_defunct(primitive=digest)).signature)


# ---------------------------------------------------------------- sealing


def new_box_key() -> tuple[X25519PrivateKey, bytes]:
    sk = X25519PrivateKey.generate()
    return sk, sk.public_key().public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw)


def _key(shared: bytes, eph: bytes, pub: bytes, context: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=eph + pub,
                info=SEAL_INFO + context).derive(shared)


def seal_context(chain_id: int, market: str, task_id: int, server: str, owner: str) -> bytes:
    return abi_encode(["uint256", "address", "uint256", "address", "address"],
                      [chain_id, Web3.to_checksum_address(market), task_id,
                       Web3.to_checksum_address(server), Web3.to_checksum_address(owner)])


def seal(entries: list[int], box_key: bytes, context: bytes) -> bytes:
    """ephemeral X25519 key (32) ‖ ChaCha20-Poly1305 of the entries (32-byte big-endian)."""
    eph = X25519PrivateKey.generate()
    eph_pub = eph.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
    try:
        shared = eph.exchange(X25519PublicKey.from_public_bytes(box_key))
    except ValueError:
        raise NetworkError("a server's box key is not a usable X25519 public key") from None
    key = _key(shared, eph_pub, box_key, context)
    plain = b"".join((int(v) % R).to_bytes(32, "big") for v in entries)
    return eph_pub + ChaCha20Poly1305(key).encrypt(b"\0" * 12, plain, context)


def open_sealed(sealed: bytes, sk: X25519PrivateKey, context: bytes) -> list[int]:
    """The entries of a sealed share (NetworkError if it does not open or is not in F_r)."""
    if len(sealed) < 48 or (len(sealed) - 48) % 32:
        raise NetworkError(f"{len(sealed)} bytes are not a sealed share")
    pub = sk.public_key().public_bytes(serialization.Encoding.Raw,
                                       serialization.PublicFormat.Raw)
    try:
        key = _key(sk.exchange(X25519PublicKey.from_public_bytes(sealed[:32])), sealed[:32],
                   pub, context)
        plain = ChaCha20Poly1305(key).decrypt(b"\0" * 12, sealed[32:], context)
    except (InvalidTag, ValueError):
        raise NetworkError("the share does not open with this server's box key for this "
                           "task and data owner") from None
    out = [int.from_bytes(plain[i:i + 32], "big") for i in range(0, len(plain), 32)]
    if any(v >= R for v in out):
        raise NetworkError("a share entry is not < r")
    return out


# ---------------------------------------------------------------- HTTP


Handler = Callable[[dict[str, Any]], dict[str, Any]]


class Inbox:
    """The HTTP endpoints of one market server (handlers given by the server's daemon)."""

    def __init__(self, host: str, port: int, info: Callable[[], dict[str, Any]],
                 routes: dict[str, Handler]) -> None:
        outer = self

        class _H(BaseHTTPRequestHandler):
            def log_message(self, fmt: str, *args: Any) -> None:
                log.debug("inbox %s: " + fmt, self.client_address[0], *args)

            def _reply(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path != "/info":
                    return self._reply(404, {"error": f"no such endpoint {self.path}"})
                self._reply(200, outer.info())

            def do_POST(self) -> None:
                route = outer.routes.get(self.path)
                if route is None:
                    return self._reply(404, {"error": f"no such endpoint {self.path}"})
                try:
                    n = int(self.headers.get("Content-Length", "0"))
                except ValueError:
                    n = -1
                if not 0 < n <= MAX_BODY:
                    return self._reply(413, {"error": f"request body of {n} bytes refused"})
                try:
                    body = json.loads(self.rfile.read(n))
                    if not isinstance(body, dict):
                        raise ValueError("not a JSON object")
                except ValueError as exc:
                    return self._reply(400, {"error": f"not a JSON request ({exc})"})
                try:
                    self._reply(200, route(body))
                except OmniDSLError as exc:
                    self._reply(409, {"error": exc.message})
                except (KeyError, TypeError, ValueError) as exc:
                    self._reply(400, {"error": f"malformed request ({type(exc).__name__}: "
                                               f"{exc})"})
                except Exception as exc:  # e.g. the chain node is down: one line, no traceback
                    log.error("inbox %s: %s: %s", self.path, type(exc).__name__, exc)
                    self._reply(500, {"error": f"the server failed ({type(exc).__name__})"})

        self.info = info
        self.routes = routes
        self.httpd = ThreadingHTTPServer((host, port), _H)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Inbox:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def request(url: str, path: str, body: dict[str, Any] | None = None,
            timeout: float = TIMEOUT_S) -> dict[str, Any]:
    """GET (body None) or POST JSON to a market server; NetworkError naming the server."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url.rstrip("/") + path, data=data,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            out = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        try:
            why = json.loads(exc.read()).get("error", exc.reason)
        except ValueError:
            why = exc.reason
        raise NetworkError(f"market server {url}{path}: {why}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NetworkError(f"market server {url} did not answer ({reason})",
                           hint="is its `omnidsl market server run` up?") from None
    except ValueError:
        raise NetworkError(f"market server {url}{path}: the answer is not JSON") from None
    if not isinstance(out, dict):
        raise NetworkError(f"market server {url}{path}: the answer is not a JSON object")
    return out
