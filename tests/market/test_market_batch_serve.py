"""The per-slot batch session between real ``omnidsl serve --bind-dir`` processes over TCP
(omnidsl/mpc/batch_session.py): each DO deals only its slot, authenticated by the digest of
the share each server pinned; the servers check every slot against the share they committed to
(one opening per slot, so the failing slots are named), prove with the Shamir driver over their
own links and write a receipt under the batch label.  A DO that deals a slot other than the
vector it shared, a DO that never deals, a stranger dealing for a DO, a dead server: refused,
named, nothing proved with their slot."""

from __future__ import annotations

import secrets
from pathlib import Path

import numpy as np
import pytest

from omnidsl.errors import ProofError
from omnidsl.field import R, int_to_bytes
from omnidsl.groth16.keys import write_proving_key
from omnidsl.market import dsl_rule
from omnidsl.market.aggregate import fingerprint, share_vector
from omnidsl.market.batch_attest import batch_label
from omnidsl.market.batch_rule import setup_batch
from omnidsl.market.batch_serve import (
    deal_batch_slot,
    padding_witness,
    pin_digests,
    prove_batch_tcp,
)
from omnidsl.market.roles import DataOwner, bind_label
from omnidsl.mpc.batch_client import BatchFailed, BatchSpec, deal_slot_to_servers, run_batch
from omnidsl.mpc.binding import write_pin
from omnidsl.mpc.cluster import ServerCluster
from omnidsl.mpc.receipts import read_receipt

pytestmark = [pytest.mark.slow]

D, K, TASK, RHO = 4, 4, 7, 4242
MAX_Q = 3 << dsl_rule.FRAC


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("batchserve")
    rule = dsl_rule.setup(D)
    batch = setup_batch(rule, K)
    rule_pk = rule.write_proving_key(tmp / "rule")
    (tmp / "batch").mkdir()
    batch_pk = tmp / "batch" / "proving_key.bin"
    write_proving_key(batch.pk, batch_pk)
    with ServerCluster(tmp / "srv", 3, {"rule": tmp / "rule", "batch": tmp / "batch"},
                       bind=True) as cluster:
        yield {"rule": rule, "batch": batch, "rule_pk": rule_pk, "batch_pk": batch_pk,
               "cluster": cluster, "cfg": cluster.cfg}


def _share(w, account: str, v: list[int]) -> DataOwner:
    """A DO that shared ``v`` (+ mask) with the 3 servers, each of which pinned its share."""
    rule, cluster = w["rule"], w["cluster"]
    do = DataOwner(account)
    pieces = share_vector(v, 3)
    do.vectors[TASK], do.dealt[TASK] = list(v), pieces
    b = rule.binding_for(Path("."))
    for i, p in enumerate(pieces):
        write_pin(cluster.bind_dir(i), bind_label(TASK, account), b.wires,
                  b"".join(int_to_bytes(x) for x in p), public={b.owner_wire: int(account, 16)})
    return do


def _vector(seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return [*map(int, rng.integers(-300, 300, D)), secrets.randbelow(R)]


def _matching_mask(g: list[int], fp: int, rho: int) -> int:
    """The mask that gives (g, mask) the fingerprint ``fp``."""
    rest = fingerprint([*g, 0], rho)
    return (fp - rest) * pow(pow(rho, len(g) + 1, R), -1, R) % R


def test_the_servers_prove_a_batch_of_dealt_slots_and_refuse_a_forged_one(world):
    w = world
    rule, batch, cfg = w["rule"], w["batch"], w["cfg"]
    honest = [_share(w, f"0x{0xB0 + j:040x}", _vector(j)) for j in range(2)]
    slots = {do.account: deal_batch_slot(rule, cfg, w["rule_pk"], do, TASK, RHO, MAX_Q)
             for do in honest}
    # the malicious DO shares a gradient the rule forbids (|g_0| = 5.0 > 4.0) ...
    bad = [5 << dsl_rule.FRAC, 0, 0, 0, 12345]
    assert not rule.satisfies(bad, MAX_Q)
    evil = _share(w, f"0x{0xEE:040x}", bad)
    # ... and deals a slot the rule allows whose mask gives it the same fingerprint
    fake = [1, 2, 3, 4]
    forged = [*fake, _matching_mask(fake, fingerprint(bad, RHO), RHO)]
    assert fingerprint(forged, RHO) == fingerprint(bad, RHO) and rule.satisfies(forged, MAX_Q)
    inp = rule.witness_input(forged, evil.account, RHO, MAX_Q)
    deal_slot_to_servers(cfg, rule.pk, w["rule_pk"], rule.circuit.witness(inp),
                         bind_label(TASK, evil.account), pin_digests(rule, evil.dealt[TASK]),
                         rule.backend)
    # a DO that shared but never deals its slot
    silent = _share(w, f"0x{0xC0:040x}", _vector(9))
    announced = {**slots, evil.account: [fingerprint(bad, RHO), int(evil.account, 16), RHO,
                                         MAX_Q],
                 silent.account: [fingerprint(silent.vectors[TASK], RHO),
                                  int(silent.account, 16), RHO, MAX_Q]}
    proof, refused = prove_batch_tcp(batch, cfg, w["batch_pk"], w["rule_pk"], TASK, RHO, MAX_Q,
                                     announced)
    assert proof is not None  # verified inside
    assert set(refused) == {evil.account, silent.account}
    assert "binding check failed" in refused[evil.account]
    assert "not dealt to this server" in refused[silent.account]
    owners = sorted(int(a, 16) for a in slots)
    assert proof.owners == [*owners, 0, 0] and proof.fps[:2] == [
        slots[f"0x{o:040x}"][0] for o in owners]
    for i in range(3):  # every server's own process recorded exactly this proof
        rec = read_receipt(w["cluster"].bind_dir(i), batch_label(TASK, proof.owners))
        assert rec is not None and [int(x) for x in rec[1]] == proof.public
    # a slot is used by one batch that passed the binding check: it is gone now
    with pytest.raises(BatchFailed, match="not dealt to this server") as err:
        _run_once(w, slots)
    assert sorted(err.value.culprits) == sorted(bind_label(TASK, a) for a in slots)


def _run_once(w, slots):
    """One batch session of ``slots`` (no retry without the named ones)."""
    owners = sorted(slots)
    lay = w["batch"].system.layout
    pad_wit, pad_pub = padding_witness(w["rule"], RHO, MAX_Q)
    own = [int(o, 16) for o in owners] + [0] * (K - len(owners))
    fps = [slots[o][0] for o in owners] + [pad_pub[0]] * (K - len(owners))
    spec = BatchSpec([bind_label(TASK, o) for o in owners] + [""] * (K - len(owners)),
                     lay.public(fps, own, {i: pad_pub[i] for i in lay.shared}),
                     Path(w["rule_pk"]), lay.fp_index, lay.owner_index, pad_wit, "again")
    run_batch(w["cfg"], w["batch_pk"], spec)


def test_a_stranger_cannot_deal_a_slot_for_a_data_owner(world):
    w = world
    rule, cfg = w["rule"], w["cfg"]
    victim = _share(w, f"0x{0xD0:040x}", _vector(4))
    inp = rule.witness_input([1, 2, 3, 4, 5], victim.account, RHO, MAX_Q)
    guess = [bytes(32)] * 3  # it does not know the shares the victim sent
    with pytest.raises(ProofError, match="pin digest differs"):
        deal_slot_to_servers(cfg, rule.pk, w["rule_pk"], rule.circuit.witness(inp),
                             bind_label(TASK, victim.account), guess, rule.backend)
    other = _share(w, f"0x{0xD1:040x}", _vector(5))  # its own shares, the victim's label
    with pytest.raises(ProofError, match="pin digest differs"):
        deal_slot_to_servers(cfg, rule.pk, w["rule_pk"], rule.circuit.witness(inp),
                             bind_label(TASK, victim.account),
                             pin_digests(rule, other.dealt[TASK]), rule.backend)


def test_a_dead_server_stops_the_batch_before_anything_is_opened(world):
    """(Runs last: it kills server 2.)  The error names the dead server and no data owner."""
    w = world
    rule, cfg, cluster = w["rule"], w["cfg"], w["cluster"]
    dos = [_share(w, f"0x{0xF0 + j:040x}", _vector(20 + j)) for j in range(2)]
    slots = {do.account: deal_batch_slot(rule, cfg, w["rule_pk"], do, TASK, RHO, MAX_Q)
             for do in dos}
    cluster.kill(2)
    with pytest.raises(BatchFailed, match="server 2") as err:
        _run_once(w, slots)
    assert err.value.culprits == []  # nobody is blamed for a dead server
    for i in range(2):  # nothing was proved: no receipt
        assert read_receipt(cluster.bind_dir(i), "again") is None
    with pytest.raises(ProofError, match="server 2"):  # and no slot can be dealt to it
        deal_batch_slot(rule, cfg, w["rule_pk"], dos[0], TASK, RHO, MAX_Q)
