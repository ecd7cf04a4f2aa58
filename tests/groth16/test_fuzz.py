"""Seeded fuzzing of the verifier: > 10,000 mutated proofs, public inputs and verifying keys.

Every mutation must be rejected (``verify`` returns exactly False) and none may raise.
Mutations: bit flips, swapped coordinates, points off the curve, G2 points outside the
r-torsion subgroup, coordinates ≥ q, public inputs ≥ r or negative, wrong counts and types,
other valid points, JSON-level corruption (which must give FormatError or False).
"""

from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest

from omnidsl.errors import FormatError
from omnidsl.field import Q, R
from omnidsl.groth16.formats import (
    proof_from_json,
    proof_to_json,
    public_from_json,
    vk_from_json,
    vk_to_json,
)
from omnidsl.groth16.keys import Proof
from omnidsl.groth16.prover import prove_plain, public_signals
from omnidsl.groth16.setup import dev_setup
from omnidsl.groth16.verifier import prepare_vk, verify
from tests.groth16.handmade import chain_circuit, chain_witness, to_bytes
from tests.groth16.twist import twist_point_outside_subgroup


class Mutator:
    def __init__(self, backend, seed: int):
        self.be = backend
        self.rng = random.Random(seed)
        rng = self.rng
        g1, g2 = backend.g1_generator(), backend.g2_generator()
        self.valid_g1 = [backend.g1_mul(g1, rng.randrange(1, R)) for _ in range(8)]
        self.valid_g2 = [backend.g2_mul(g2, rng.randrange(1, R)) for _ in range(4)]
        self.bad_g2 = [twist_point_outside_subgroup(rng) for _ in range(4)]
        for p in self.bad_g2:
            assert not backend.g2_is_valid(p)

    def coord(self, v: int):
        rng = self.rng
        kind = rng.randrange(7)
        if kind == 0:
            return v ^ (1 << rng.randrange(256))  # bit flip (may exceed q)
        if kind == 1:
            return v + Q  # same residue, not canonical
        if kind == 2:
            return Q
        if kind == 3:
            return -v if v else -1
        if kind == 4:
            return (v + rng.randrange(1, 1000)) % Q
        if kind == 5:
            return rng.choice([str(v), float(v % 1000), None, True])
        return rng.randrange(Q)

    def g1(self, p):
        rng = self.rng
        kind = rng.randrange(6)
        if kind == 0 and p is not None:
            return (p[1], p[0])  # swapped
        if kind == 1:
            return rng.choice(self.valid_g1)  # another valid point
        if kind == 2 and p is not None:
            return self.be.g1_neg(p)
        if kind == 3:
            return (p[0], self.coord(p[1])) if p else (1, 3)
        if kind == 4:
            return rng.choice([(1, 3), (0, 0), (Q, 2), (1,), "pt", (1, 2, 1), None])
        return (self.coord(p[0]), p[1]) if p else (0, 1)

    def g2(self, p):
        rng = self.rng
        kind = rng.randrange(7)
        (x0, x1), (y0, y1) = p
        if kind == 0:
            return ((x1, x0), (y0, y1))
        if kind == 1:
            return ((y0, y1), (x0, x1))
        if kind == 2:
            return rng.choice(self.bad_g2)  # on the twist, outside the subgroup
        if kind == 3:
            return rng.choice(self.valid_g2)
        if kind == 4:
            return self.be.g2_neg(p)
        if kind == 5:
            return rng.choice([((1, 0), (2, 0)), ((x0, x1),), None, ((x0, x1), y0)])
        c = [x0, x1, y0, y1]
        i = rng.randrange(4)
        c[i] = self.coord(c[i])
        return ((c[0], c[1]), (c[2], c[3]))

    def public(self, pub: list[int]):
        rng = self.rng
        out = list(pub)
        kind = rng.randrange(6)
        i = rng.randrange(len(out))
        if kind == 0:
            out[i] = out[i] + R
        elif kind == 1:
            out[i] = (out[i] + rng.randrange(1, R)) % R
        elif kind == 2:
            out[i] = -out[i] if out[i] else -1
        elif kind == 3:
            out.append(rng.randrange(R)) if rng.random() < 0.5 else out.pop()
        elif kind == 4:
            out[i] = rng.choice([str(out[i]), float(1), None, R, 2**256])
        else:
            out[i] ^= 1 << rng.randrange(254)
            if out[i] == pub[i]:
                out[i] += 1
        return out

    def vk(self, vk):
        rng = self.rng
        kind = rng.randrange(7)
        if kind == 0:
            return replace(vk, alpha_g1=self.g1(vk.alpha_g1))
        if kind == 1:
            return replace(vk, beta_g2=self.g2(vk.beta_g2))
        if kind == 2:
            return replace(vk, gamma_g2=self.g2(vk.gamma_g2))
        if kind == 3:
            return replace(vk, delta_g2=self.g2(vk.delta_g2))
        if kind == 4:
            return replace(vk, gamma_g2=vk.delta_g2, delta_g2=vk.gamma_g2)
        if kind == 5:
            return replace(vk, ic=vk.ic[:-1] if rng.random() < 0.5 else [*vk.ic, vk.ic[0]])
        ic = list(vk.ic)
        j = rng.randrange(len(ic))
        ic[j] = self.g1(ic[j])
        return replace(vk, ic=ic)

    def proof(self, p: Proof) -> Proof:
        kind = self.rng.randrange(4)
        if kind == 0:
            return replace(p, a=self.g1(p.a))
        if kind == 1:
            return replace(p, b=self.g2(p.b))
        if kind == 2:
            return replace(p, c=self.g1(p.c))
        return Proof(p.c, p.b, p.a)


def _instances(backend):
    out = []
    for k, xs, w in ((12, [5, 7, 11], 3), (6, [9], 4)):
        pk = dev_setup(chain_circuit(k, n_pub_in=len(xs)), backend)
        z = to_bytes(chain_witness(k, xs, w))
        pub = public_signals(pk, z)
        assert all(pub), "non-zero publics, so every IC point matters"
        proof = prove_plain(pk, z, backend)
        assert verify(pk.vk, pub, proof, backend)
        prepared = prepare_vk(pk.vk, backend)
        assert prepared is not None
        out.append((pk.vk, pub, proof, prepared))
    return out


def _json_mutation(rng: random.Random, doc):
    """Corrupt a JSON document: change a digit, drop a key, change a type or an arity."""
    text = json.dumps(doc)
    kind = rng.randrange(4)
    if kind == 0:
        digits = [i for i, ch in enumerate(text) if ch.isdigit()]
        i = rng.choice(digits)
        text = text[:i] + str((int(text[i]) + rng.randrange(1, 10)) % 10) + text[i + 1 :]
    elif kind == 1 and isinstance(doc, dict):
        doc = dict(doc)
        doc.pop(rng.choice(sorted(doc)))
        text = json.dumps(doc)
    elif kind == 2:
        text = text.replace('"', "", rng.randrange(1, 4))
    else:
        text = text.replace("]", ', "7"]', 1)
    return text


N_CASES = 10_500


@pytest.mark.slow
def test_fuzz_verifier_rejects_every_mutation(backend):
    rng = random.Random(20261125)
    mut = Mutator(backend, 1)
    insts = _instances(backend)
    counts = {"proof": 0, "public": 0, "vk": 0, "json": 0}
    for case in range(N_CASES):
        vk, pub, proof, prepared = insts[case % len(insts)]
        which = rng.choices(["proof", "public", "vk", "json"], weights=[40, 20, 30, 10])[0]
        counts[which] += 1
        if which == "proof":  # half of them through the prepared (validated-once) key
            args = (prepared if case % 2 else vk, pub, mut.proof(proof))
        elif which == "public":
            args = (prepared if case % 2 else vk, mut.public(pub), proof)
        elif which == "vk":
            args = (mut.vk(vk), pub, proof)
        else:
            target = rng.randrange(3)
            docs = [vk_to_json(vk), pub and [str(x) for x in pub], proof_to_json(proof)]
            text = _json_mutation(rng, docs[target])
            try:
                parsed = json.loads(text)
                parts = [vk, pub, proof]
                parts[target] = (vk_from_json, public_from_json, proof_from_json)[target](parsed)
            except (FormatError, json.JSONDecodeError):
                continue
            args = tuple(parts)
            if args[0] == vk and args[1] == pub and args[2] == proof:
                continue  # the corruption kept an equal value (e.g. a dropped optional key)
        result = verify(*args, backend)
        assert result is False, f"case {case} ({which}) accepted: {args}"
    assert sum(counts.values()) >= 10_000 and min(counts.values()) > 500, counts
