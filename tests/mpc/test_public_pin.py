"""A bound session's public pin cannot be bypassed through the last party's explicit witness
share: its public-wire entries must be 0 (only the leader carries public values), else the
material is refused."""

from __future__ import annotations

import dataclasses

import pytest

from omnidsl.backend import get_backend
from omnidsl.errors import FormatError
from omnidsl.field import R, int_to_bytes, limbs_to_bytes
from omnidsl.mpc import codec, prg
from omnidsl.mpc.binding import check_pin, write_pin
from omnidsl.mpc.schemes import FixedShares
from omnidsl.mpc.schemes.additive import shares
from omnidsl.mpc.schemes.additive.material import expand_material
from omnidsl.mpc.schemes.additive.wire import material_from_msg, material_to_msg
from tests.groth16.cases import CASES
from tests.mpc.cluster import make_keys
from tests.mpc.helpers import NormBound, split_materials


@pytest.mark.parametrize("witness_msm", ["split", "servers"])
def test_last_party_cannot_shift_the_pinned_public_wires(tmp_path, witness_msm):
    be = get_backend()
    params, inputs = CASES["norm_bound"]
    pk, z, circuit = make_keys("norm_bound", params, inputs, tmp_path / "k", be)
    nb = NormBound(tmp_path / "k", pk, z, circuit)
    m_pinned = nb.max_norm  # public wire 1 the servers pinned (the market pins `owner` so)
    z_other = limbs_to_bytes(circuit.witness({**inputs, "max_norm": 40.0}))
    m_other = int.from_bytes(z_other[32:64], "little")
    n = 2
    wires = nb.grad_wires()
    clear = b"".join(z[32 * int(w):32 * int(w) + 32] for w in wires)
    pieces = shares.split(be, clear, [prg.new_seed()], b"agg")
    fixed = FixedShares([int(w) for w in wires], pieces)
    for i in range(n):
        write_pin(tmp_path / f"pin{i}", "t-1", fixed.wires_bytes(), pieces[i],
                  public={1: m_pinned})
    # the owner deals a witness for the OTHER public value, tells every server the pinned one,
    # and puts the difference into the last party's share of public wire 1
    if witness_msm == "split":
        mats = split_materials(be, pk, z_other, n, fixed=fixed, bind_label="t-1")
    else:
        from omnidsl.mpc.schemes.additive.dealer import deal
        mats = deal(be, z_other, pk.n_public + 1, pk.domain_size, n, fixed=fixed,
                    bind_label="t-1", wire_bits=pk.r1cs.wire_bits)
    last = bytearray(mats[-1].witness)
    last[32:64] = int_to_bytes((m_other - m_pinned) % R)
    mats = [dataclasses.replace(m, public=z[:64]) for m in mats[:-1]] + [
        dataclasses.replace(mats[-1], public=z[:64], witness=bytes(last))]
    for i, m in enumerate(mats[:-1]):
        check_pin(tmp_path / f"pin{i}", m, i)  # the pin itself is satisfied
        expand_material(m, pk.r1cs.wire_bits)
    check_pin(tmp_path / f"pin{n - 1}", mats[-1], n - 1)
    with pytest.raises(ValueError, match="must be 0 on the public wires"):
        expand_material(mats[-1], pk.r1cs.wire_bits)  # validate(): also runs on receipt
    with pytest.raises(FormatError, match="must be 0 on the public wires"):
        material_from_msg(codec.decode(codec.encode(material_to_msg(mats[-1], "d"))))
