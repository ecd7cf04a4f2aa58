"""A solc-js bridge: one persistent node process speaking solc's standard JSON.

Loading solc-js (a wasm build of solc) costs ~0.3-0.7 s; a warm compile costs ~0.1-0.3 s.  The
bridge therefore starts ``node omnidsl/solidity/solc_server.js`` once, sends one standard-JSON
request per line and reads one reply per line.  The process is closed by :meth:`SolcServer.close`,
by leaving its ``with`` block, or at interpreter exit.

Public API::

    compile_sources({"Verifier.sol": source}, optimize=True)
        -> {"Groth16Verifier": CompiledContract(abi, bytecode, deployed_bytecode), ...}

Compiler errors raise :class:`~omnidsl.errors.ChainError` located at ``file:line:col``.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import selectors
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from omnidsl.chain.artifacts import CompiledContract
from omnidsl.errors import ChainError, SourceSpan
from omnidsl.npm import ToolError, node_package
from omnidsl.procs import stop_process

__all__ = ["CompiledContract", "SolcServer", "compile_sources", "default_server"]
log = logging.getLogger(__name__)

SERVER_JS = Path(__file__).with_name("solc_server.js")
_PREFIX = "@@omnidsl@@ "
#: EVM version solc targets by default; both chains (py-evm's Cancun/Prague VMs, anvil) run it.
DEFAULT_EVM_VERSION = "cancun"


class SolcServer:
    """One long-lived ``node solc_server.js`` process; thread-safe, usable as a context manager."""

    def __init__(self, timeout: float = 300.0) -> None:
        self.timeout = timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._buf = b""
        self._next_id = 1
        self.version: str | None = None

    # -- process management -------------------------------------------------------------------
    def start(self) -> SolcServer:
        """Start node and load solc-js (idempotent)."""
        if self._proc is not None and self._proc.poll() is None:
            return self
        node = shutil.which("node")
        if node is None:
            raise ToolError("node not found; install Node.js 20 to compile Solidity with solc-js")
        solc_dir = node_package("solc")
        self._buf = b""
        self._proc = subprocess.Popen(
            [node, str(SERVER_JS), str(solc_dir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        hello = self._read_reply()
        self.version = hello.get("version")
        log.info("solc-js %s loaded (node pid %d)", self.version, self._proc.pid)
        return self

    def close(self) -> None:
        """Stop the node process this server started (stdin EOF, then terminate if needed)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            stop_process(proc, grace=5)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()

    def __enter__(self) -> SolcServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- protocol ------------------------------------------------------------------------------
    def _read_reply(self) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        deadline = time.monotonic() + self.timeout
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                while b"\n" in self._buf:
                    line, self._buf = self._buf.split(b"\n", 1)
                    text = line.decode("utf-8", "replace")
                    if text.startswith(_PREFIX):
                        return json.loads(text[len(_PREFIX):])
                left = deadline - time.monotonic()
                if left <= 0:
                    self.close()
                    raise ToolError(f"solc-js did not answer within {self.timeout:.0f} s")
                if not sel.select(timeout=left):
                    continue
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    err = b""
                    if self._proc.stderr is not None:
                        err = self._proc.stderr.read() or b""
                    self.close()
                    raise ToolError("the solc-js process exited unexpectedly: "
                                    + err.decode("utf-8", "replace").strip()[-800:])
                self._buf += chunk

    def compile_json(self, standard_input: dict[str, Any]) -> dict[str, Any]:
        """Run one standard-JSON compile and return solc's standard-JSON output."""
        with self._lock:
            self.start()
            assert self._proc is not None and self._proc.stdin is not None
            req_id = self._next_id
            self._next_id += 1
            line = json.dumps({"id": req_id, "input": standard_input}) + "\n"
            try:
                self._proc.stdin.write(line.encode())
                self._proc.stdin.flush()
            except BrokenPipeError as exc:
                self.close()
                raise ToolError("the solc-js process is gone (broken pipe)") from exc
            reply = self._read_reply()
        if reply.get("id") != req_id:
            raise ToolError(f"solc-js protocol error: expected reply {req_id}, got {reply!r:.200}")
        if "fatal" in reply:
            raise ToolError(f"solc-js failed: {reply['fatal'][:800]}")
        return json.loads(reply["output"])


_default: SolcServer | None = None
_default_lock = threading.Lock()


def default_server() -> SolcServer:
    """The process-wide shared server (started lazily, closed at exit)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = SolcServer()
            atexit.register(_close_default)
        return _default


def _close_default() -> None:
    global _default
    if _default is not None:
        _default.close()
        _default = None


def standard_input(sources: dict[str, str], optimize: bool = True, runs: int = 200,
                   evm_version: str | None = DEFAULT_EVM_VERSION,
                   via_ir: bool = False) -> dict[str, Any]:
    """Build solc's standard-JSON input for ``sources`` (file name -> Solidity text)."""
    settings: dict[str, Any] = {
        "optimizer": {"enabled": bool(optimize), "runs": int(runs)},
        "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object",
                                        "evm.deployedBytecode.object"]}},
    }
    if evm_version:
        settings["evmVersion"] = evm_version
    if via_ir:
        settings["viaIR"] = True
    return {"language": "Solidity",
            "sources": {name: {"content": text} for name, text in sources.items()},
            "settings": settings}


def _line_col(text: str, offset: int) -> tuple[int, int]:
    before = text[:max(0, offset)]
    line = before.count("\n") + 1
    col = offset - (before.rfind("\n") + 1) + 1
    return line, col


def _error_from(err: dict[str, Any], sources: dict[str, str]) -> ChainError:
    message = err.get("message", "unknown compiler error")
    loc = err.get("sourceLocation") or {}
    file = loc.get("file")
    span = None
    if file is not None and file in sources and loc.get("start", -1) >= 0:
        text = sources[file]
        line, col = _line_col(text, int(loc["start"]))
        end_line, end_col = _line_col(text, int(loc.get("end", loc["start"])))
        span = SourceSpan(file, line, col, end_line, end_col, source=text)
    kind = err.get("type", "Error")
    return ChainError(f"solc {kind}: {message}", span=span,
                      hint="the Solidity source did not compile with solc-js "
                           f"{default_server().version or ''}".rstrip())


def compile_sources(sources: dict[str, str], optimize: bool = True, runs: int = 200,
                    evm_version: str | None = DEFAULT_EVM_VERSION, via_ir: bool = False,
                    server: SolcServer | None = None) -> dict[str, CompiledContract]:
    """Compile Solidity ``sources`` (file name -> text); return contracts by name.

    Each contract appears under its bare name and under ``"file:Name"``.  The first compiler
    error raises :class:`ChainError` located at file:line:col (warnings are ignored).
    """
    if not sources:
        raise ChainError("nothing to compile: no Solidity sources given")
    srv = server or default_server()
    out = srv.compile_json(standard_input(sources, optimize, runs, evm_version, via_ir))
    errors = [e for e in out.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise _error_from(errors[0], sources)
    result: dict[str, CompiledContract] = {}
    for file, contracts in out.get("contracts", {}).items():
        for name, data in contracts.items():
            evm = data.get("evm", {})
            cc = CompiledContract(
                abi=data.get("abi", []),
                bytecode="0x" + evm.get("bytecode", {}).get("object", ""),
                deployed_bytecode="0x" + evm.get("deployedBytecode", {}).get("object", ""),
            )
            result[f"{file}:{name}"] = cc
            result.setdefault(name, cc)
    return result
