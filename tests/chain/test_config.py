"""ChainConfig / open_chain: the chain, the signer (key file or environment, never a guessed
unlocked account), the chain-id check, the EVM version and the gas cap, on real chains."""

from __future__ import annotations

import pytest

from omnidsl.chain.config import Chain, ChainConfig, open_chain
from omnidsl.errors import ChainError

pytestmark = pytest.mark.chain


def test_a_key_file_signs_on_the_embedded_chain(key_file, box):
    path, address = key_file
    with open_chain(ChainConfig(key_file=path)) as chain:
        assert chain.sender == address
        assert address not in chain.w3.eth.accounts  # not one of the node's own accounts
        c = chain.deploy(box.abi, box.bytecode, 7, label="Box")
        receipt = chain.transact(c.functions.set(42))
        assert receipt["from"] == address
        assert chain.w3.eth.get_transaction(receipt["transactionHash"])["from"] == address
        assert c.functions.value().call() == 42


def test_the_dev_chains_send_from_their_first_account_without_a_key():
    with open_chain(ChainConfig()) as chain:
        assert chain.sender == chain.w3.eth.accounts[0] and chain.account is None


def test_a_key_from_the_environment_on_a_json_rpc_node(anvil_url, anvil_key, box, monkeypatch):
    key, address = anvil_key
    monkeypatch.setenv("OMNIDSL_TEST_KEY", key)
    with open_chain(ChainConfig(chain=anvil_url, key_env="OMNIDSL_TEST_KEY")) as chain:
        assert chain.sender == address
        c = chain.deploy(box.abi, box.bytecode, 1)
        receipt = chain.transact(c.functions.set(5))
        assert receipt["from"] == address and c.functions.value().call() == 5


def test_a_json_rpc_node_without_a_key_has_no_sender(anvil_url, box):
    """anvil has unlocked accounts: they are not used."""
    with open_chain(ChainConfig(chain=anvil_url)) as chain:
        assert chain.w3.eth.accounts  # the node would let us...
        assert chain.sender is None
        with pytest.raises(ChainError, match="no sender account") as err:
            chain.deploy(box.abi, box.bytecode, 1)
        assert "--key-file" in str(err.value)


def test_the_chain_id_is_checked_before_anything_is_signed(anvil_url, anvil_key, monkeypatch):
    monkeypatch.setenv("OMNIDSL_TEST_KEY", anvil_key[0])
    cfg = ChainConfig(chain=anvil_url, chain_id=1, key_env="OMNIDSL_TEST_KEY")
    with pytest.raises(ChainError, match="has chain id 31337, expected --chain-id 1"), \
            open_chain(cfg):
        pytest.fail("opened a chain with the wrong id")
    with open_chain(ChainConfig(chain="anvil", chain_id=4242)) as chain:
        assert chain.w3.eth.chain_id == 4242
    with pytest.raises(ChainError, match="expected --chain-id 5"), \
            open_chain(ChainConfig(chain_id=5)):
        pytest.fail("opened a chain with the wrong id")


def test_key_problems_are_located_and_never_echo_the_key(tmp_path, anvil_key, monkeypatch):
    key = anvil_key[0]
    loose = tmp_path / "loose.key"
    loose.write_text(key)
    loose.chmod(0o644)
    with pytest.raises(ChainError, match="accessible by other users") as err:
        open_chain(ChainConfig(key_file=loose)).__enter__()
    assert "chmod 600" in str(err.value) and key[2:] not in str(err.value)
    with pytest.raises(ChainError, match="no such key file"):
        open_chain(ChainConfig(key_file=tmp_path / "missing.key")).__enter__()
    bad = tmp_path / "bad.key"
    bad.touch(mode=0o600)
    bad.write_text(key[:-2] + "zz")
    with pytest.raises(ChainError, match="not a private key") as err:
        open_chain(ChainConfig(key_file=bad)).__enter__()
    assert key[2:-2] not in str(err.value)
    zero = tmp_path / "zero.key"
    zero.touch(mode=0o600)
    zero.write_text("0" * 64)
    with pytest.raises(ChainError, match="not a valid secp256k1 private key"):
        open_chain(ChainConfig(key_file=zero)).__enter__()
    monkeypatch.delenv("OMNIDSL_NO_SUCH_KEY", raising=False)
    with pytest.raises(ChainError, match=r"\$OMNIDSL_NO_SUCH_KEY is not set"):
        open_chain(ChainConfig(key_env="OMNIDSL_NO_SUCH_KEY")).__enter__()


@pytest.mark.parametrize("kwargs,msg", [
    ({"chain": "ftp://x"}, "not a chain omnidsl can use"),
    ({"chain": "mainnet"}, "not a chain omnidsl can use"),
    ({"evm_version": "london"}, "not supported"),
    ({"chain_id": 0}, "positive integer"),
    ({"gas_cap": 20_000}, "below the 21,000"),
    ({"key_file": "k", "key_env": "K"}, "not both"),
])
def test_bad_configurations_are_refused(kwargs, msg):
    with pytest.raises(ChainError, match=msg):
        ChainConfig(**kwargs)


def test_the_evm_version_picks_the_hard_fork():
    for fork in ("shanghai", "cancun", "prague"):
        with open_chain(ChainConfig(evm_version=fork)) as chain:
            vm = chain.w3.provider.ethereum_tester.backend.chain.get_vm()
            assert vm.fork == fork


def test_the_gas_cap_refuses_a_transaction_that_needs_more(box):
    with open_chain(ChainConfig()) as chain:
        c = chain.deploy(box.abi, box.bytecode, 1)
        capped = Chain(chain.w3, ChainConfig(gas_cap=60_000), chain.sender)
        assert capped.gas_limit() == 60_000
        with pytest.raises(ChainError, match=r"burn needs [\d,]+ gas, above the gas cap of 60,000"):
            capped.transact(c.functions.burn(500))
        assert c.functions.value().call() == 1  # nothing was sent
        chain.transact(c.functions.burn(500))  # the block gas limit is enough
        assert c.functions.value().call() == 1 + sum(range(500))
