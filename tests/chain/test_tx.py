"""The one transaction-and-revert helper (omnidsl.chain.tx) on eth-tester and anvil: reverts
found by the estimate, reverts of mined transactions (explicit gas), calls, deployments — each
a ChainError naming the function, the revert reason and where (contract, transaction)."""

from __future__ import annotations

import pytest

from omnidsl.chain import providers, tx
from omnidsl.errors import ChainError

pytestmark = pytest.mark.chain


@pytest.fixture(scope="module", params=["embedded", "anvil"])
def w3(request):
    if request.param == "embedded":
        yield providers.embedded_chain()
    else:
        with providers.anvil() as w3:
            yield w3


def test_reverts_are_located_with_their_reason(w3, box):
    c = tx.deploy(w3, box.abi, box.bytecode, 7, label="Box")
    # found by eth_estimateGas: nothing is sent
    with pytest.raises(ChainError, match=r"Box\.set reverted: Box: too big") as err:
        tx.transact(w3, c.functions.set(100), label="Box.set")
    assert f"contract {c.address}" in str(err.value) and "nothing was sent" in str(err.value)
    # sent with explicit gas, mined with status 0: the reason comes from a replay on its block
    before = w3.eth.block_number
    with pytest.raises(ChainError, match=r"set reverted: Box: too big \(gas used [\d,]+\)") as err:
        tx.transact(w3, c.functions.set(100), gas=200_000)
    assert w3.eth.block_number == before + 1  # it was mined
    assert "transaction 0x" in str(err.value) and c.address in str(err.value)
    # out of gas is named as such
    with pytest.raises(ChainError, match="set reverted: out of gas"):
        tx.transact(w3, c.functions.set(5), gas=22_000)
    with pytest.raises(ChainError, match="set reverted: Box: too big"):
        tx.call(c.functions.set(100))
    with pytest.raises(ChainError, match=r"Box deployment failed.*unlucky"):
        tx.deploy(w3, box.abi, box.bytecode, 13, label="Box")
    assert c.functions.value().call() == 7  # no failed transaction changed anything


def test_a_transaction_gets_estimate_plus_margin(w3, box):
    c = tx.deploy(w3, box.abi, box.bytecode, 1)
    fn = c.functions.burn(50)
    need = fn.estimate_gas({"from": w3.eth.default_account})
    receipt = tx.transact(w3, fn)
    sent = w3.eth.get_transaction(receipt["transactionHash"])["gas"]
    assert sent == int(need * tx.GAS_MARGIN) + 10_000
    assert receipt["gasUsed"] <= need < sent
