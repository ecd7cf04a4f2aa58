"""Test helpers: keys for the example rules and a cluster of real `omnidsl serve` processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from omnidsl.compiler import compile_file
from omnidsl.field import limbs_to_bytes
from omnidsl.groth16.formats import write_vk
from omnidsl.groth16.keys import write_proving_key
from omnidsl.groth16.setup import dev_setup
from omnidsl.mpc.config import load_config, write_config

ROOT = Path(__file__).resolve().parents[2]
CIRCUITS = ROOT / "circuits"


def make_keys(rule: str, params: dict[str, int], inputs: dict, out: Path, backend):
    """Compile a rule, dev-setup it into ``out`` and return (pk, witness bytes, circuit)."""
    circuit = compile_file(CIRCUITS / f"{rule}.omni", params)
    z = limbs_to_bytes(circuit.witness(inputs))
    pk = dev_setup(circuit.r1cs, backend)
    out.mkdir(parents=True, exist_ok=True)
    write_proving_key(pk, out / "proving_key.bin")
    write_vk(pk.vk, out / "verification_key.json")
    return pk, z, circuit


def free_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


class Cluster:
    """N server processes on 127.0.0.1 (started with ``python -m omnidsl.cli serve``)."""

    def __init__(self, directory: Path, n: int, circuits: dict[str, Path], timeout: float = 20.0,
                 record: bool = False, max_frame: int = 1 << 28):
        self.dir = directory
        self.n = n
        self.config_path = write_config(directory, n, 0, circuits={k: str(v) for k, v in
                                                                   circuits.items()},
                                        timeout=timeout, max_frame=max_frame,
                                        ports=free_ports(n))
        self.cfg = load_config(self.config_path)
        self.record_dir = directory / "records" if record else None
        if self.record_dir:
            self.record_dir.mkdir()
        self.procs: dict[int, subprocess.Popen] = {}
        self.logs: dict[int, list[str]] = {}

    def start(self, i: int, *extra: str) -> None:
        cmd = [sys.executable, "-m", "omnidsl.cli", "serve", "--id", str(i), "--config",
               str(self.config_path), *extra]
        if self.record_dir:
            cmd += ["--record-dir", str(self.record_dir)]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=ROOT, env=env)
        self.procs[i] = p
        self.logs[i] = []
        ready = threading.Event()

        def pump_out() -> None:
            for line in p.stdout:  # type: ignore[union-attr]
                if line.startswith(f"ready {i}"):
                    ready.set()

        def pump_err() -> None:
            for line in p.stderr:  # type: ignore[union-attr]
                self.logs[i].append(line)

        threading.Thread(target=pump_out, daemon=True).start()
        threading.Thread(target=pump_err, daemon=True).start()
        if not ready.wait(60):
            self.stop()
            raise RuntimeError(f"server {i} did not start: {''.join(self.logs[i])}")

    def start_all(self, extra: dict[int, list[str]] | None = None) -> Cluster:
        for i in range(self.n):
            self.start(i, *((extra or {}).get(i, [])))
        return self

    def kill(self, i: int) -> None:
        p = self.procs.pop(i, None)
        if p is not None and p.poll() is None:
            p.kill()
        if p is not None:
            p.wait(10)

    def wait_exit(self, i: int, timeout: float = 30) -> int:
        return self.procs[i].wait(timeout)

    def stop(self) -> None:
        for i in list(self.procs):
            p = self.procs.pop(i)
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(10)

    def alive(self) -> list[int]:
        return [i for i, p in self.procs.items() if p.poll() is None]

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_until(pred, timeout: float = 10.0) -> bool:
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False
