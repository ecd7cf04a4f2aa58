"""Fault injection for tests (never in production classes): a driver that sends wrong shares, a
network that kills its process at a chosen step, and a server process using them.

    python -m tests.mpc.faults --id I --config servers.toml [serve options]
                               [--test-corrupt-shares] [--test-crash-at STEP]

``tests.mpc.cluster.Cluster`` starts this module instead of ``omnidsl serve`` when a server is
given one of the two ``--test-*`` options.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from omnidsl.field import FR_BYTES, R, int_to_bytes


class CorruptingDriver:
    """Wraps any Groth16Driver; ``mul_vec`` adds 1 to the first element of its left input, so
    the party's masked share d = a − x is off by one: it sends wrong shares at every
    ``mul_vec#k`` (what a malicious server would do) and is otherwise honest."""

    def __init__(self, inner: Any):
        self.inner = inner

    def mul_vec(self, a: bytes, b: bytes) -> bytes:
        if a:
            a = int_to_bytes((int.from_bytes(a[:FR_BYTES], "little") + 1) % R) + a[FR_BYTES:]
        return self.inner.mul_vec(a, b)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class CrashingNetwork:
    """Wraps a Network; the process exits abruptly (status 17, no cleanup, no reply) when the
    protocol first sends at step ``crash_at`` — a server dying mid-proof."""

    def __init__(self, inner: Any, crash_at: str):
        self.inner = inner
        self.crash_at = crash_at
        self.party_id = inner.party_id
        self.n_parties = inner.n_parties

    @property
    def step(self) -> str:
        return self.inner.step

    @step.setter
    def step(self, value: str) -> None:
        self.inner.step = value

    def send(self, to: int, data: bytes) -> None:
        if self.inner.step == self.crash_at:
            os._exit(17)
        self.inner.send(to, data)

    def recv(self, frm: int) -> bytes:
        return self.inner.recv(frm)

    def flush(self) -> None:
        self.inner.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def faulty_server_class(corrupt: bool, crash_at: str | None) -> type:
    from omnidsl.mpc.server import ProvingServer

    class FaultyServer(ProvingServer):
        def network(self, tcp: Any) -> Any:
            return CrashingNetwork(tcp, crash_at) if crash_at else tcp

        def driver(self, material: Any, pk: Any, net: Any) -> Any:
            d = super().driver(material, pk, net)
            return CorruptingDriver(d) if corrupt else d

    return FaultyServer


def main(argv: list[str] | None = None) -> int:
    from omnidsl.cli import configure_logging
    from omnidsl.mpc.commands import serve_options, serve_with

    p = argparse.ArgumentParser(prog="python -m tests.mpc.faults")
    serve_options(p)
    p.add_argument("-v", "--verbose", action="count", default=0, help="as `omnidsl -v`")
    p.add_argument("-q", "--quiet", action="store_true", help="as `omnidsl -q`")
    p.add_argument("--test-corrupt-shares", action="store_true")
    p.add_argument("--test-crash-at", metavar="STEP")
    args = p.parse_args(argv)
    configure_logging(args.verbose, args.quiet)
    return serve_with(args, faulty_server_class(args.test_corrupt_shares, args.test_crash_at))


if __name__ == "__main__":
    from omnidsl.errors import OmniDSLError

    try:
        sys.exit(main())
    except OmniDSLError as exc:
        print(str(exc), file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
