"""Wire format, handshake keys and authenticated encryption of omnidsl MPC frames (protocol v2).

Framing: ``u32 big-endian length ‖ body``; a length above the reader's current limit is rejected
before anything is read (``MAX_HELLO_FRAME`` = 256 bytes before authentication).  The first frame
in each direction is plaintext — a *hello*, or (server → client only) a *refusal*; every later
frame is ChaCha20-Poly1305 encrypted.

hello body   = b"OMNI" ‖ u8 version (2) ‖ u8 role (0 data owner, 1 server) ‖ u8 sender id ‖
               u8 receiver id ‖ session id (16) ‖ ephemeral X25519 public key (32)   — 56 bytes
refusal body = b"OMNI" ‖ u8 version ‖ u8 2 ‖ reason (UTF-8, ≤ 240 bytes).  Unauthenticated: a
               client only shows it, labelled as such (anyone on the path could have sent it).
sealed body  = u8 version ‖ u64 counter ‖ u8 len(step) ‖ step ‖ ciphertext+tag

Every connection is a fresh key exchange (``session_keys``): both ends send a fresh ephemeral
key in their hello; the initiator's hello comes first.  With T = SHA-256("omnidsl-mpc/v2" ‖
initiator hello ‖ responder hello) and DH(a, B) = X25519:

* data owner (D, initiator) ↔ server S: ikm = DH(e_D, E_S) ‖ DH(e_D, S_S);
* server j (initiator, j > i) ↔ server i: ikm = DH(e_j, E_i) ‖ DH(e_j, S_i) ‖ DH(s_j, E_i) ‖
  DH(s_j, S_i)  (lowercase: private keys, E/S: ephemeral/static public keys in servers.toml);
* key(A → B) = HKDF-SHA256(ikm, salt = T, info = "omnidsl-mpc/v2 A->B"), one per direction.

So keys are fresh on every connection even when a session id repeats (forward secrecy: the
ephemeral keys are forgotten), only a holder of S's (and, between servers, j's) static private
key can derive them, and a (key, nonce) pair never repeats.  Nonce = 4 zero bytes ‖ u64
counter, from 0 in each direction.  The AAD is session id ‖ sender ‖ receiver ‖ header; the
receiver requires counter = expected and step = its current step, so replayed, reordered,
cross-session, reflected and misrouted frames fail.  The responder's first sealed frame (and,
between servers, the initiator's) is the key confirmation (step ``handshake``).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from omnidsl.errors import NetworkError

VERSION = 2
MAGIC = b"OMNI"
ROLE_OWNER = 0
ROLE_SERVER = 1
KIND_REFUSAL = 2  # in the role byte: a plaintext refusal instead of a hello
OWNER_ID = 255  # the data owner's id in hellos and key labels
SESSION_BYTES = 16
HELLO_BYTES = 4 + 4 + SESSION_BYTES + 32
#: largest frame read before a connection is authenticated (a hello or a refusal)
MAX_HELLO_FRAME = 256
REFUSAL_TEXT_BYTES = 240
DEFAULT_MAX_FRAME = 1 << 28
PROTOCOL = b"omnidsl-mpc/v2"
_HDR = struct.Struct(">BQB")


def party_label(pid: int) -> str:
    return "owner" if pid == OWNER_ID else f"server {pid}"


# ---- keys -----------------------------------------------------------------------------------


def generate_keypair() -> tuple[bytes, bytes]:
    """A fresh X25519 (private, public) key pair, 32 raw bytes each."""
    sk = X25519PrivateKey.generate()
    return _raw_private(sk), _raw_public(sk.public_key())


def public_of(private: bytes) -> bytes:
    return _raw_public(X25519PrivateKey.from_private_bytes(private).public_key())


def _raw_private(sk: X25519PrivateKey) -> bytes:
    return sk.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def _raw_public(pk: X25519PublicKey) -> bytes:
    return pk.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def dh(my_private: bytes, peer_public: bytes) -> bytes:
    """X25519(my_private, peer_public); NetworkError for a degenerate (low-order) peer key."""
    try:
        return X25519PrivateKey.from_private_bytes(my_private).exchange(
            X25519PublicKey.from_public_bytes(peer_public))
    except ValueError:
        raise NetworkError("the peer sent a degenerate X25519 key") from None


def transcript_hash(initiator_hello: bytes, responder_hello: bytes) -> bytes:
    return hashlib.sha256(PROTOCOL + initiator_hello + responder_hello).digest()


def _direction_key(ikm: bytes, transcript: bytes, frm: int, to: int) -> bytes:
    info = PROTOCOL + f" {party_label(frm)}->{party_label(to)}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=transcript, info=info).derive(ikm)


def session_keys(ikm: bytes, transcript: bytes, me: int, peer: int) -> tuple[bytes, bytes]:
    """(send key, receive key) of the connection me ↔ peer (see the module docstring)."""
    return (_direction_key(ikm, transcript, me, peer), _direction_key(ikm, transcript, peer, me))


def owner_ikm_owner_side(eph_private: bytes, server_eph: bytes, server_static: bytes) -> bytes:
    """The data owner's view of DH(e_D, E_S) ‖ DH(e_D, S_S)."""
    return dh(eph_private, server_eph) + dh(eph_private, server_static)


def owner_ikm_server_side(eph_private: bytes, static_private: bytes, owner_eph: bytes) -> bytes:
    """The server's view of DH(e_D, E_S) ‖ DH(e_D, S_S)."""
    return dh(eph_private, owner_eph) + dh(static_private, owner_eph)


def link_ikm(initiator: bool, eph_private: bytes, static_private: bytes, peer_eph: bytes,
             peer_static: bytes) -> bytes:
    """DH(e_j, E_i) ‖ DH(e_j, S_i) ‖ DH(s_j, E_i) ‖ DH(s_j, S_i) of the link initiator j →
    responder i, computed from either end."""
    if initiator:
        return (dh(eph_private, peer_eph) + dh(eph_private, peer_static)
                + dh(static_private, peer_eph) + dh(static_private, peer_static))
    return (dh(eph_private, peer_eph) + dh(static_private, peer_eph)
            + dh(eph_private, peer_static) + dh(static_private, peer_static))


# ---- hello ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hello:
    role: int
    sender: int
    receiver: int
    session_id: bytes
    ephemeral: bytes

    def encode(self) -> bytes:
        return (
            MAGIC
            + bytes([VERSION, self.role, self.sender, self.receiver])
            + self.session_id
            + self.ephemeral
        )

    @classmethod
    def decode(cls, body: bytes) -> Hello:
        if len(body) != HELLO_BYTES or body[:4] != MAGIC:
            raise NetworkError("malformed hello frame (not an omnidsl MPC peer?)")
        version, role, sender, receiver = body[4:8]
        if version != VERSION:
            raise NetworkError(f"peer speaks protocol version {version}, this is {VERSION}")
        if role not in (ROLE_OWNER, ROLE_SERVER):
            raise NetworkError(f"malformed hello frame: unknown role {role}")
        return cls(role, sender, receiver, body[8 : 8 + SESSION_BYTES], body[8 + SESSION_BYTES :])


def refusal(reason: str) -> bytes:
    """A plaintext refusal frame body (sent instead of a hello, or instead of a sealed reply
    when the client's frames do not authenticate)."""
    text = reason.encode("utf-8")[:REFUSAL_TEXT_BYTES].decode("utf-8", "ignore")
    return MAGIC + bytes([VERSION, KIND_REFUSAL]) + text.encode()


def refusal_reason(body: bytes) -> str | None:
    """The (sanitised) reason if ``body`` is a refusal frame, else None."""
    if len(body) > 6 + REFUSAL_TEXT_BYTES or body[:4] != MAGIC or body[5:6] != bytes(
            [KIND_REFUSAL]):
        return None
    text = body[6:].decode("utf-8", "replace")
    return "".join(c if c.isprintable() else "?" for c in text)


# ---- sealed frames --------------------------------------------------------------------------


class Channel:
    """One authenticated-encrypted, ordered channel between two parties of one session."""

    def __init__(self, send_key: bytes, recv_key: bytes, session_id: bytes, me: int, peer: int):
        self._send = ChaCha20Poly1305(send_key)
        self._recv = ChaCha20Poly1305(recv_key)
        self.session_id = session_id
        self.me = me
        self.peer = peer
        self.send_counter = 0
        self.recv_counter = 0

    def _aad(self, frm: int, to: int, header: bytes) -> bytes:
        return self.session_id + bytes([frm, to]) + header

    def seal(self, step: str, payload: bytes) -> bytes:
        """Encrypt ``payload`` as the next frame body of this direction."""
        s = step.encode()
        if len(s) > 255:
            raise ValueError("step name too long")
        header = _HDR.pack(VERSION, self.send_counter, len(s)) + s
        nonce = bytes(4) + self.send_counter.to_bytes(8, "big")
        self.send_counter += 1
        return header + self._send.encrypt(nonce, payload, self._aad(self.me, self.peer, header))

    def open(self, body: bytes, expected_step: str | None) -> tuple[str, bytes]:
        """Authenticate and decrypt the next frame body from the peer → (step, payload)."""
        who = party_label(self.peer)
        if len(body) < _HDR.size + 16:
            raise NetworkError(f"malformed frame from {who}: {len(body)} bytes")
        version, counter, slen = _HDR.unpack_from(body)
        hlen = _HDR.size + slen
        if version != VERSION or len(body) < hlen + 16:
            raise NetworkError(f"malformed frame from {who}")
        header = body[:hlen]
        try:
            step = header[_HDR.size :].decode()
        except UnicodeDecodeError:
            raise NetworkError(f"malformed frame from {who}: bad step name") from None
        if counter != self.recv_counter:
            raise NetworkError(
                f"frame from {who} out of order or replayed (counter {counter}, "
                f"expected {self.recv_counter}) at step {expected_step!r}"
            )
        nonce = bytes(4) + counter.to_bytes(8, "big")
        try:
            payload = self._recv.decrypt(nonce, body[hlen:], self._aad(self.peer, self.me, header))
        except InvalidTag:
            raise NetworkError(
                f"frame from {who} failed authentication at step {expected_step or step!r}",
                hint="wrong or mismatched keys in servers.toml, or a tampered connection",
            ) from None
        self.recv_counter += 1
        if expected_step is not None and step != expected_step:
            raise NetworkError(
                f"{who} sent a frame for step {step!r} while expecting step {expected_step!r}"
            )
        return step, payload


def frame(body: bytes) -> bytes:
    """Length-prefix a frame body."""
    return struct.pack(">I", len(body)) + body


def check_length(length: int, max_frame: int, who: str) -> None:
    if length > max_frame:
        raise NetworkError(
            f"{who} sent an oversized frame ({length} bytes > limit {max_frame})",
            hint="raise [network] max_frame in servers.toml if the circuit really needs it",
        )
