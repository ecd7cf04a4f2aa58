"""Red team of the redesigned market (issue 10, items 1, 2, 8, 9): attacks by a malicious data
owner (DO, holds the proving key), malicious servers, a malicious model owner (MO) and anyone on
the chain.  Each test either reproduces a hole that was fixed (its name says what must hold now)
or attacks something that holds and asserts the refusal where no other test does.

Contract-logic attacks run on the embedded chain with the TEST-ONLY allow-list verifier; the
laundering attack through a second market runs real ``omnidsl serve`` processes."""

from __future__ import annotations

import dataclasses
import json
import secrets

import numpy as np
import pytest
from market_helpers import (
    FP,
    OWNER,
    RHO,
    X,
    account_keys,
    advance_time,
    commit_and_reveal,
    make_spec,
    now,
    sign_batch,
)
from web3 import Web3

from omnidsl.errors import ChainError, ProofError
from omnidsl.field import FR_BYTES, R, int_to_bytes, limbs_to_bytes
from omnidsl.market import aggregate as agg
from omnidsl.market.attestation import SECP256K1_N, seed_hash
from omnidsl.market.client import MarketClient
from omnidsl.market.roles import DataOwner, ModelOwner, ProverBinding, Server, bind_label
from omnidsl.mpc.binding import check_pin, write_pin
from omnidsl.mpc.receipts import write_receipt

pytestmark = pytest.mark.chain

REWARD, FEE, BOND = 1000, 10, 500
DIM = 8


def _servers(market: MarketClient, accounts, binding: ProverBinding | None = None
             ) -> list[Server]:
    keys = account_keys(market.w3)
    return [Server(market, a, binding=binding and dataclasses.replace(
        binding, bind_dir=binding.bind_dir / f"s{k}"), signer=keys[Web3.to_checksum_address(a)])
        for k, a in enumerate(accounts["servers"])]


def _open(market, allow_list, accounts, escrow=10_000, **kw) -> int:
    kw.setdefault("fee", FEE)
    kw.setdefault("reward", REWARD)
    spec = make_spec(allow_list.contract.address, accounts["servers"], now(market.w3) + 3600,
                     **kw)
    tid, _ = market.create_task(spec, escrow, accounts["mo"])
    return tid


def _fake_proof(words: list[int]) -> dict:
    """A snarkjs proof.json layout around 8 words (what a receipt stores)."""
    a, b, c = words[:2], words[2:6], words[6:]
    return {"pi_a": [str(a[0]), str(a[1]), "1"],
            "pi_b": [[str(b[1]), str(b[0])], [str(b[3]), str(b[2])], ["1", "0"]],
            "pi_c": [str(c[0]), str(c[1]), "1"], "protocol": "groth16", "curve": "bn128"}


# ---------------------------------------------------------------- anyone on the chain

def test_signatures_with_high_s_bad_v_or_zero_r_are_refused(market, allow_list, accounts):
    """Holds: a valid ECDSA signature in its high-s form, v ∉ {27, 28} (0, 1, 29), r = 0 or
    s = 0 never count as a server's attestation; the low-s, v ∈ {27, 28} form does."""
    tid = _open(market, allow_list, accounts)
    words, inputs = allow_list.proof(accounts["dos"][0])
    sigs = sign_batch(market, tid, words, inputs)
    one = sigs[65:130]
    r, s, v = one[:32], int.from_bytes(one[32:64], "big"), one[64]
    assert s <= SECP256K1_N // 2 and v in (27, 28)
    variants = {
        "high s": r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v]),
        "v - 27": r + one[32:64] + bytes([v - 27]),
        "v = 29": r + one[32:64] + bytes([29]),
        "r = 0": b"\0" * 32 + one[32:],
        "s = 0": r + b"\0" * 32 + bytes([v]),
    }
    for what, bad in variants.items():
        with pytest.raises(ChainError, match="not attested by server 1"):
            market.submit_batch(tid, words, inputs, sigs[:65] + bad + sigs[130:],
                                accounts["servers"][0])
        assert what
    assert market.submit_batch(tid, words, inputs, sigs, accounts["servers"][0]).accepted


def test_an_attestation_does_not_travel_to_another_task_or_market(market, allow_list, accounts,
                                                                  w3):
    """Holds: the same batch, signed by every server for one task, is refused in another task
    with the same servers and in another Market deployment at the same task id."""
    t1 = _open(market, allow_list, accounts)
    t2 = _open(market, allow_list, accounts)
    words, inputs = allow_list.proof(accounts["dos"][1])
    sigs = sign_batch(market, t1, words, inputs)
    with pytest.raises(ChainError, match="not attested by server 0"):
        market.submit_batch(t2, words, inputs, sigs, accounts["servers"][0])
    other = MarketClient.deploy(w3)
    spec = make_spec(allow_list.contract.address, accounts["servers"], now(w3) + 3600)
    for _ in range(t1):
        ot, _ = other.create_task(spec, 10_000, accounts["mo"])
    assert ot == t1
    with pytest.raises(ChainError, match="not attested by server 0"):
        other.submit_batch(t1, words, inputs, sigs, accounts["servers"][0])
    assert market.submit_batch(t1, words, inputs, sigs, accounts["servers"][0]).accepted


# ---------------------------------------------------------------- malicious servers

def test_a_seed_withholder_aborts_the_round_for_free(market, allow_list, accounts, w3):
    """Documented (docs/market.md, the challenge ρ): the last revealer who withholds its seed
    stalls the round, but it can still deliver after the close and recover its whole bond —
    aborting costs it nothing (there are no fees without ρ).  The withheld reveal is visible."""
    tid = _open(market, allow_list, accounts, binding=True, bond=BOND)
    srv = accounts["servers"]
    seeds = [secrets.token_bytes(32) for _ in srv]
    for s, seed in zip(srv, seeds, strict=True):
        market.commit_shares(tid, secrets.token_bytes(32), seed_hash(tid, s, seed), s, bond=BOND)
    for s, seed in zip(srv[:2], seeds[:2], strict=True):
        market.reveal_seed(tid, seed, s)
    info = market.task(tid)
    assert not info.challenge_fixed and info.n_revealed == 2
    assert not market.contract.functions.hasRevealed(tid, srv[2]).call()
    market.close_submissions(tid, accounts["mo"])
    for s in srv:
        market.deliver_aggregate(tid, b"nothing accepted", s)
        assert market.balance_of(s) >= BOND  # the withholder too
    advance_time(w3, 3 * 3600)
    assert market.reclaimable(tid) == 10_000  # nothing forfeited
    for s in srv:
        market.withdraw(s)


def test_a_garbage_delivery_is_paid_like_a_real_one(market, allow_list, accounts, w3):
    """Documented (docs/market.md, recourse): the contract cannot open a sealed share, so a
    server that posts garbage instead of its aggregate share earns its fees and its bond back;
    only the MO's ``collect`` names it.  The bond covers withholding, not lying."""
    tid = _open(market, allow_list, accounts, binding=True, bond=BOND)
    commit_and_reveal(market, tid, accounts["servers"], bond=BOND)
    rho = market.task(tid).rho
    words, inputs = allow_list.proof(accounts["dos"][2], rho=rho, fp=5)
    sigs = sign_batch(market, tid, words, inputs)
    assert market.submit_batch(tid, words, inputs, sigs, accounts["servers"][0]).accepted
    market.close_submissions(tid, accounts["mo"])
    liar = accounts["servers"][1]
    before = market.balance_of(liar)
    market.deliver_aggregate(tid, b"\x01" * 80, liar)
    assert market.balance_of(liar) - before == FEE + BOND


# ---------------------------------------------------------------- a malicious model owner

def test_servers_refuse_to_bond_a_task_they_could_not_deliver_in(market, allow_list, accounts,
                                                                 w3):
    """FIXED (High): a malicious MO can take every server's bond by choosing terms under which
    no delivery is possible — (a) an ownerKey of small order (the X25519 exchange fails, so the
    server role's ``deliver`` raised a bare ValueError), (b) a delivery window of one second (no
    block falls in it when blocks are 12 s apart, and the MO never closes early).  After the
    deadline the MO reclaims the bonds.  An honest server now checks the terms before it bonds
    (``commit``) or works for fees (``attest``)."""
    servers = _servers(market, accounts)
    mo = accounts["mo"]
    # the theft itself, by a server that does not check (raw client): 1-second window
    deadline = now(w3) + 600
    spec = make_spec(allow_list.contract.address, accounts["servers"], deadline, binding=True,
                     bond=BOND, deliver_by=deadline + 1)
    tid, _ = market.create_task(spec, 10_000, mo)
    commit_and_reveal(market, tid, accounts["servers"], bond=BOND)
    advance_time(w3, deadline + 12 - now(w3))  # the first block after the deadline
    with pytest.raises(ChainError, match="delivery deadline passed"):
        market.deliver_aggregate(tid, b"share", accounts["servers"][0])
    assert market.reclaim(tid, mo)[0] == 10_000 + 3 * BOND
    # an honest server role refuses such a task before any bond moves
    deadline = now(w3) + 600
    short = make_spec(allow_list.contract.address, accounts["servers"], deadline, binding=True,
                      bond=BOND, deliver_by=deadline + 1)
    tid, _ = market.create_task(short, 10_000, mo)
    with pytest.raises(ChainError, match="delivery window"):
        servers[0].commit(tid)
    assert market.commitment_of(tid, servers[0].account) == b"\0" * 32
    # small-order owner keys (u = 0 with the ignored top bit set, u = 1, an order-8 point)
    for key in (b"\0" * 31 + b"\x80", b"\x01" + b"\0" * 31,
                bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")):
        bad = dataclasses.replace(make_spec(allow_list.contract.address, accounts["servers"],
                                            now(w3) + 600, binding=True, bond=BOND),
                                  owner_key=key)
        tid, _ = market.create_task(bad, 10_000, mo)
        with pytest.raises(ChainError, match="owner key"):
            servers[1].commit(tid)
        assert market.commitment_of(tid, servers[1].account) == b"\0" * 32
        with pytest.raises(ChainError, match="owner key"):
            servers[1].deliver(tid, share=[1, 2, 3])
    # and they refuse to attest (work for fees) in such a task
    plain = dataclasses.replace(make_spec(allow_list.contract.address, accounts["servers"],
                                          now(w3) + 600), owner_key=b"\x01" + b"\0" * 31)
    tid, _ = market.create_task(plain, 10_000, mo)
    words, inputs = allow_list.proof(accounts["dos"][3])
    servers[2].record(tid, [(_fake_proof(words), [str(x) for x in inputs])])
    with pytest.raises(ChainError, match="owner key"):
        servers[2].attest(tid, [(_fake_proof(words), [str(x) for x in inputs])])


def test_the_model_owner_opens_at_most_n_minus_1_servers(market, allow_list, accounts, w3):
    """FIXED (High, privacy): ``Server.opening`` answered every audit, so a MO that "audits"
    all N servers reconstructed every DO's vector (accepted or not) from the openings.  Now
    the MO records each audit on-chain (``requestAudit``: after submissions close, at most
    N − 1 distinct servers per task) and a server opens only if the chain names it."""
    servers = _servers(market, accounts)
    tid = _open(market, allow_list, accounts, binding=True)
    dos = [DataOwner(a) for a in accounts["dos"][:2]]
    for d in dos:
        d.share(tid, [secrets.randbelow(100) for _ in range(4)], servers)
    for s in servers:
        s.commit(tid)
    mo = ModelOwner(market, accounts["mo"], _layout(), verifier=allow_list.contract.address)
    with pytest.raises(ChainError, match="submissions still open"):
        market.request_audit(tid, servers[0].account, mo.account)
    for s in servers:
        s.reveal(tid)
    mo.close(tid)
    with pytest.raises(ChainError, match="only the task owner"):
        market.request_audit(tid, servers[0].account, accounts["outsider"])
    with pytest.raises(ChainError, match="not audited"):
        servers[0].opening(tid)  # no on-chain request: the server keeps its shares closed
    zero = [0] * 5
    assert mo.audit(tid, servers[0], [], zero)
    assert mo.audit(tid, servers[1], [], zero)
    with pytest.raises(ChainError, match="already audited"):
        market.request_audit(tid, servers[1].account, mo.account)
    with pytest.raises(ChainError, match="N-1"):
        mo.audit(tid, servers[2], [], zero)
    with pytest.raises(ChainError, match="not audited"):
        servers[2].opening(tid)
    # what the N-1 openings give: every DO's vector stays hidden behind server 2's share
    opened = [dict(s.opening(tid)[0]) for s in servers[:2]]
    for d in dos:
        partial = agg.add_vectors([o[d.account] for o in opened], 5)
        assert partial != [v % R for v in d.vectors[tid]]


def _layout():
    from omnidsl.market.roles import RuleLayout

    return RuleLayout(n_public=4, owner_index=OWNER, rho_index=RHO, fp_index=FP, pinned_index=X)


# ---------------------------------------------------------------- Server.attest / vet

def test_an_honest_server_signs_exactly_its_receipt(market, allow_list, accounts):
    """FIXED (Low): ``vet`` compared the public inputs mod r, so an honest server signed a batch
    whose on-chain inputs were its receipt's plus r (the digest covers the raw words).  The
    chain's owner and ρ checks and the real verifier refuse such inputs, but an attestation must
    be of exactly what the server produced: inputs ≥ r are refused."""
    (server,) = _servers(market, accounts)[:1]
    tid = _open(market, allow_list, accounts)
    words, inputs = allow_list.proof(accounts["dos"][4])
    item = (_fake_proof(words), [str(x) for x in inputs])
    server.record(tid, [item])
    assert server.vet(tid, [item]) == [None]
    for index in (FP, X):
        shifted = list(item[1])
        shifted[index] = str(int(shifted[index]) + R)
        (why,) = server.vet(tid, [(item[0], shifted)])
        assert why is not None and "not < r" in why


def test_a_bound_server_attests_only_its_committed_and_still_pinned_shares(market, allow_list,
                                                                           accounts, tmp_path):
    """FIXED (High): a bound server signed any receipt found in its bind directory under the
    label ``task<T>-<owner>``.  Labels name neither chain nor market, so (a) a receipt made
    under a stale pin (an earlier market at the same address, e.g. a restarted dev chain) for a
    DO that shared nothing in this task was attested — the DO is paid and no server can deliver
    (it holds no share of that DO: every bond is lost), and (b) a second market whose task has
    the same id replaces the pin (same label) with shares the DO chose after this task's ρ (the
    full attack: test below).  Now a bound server signs only if it committed to a share of that
    DO in this task and its pin on disk is still exactly that share."""
    wires = np.arange(5, dtype="<u4").tobytes()
    binding = ProverBinding(wires, 2, tmp_path)
    servers = _servers(market, accounts, binding)
    tid = _open(market, allow_list, accounts, binding=True)
    honest, absent = DataOwner(accounts["dos"][0]), accounts["dos"][1]
    honest.share(tid, [1, 2, 3, 4], servers)
    for s in servers:
        s.commit(tid)
    for s in servers:
        s.reveal(tid)
    rho = market.task(tid).rho
    s0 = servers[0]
    items = {}
    for owner in (honest.account, absent):
        words, inputs = allow_list.proof(owner, rho=rho, fp=9)
        items[owner] = (_fake_proof(words), [str(x) for x in inputs])
        # the server process's receipt of a session under that label
        write_receipt(s0.binding.bind_dir, bind_label(tid, owner), *items[owner])
    assert s0.vet(tid, [items[honest.account]]) == [None]
    # (a) a receipt for a DO this server holds no committed share of
    (why,) = s0.vet(tid, [items[absent]])
    assert why is not None and "no committed share" in why
    # (b) the pin was replaced (another market's task with the same id, same label)
    label = bind_label(tid, honest.account)
    pin = s0.binding.bind_dir / f"{label}.json"
    original = pin.read_text()
    write_pin(s0.binding.bind_dir, label, wires, b"\x07" * (5 * FR_BYTES),
              public={2: int(honest.account, 16)})
    (why,) = s0.vet(tid, [items[honest.account]])
    assert why is not None and "pin" in why
    pin.unlink()
    (why,) = s0.vet(tid, [items[honest.account]])
    assert why is not None and "pin" in why
    pin.write_text(original)
    assert json.loads(pin.read_text())["public"] == {"2": str(int(honest.account, 16))}
    assert s0.vet(tid, [items[honest.account]]) == [None]


# ---------------------------------------------------------------- a malicious DO

def test_the_mask_wire_is_pinned(dsl, tmp_path):
    """Holds: the fingerprint mask is one of the bound wires, so a DO cannot keep its committed
    gradient shares and change only the mask after ρ (which would let it hit any fingerprint,
    no lattice reduction needed): the server whose mask share changed refuses."""
    from omnidsl.backend import get_backend
    from omnidsl.mpc.schemes import FixedShares
    from omnidsl.mpc.schemes.additive.dealer import deal

    be = get_backend()
    owner = "0x" + "ab" * 20
    wires = [int(w) for w in dsl.gradient_wires()]
    mask_wire = next(x for x in dsl.circuit.inputs if x.name == "mask").wire
    assert int(np.asarray(dsl.circuit.kept)[wires[-1]]) == mask_wire

    def vec(values):
        return b"".join(int_to_bytes(int(v) % R) for v in values)

    g = [3, -5, 0, 7, -4096, 4095, 1, -1]
    committed = [*g, secrets.randbelow(R)]
    pieces = agg.share_vector(committed, 2)
    fixed = FixedShares(wires, [vec(p) for p in pieces])
    for i in range(2):
        write_pin(tmp_path / f"s{i}", "task3-ab", fixed.wires_bytes(), vec(pieces[i]),
                  public={dsl.owner_wire: int(owner, 16)})
    moved = [*g, secrets.randbelow(R)]  # the same gradient, another mask
    shifted = [list(pieces[0]), list(pieces[1])]
    shifted[1][-1] = (shifted[1][-1] + moved[-1] - committed[-1]) % R
    wit = limbs_to_bytes(dsl.circuit.witness(dsl.witness_input(moved, owner, 12345, 1 << 20)))
    mats = deal(be, wit, dsl.pk.n_public + 1, 16, 2,
                fixed=FixedShares(wires, [vec(p) for p in shifted]), bind_label="task3-ab")
    check_pin(tmp_path / "s0", mats[0], 0)  # server 0's share did not change
    with pytest.raises(ProofError, match="differs from the share it committed to"):
        check_pin(tmp_path / "s1", mats[1], 1)


@pytest.mark.slow
def test_a_second_market_on_the_same_bind_dir_cannot_launder_a_forged_gradient(dsl, tmp_path):
    """FIXED (Critical when a server's ``omnidsl serve --bind-dir`` serves two markets, or two
    chains, at once): the binding bypass of issue 10 item 1 with NO colluding server.  The DO
    shares g_bad in market A's task T; the servers commit and reveal ρ_A.  The DO then opens
    task T in a market B it deployed itself (task ids are per market), naming the same servers,
    and shares there v_B = (g', u') with a valid g' and the mask u' solved so that
    f(v_B, ρ_A) = f(v_A, ρ_A) — no lattice reduction needed.  B's commitments pin v_B under the
    same label ``task<T>-<DO>``; the DO proves v_B with ρ_A through the servers, whose receipts
    land under that label; market A's servers found "their" receipt and signed it; the chain paid
    the DO and the MO's aggregate check passed with g_bad inside.  Now every honest server sees
    its pin for A was replaced and refuses."""
    from omnidsl.chain import embedded_chain
    from omnidsl.market.demo import FEE as DFEE
    from omnidsl.market.demo import REWARD as DREWARD
    from omnidsl.market.demo import setup_actors
    from omnidsl.mpc.cluster import ServerCluster
    from omnidsl.solidity.render import batch_calldata

    bad = 1000 * 4096
    pk_path = dsl.write_proving_key(tmp_path / "keys")
    with ServerCluster(tmp_path / "cluster", 3, {"market": tmp_path / "keys"}, bind=True,
                       timeout=20.0) as cluster:
        w3 = embedded_chain()
        actors = setup_actors(w3, dsl, n_owners=1, n_servers=3)
        mo, servers, (cheat,) = actors.mo, actors.servers, actors.dos
        market = mo.market
        for k, s in enumerate(servers):
            s.binding = dsl.binding_for(cluster.bind_dir(k))
        max_norm = dsl.pinned_value(1 << 20)
        deadline = int(w3.eth.get_block("latest")["timestamp"]) + 600
        tid = mo.open_task([s.account for s in servers], DREWARD, DFEE, DREWARD + 3 * DFEE,
                           deadline, pinned_value=max_norm)
        cheat.share(tid, [bad] * DIM, servers)
        for s in servers:
            s.commit(tid)
        for s in servers:
            s.reveal(tid)
        rho = market.task(tid).rho
        committed = cheat.vectors[tid]

        # market B, deployed and run by the cheat, with the same servers (same serve processes)
        market_b = MarketClient.deploy(w3, sender=w3.eth.accounts[0])
        mo_b = ModelOwner(market_b, cheat.account, dsl.layout, dsl.rule_hash,
                          verifier=mo.verifier)
        servers_b = [Server(market_b, s.account, binding=s.binding, signer=s.signer)
                     for s in servers]
        tid_b = mo_b.open_task([s.account for s in servers], 1, 0, 1, deadline,
                               pinned_value=max_norm)
        assert tid_b == tid  # same label task<T>-<DO>
        good = [(37 * j) % 301 - 150 for j in range(DIM)]
        scale = pow(rho, DIM + 1, R)
        u = (agg.fingerprint(committed, rho) - agg.fingerprint(good, rho)) * pow(scale, -1, R) % R
        v_b = [*good, u]
        assert agg.fingerprint(v_b, rho) == agg.fingerprint(committed, rho)
        assert dsl.satisfies(good, max_norm) and not dsl.satisfies([bad] * DIM, max_norm)
        twin = DataOwner(cheat.account)
        twin.share(tid_b, v_b, servers_b, hiding=False)
        for s in servers_b:
            s.commit(tid_b)  # pins v_B's shares under the same label as market A's
        item, _ = dsl.prove_shared(cluster.cfg, pk_path,
                                   dsl.witness_input(v_b, cheat.account, rho, max_norm),
                                   twin.dealt[tid_b], bind_label(tid, cheat.account))
        assert int(item[1][dsl.layout.fp_index]) == agg.fingerprint(committed, rho)
        # every server of market A refuses: its pin for A was replaced
        for s in servers:
            (why,) = s.vet(tid, [item])
            assert why is not None and "pin" in why
        with pytest.raises(ChainError, match="refuses to sign batch item 0"):
            servers[0].submit(tid, [item], servers[1:])
        assert market.task(tid).accepted == 0 and not market.is_paid(tid, cheat.account)

        # what those signatures would have let through: paid, and the MO's check passes with
        # g_bad in the aggregate
        proofs, inputs = batch_calldata([item])
        sigs = sign_batch(market, tid, proofs, inputs,
                          keys={s.account: s.signer for s in servers})
        assert market.submit_batch(tid, proofs, inputs, sigs,
                                   servers[0].account).accepted == [cheat.account]
        mo.close(tid)
        for s in servers:
            s.deliver(tid)
        total = mo.reconstruct(mo.collect(tid))
        assert total[:DIM] == [bad] * DIM and mo.check_aggregate(tid, total, report=False)


def test_a_malformed_share_cannot_stop_a_server_from_delivering(market, allow_list, accounts,
                                                                tmp_path):
    """FIXED (High): ``aggregate_share`` took the dimension from the FIRST share a server had
    received in the task.  A DO that shares a short vector early (and is never accepted) made
    every honest server's ``deliver`` fail (ValueError in the sum), so each forfeited its fees
    and bond to the MO and the round's aggregate was lost.  Now the dimension comes from the
    accepted DOs' shares, and a bound server refuses a share that does not fit its wires."""
    servers = _servers(market, accounts)
    mo = ModelOwner(market, accounts["mo"], _layout(), verifier=allow_list.contract.address)
    spec = dataclasses.replace(make_spec(allow_list.contract.address, accounts["servers"],
                                         now(market.w3) + 3600, binding=True, bond=BOND),
                               owner_key=mo.box_key[1])
    tid, _ = market.create_task(spec, 10_000, mo.account)
    spoiler, good = DataOwner(accounts["dos"][0]), DataOwner(accounts["dos"][1])
    spoiler.share(tid, [1], servers, hiding=False)  # first, and one entry instead of five
    good.share(tid, [5, -6, 7, -8], servers)
    for s in servers:
        s.commit(tid)
    for s in servers:
        s.reveal(tid)
    rho = market.task(tid).rho
    words, inputs = allow_list.proof(good.account, rho=rho,
                                     fp=agg.fingerprint(good.vectors[tid], rho))
    item = (_fake_proof(words), [str(x) for x in inputs])
    for s in servers:
        s.record(tid, [item])
    assert servers[0].submit(tid, [item], servers[1:]).accepted == [good.account]
    mo.close(tid)
    for s in servers:
        s.deliver(tid)
    total = mo.reconstruct(mo.collect(tid))
    assert [v % R for v in total] == [v % R for v in good.vectors[tid]]
    assert mo.check_aggregate(tid, total, report=False)
    # a bound server refuses a share that does not fit the bound wires (it could never prove it)
    bound = _servers(market, accounts, ProverBinding(np.arange(5, dtype="<u4").tobytes(), 2,
                                                     tmp_path))
    tid2 = _open(market, allow_list, accounts, binding=True)
    with pytest.raises(ChainError, match="5 bound wires"):
        spoiler.share(tid2, [1], bound, hiding=False)
    good.share(tid2, [1, 2, 3, 4], bound)


def test_a_chosen_aggregate_error_hides_in_the_mask_coordinate_until_audited(market, allow_list,
                                                                             accounts):
    """Documented (Medium, design; docs/market.md "the audit"): the fingerprint mask is one more
    coordinate of the aggregate, which the MO discards and cannot check (Σ u is uniformly
    random).  So a server that deviates after ρ can add ANY chosen error δ to the gradient part
    of its aggregate share and cancel it in the mask coordinate (−δ·ρ^(i+1)/ρ^(D+1)): the
    fingerprint check passes and the MO applies a gradient the server chose.  Without the mask a
    kernel error needs a large entry (visible) or lattice reduction (not chosen).  Only an audit
    of that server catches it — and the MO may audit N − 1 servers of every round."""
    servers = _servers(market, accounts)
    mo = ModelOwner(market, accounts["mo"], _layout(), verifier=allow_list.contract.address)
    spec = dataclasses.replace(make_spec(allow_list.contract.address, accounts["servers"],
                                         now(market.w3) + 3600, binding=True),
                               owner_key=mo.box_key[1])
    tid, _ = market.create_task(spec, 10_000, mo.account)
    do = DataOwner(accounts["dos"][2])
    do.share(tid, [5, -6, 7, -8], servers)
    for s in servers:
        s.commit(tid)
    for s in servers:
        s.reveal(tid)
    rho = market.task(tid).rho
    words, inputs = allow_list.proof(do.account, rho=rho, fp=agg.fingerprint(do.vectors[tid], rho))
    item = (_fake_proof(words), [str(x) for x in inputs])
    for s in servers:
        s.record(tid, [item])
    accepted = servers[0].submit(tid, [item], servers[1:]).accepted
    mo.close(tid)
    honest = [s.aggregate_share(tid, accepted) for s in servers]
    delta, d = 3 * 4096, 4  # +3.0 on entry 0 of a 4-entry gradient
    tweaked = list(honest[1])
    tweaked[0] = (tweaked[0] + delta) % R
    tweaked[d] = (tweaked[d] - delta * rho * pow(pow(rho, d + 1, R), -1, R)) % R
    servers[0].deliver(tid)
    servers[1].deliver(tid, share=tweaked)
    servers[2].deliver(tid)
    total = mo.reconstruct(mo.collect(tid))
    assert total[:d] == [5 + delta, -6, 7, -8]  # the server's chosen update
    assert mo.check_aggregate(tid, total, report=False)  # ... passes the fingerprint check
    assert mo.audit(tid, servers[0], accepted, honest[0])
    assert not mo.audit(tid, servers[1], accepted, tweaked)  # the audit names the culprit
