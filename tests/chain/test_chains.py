"""omnidsl.chain: embedded chain, anvil lifecycle, connect, deploy/transact/call errors."""

from __future__ import annotations

import socket

import pytest

from omnidsl import chain as chains
from omnidsl.errors import ChainError

pytestmark = pytest.mark.chain

@pytest.mark.parametrize("which", ["embedded", "anvil"])
def test_deploy_transact_call_and_reverts(which, box, embedded_w3, anvil_w3):
    w3 = embedded_w3 if which == "embedded" else anvil_w3
    c = chains.deploy(w3, box.abi, box.bytecode, 7)
    assert c.functions.value().call() == 7
    receipt = chains.transact(w3, c.functions.set(42))
    assert receipt["status"] == 1 and c.functions.value().call() == 42
    with pytest.raises(ChainError, match="Box: too big"):
        chains.call(c.functions.set(100))
    with pytest.raises(ChainError, match="set reverted"):
        chains.transact(w3, c.functions.set(100))
    with pytest.raises(ChainError, match=r"deployment failed.*unlucky"):
        chains.deploy(w3, box.abi, box.bytecode, 13)
    total, execution = chains.gas_used(w3, c.functions.set(5))
    assert total > 21_000 and 0 < execution < total - 21_000


def test_embedded_chain_has_a_high_gas_limit(embedded_w3):
    assert embedded_w3.eth.get_block("latest")["gasLimit"] >= 90_000_000
    assert len(embedded_w3.eth.accounts) >= 2


def test_anvil_starts_on_free_port_and_stops():
    with chains.anvil() as w3:
        url = w3.provider.endpoint_uri
        port = int(url.rsplit(":", 1)[1])
        assert url.startswith("http://127.0.0.1:")
        assert w3.eth.block_number == 0
        assert chains.connect(url).eth.chain_id == w3.eth.chain_id
    with socket.socket() as s:  # the process we started is gone: nobody listens there any more
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # ignore TIME_WAIT leftovers
        s.bind(("127.0.0.1", port))
        s.listen()


def test_anvil_port_in_use_is_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(ChainError, match="anvil"), chains.anvil(port=port, startup_timeout=15):
            pass


def test_connect_unreachable():
    with pytest.raises(ChainError, match="cannot reach"):
        chains.connect("http://127.0.0.1:9")
    with pytest.raises(ChainError, match="websocket"):
        chains.connect("ws://127.0.0.1:9")


def test_intrinsic_gas():
    assert chains.intrinsic_gas(b"") == 21_000
    assert chains.intrinsic_gas(b"\x00\x01") == 21_000 + 4 + 16
