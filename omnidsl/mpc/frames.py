"""Wire format and authenticated encryption of every frame between omnidsl MPC parties.

Framing: ``u32 big-endian length ‖ body``; a length above the configured maximum is rejected
before anything is read.  The first frame on a connection is a plaintext *hello*; every later
frame is ChaCha20-Poly1305 encrypted.

hello body  = b"OMNI" ‖ u8 version ‖ u8 role (0 data owner, 1 server) ‖ u8 sender id ‖
              u8 receiver id ‖ session id (16) ‖ ephemeral X25519 public key (32; zeros for servers)
sealed body = u8 version ‖ u64 counter ‖ u8 len(step) ‖ step ‖ ciphertext+tag

Keys: one key per direction and session,
``HKDF-SHA256(ikm = X25519 shared secret, salt = session id, info = "omnidsl-mpc/v1 A->B")``
where the shared secret is static-static between servers (keys listed in servers.toml) and
ephemeral-static between the data owner and a server (so only the configured server can read its
material).  Nonce = 4 zero bytes ‖ u64 counter: the counter starts at 0 and increments per frame,
and keys are fresh per session and direction, so a (key, nonce) pair is never reused.  The AAD is
session id ‖ sender ‖ receiver ‖ header, binding each frame to its session, both ends, its position
and the protocol step; the receiver also requires counter = expected and step = its current step.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from omnidsl.errors import NetworkError

VERSION = 1
MAGIC = b"OMNI"
ROLE_OWNER = 0
ROLE_SERVER = 1
OWNER_ID = 255  # the data owner's id in hellos and key labels
SESSION_BYTES = 16
HELLO_BYTES = 4 + 4 + SESSION_BYTES + 32
DEFAULT_MAX_FRAME = 1 << 28
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


def _direction_key(shared: bytes, session_id: bytes, frm: int, to: int) -> bytes:
    info = f"omnidsl-mpc/v1 {party_label(frm)}->{party_label(to)}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=session_id, info=info).derive(shared)


def channel_keys(
    my_private: bytes, peer_public: bytes, session_id: bytes, me: int, peer: int
) -> tuple[bytes, bytes]:
    """(send key, receive key) for the channel me ↔ peer in this session."""
    shared = X25519PrivateKey.from_private_bytes(my_private).exchange(
        X25519PublicKey.from_public_bytes(peer_public)
    )
    return (
        _direction_key(shared, session_id, me, peer),
        _direction_key(shared, session_id, peer, me),
    )


# ---- hello ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hello:
    role: int
    sender: int
    receiver: int
    session_id: bytes
    ephemeral: bytes = bytes(32)

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
