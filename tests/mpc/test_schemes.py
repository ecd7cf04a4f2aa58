"""The sharing-scheme seam: registry, the ``scheme`` field of servers.toml and of the session
message (absent = additive), a server refusing another scheme's session, the Beaver steps on any
backend, and one additive sharing for the market."""

from __future__ import annotations

import secrets

import pytest

from omnidsl.backend import get_backend
from omnidsl.backend.reference import ReferenceBackend
from omnidsl.errors import FormatError, ProofError
from omnidsl.field import R, int_to_bytes
from omnidsl.groth16.driver import Groth16Driver
from omnidsl.mpc import codec, messages
from omnidsl.mpc.config import load_config, write_config
from omnidsl.mpc.network import LocalHub
from omnidsl.mpc.schemes import (
    DEFAULT_SCHEME,
    DealOptions,
    Scheme,
    SessionMaterial,
    get_scheme,
    max_failures,
    register,
)
from omnidsl.mpc.schemes.additive import AdditiveScheme, beaver
from omnidsl.mpc.schemes.additive.shares import split_ints
from tests.groth16.cases import CASES
from tests.mpc.cluster import make_keys


def vec(values: list[int]) -> bytes:
    return b"".join(int_to_bytes(v % R) for v in values)


def test_registry_gives_the_additive_scheme_by_default_and_refuses_unknown_names():
    s = get_scheme()
    assert isinstance(s, Scheme) and isinstance(s, AdditiveScheme)
    assert s.name == DEFAULT_SCHEME == "additive"
    assert [s.quorum(5, k) for k in ("mul_vec", "open_g1", "open_g2")] == [5, 5, 5]
    assert max_failures(s, 5) == 0  # additive: every server must finish
    with pytest.raises(FormatError, match="unknown sharing scheme 'nope'"):
        get_scheme("nope")
    with pytest.raises(FormatError, match="bad parameters for the additive scheme"):
        get_scheme("additive", {"threshold": 1})


def test_registered_scheme_is_found_and_its_quorum_bounds_failures():
    class Toy(AdditiveScheme):
        name = "toy"

        def quorum(self, n_parties, step_kind):
            return 3 if step_kind == "mul_vec" else 2

    register("toy", Toy)
    try:
        t = get_scheme("toy")
        assert t.name == "toy" and max_failures(t, 5) == 2
    finally:
        from omnidsl.mpc import schemes

        schemes._EXTRA.pop("toy")


def test_servers_toml_scheme_field_and_old_files_without_it(tmp_path):
    p = write_config(tmp_path / "a", 3, 7100)
    cfg = load_config(p)
    assert cfg.scheme == "additive" and cfg.scheme_params == {}
    assert "[scheme]" in p.read_text()
    # a file written before the field existed loads as additive
    old = "\n".join(line for line in p.read_text().splitlines()
                    if line not in ("[scheme]", 'name = "additive"'))
    (tmp_path / "old.toml").write_text(old)
    assert load_config(tmp_path / "old.toml").scheme == "additive"
    # the short form, and errors naming the file
    (tmp_path / "short.toml").write_text('scheme = "additive"\n' + old)
    assert load_config(tmp_path / "short.toml").scheme == "additive"
    (tmp_path / "bad.toml").write_text('scheme = "rot13"\n' + old)
    with pytest.raises(FormatError, match=r"bad\.toml: \[scheme\]: unknown sharing scheme"):
        load_config(tmp_path / "bad.toml")


def test_session_message_carries_the_scheme_and_defaults_to_additive(tmp_path):
    be = get_backend()
    params, inputs = CASES["range"]
    pk, z, _ = make_keys("range", params, inputs, tmp_path, be)
    s = get_scheme()
    mats = s.deal(pk, z, 2, be, DealOptions())
    assert all(isinstance(m, SessionMaterial) and m.scheme == "additive" for m in mats)
    payload = messages.encode_session(s, mats[0], "ab" * 32)
    name, digest, msg = messages.decode_session(payload)
    assert (name, digest) == ("additive", "ab" * 32)
    back = s.decode_material(msg, pk, 2, 0)
    assert back == mats[0]
    # a message without the field (an older data owner) is additive
    raw = codec.decode(payload)
    del raw["scheme"]
    assert messages.decode_session(codec.encode(raw))[0] == "additive"
    # sizes are checked against the key before anything is expanded
    with pytest.raises(FormatError, match="this is server 1 of 2"):
        s.decode_material(msg, pk, 2, 1)
    # the driver is a Groth16Driver over the given network
    d0 = s.driver(mats[0], pk, LocalHub(2).network(0), be)
    assert isinstance(d0, Groth16Driver) and d0.party_id == 0 and d0.n_parties == 2


def test_deal_options_refuse_unknown_modes():
    with pytest.raises(ProofError, match="witness_msm must be one of split, servers"):
        DealOptions(witness_msm="dealer")
    with pytest.raises(ProofError, match="shares must be one of bounded, uniform"):
        DealOptions(shares="none")


@pytest.mark.parametrize("n", [1, 2, 3])
def test_beaver_steps_agree_on_native_and_reference_backends(n):
    """The Beaver steps left the curve Backend: native kernels and the generic fallback give the
    same values and the same located errors."""
    native, ref = get_backend(), ReferenceBackend()
    m = 5
    rnd = lambda: vec([secrets.randbelow(R) for _ in range(m)])  # noqa: E731
    a, b, x, y, z = rnd(), rnd(), rnd(), rnd(), rnd()
    assert beaver.mask(native, a, b, x, y) == beaver.mask(ref, a, b, x, y)
    parts = [rnd() + rnd() for _ in range(n)]
    for leader in (False, True):
        assert beaver.open_product(native, parts, x, y, z, leader) \
            == beaver.open_product(ref, parts, x, y, z, leader)
    assert beaver.fr_sum(native, parts) == beaver.fr_sum(ref, parts)
    # the algebra: with d‖e opened, [z] + d[y] + e[x] + d·e is what the leader holds
    de, c = beaver.open_product(ref, parts, x, y, z, True)
    d_, e_ = de[:32 * m], de[32 * m:]
    want = ref.fr_add(z, ref.fr_add(ref.fr_add(ref.fr_mul(d_, y), ref.fr_mul(e_, x)),
                                    ref.fr_mul(d_, e_)))
    assert c == want
    bad = bytearray(parts[-1])
    bad[31] = 0xFF  # element #0 of the last party ≥ r
    for be in (native, ref):
        with pytest.raises(ValueError, match=f"party {n - 1}"):
            beaver.fr_sum(be, [*parts[:-1], bytes(bad)])
        with pytest.raises(ValueError, match=f"party {n - 1}"):
            beaver.open_product(be, [*parts[:-1], bytes(bad)], x, y, z, False)
        with pytest.raises(ValueError, match="party 0"):
            beaver.open_product(be, [parts[0][:-32], *parts[1:]], x, y, z, False)


def test_market_aggregation_shares_are_the_additive_schemes():
    from omnidsl.market.aggregate import reconstruct, share_vector

    g = [5, -7, 0, 1 << 40]
    for n in (1, 2, 4):
        sh = share_vector(g, n)
        assert len(sh) == n and reconstruct(sh) == g
        if n > 1:
            assert sh[0] != share_vector(g, n)[0]  # fresh randomness every time
    three = split_ints([3, -1], 3)
    assert [sum(col) % R for col in zip(*three, strict=True)] == [3, R - 1]
    assert all(0 <= v < R for sh in three for v in sh)
    with pytest.raises(ValueError, match="at least one share"):
        split_ints([1], 0)


def test_split_ints_is_the_seeded_streams_and_linear_in_size(monkeypatch):
    """The market's aggregation shares: share k < N−1 is entry i of expand(seed_k, "ints", n),
    the last the remainder (the slow per-entry oracle below); 50,000 entries take well under a
    second (each seed's stream was once re-expanded for every entry: quadratic)."""
    import itertools
    import time

    from omnidsl.mpc import prg

    seeds = (bytes([k % 256]) * 32 for k in itertools.count(1))
    monkeypatch.setattr(prg, "new_seed", lambda: next(seeds))
    vals = [5, -7, 0, R - 1, 123456789]
    got = split_ints(vals, 3)
    oracle = [[int.from_bytes(prg.expand(s, b"ints", len(vals))[32 * i:32 * i + 32], "little")
               for i in range(len(vals))] for s in (bytes([1]) * 32, bytes([2]) * 32)]
    assert got[:2] == oracle
    assert [sum(col) % R for col in zip(*got, strict=True)] == [v % R for v in vals]
    t = time.perf_counter()
    big = split_ints(list(range(50_000)), 3)
    assert time.perf_counter() - t < 10 and len(big[2]) == 50_000
