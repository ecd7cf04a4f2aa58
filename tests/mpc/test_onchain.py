"""Collaborative proofs verify on-chain: the generated Solidity verifier on anvil, every rule."""

from __future__ import annotations

import pytest

from omnidsl import chain as chains
from omnidsl.backend import get_backend
from omnidsl.groth16.formats import proof_to_json, public_to_json, vk_to_json
from omnidsl.solidity.render import compile_verifier, proof_calldata
from tests.groth16.cases import CASES
from tests.mpc.cluster import Cluster, make_keys
from tests.mpc.helpers import prove_shared

pytestmark = [pytest.mark.slow, pytest.mark.chain]


def test_every_rule_verifies_on_anvil(tmp_path):
    be = get_backend()
    keys = {}
    for rule, (params, inputs) in CASES.items():
        pk, z, _ = make_keys(rule, params, inputs, tmp_path / rule, be)
        keys[rule] = (pk, z)
    with Cluster(tmp_path / "cl", 3, {r: tmp_path / r for r in keys}).start_all() as cl, \
            chains.anvil() as w3:
        for rule, (pk, z) in keys.items():
            res = prove_shared(cl.cfg, tmp_path / rule / "proving_key.bin", z, be, pk=pk)
            cc = compile_verifier(vk_to_json(pk.vk), f"Verifier_{rule}")
            contract = chains.deploy(w3, cc.abi, cc.bytecode)
            a, b, c, x = proof_calldata(proof_to_json(res.proof), public_to_json(res.public))
            assert contract.functions.verifyProof(a, b, c, x).call() is True, rule
            bad = list(x)
            bad[0] = (bad[0] + 1) % (1 << 254)
            assert contract.functions.verifyProof(a, b, c, bad).call() is False, rule
