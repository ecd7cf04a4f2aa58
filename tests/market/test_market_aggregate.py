"""Pure-Python properties of the aggregate binding (omnidsl.market.aggregate)."""

from __future__ import annotations

import secrets

import pytest

from omnidsl.field import R
from omnidsl.market import aggregate as agg


def rand_vec(d: int, bound: int = 1 << 15) -> list[int]:
    return [secrets.randbelow(2 * bound) - bound for _ in range(d)]


def test_fingerprint_matches_definition_and_is_linear():
    rho = secrets.randbelow(R)
    g, h = rand_vec(20), rand_vec(20)
    direct = sum(v * pow(rho, i + 1, R) for i, v in enumerate(g)) % R
    assert agg.fingerprint(g, rho) == direct
    assert agg.fingerprint([a + b for a, b in zip(g, h, strict=True)], rho) == \
        (agg.fingerprint(g, rho) + agg.fingerprint(h, rho)) % R


def test_shares_reconstruct_and_hide():
    g = rand_vec(16)
    shares = agg.share_vector(g, 3)
    assert agg.reconstruct(shares) == g
    assert all(0 <= v < R for s in shares for v in s)
    assert shares[0] != agg.share_vector(g, 3)[0]  # fresh randomness each time


@pytest.mark.parametrize("n_servers", [2, 3, 5])
def test_binding_accepts_honest_and_rejects_tampering(n_servers):
    d = 32
    gs = [rand_vec(d) for _ in range(6)]
    accepted = [0, 2, 3, 5]
    per_do = [agg.share_vector(g, n_servers) for g in gs]
    rho = secrets.randbelow(R)
    fp_sum = sum(agg.fingerprint(gs[j], rho) for j in accepted) % R
    shares = [agg.add_vectors([per_do[j][s] for j in accepted], d) for s in range(n_servers)]
    total = agg.reconstruct(shares)
    assert total == [sum(gs[j][i] for j in accepted) for i in range(d)]
    agg.check_aggregate(total, rho, fp_sum)
    for _ in range(20):  # random tampering of one server's share
        bad = [list(s) for s in shares]
        s, i = secrets.randbelow(n_servers), secrets.randbelow(d)
        bad[s][i] = (bad[s][i] + 1 + secrets.randbelow(R - 1)) % R
        with pytest.raises(agg.AggregateMismatch, match="does not match"):
            agg.check_aggregate(agg.reconstruct(bad), rho, fp_sum, task_id=1)


def test_commitment_binds_every_share_and_the_salt():
    salt = secrets.token_bytes(32)
    held = [("0x" + "11" * 20, [1, 2, 3]), ("0x" + "22" * 20, [4, 5, 6])]
    c = agg.share_commitment(7, "0x" + "aa" * 20, held, salt)
    assert len(c) == 32
    assert c == agg.share_commitment(7, "0x" + "aa" * 20, held, salt)
    assert c != agg.share_commitment(7, "0x" + "aa" * 20, [held[0], ("0x" + "22" * 20, [4, 5, 7])],
                                     salt)
    assert c != agg.share_commitment(8, "0x" + "aa" * 20, held, salt)
    assert c != agg.share_commitment(7, "0x" + "aa" * 20, held, secrets.token_bytes(32))
    with pytest.raises(ValueError):
        agg.share_commitment(7, "0x" + "aa" * 20, held, b"short")


def test_opening_audit_checks_commitment_and_sum():
    server = "0x" + "aa" * 20
    owners = ["0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20]
    held = [(o, agg.share_vector(rand_vec(4), 2)[0]) for o in owners]
    salt = secrets.token_bytes(32)
    c = agg.share_commitment(3, server, held, salt)
    acc = owners[:2]
    good = agg.add_vectors([held[0][1], held[1][1]], 4)
    assert agg.opening_is_valid(3, server, c, held, salt, acc, good)
    assert not agg.opening_is_valid(3, server, c, held, salt, acc, [good[0] + 1, *good[1:]])
    assert not agg.opening_is_valid(3, server, c, held, salt, owners, good)
    forged = [held[0], (owners[1], [v + 1 for v in held[1][1]]), held[2]]
    assert not agg.opening_is_valid(3, server, c, forged, salt, acc,
                                    agg.add_vectors([forged[0][1], forged[1][1]], 4))
