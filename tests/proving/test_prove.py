"""The one proving entry point: ``omnidsl.proving.prove`` for the plain prover and N parties in
process (the N-server mode is exercised by every test under tests/mpc through
``tests.mpc.helpers.prove_shared``), one result type, verification in one place, any witness
form; and ``omnidsl prove --parties N``."""

from __future__ import annotations

import dataclasses
import json

import pytest

from omnidsl.backend import get_backend
from omnidsl.cli import main
from omnidsl.compiler import compile_file
from omnidsl.errors import FormatError, ProofError
from omnidsl.field import bytes_to_limbs, limbs_to_bytes
from omnidsl.groth16.formats import read_proof, read_public, write_vk
from omnidsl.groth16.keys import write_proving_key
from omnidsl.groth16.prover import prove_plain, public_signals
from omnidsl.groth16.setup import dev_setup
from omnidsl.groth16.verifier import verify
from omnidsl.mpc.config import load_config, write_config
from omnidsl.proving import ProofResult, as_witness, prove
from omnidsl.r1cs.wtnsfile import write_wtns
from tests.groth16.cases import CASES
from tests.mpc.cluster import CIRCUITS


@pytest.fixture(scope="module")
def rule(tmp_path_factory):
    """norm_bound: its circuit, witness (limbs), keys on disk and in memory."""
    be = get_backend()
    params, inputs = CASES["norm_bound"]
    circuit = compile_file(CIRCUITS / "norm_bound.omni", params)
    limbs = circuit.witness(inputs)
    pk = dev_setup(circuit.r1cs, be)
    d = tmp_path_factory.mktemp("keys")
    write_proving_key(pk, d / "proving_key.bin")
    write_vk(pk.vk, d / "verification_key.json")
    return circuit, limbs, pk, d, be


def test_plain_prove_takes_the_witness_in_any_form(rule):
    """``prove(pk, circuit.witness(...))`` works (the limbs straight from the circuit), as do
    bytes and a list of ints; each result verified, with the circuit's public signals."""
    _, limbs, pk, d, be = rule
    z = limbs_to_bytes(limbs)
    ints = [int.from_bytes(z[i:i + 32], "little") for i in range(0, len(z), 32)]
    for w in (limbs, z, bytearray(z), ints):
        res = prove(pk, w, backend=be)
        assert isinstance(res, ProofResult) and res.verified and res.parties == 1
        assert res.public == public_signals(pk, z) and res.reports == []
        assert verify(pk.vk, res.public, res.proof, be)
    assert as_witness(limbs) == as_witness(ints) == z
    # the plain prover itself takes the circuit's limbs (it used to need bytes)
    assert verify(pk.vk, public_signals(pk, z), prove_plain(pk, limbs, be), be)
    # the key as a directory or a file
    assert prove(d, z, backend=be).verified and prove(d / "proving_key.bin", z).verified
    with pytest.raises(ProofError, match="not a whole number of 32-byte elements"):
        prove(pk, z[:-1], backend=be)
    with pytest.raises(ProofError, match="not bytes, \\(n, 4\\) limbs or a list"):
        prove(pk, ["x"], backend=be)
    with pytest.raises(ProofError, match=r"witness has \d+ wires, the proving key expects"):
        prove(pk, z[:-32], backend=be)


@pytest.mark.parametrize("n", [2, 3])
def test_n_parties_in_process_match_the_plain_prover(rule, n):
    """parties=N: the same dealing, driver and prover as the servers, in threads; the proof
    verifies, every party sent its openings, and the public signals are the plain run's."""
    _, limbs, pk, _, be = rule
    plain = prove(pk, limbs, backend=be)
    for mode in ("split", "servers"):
        res = prove(pk, limbs, parties=n, backend=be, witness_msm=mode)
        assert res.verified and res.parties == n and res.public == plain.public
        assert verify(pk.vk, res.public, res.proof, be)
        assert len(res.reports) == n and all(r.bytes_sent > 2 * pk.domain_size * 32 // n
                                             for r in res.reports)
        assert res.proof != plain.proof  # fresh blinding: a new proof of the same statement
        assert (res.dealer_msm_cpu_s > 0) == (mode == "split")


def test_a_bad_witness_is_refused_before_proving_in_every_mode(rule):
    _, limbs, pk, _, be = rule
    z = bytearray(limbs_to_bytes(limbs))
    k = pk.n_public + 3
    z[32 * k] ^= 1
    for parties in (None, 2):
        with pytest.raises(ProofError, match="does not satisfy the rule: constraint #"):
            prove(pk, bytes(z), parties=parties, backend=be)


def test_verification_happens_in_one_place_for_every_mode(rule, tmp_path):
    """A key whose verification key is not its own: the proof is made, does not verify, and
    nothing is returned — plain or N parties alike."""
    circuit, limbs, pk, _, be = rule
    other = dev_setup(circuit.r1cs, be)
    mixed = dataclasses.replace(pk, vk=other.vk)
    for parties in (None, 2, 3):
        # (mode servers: in mode split the parties' own pairing check on π_B stops first, as
        # the mixed key's β_G2 is not its β_G1's partner)
        opts = {"witness_msm": "servers"} if parties else {}
        with pytest.raises(ProofError, match="does not verify; nothing was written"):
            prove(mixed, limbs, parties=parties, backend=be, **opts)
    # mode split: the failing party's own error is reported, not "party j failed" (the abort
    # it caused in the others)
    with pytest.raises(ProofError, match="the dealt share of π_B in G2 does not match"):
        prove(mixed, limbs, parties=3, backend=be)


def test_options_need_parties_and_unknown_schemes_are_refused(rule, tmp_path):
    _, limbs, pk, _, be = rule
    with pytest.raises(ProofError, match=r"sharing options \(witness_msm\) need parties"):
        prove(pk, limbs, witness_msm="servers", backend=be)
    with pytest.raises(ProofError, match="witness_msm must be one of split, servers"):
        prove(pk, limbs, parties=2, witness_msm="owner", backend=be)
    with pytest.raises(FormatError, match="unknown sharing scheme 'rot13'"):
        prove(pk, limbs, parties=2, scheme="rot13", backend=be)
    for bad in (True, 2.5, object()):
        with pytest.raises(ProofError, match="expected None, a number of parties, a ServersConfig"):
            prove(pk, limbs, parties=bad, backend=be)
    with pytest.raises(ProofError, match="at least 2 parties, not 0"):
        prove(pk, limbs, parties=0, backend=be)
    cfg = load_config(write_config(tmp_path, 2, 7100))
    with pytest.raises(ProofError, match="proving with servers needs the proving-key file"):
        prove(pk, limbs, parties=cfg, backend=be)


def test_cli_prove_parties_and_plain_write_verified_files(rule, tmp_path, capsys):
    _, limbs, pk, d, be = rule
    wtns = tmp_path / "w.wtns"
    write_wtns(wtns, bytes_to_limbs(limbs_to_bytes(limbs)))
    for extra in ([], ["--parties", "3"], ["--parties", "2", "--witness-msm", "servers"]):
        out, pub = tmp_path / "proof.json", tmp_path / "public.json"
        assert main(["prove", "--keys", str(d), "--witness", str(wtns), "-o", str(out),
                     "--public", str(pub), *extra]) == 0
        assert verify(pk.vk, read_public(pub), read_proof(out), be)
        assert json.loads(out.read_text())["protocol"] == "groth16"
        out.unlink()
        pub.unlink()
    capsys.readouterr()
    assert main(["prove", "--keys", str(d), "--witness", str(wtns), "--shares", "uniform"]) == 2
    assert "--witness-msm/--shares need --servers" in capsys.readouterr().err
    assert main(["prove", "--keys", str(d), "--witness", str(wtns), "--parties", "2",
                 "--servers", "x.toml"]) == 2  # usage errors exit 2
    assert "exclude each other" in capsys.readouterr().err
    assert not (tmp_path / "proof.json").exists()


def test_n_parties_in_process_with_the_shamir_scheme(rule):
    """The in-process mode runs any registered scheme (by name or as an object)."""
    from omnidsl.mpc.schemes import get_scheme

    _, limbs, pk, _, be = rule
    for parties, scheme in ((3, "shamir"), (5, get_scheme("shamir", {"threshold": 2}))):
        res = prove(pk, limbs, parties=parties, scheme=scheme, backend=be)
        assert res.verified and res.parties == parties
        assert verify(pk.vk, res.public, res.proof, be)


def test_servers_by_path_with_the_key_directory(rule, tmp_path, caplog):
    """parties = the path of servers.toml, pk = the key directory: the servers' key file is
    found from it (pk_path not needed), and the result is the same type, verified."""
    from tests.mpc.cluster import Cluster

    _, limbs, pk, d, be = rule
    with Cluster(tmp_path / "cl", 2, {"nb": d}, timeout=20).start_all() as cl:
        res = prove(d, limbs, parties=str(cl.config_path), backend=be)
        assert isinstance(res, ProofResult) and res.verified and res.parties == 2
        assert verify(pk.vk, res.public, res.proof, be)
        assert sorted(r.server for r in res.reports) == [0, 1] and res.failed == {}
        with pytest.raises(ProofError, match="the scheme of a server run is the one"):
            prove(d, limbs, parties=cl.cfg, scheme="shamir", backend=be)
        # the old verb still works and says it is deprecated
        wtns = tmp_path / "w.wtns"
        write_wtns(wtns, limbs)
        out = tmp_path / "p.json"
        assert main(["prove-shared", "--servers", str(cl.config_path), "--keys", str(d),
                     "--witness", str(wtns), "-o", str(out),
                     "--public", str(tmp_path / "pub.json")]) == 0
        assert verify(pk.vk, read_public(tmp_path / "pub.json"), read_proof(out), be)
        assert "prove-shared is deprecated: use `omnidsl prove --servers" in caplog.text
