"""Hostile but correctly sealed messages to real `omnidsl serve` processes (issue 10, item 3).

Anyone can be a data owner, so every size in the material is hostile input.  Each case below
is sent through the real handshake to one server; the server must refuse it (naming what is
wrong) before expanding a seed, keep running, and not grow: its peak resident memory (VmHWM)
stays within 64 MiB of what it was, where e.g. 2^26 triples alone would be 6 GiB.  A good
session works afterwards.  A peer server announcing an oversized frame is refused the same way.
"""

from __future__ import annotations

import asyncio
import struct
import threading

import pytest

from omnidsl.backend import get_backend
from omnidsl.errors import NetworkError
from omnidsl.field import R
from omnidsl.groth16.verifier import verify
from omnidsl.mpc import codec, frames, handshake
from omnidsl.mpc.config import file_digest
from omnidsl.mpc.messages import encode_open
from omnidsl.mpc.schemes.additive.material import new_session_id
from omnidsl.mpc.schemes.additive.wire import material_frame_limit
from tests.groth16.cases import CASES
from tests.mpc.cluster import Cluster, make_keys, wait_until
from tests.mpc.helpers import exchange, material, proc_status, prove_shared

pytestmark = pytest.mark.slow

N = 2
MIB = 1 << 20


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    be = get_backend()
    root = tmp_path_factory.mktemp("hostile")
    params, inputs = CASES["range"]
    pk, z, _ = make_keys("range", params, inputs, root / "keys", be)
    with Cluster(root / "cl", N, {"range": root / "keys"}, timeout=10).start_all() as cl:
        yield cl, pk, z, be, root / "keys" / "proving_key.bin"


LAST = N - 1
# (party, field changes, what the refusal must say)
CASES_3 = [
    (0, {"n_triples": 2**40}, "triples dealt, the domain needs exactly"),
    (0, {"n_triples": 2**26}, "triples dealt, the domain needs exactly"),
    (0, {"n_triples": "many"}, "'n_triples' missing or not int"),
    (0, {"n_wires": 2**40}, "do not fit the proving key"),
    (0, {"n_parties": 2**40}, "it is for party 0 of 1099511627776"),
    (0, {"party_id": 2**40}, "it is for party 1099511627776"),
    (0, {"party_id": -1}, "it is for party -1"),
    (0, {"mask_slack": 2**40}, "mask slack 1099511627776 is neither 0 nor"),
    (0, {"mask_slack": -3}, "mask slack -3 is neither 0 nor"),
    (0, {"seed": b"short"}, "bad seed or session id length"),
    (0, {"rs": 5}, "only (and always) the last party receives an explicit r·s share"),
    (0, {"witness": bytes(64)}, "only the last party receives an explicit witness share"),
    (0, {"witness_msm": bytes(100)}, "dealt MSM shares need 192 bytes"),
    (0, {"fixed_wires": b"\x05\x00\x00", "fixed_share": bytes(32)}, "bytes of fixed wires"),
    (LAST, {"witness": b"short"}, "the last party's witness share must be"),
    (LAST, {"triple_z": None}, "the last party's triple_z share must be"),
    (LAST, {"rs": R}, "rs share is not < r"),
    (LAST, {"rs": None}, "only (and always) the last party receives an explicit r·s share"),
    # a session of another sharing scheme than servers.toml names (no downgrade, no confusion)
    (0, {"scheme": "shamir"}, "the session uses the 'shamir' sharing scheme; server 0 runs the "
                              "'additive' scheme"),
    (0, {"scheme": 7}, "message field 'scheme' is not a string"),
]


def test_hostile_material_is_refused_before_allocation_and_server_survives(setup):
    cl, pk, z, be, pk_path = setup
    digest = file_digest(pk_path)
    pids = {i: p.pid for i, p in cl.procs.items()}
    res = prove_shared(cl.cfg, pk_path, z, be, pk=pk)  # warm: key loaded, allocator primed
    assert verify(pk.vk, res.public, res.proof, be)
    peak0 = {i: proc_status(pid, "VmHWM") for i, pid in pids.items()}

    def refused(party: int, changes: dict, want: str, opening: bytes | None = None) -> None:
        sid_ = new_session_id()
        msg = material(pk, z, be, party, sid_, digest)
        msg.update(changes)
        reply = exchange(cl, party, msg, digest, sid_, opening)
        text = str(reply) if isinstance(reply, NetworkError) else str(reply.get("error"))
        assert isinstance(reply, NetworkError) or reply.get("ok") is False, (changes, reply)
        assert want in text, (changes, text)

    for party, changes, want in CASES_3:
        refused(party, changes, want)
    # every private wire "fixed": more fixed wires than private wires
    n_priv = pk.n_wires - pk.n_public - 1
    first = pk.n_public + 1
    refused(0, {"fixed_wires": struct.pack(f"<{n_priv + 1}I", *range(first, first + n_priv + 1)),
                "fixed_share": bytes(32 * (n_priv + 1))}, "bytes of fixed wires")
    # a JSON header beyond 4 KiB (inside the frame limit), and one nested 3000 deep
    refused(0, {"bind_label": "a" * 5000}, "header of")
    for header in (b'{"a":' + b"[" * 3000 + b"]" * 3000 + b"}",):
        sid_ = new_session_id()
        reply = exchange(cl, 0, struct.pack(">I", len(header)) + header, digest, sid_)
        assert isinstance(reply, dict) and "malformed message" in str(reply.get("error"))
    # a material frame above what the key implies is refused before it is read
    limit = material_frame_limit(pk)
    assert limit < 4 * MIB
    # (the server replies and closes while 8 MiB are still coming: the owner may only see the
    # reset; the server's log names the cause)
    refused(0, {"witness_msm": bytes(8 * MIB)}, "")
    assert wait_until(lambda: any("oversized frame (8389" in line and f"limit {limit})" in line
                                  for line in cl.logs[0])), cl.log_tail(0)
    # the opening: unknown key, malformed digest, oversized frame
    refused(0, {}, "has no proving key", encode_open("ab" * 32))
    refused(0, {}, "malformed session opening", codec.encode({"kind": "open",
                                                              "key_digest": "z" * 64}))
    refused(0, {}, "malformed session opening", codec.encode({"kind": "open"}))
    refused(0, {}, "", b"x" * 4096)  # oversized opening: the connection is refused
    assert wait_until(lambda: any("oversized frame (4" in line for line in cl.logs[0]))

    assert cl.alive() == list(range(N)), [cl.log_tail(i) for i in range(N)]
    for i, pid in pids.items():
        assert cl.procs[i].pid == pid  # the same processes, never restarted
        grew = proc_status(pid, "VmHWM") - peak0[i]
        assert grew < 64 * MIB, f"server {i} peak memory grew by {grew / MIB:.0f} MiB"
    res = prove_shared(cl.cfg, pk_path, z, be, pk=pk)  # a good session afterwards
    assert verify(pk.vk, res.public, res.proof, be)


def test_peer_announcing_an_oversized_frame_is_refused_before_reading(setup):
    """A (malicious) server 1 holding its real key links to server 0 and then announces a
    1 GiB frame: server 0 refuses it without reading it and the session fails cleanly."""
    cl, pk, z, be, pk_path = setup
    digest = file_digest(pk_path)
    sid_ = new_session_id()
    msg = material(pk, z, be, 0, sid_, digest)
    out: list = []
    owner = threading.Thread(target=lambda: out.append(exchange(cl, 0, msg, digest, sid_)))
    owner.start()

    async def fake_server_1() -> None:
        from omnidsl.mpc.tcp import connect

        e0 = cl.cfg.server(0)
        conn = await connect(e0.host, e0.port, frames.MAX_HELLO_FRAME, "server 0", 5)
        deadline = asyncio.get_running_loop().time() + 10
        await handshake.link_initiate(conn, 1, cl.cfg.private_key(1), 0, e0.public_key, sid_,
                                      deadline)
        conn.writer.write((1 << 30).to_bytes(4, "big") + b"\0" * 1024)
        await conn.drain()
        await asyncio.sleep(2)
        conn.close()

    asyncio.run(fake_server_1())
    owner.join(30)
    assert out and isinstance(out[0], dict) and out[0].get("ok") is False
    assert "server 1 sent an oversized frame (1073741824 bytes > limit" in out[0]["error"]
    assert cl.alive() == list(range(N))
    res = prove_shared(cl.cfg, pk_path, z, be, pk=pk)
    assert verify(pk.vk, res.public, res.proof, be)
