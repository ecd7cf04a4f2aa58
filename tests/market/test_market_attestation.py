"""Issue 10, item 1: the binding bypass.  A data owner (DO) shares an invalid gradient for
aggregation, waits for ρ, finds by lattice reduction a SHORT gradient g' with the same
fingerprint, proves g' on its own machine with the proving key it holds, and has a colluding
server submit it.  The market must credit only proofs the bound server sessions produced: every
batch needs a signature of every server, and an honest server signs only proofs its own
``omnidsl serve --bind-dir`` process recorded.  Real server processes, the real compiler, the
embedded chain."""

from __future__ import annotations

import secrets

import pytest
from lattice import short_preimage

from omnidsl.chain import embedded_chain
from omnidsl.errors import ChainError, OmniDSLError
from omnidsl.field import R
from omnidsl.market import aggregate as agg
from omnidsl.market import dsl_rule
from omnidsl.market.attestation import batch_digest, sign_digest
from omnidsl.market.demo import BOND, FEE, REWARD, setup_actors
from omnidsl.market.roles import bind_label
from omnidsl.mpc.cluster import ServerCluster
from omnidsl.solidity.render import batch_calldata

DIM = 24  # large enough for a short fingerprint preimage (r^(1/24) ≈ 2^10.6)
BAD = 1000 * 4096  # every entry 1000.0: far outside |g_i| <= 4.0


@pytest.fixture(scope="module")
def dsl24() -> dsl_rule.DslRule:
    return dsl_rule.setup(DIM)


def test_lattice_attack_finds_a_valid_gradient_with_the_fingerprint_of_an_invalid_one(dsl24):
    """The attack the market must survive is real: given ρ, an invalid g_bad has a short twin."""
    max_norm = dsl24.pinned_value(1 << 20)
    for _ in range(3):
        rho = secrets.randbelow(R)
        target = agg.fingerprint([BAD] * DIM, rho)
        forged = short_preimage(target, rho, DIM)
        assert forged is not None
        assert agg.fingerprint(forged, rho) == target
        assert max(abs(x) for x in forged) <= 4 * 4096
        assert dsl24.satisfies(forged, max_norm) and not dsl24.satisfies([BAD] * DIM, max_norm)


def test_attestation_digest_is_the_contracts(dsl24):
    w3 = embedded_chain()
    actors = setup_actors(w3, dsl24, n_owners=1, n_servers=2)
    m = actors.mo.market
    proofs = [secrets.randbelow(2**256) for _ in range(16)]
    inputs = [secrets.randbelow(R) for _ in range(8)]
    on_chain = m.contract.functions.attestationDigest(7, proofs, inputs).call()
    assert bytes(on_chain) == m.attestation_digest(7, proofs, inputs)
    assert bytes(on_chain) != batch_digest(int(w3.eth.chain_id) + 1, m.address, 7, proofs, inputs)


@pytest.mark.slow
@pytest.mark.chain
def test_lll_binding_bypass_with_a_colluding_server_is_refused_on_chain(dsl24, tmp_path):
    pk_path = dsl24.write_proving_key(tmp_path / "keys")
    with ServerCluster(tmp_path / "cluster", 3, {"market": tmp_path / "keys"}, bind=True,
                       timeout=20.0) as cluster:
        w3 = embedded_chain()
        actors = setup_actors(w3, dsl24, n_owners=3, n_servers=3)
        mo, servers, dos = actors.mo, actors.servers, actors.dos
        market = mo.market
        for k, s in enumerate(servers):
            s.binding = dsl24.binding_for(cluster.bind_dir(k))
        honest, cheat, absent = dos
        colluder, *honest_servers = servers
        max_norm = dsl24.pinned_value(1 << 20)
        now = int(w3.eth.get_block("latest")["timestamp"])
        tid = mo.open_task([s.account for s in servers], REWARD, FEE, 3 * (REWARD + 3 * FEE),
                           now + 600, pinned_value=max_norm, bond=BOND)
        good = [(37 * j) % 301 - 150 for j in range(DIM)]
        honest.share(tid, good, servers)
        cheat.share(tid, [BAD] * DIM, servers)  # g_bad: no witness exists for it
        for s in servers:
            s.commit(tid)
        for s in servers:
            s.reveal(tid)
        rho = market.task(tid).rho

        # the DO, after ρ: a short g' with fingerprint(g') = fingerprint(g_bad), keeping the
        # fingerprint mask u it committed (aggregation vector (g_bad, u))
        committed = cheat.vectors[tid]
        target = agg.fingerprint(committed, rho)
        forged = short_preimage(agg.fingerprint([BAD] * DIM, rho), rho, DIM)
        assert forged is not None and dsl24.satisfies(forged, max_norm)
        forged_v = [*forged, committed[DIM]]
        inp = dsl24.witness_input(forged_v, cheat.account, rho, max_norm)
        # the bound servers refuse to prove it (not the shares they committed to) ...
        with pytest.raises(OmniDSLError, match="refuses to prove"):
            dsl24.prove_shared(cluster.cfg, pk_path, inp, agg.share_vector(forged_v, 3),
                              bind_label(tid, cheat.account))
        # ... so it proves g' on its own machine with the proving key it holds
        [forged_item] = dsl24.prove_many([inp])
        assert int(forged_item[1][dsl24.layout.fp_index]) == target
        # variant: a DO that shared nothing at all proves a valid gradient locally
        [absent_item] = dsl24.prove_many([dsl24.witness_input([*good, 0], absent.account, rho,
                                                            max_norm)])
        # the honest DO proves through the servers (their processes record the proof)
        honest_item, _ = dsl24.prove_shared(cluster.cfg, pk_path,
                                           dsl24.witness_input(honest.vectors[tid],
                                                              honest.account, rho, max_norm),
                                           honest.dealt[tid], bind_label(tid, honest.account))
        other_batch = [honest_item]
        honest_sigs = {s.account: s.attest(tid, other_batch) for s in honest_servers}

        for bad_item in (forged_item, absent_item):
            items = [honest_item, bad_item]
            for s in honest_servers:
                why = s.vet(tid, items)
                assert why[0] is None and "did not produce" in str(why[1])
                with pytest.raises(ChainError, match="refuses to sign batch item 1"):
                    s.attest(tid, items)
            # the colluding server signs anything; it has no honest server's signature of it
            proofs, inputs = (list(map(int, x)) for x in batch_calldata(items))
            digest = market.attestation_digest(tid, proofs, inputs)
            own = sign_digest(w3, colluder.account, digest, colluder.signer)
            stranger = sign_digest(w3, cheat.account, digest, secrets.token_bytes(32))
            replayed = b"".join(honest_sigs[s.account] for s in honest_servers)
            attempts = {
                "only its own": own,
                "its own three times": own * 3,
                "a stranger's key": own + stranger + stranger,
                "honest signatures of another batch": own + replayed,
                "honest signatures, wrong order": own + replayed[65:] + replayed[:65],
            }
            for what, sigs in attempts.items():
                with pytest.raises(ChainError, match=r"one signature per server|not attested "
                                                     r"by server 1"):
                    market.submit_batch(tid, proofs, inputs, sigs, colluder.account)
                assert what  # (the attempt's name, for a failing run's traceback)

        # nothing credited, no fingerprint added
        info = market.task(tid)
        assert (info.accepted, info.fp_sum) == (0, 0)
        for d in dos:
            assert not market.is_paid(tid, d.account) and market.balance_of(d.account) == 0

        # control: the honest DO's proof, attested by every server, is credited
        res = colluder.submit(tid, [honest_item], honest_servers)
        assert res.accepted == [honest.account]
        # and the MO's aggregate is exactly the honest gradient; g_bad never entered it
        mo.close(tid)
        for s in servers:
            s.deliver(tid)
        total = mo.reconstruct(mo.collect(tid))
        assert total[:DIM] == good and mo.check_aggregate(tid, total)

        # the trust assumption, stated as a test: if EVERY server colludes, the lattice forgery
        # is paid (docs/market.md: at least one server must be honest)
        tid2 = mo.open_task([s.account for s in servers], REWARD, FEE, REWARD + 3 * FEE,
                            now + 600, pinned_value=max_norm)
        cheat.share(tid2, [BAD] * DIM, servers)
        for s in servers:
            s.commit(tid2)
        for s in servers:
            s.reveal(tid2)
        rho2 = market.task(tid2).rho
        forged2 = short_preimage(agg.fingerprint([BAD] * DIM, rho2), rho2, DIM)
        assert forged2 is not None
        items2 = dsl24.prove_many([dsl24.witness_input([*forged2, cheat.vectors[tid2][DIM]],
                                                     cheat.account, rho2, max_norm)])
        for s in servers:
            s.record(tid2, items2)  # every server lies about having produced it
        assert colluder.submit(tid2, items2, honest_servers).accepted == [cheat.account]
