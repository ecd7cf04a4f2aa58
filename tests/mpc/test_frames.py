"""Frames: authenticated encryption, ordering, step binding, size limits, config parsing."""

from __future__ import annotations

import asyncio

import pytest

from omnidsl.errors import FormatError, NetworkError
from omnidsl.mpc import frames
from omnidsl.mpc.config import Limits, load_config, write_config
from omnidsl.mpc.tcp import FrameConn
from tests.mpc.helpers import link


def pair(session=b"s" * 16, a=0, b=1):
    return link(session, a, b)


def test_seal_open_roundtrip_and_counters():
    a, b = pair()
    for k in range(3):
        body = a.seal("mul_vec#0", b"hello %d" % k)
        assert b"hello" not in body  # encrypted
        assert b.open(body, "mul_vec#0") == ("mul_vec#0", b"hello %d" % k)
    back = b.seal("open_g1#0", b"x")
    assert a.open(back, "open_g1#0")[1] == b"x"


def test_tampered_replayed_reordered_and_misstepped_frames_are_rejected():
    a, b = pair()
    f0, f1 = a.seal("s", b"zero"), a.seal("s", b"one")
    bad = bytearray(f0)
    bad[-1] ^= 1
    with pytest.raises(NetworkError, match="failed authentication"):
        b.open(bytes(bad), "s")
    with pytest.raises(NetworkError, match="out of order"):
        b.open(f1, "s")  # skipped frame 0
    assert b.open(f0, "s")[1] == b"zero"
    with pytest.raises(NetworkError, match="out of order or replayed"):
        b.open(f0, "s")  # replay
    # a frame sealed for another step: the step is authenticated and checked
    f2 = a.seal("mul_vec#1", b"two")
    b2 = bytearray(f1)
    assert b.open(bytes(b2), "s")[1] == b"one"
    with pytest.raises(NetworkError, match="expecting step 'open_g1#0'"):
        b.open(f2, "open_g1#0")
    # rewriting the step name in the header breaks authentication
    a3 = a.seal("aaaa", b"three")
    forged = a3.replace(b"aaaa", b"bbbb", 1)
    with pytest.raises(NetworkError, match="failed authentication"):
        b.open(forged, "bbbb")


def test_wrongly_keyed_and_cross_session_frames_are_rejected():
    a, _ = pair()
    _, b_other = pair()
    with pytest.raises(NetworkError, match="failed authentication"):
        b_other.open(a.seal("s", b"x"), "s")
    # same static keys, same session id, new connection → fresh ephemeral keys, other keys
    sa, sb = frames.generate_keypair(), frames.generate_keypair()
    s1, _ = link(b"1" * 16, 0, 1, sa, sb)
    _, s2 = link(b"1" * 16, 0, 1, sa, sb)
    with pytest.raises(NetworkError):
        s2.open(s1.seal("s", b"x"), "s")
    # an initiator with a wrong idea of the responder's static key derives other keys
    ea, eb = frames.generate_keypair(), frames.generate_keypair()
    ha = frames.Hello(frames.ROLE_SERVER, 1, 0, b"1" * 16, ea[1]).encode()
    hb = frames.Hello(frames.ROLE_SERVER, 0, 1, b"1" * 16, eb[1]).encode()
    t = frames.transcript_hash(ha, hb)
    stale = frames.generate_keypair()[1]
    ki = frames.session_keys(frames.link_ikm(True, ea[0], sa[0], eb[1], stale), t, 1, 0)
    kr = frames.session_keys(frames.link_ikm(False, eb[0], sb[0], ea[1], sa[1]), t, 0, 1)
    with pytest.raises(NetworkError, match="failed authentication"):
        frames.Channel(*kr, b"1" * 16, 0, 1).open(
            frames.Channel(*ki, b"1" * 16, 1, 0).seal("s", b"x"), "s")
    # keys are per direction: a frame reflected back to its sender does not authenticate
    a2, _ = pair()
    body = a2.seal("s", b"x")
    with pytest.raises(NetworkError):
        a2.open(body, "s")


def test_malformed_frames_and_hellos():
    _a, b = pair()
    for junk in (b"", b"\x01" * 10, b"\x07" + bytes(40)):
        with pytest.raises(NetworkError, match="malformed"):
            b.open(junk, "s")
    hello = frames.Hello(frames.ROLE_OWNER, 255, 1, b"q" * 16, b"k" * 32)
    assert frames.Hello.decode(hello.encode()) == hello
    for junk in (b"", b"HTTP/1.1 GET /", b"OMNI" + bytes(52), hello.encode()[:-1]):
        with pytest.raises(NetworkError, match=r"hello|version"):
            frames.Hello.decode(junk)


def test_owner_keys_agree_and_refusals_are_sanitised():
    server_sk, server_pk = frames.generate_keypair()
    e_do, e_srv = frames.generate_keypair(), frames.generate_keypair()
    h_do = frames.Hello(frames.ROLE_OWNER, frames.OWNER_ID, 2, b"q" * 16, e_do[1]).encode()
    h_srv = frames.Hello(frames.ROLE_SERVER, 2, frames.OWNER_ID, b"q" * 16, e_srv[1]).encode()
    t = frames.transcript_hash(h_do, h_srv)
    k_do = frames.session_keys(frames.owner_ikm_owner_side(e_do[0], e_srv[1], server_pk), t,
                               frames.OWNER_ID, 2)
    k_srv = frames.session_keys(frames.owner_ikm_server_side(e_srv[0], server_sk, e_do[1]), t,
                                2, frames.OWNER_ID)
    assert k_do == k_srv[::-1] and k_do[0] != k_do[1]
    # the transcript (both ephemeral keys) enters the keys
    t2 = frames.transcript_hash(h_do, h_srv[:-1] + b"x")
    assert frames.session_keys(b"k" * 64, t, 0, 1) != frames.session_keys(b"k" * 64, t2, 0, 1)
    with pytest.raises(NetworkError, match="degenerate"):
        frames.dh(e_do[0], bytes(32))  # a low-order point gives the all-zero secret
    body = frames.refusal("busy\x1b[31m " + "x" * 500)
    assert len(body) <= frames.MAX_HELLO_FRAME
    reason = frames.refusal_reason(body)
    assert reason is not None and reason.startswith("busy?[31m") and "\x1b" not in reason
    assert frames.refusal_reason(h_srv) is None
    with pytest.raises(NetworkError, match="unknown role"):
        frames.Hello.decode(frames.refusal("x" * 50))


def test_oversized_frame_rejected_before_reading():
    async def go():
        reader = asyncio.StreamReader()
        reader.feed_data((1 << 30).to_bytes(4, "big") + b"x" * 10)
        conn = FrameConn(reader, None, 1 << 20, "server 3")  # type: ignore[arg-type]
        with pytest.raises(NetworkError, match=r"server 3 sent an oversized frame"):
            await conn.read_body()
        reader2 = asyncio.StreamReader()
        reader2.feed_data(b"\x00\x00\x00\x10abc")
        reader2.feed_eof()
        conn2 = FrameConn(reader2, None, 1 << 20, "server 4")  # type: ignore[arg-type]
        with pytest.raises(NetworkError, match="closed the connection"):
            await conn2.get(1.0, "mul_vec#0")

    asyncio.run(go())


def test_config_roundtrip_and_errors(tmp_path):
    path = write_config(tmp_path, 3, 7100, circuits={"nb": "keys/nb"}, timeout=5)
    cfg = load_config(path)
    assert cfg.n == 3 and cfg.timeout == 5 and cfg.servers[2].port == 7102
    assert cfg.circuits["nb"] == tmp_path / "keys/nb"
    assert cfg.limits == Limits()  # defaults when [network] names none
    path = write_config(tmp_path / "b", 2, 7100, limits=Limits(max_sessions=2,
                                                               handshake_timeout=1.5))
    assert load_config(path).limits == Limits(max_sessions=2, handshake_timeout=1.5)
    assert frames.public_of(cfg.private_key(1)) == cfg.servers[1].public_key
    (tmp_path / "server1.key").write_text((b"\x01" * 32).hex())
    with pytest.raises(FormatError, match="does not match"):
        cfg.private_key(1)
    bad = tmp_path / "bad.toml"
    for text, msg in [
        ("[[servers]]\nid = 0\nport = 1\npublic_key = '00'\n", "at least two"),
        ("not toml [", "not valid TOML"),
        ("[network]\ntimeout = -1\n", "timeout"),
        ("[network]\nmax_sessions = 0\n", "max_sessions must be an integer in 1..64"),
        ("[network]\nassemble_timeout = 'x'\n", "assemble_timeout must be a number"),
        ("[network]\nmax_unauthenticated = 2.5\n", "max_unauthenticated must be an integer"),
        ("[[servers]]\nid = 1\nport = 1\npublic_key = '" + "00" * 32 + "'\n"
         "[[servers]]\nid = 0\nport = 2\npublic_key = '" + "00" * 32 + "'\n", "id order"),
    ]:
        bad.write_text(text)
        with pytest.raises(FormatError, match=msg):
            load_config(bad)


def test_cli_reports_unreachable_servers_in_one_line(tmp_path, capsys):
    from omnidsl.backend import get_backend
    from omnidsl.cli import main
    from omnidsl.field import bytes_to_limbs
    from omnidsl.procs import free_ports
    from omnidsl.r1cs.wtnsfile import write_wtns
    from tests.mpc.cluster import make_keys

    _, z, _ = make_keys("range", {"D": 4}, {"x": [0.0, 0.5, 1.0, 0.25], "lo": 0.0, "hi": 1.0},
                        tmp_path / "keys", get_backend())
    write_wtns(tmp_path / "w.wtns", bytes_to_limbs(z))
    cfg = write_config(tmp_path / "cl", 2, 0, timeout=2, ports=free_ports(2))
    rc = main(["prove-shared", "--servers", str(cfg), "--keys", str(tmp_path / "keys"),
               "--witness", str(tmp_path / "w.wtns"), "-o", str(tmp_path / "p.json"),
               "--public", str(tmp_path / "pub.json")])
    err = capsys.readouterr().err
    assert rc == 1 and "cannot connect to server 0 at 127.0.0.1:" in err
    assert "Traceback" not in err and not (tmp_path / "p.json").exists()
    assert main(["serve", "--id", "7", "--config", str(cfg)]) == 1
    assert "no server with id 7" in capsys.readouterr().err
