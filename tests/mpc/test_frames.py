"""Frames: authenticated encryption, ordering, step binding, size limits, config parsing."""

from __future__ import annotations

import asyncio

import pytest

from omnidsl.errors import FormatError, NetworkError
from omnidsl.mpc import frames
from omnidsl.mpc.config import load_config, write_config
from omnidsl.mpc.tcp import FrameConn


def pair(session=b"s" * 16, a=0, b=1):
    ska, pka = frames.generate_keypair()
    skb, pkb = frames.generate_keypair()
    ka = frames.channel_keys(ska, pkb, session, a, b)
    kb = frames.channel_keys(skb, pka, session, b, a)
    return frames.Channel(*ka, session, a, b), frames.Channel(*kb, session, b, a)


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
    # same static keys, different session → different keys
    ska, pka = frames.generate_keypair()
    skb, pkb = frames.generate_keypair()
    s1 = frames.Channel(*frames.channel_keys(ska, pkb, b"1" * 16, 0, 1), b"1" * 16, 0, 1)
    s2 = frames.Channel(*frames.channel_keys(skb, pka, b"2" * 16, 1, 0), b"2" * 16, 1, 0)
    with pytest.raises(NetworkError):
        s2.open(s1.seal("s", b"x"), "s")
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
    assert frames.public_of(cfg.private_key(1)) == cfg.servers[1].public_key
    (tmp_path / "server1.key").write_text((b"\x01" * 32).hex())
    with pytest.raises(FormatError, match="does not match"):
        cfg.private_key(1)
    bad = tmp_path / "bad.toml"
    for text, msg in [
        ("[[servers]]\nid = 0\nport = 1\npublic_key = '00'\n", "at least two"),
        ("not toml [", "not valid TOML"),
        ("[network]\ntimeout = -1\n", "timeout"),
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
    from omnidsl.mpc.cluster import free_ports
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
