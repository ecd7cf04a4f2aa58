"""Test-only network wrappers for the Shamir fault tests (fault injection stays out of
production classes)."""

from __future__ import annotations

from omnidsl.errors import NetworkError
from omnidsl.mpc.network import LocalHub, Network


class Crashed(Exception):
    """Raised in a party's thread when its wrapper simulates a crash."""


class CrashingNetwork:
    """Party ``party``'s network that crashes (its peers see a closed connection) the first time
    it sends at ``step``; with ``silent`` it instead hangs there (sends nothing, never closes)."""

    def __init__(self, inner: Network, hub: LocalHub, step: str, silent: bool = False):
        self.inner = inner
        self.hub = hub
        self.at = step
        self.silent = silent
        self.party_id = inner.party_id
        self.n_parties = inner.n_parties

    @property
    def step(self) -> str:
        return self.inner.step

    @step.setter
    def step(self, value: str) -> None:
        self.inner.step = value

    def send(self, to: int, data: bytes) -> None:
        if self.inner.step == self.at:
            if not self.silent:
                self.hub.close(self.party_id)
            raise Crashed(f"party {self.party_id} crashed at {self.at}")
        self.inner.send(to, data)

    def recv(self, frm: int) -> bytes:
        return self.inner.recv(frm)

    def recv_within(self, frm: int, timeout: float) -> bytes:
        return self.inner.recv_within(frm, timeout)  # type: ignore[attr-defined]

    def flush(self) -> None:
        self.inner.flush()


def crash(plan: dict[int, str], silent: bool = False):
    """A ``wrap`` for ``run_parties``: party i crashes at step plan[i]."""
    def wrap(i: int, net: Network) -> Network:
        if i not in plan:
            return net
        return CrashingNetwork(net, net.hub, plan[i], silent)  # type: ignore[attr-defined]
    return wrap


__all__ = ["Crashed", "CrashingNetwork", "NetworkError", "crash"]
