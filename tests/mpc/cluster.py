"""Test helpers: keys for the example rules and a cluster of real `omnidsl serve` processes."""

from __future__ import annotations

import time
from pathlib import Path

from omnidsl.compiler import compile_file
from omnidsl.field import limbs_to_bytes
from omnidsl.groth16.formats import write_vk
from omnidsl.groth16.keys import write_proving_key
from omnidsl.groth16.setup import dev_setup
from omnidsl.mpc.cluster import ServerCluster

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


class Cluster(ServerCluster):
    """The tests' cluster: ``start(i, *extra)`` (re)starts one server (e.g. with a crash hook:
    ``--test-crash-at STEP``, ``--test-corrupt-shares``, see tests/mpc/faults.py)."""

    def __init__(self, directory: Path, n: int, circuits: dict[str, Path], timeout: float = 20.0,
                 record: bool = False, max_frame: int = 1 << 28, threads: int | None = None,
                 limits=None, scheme: str = "additive", scheme_params=None):
        super().__init__(directory, n, circuits, timeout, record=record, max_frame=max_frame,
                         threads=threads, limits=limits, scheme=scheme,
                         scheme_params=scheme_params)

    def start(self, i: int, *extra: str) -> None:
        self.start_server(i, *extra)

    def start_server(self, i: int, *extra: str, entry=("omnidsl.cli", "serve")) -> None:
        """A server given a ``--test-*`` fault option runs ``tests.mpc.faults`` instead of
        ``omnidsl serve`` (fault injection lives only in tests)."""
        if any(a.startswith("--test-") for a in extra):
            entry = ("tests.mpc.faults",)
        super().start_server(i, *extra, entry=entry)

    def __enter__(self) -> Cluster:  # tests start servers themselves (start_all / start)
        return self


def wait_until(pred, timeout: float = 30.0) -> bool:
    """Poll ``pred`` until true (returns at once when it is); generous for loaded CI machines."""
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def opening_bytes_sent(party: int, n: int, length: int) -> int:
    """Payload bytes party ``party`` sends to open a shared vector of ``length`` elements, as
    docs/mpc.md specifies: N = 2 one broadcast of the whole share; N ≥ 3 sliced (slice k =
    [⌊k·L/N⌋, ⌊(k+1)·L/N⌋)): every other party's slice of its share, then its own opened slice
    to each of the N − 1 others."""
    if n == 2:
        return length * 32
    size = [(k + 1) * length // n - k * length // n for k in range(n)]
    return 32 * (length - size[party] + (n - 1) * size[party])
