"""Attribution (docs/mpc.md): a failed proof names the server(s) whose messages were wrong, and a
bad witness is the data owner's error.  In process (N parties as threads over LocalHub, each
reporting digests exactly as ``omnidsl serve`` does) for lying reports, and with real
``omnidsl serve`` processes (``--test-corrupt-shares``) for every k."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from omnidsl.errors import NetworkError, ProofError
from omnidsl.groth16.points import g1_to_bytes, g2_to_bytes
from omnidsl.groth16.prover import check_satisfied, dealt_msms, prove, public_signals
from omnidsl.groth16.setup import dev_setup
from omnidsl.groth16.verifier import verify
from omnidsl.mpc.attribution import (
    RECEIVED,
    SENT,
    DigestNetwork,
    attribute,
    decode_transcript,
    encode_transcript,
    judge_step,
)
from omnidsl.mpc.network import LocalHub
from omnidsl.mpc.schemes.additive import AdditiveDriver
from omnidsl.mpc.schemes.additive.dealer import deal, share_dealt_msms
from omnidsl.mpc.schemes.additive.material import expand_material, new_session_id
from tests.mpc.faults import CorruptingDriver
from tests.mpc.helpers import prove_shared


def dealing(be, pk, z, n):
    """What prove_shared deals by default (bounded masks, mode split)."""
    mats = deal(be, z, pk.n_public + 1, pk.domain_size, n, new_session_id(),
                wire_bits=pk.r1cs.wire_bits)
    points = share_dealt_msms(be, dealt_msms(pk, z, be), n)
    return [dataclasses.replace(m, witness_msm=p) for m, p in zip(mats, points, strict=True)]


def session(be, pk, mats, corrupt=()):
    """Run the parties like ``omnidsl serve`` does: replies with the proof or the error, and the
    digest transcript of every payload sent and received."""
    n = len(mats)
    hub = LocalHub(n, timeout=30)
    replies = [None] * n

    def party(i):
        net = DigestNetwork(hub.network(i))
        try:
            d = AdditiveDriver(i, n, net, expand_material(mats[i], pk.r1cs.wire_bits), be)
            if i in corrupt:
                d = CorruptingDriver(d)
            p = prove(pk, d, be)
            replies[i] = {"ok": True, "a": g1_to_bytes(p.a), "b": g2_to_bytes(p.b),
                          "c": g1_to_bytes(p.c), "transcript": net.encode()}
        except Exception as exc:
            replies[i] = {"ok": False, "error": str(exc), "transcript": net.encode()}

    ts = [threading.Thread(target=party, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    return replies


def rewrite(reply, n, fn):
    """A server lying in its report: ``fn`` edits its decoded transcript."""
    t = decode_transcript(reply["transcript"], n)
    fn(t)
    return {**reply, "transcript": encode_transcript(t)}


def judge(be, pk, z, mats, replies, vk=None):
    return attribute(pk, mats, replies, be, public_signals(pk, z), vk=vk)


# ------------------------------------------------------------------ the data owner's witness


def test_bad_witness_is_the_owners_error(be, nb):
    pk, z = nb.pk, nb.z
    check_satisfied(pk, z, be)  # the valid witness passes
    k = pk.n_public + 3  # a private wire
    bad = bytearray(z)
    bad[32 * k] ^= 1
    with pytest.raises(ProofError, match=r"the witness does not satisfy the rule: constraint #"
                                         r"\d+ of \d+ fails \(nothing was sent"):
        check_satisfied(pk, bytes(bad), be)


# ------------------------------------------------------------------ in process, lying reports


@pytest.mark.parametrize("n", [2, 3])
def test_corrupt_party_k_is_named_alone(be, nb, n):
    pk, z = nb.pk, nb.z
    mats = dealing(be, pk, z, n)
    for k in range(n):
        v = judge(be, pk, z, mats, session(be, pk, mats, corrupt={k}))
        step = "mul_vec#0.open" if (n, k) == (3, 0) else "mul_vec#0"  # party 0 keeps slice 0
        assert v.named == [k] and v.blame.culprits == [k] and not v.blame.disputes
        assert v.message() == (f"server {k} sent wrong shares at step {step!r} "
                               "(expected from the dealt material)")
        assert v.steps_judged[-1] == step  # the re-run stopped at the deciding step


def test_honest_session_has_nothing_to_blame(be, nb):
    pk, z = nb.pk, nb.z
    mats = dealing(be, pk, z, 3)
    replies = session(be, pk, mats)
    v = judge(be, pk, z, mats, replies)
    assert v.named == [] and v.message() is None and v.honest_proof_verifies is True
    assert len(v.steps_judged) == 6  # mul_vec#0, .open, π_A, π_B2, π_B1, π_C


def test_sender_lying_about_its_sends_is_named_with_its_receivers(be, nb):
    """Server 2 sends wrong shares and reports the honest digests: its receivers' reports
    contradict it; both sides of every contradiction are named, nobody else."""
    pk, z = nb.pk, nb.z
    n = 3
    mats = dealing(be, pk, z, n)
    honest = session(be, pk, mats)
    replies = session(be, pk, mats, corrupt={2})
    truth = decode_transcript(honest[2]["transcript"], n)
    replies[2] = rewrite(replies[2], n, lambda t: t.update(
        {key: d for key, d in truth.items() if key[0] == SENT}))
    v = judge(be, pk, z, mats, replies)
    assert v.blame.culprits == [] and v.blame.step == "mul_vec#0"
    assert v.blame.disputes == [(2, 0, True)] and v.named == [0, 2]
    assert v.message() == ("server 0 reports receiving wrong shares from server 2 at step "
                           "'mul_vec#0' while server 2 reports sending the expected ones: "
                           "server 2 is faulty, or server 0 is faulty")


def test_receiver_framing_an_honest_sender_never_names_it_alone(be, nb):
    """Every server honest, server 1 claims it received garbage from servers 0 and 2."""
    pk, z = nb.pk, nb.z
    n = 3
    mats = dealing(be, pk, z, n)
    replies = session(be, pk, mats)
    replies[1] = rewrite(replies[1], n, lambda t: t.update(
        {(RECEIVED, j, "mul_vec#0"): bytes(32) for j in (0, 2)}))
    v = judge(be, pk, z, mats, replies)
    assert v.blame.culprits == [] and v.named == [0, 1, 2]
    assert {(s, r) for s, r, _ in v.blame.disputes} == {(0, 1), (2, 1)}
    # a sender that claims to have sent something else than the protocol's message is named
    replies[0] = rewrite(replies[0], n, lambda t: t.update({(SENT, 2, "mul_vec#0"): bytes(32)}))
    v = judge(be, pk, z, mats, replies)
    assert v.blame.culprits == [0] and v.named == [0, 1, 2]  # 0 alone; the (2, 1) dispute stays


def test_server_returning_another_proof_is_named(be, nb):
    pk, z = nb.pk, nb.z
    n = 3
    mats = dealing(be, pk, z, n)
    replies = session(be, pk, mats)
    replies[1] = {**replies[1], "c": replies[2]["a"]}  # messages right, returned proof wrong
    v = judge(be, pk, z, mats, replies)
    assert v.blame is None and v.wrong_proof == [1] and v.named == [1]
    assert "server 1 returns a proof other than the one the protocol opened" in v.message()


def test_keys_not_servers_when_the_honest_proof_does_not_verify(be, nb):
    pk, z = nb.pk, nb.z
    mats = dealing(be, pk, z, 2)
    replies = session(be, pk, mats)
    other = dev_setup(pk.r1cs, be).vk  # the owner verifies with another setup's key
    v = judge(be, pk, z, mats, replies, vk=other)
    assert v.named == [] and v.honest_proof_verifies is False
    assert v.message().startswith("no server deviated from the protocol")


def test_failed_session_without_deviation_blames_nobody_and_stops_early(be, nb):
    """A party that stops after the first opening (a crash): reports cover mul_vec#0 only;
    the re-run judges that step and stops."""
    pk, z = nb.pk, nb.z
    n = 3
    mats = dealing(be, pk, z, n)
    replies = session(be, pk, mats)
    for i in range(n):
        replies[i] = {"ok": False, "error": "x", "transcript": encode_transcript(
            {k: d for k, d in decode_transcript(replies[i]["transcript"], n).items()
             if k[2] == "mul_vec#0"})}
    v = judge(be, pk, z, mats, replies)
    assert v.message() is None and v.steps_judged == ["mul_vec#0"]


def test_transcript_codec_and_malformed_reports(be):
    t = {(SENT, 1, "mul_vec#0"): bytes(range(32)), (RECEIVED, 2, "open_g1#0"): bytes(32)}
    assert decode_transcript(encode_transcript(t), 3) == t
    buf = encode_transcript(t)
    assert decode_transcript(buf[:-1], 3) is None  # truncated
    assert decode_transcript(buf, 2) is None  # a peer outside the session
    assert decode_transcript(None, 3) is None and decode_transcript("x", 3) is None
    assert decode_transcript(b"\x07" + buf[1:], 3) is None  # unknown direction
    # no report at all from a server: its receivers still judge its messages
    assert judge_step("s", 2, lambda i, j: b"e", [None, {(RECEIVED, 0, "s"): b"x"}]).named \
        == [0, 1]
    assert judge_step("s", 2, lambda i, j: b"e", [None, None]) is None


def test_localhub_abort_wakes_a_blocked_receiver():
    hub = LocalHub(2, timeout=30)
    net = hub.network(0)
    err = []

    def wait():
        try:
            net.recv(1)
        except NetworkError as exc:
            err.append(exc.message)

    t = threading.Thread(target=wait)
    t.start()
    hub.abort("stopped")
    t.join(5)
    assert not t.is_alive() and err == ["party 0: stopped"]


# ------------------------------------------------------------------ real `omnidsl serve` processes


@pytest.mark.slow
def test_real_servers_corrupt_server_k_is_named_for_every_k(tmp_path, nb, be):
    """N = 3 `omnidsl serve` processes; server k runs with --test-corrupt-shares, for each k:
    the error names exactly server k and the step; an honest session in between succeeds."""
    from tests.mpc.cluster import Cluster

    d, pk, z = nb.keys, nb.pk, nb.z
    n = 3
    with Cluster(tmp_path, n, {"nb": d}).start_all() as cl:
        for k in range(n):
            cl.kill(k)
            cl.start(k, "--test-corrupt-shares")
            with pytest.raises(ProofError) as err:
                prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk)
            step = "mul_vec#0.open" if k == 0 else "mul_vec#0"
            assert err.value.message == (f"collaborative proof failed: server {k} sent wrong "
                                         f"shares at step {step!r} (expected from the dealt "
                                         "material)")
            assert err.value.hint == f"nothing was written; retry without server {k}"
            cl.kill(k)
            cl.start(k)
            res = prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk)  # power: all honest
            assert verify(pk.vk, res.public, res.proof, be)


@pytest.mark.slow
def test_real_servers_bad_witness_and_bad_keys_are_not_blamed_on_servers(tmp_path, nb, be,
                                                                         capsys):
    d, pk, z = nb.keys, nb.pk, nb.z
    from omnidsl.cli import main
    from omnidsl.field import bytes_to_limbs
    from omnidsl.r1cs.wtnsfile import write_wtns
    from tests.mpc.cluster import Cluster

    bad = bytearray(z)
    bad[32 * (pk.n_public + 3)] ^= 1
    wtns = tmp_path / "bad.wtns"
    write_wtns(wtns, bytes_to_limbs(bytes(bad)))
    cl = Cluster(tmp_path / "cl", 2, {"nb": d})  # configured, not started: nothing listens
    with pytest.raises(ProofError, match="the witness does not satisfy the rule"):
        prove_shared(cl.cfg, d / "proving_key.bin", bytes(bad), be, pk=pk)
    with pytest.raises(NetworkError, match="cannot connect"):  # power: a good one is sent
        prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk)
    proof = tmp_path / "proof.json"
    assert main(["prove-shared", "--servers", str(cl.config_path), "--keys", str(d),
                 "--witness", str(wtns), "-o", str(proof)]) == 1
    assert "the witness does not satisfy the rule" in capsys.readouterr().err
    assert not proof.exists()
    with cl.start_all():
        # the owner verifies against another setup's key: the servers followed the protocol
        wrong = dataclasses.replace(pk, vk=dev_setup(pk.r1cs, be).vk)
        with pytest.raises(ProofError) as err:
            prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=wrong)
        assert err.value.message.startswith("collaborative proof failed: no server deviated "
                                            "from the protocol: the proof the dealt material "
                                            "yields does not verify")
        res = prove_shared(cl.cfg, d / "proving_key.bin", z, be, pk=pk)
        assert verify(pk.vk, res.public, res.proof, be)
