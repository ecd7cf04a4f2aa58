"""``servers.toml``: the server set, their keys, network limits and the circuits they can prove.

```toml
[network]
timeout = 60            # seconds; every receive and connect waits at most this long
max_frame = 268435456   # bytes; larger frames are rejected before they are read
# admission (optional; docs/mpc.md "Servers"): defaults shown
max_sessions = 4        # sessions at once (a new one evicts the oldest still assembling)
assemble_timeout = 10   # seconds from a session's opening until all its peer links are confirmed
handshake_timeout = 5   # seconds a new connection has to say hello
max_unauthenticated = 64  # connections not yet in a session (one more evicts the oldest)

[scheme]                # optional; absent = additive (docs/mpc.md, "Sharing schemes")
name = "additive"       # or "shamir" (with its parameters, e.g. threshold = 1)

[circuits]              # name = proving-key file or keys directory (relative to this file)
norm_bound = "keys/norm_bound"

[[servers]]
id = 0
host = "127.0.0.1"
port = 7100
public_key = "hex of the 32-byte X25519 public key"
private_key_file = "server0.key"   # read only by server 0 itself (hex, mode 0600)
```
``omnidsl servers-init`` writes such a file and the key files.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from omnidsl.errors import FormatError, InputError, OmniDSLError
from omnidsl.mpc import frames
from omnidsl.mpc.schemes import DEFAULT_SCHEME, get_scheme

MAX_SERVERS = 254
PROVING_KEY_NAMES = ("proving_key.bin", "circuit.pk", "proving_key.pk")


@dataclass(frozen=True)
class Limits:
    """Admission limits of a server (``[network]``; enforced by ``admission.Gate``)."""

    max_sessions: int = 4
    assemble_timeout: float = 10.0
    handshake_timeout: float = 5.0
    max_unauthenticated: int = 64

    def toml_lines(self) -> list[str]:
        return [f"{k} = {getattr(self, k)!r}" for k in self.__dataclass_fields__]


@dataclass(frozen=True)
class ServerEntry:
    id: int
    host: str
    port: int
    public_key: bytes
    private_key_file: Path | None


@dataclass(frozen=True)
class ServersConfig:
    path: Path
    servers: list[ServerEntry]
    timeout: float = 60.0
    max_frame: int = frames.DEFAULT_MAX_FRAME
    circuits: dict[str, Path] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    scheme: str = DEFAULT_SCHEME  # the sharing scheme (omnidsl/mpc/schemes)
    scheme_params: dict[str, int | str] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.servers)

    def server(self, sid: int) -> ServerEntry:
        for s in self.servers:
            if s.id == sid:
                return s
        raise FormatError(f"{self.path}: no server with id {sid} (ids 0..{self.n - 1})")

    def private_key(self, sid: int) -> bytes:
        """Server ``sid``'s X25519 private key (checked against its listed public key)."""
        entry = self.server(sid)
        if entry.private_key_file is None:
            raise FormatError(f"{self.path}: server {sid} has no private_key_file")
        try:
            raw = bytes.fromhex(entry.private_key_file.read_text().strip())
        except (OSError, ValueError) as exc:
            raise FormatError(f"{entry.private_key_file}: cannot read the private key: {exc}") from None
        if len(raw) != 32 or frames.public_of(raw) != entry.public_key:
            raise FormatError(
                f"{entry.private_key_file}: private key does not match server {sid}'s public_key",
                hint="regenerate the keys with `omnidsl servers-init`",
            )
        return raw


def _err(path: Path, msg: str) -> FormatError:
    return FormatError(f"{path}: {msg}", hint="see docs/mpc.md for the servers.toml layout")


def load_config(path: str | Path) -> ServersConfig:
    """Parse and check servers.toml (FormatError with the file name on any problem)."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text())
    except OSError as exc:
        raise FormatError(f"{p}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise _err(p, f"not valid TOML: {exc}") from None
    base = p.resolve().parent
    net = data.get("network", {})
    if not isinstance(net, dict):
        raise _err(p, "[network] must be a table")
    timeout = net.get("timeout", 60.0)
    max_frame = net.get("max_frame", frames.DEFAULT_MAX_FRAME)
    if not isinstance(timeout, int | float) or not 0 < timeout <= 86400:
        raise _err(p, "network.timeout must be a positive number of seconds")
    if not isinstance(max_frame, int) or not 1024 <= max_frame < 2**32:
        raise _err(p, "network.max_frame must be an integer in 1024..2^32−1")
    limits = _limits(p, net)
    raw = data.get("servers")
    if not isinstance(raw, list) or len(raw) < 2:
        raise _err(p, "need at least two [[servers]] entries")
    if len(raw) > MAX_SERVERS:
        raise _err(p, f"at most {MAX_SERVERS} servers")
    servers = []
    for k, s in enumerate(raw):
        if not isinstance(s, dict):
            raise _err(p, f"servers[{k}] must be a table")
        try:
            sid, host, port = s["id"], s.get("host", "127.0.0.1"), s["port"]
            pub = bytes.fromhex(s["public_key"])
        except KeyError as exc:
            raise _err(p, f"servers[{k}] is missing {exc.args[0]!r}") from None
        except (ValueError, TypeError):
            raise _err(p, f"servers[{k}].public_key is not hex") from None
        if sid != k:
            raise _err(p, f"servers must be listed in id order 0..N−1 (entry {k} has id {sid})")
        if not isinstance(port, int) or not 0 < port < 65536 or not isinstance(host, str):
            raise _err(p, f"servers[{k}] has a bad host/port")
        if len(pub) != 32:
            raise _err(p, f"servers[{k}].public_key must be 32 bytes")
        keyfile = s.get("private_key_file")
        servers.append(ServerEntry(sid, host, port, pub,
                                   (base / keyfile) if isinstance(keyfile, str) else None))
    circuits = {}
    for name, where in data.get("circuits", {}).items():
        if not isinstance(where, str):
            raise _err(p, f"circuits.{name} must be a path")
        circuits[name] = base / where
    scheme, params = _scheme(p, data.get("scheme", DEFAULT_SCHEME), len(servers))
    return ServersConfig(p, servers, float(timeout), max_frame, circuits, limits, scheme, params)


def _scheme(p: Path, raw: object, n: int) -> tuple[str, dict[str, int | str]]:
    """``scheme = "NAME"`` or a ``[scheme]`` table (name + the scheme's parameters)."""
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, dict) or not isinstance(raw.get("name", DEFAULT_SCHEME), str):
        raise _err(p, "scheme must be a name or a [scheme] table with a name")
    params = {k: v for k, v in raw.items() if k != "name"}
    if any(isinstance(v, bool) or not isinstance(v, int | str) for v in params.values()):
        raise _err(p, "[scheme] parameters must be integers or strings")
    name = str(raw.get("name", DEFAULT_SCHEME))
    try:
        get_scheme(name, params).check_parties(n)
    except OmniDSLError as exc:
        raise _err(p, f"[scheme]: {exc.message}") from None
    return name, params


def _limits(p: Path, net: dict) -> Limits:
    d = Limits()
    out = {}
    for key, lo, hi, typ in [("max_sessions", 1, 64, int), ("max_unauthenticated", 4, 4096, int),
                             ("assemble_timeout", 0.1, 3600, float),
                             ("handshake_timeout", 0.1, 600, float)]:
        v = net.get(key, getattr(d, key))
        if isinstance(v, bool) or not isinstance(v, int | float) or (typ is int and
                                                                    not isinstance(v, int)) \
                or not lo <= v <= hi:
            raise _err(p, f"network.{key} must be {'an integer' if typ is int else 'a number'} "
                          f"in {lo}..{hi}")
        out[key] = typ(v)
    return Limits(**out)


def proving_key_file(where: Path) -> Path:
    """A proving-key file, or the proving key inside a keys directory."""
    if where.is_dir():
        for name in PROVING_KEY_NAMES:
            if (where / name).is_file():
                return where / name
        raise FormatError(f"{where}: no proving key ({' / '.join(PROVING_KEY_NAMES)}) in it")
    return where


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_DIGESTS: dict[tuple[str, int, int, int, int], str] = {}


def cached_file_digest(path: Path) -> str:
    """:func:`file_digest`, remembered per (path, device, inode, mtime, size): a data owner
    proving many times with one multi-GB key hashes it once, not at every session."""
    st = Path(path).stat()
    key = (str(Path(path).resolve()), st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
    hit = _DIGESTS.get(key)
    if hit is None:
        hit = _DIGESTS[key] = file_digest(path)
    return hit


def write_config(directory: str | Path, n: int, base_port: int, host: str = "127.0.0.1",
                 circuits: dict[str, str] | None = None, timeout: float = 60.0,
                 max_frame: int = frames.DEFAULT_MAX_FRAME, ports: list[int] | None = None,
                 limits: Limits | None = None, force: bool = False,
                 scheme: str = DEFAULT_SCHEME,
                 scheme_params: dict[str, int | str] | None = None) -> Path:
    """Create ``directory/servers.toml`` and fresh key files for ``n`` servers.

    Refuses (InputError, nothing written) if the directory already holds a servers.toml or key
    files, unless ``force``: new keys lock out servers still running with the old ones."""
    d = Path(directory)
    existing = [f for f in [d / "servers.toml", *sorted(d.glob("server*.key"))] if f.exists()]
    if existing and not force:
        raise InputError(
            f"{existing[0]}: a cluster's {'configuration' if existing[0].suffix == '.toml' else 'key'}"
            f" already exists ({len(existing)} file(s) in {d}); nothing was written",
            hint="servers running with these keys would no longer authenticate; pass --force "
                 "to replace them (then restart every server), or choose another directory")
    d.mkdir(parents=True, exist_ok=True)
    lines = ["[network]", f"timeout = {timeout!r}", f"max_frame = {max_frame}",
             *(limits.toml_lines() if limits is not None else []), "", "[scheme]",
             f"name = {json.dumps(scheme)}",
             *(f"{k} = {json.dumps(v)}" for k, v in (scheme_params or {}).items()),
             "", "[circuits]"]
    for name, where in (circuits or {}).items():
        lines.append(f'{name} = "{where}"')
    for i in range(n):
        sk, pk = frames.generate_keypair()
        keyfile = d / f"server{i}.key"
        fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(sk.hex() + "\n")
        port = ports[i] if ports else base_port + i
        lines += ["", "[[servers]]", f"id = {i}", f'host = "{host}"', f"port = {port}",
                  f'public_key = "{pk.hex()}"', f'private_key_file = "server{i}.key"']
    out = d / "servers.toml"
    out.write_text("\n".join(lines) + "\n")
    return out
