"""Round trips and damage handling of the .r1cs / .wtns / .sym readers and writers."""

from __future__ import annotations

import random
import struct
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnidsl.errors import FormatError
from omnidsl.field import R, ints_to_limbs, limbs_to_ints
from omnidsl.r1cs.r1csfile import read_r1cs, write_r1cs
from omnidsl.r1cs.symfile import read_sym, write_sym
from omnidsl.r1cs.system import R1CS, SparseMatrix
from omnidsl.r1cs.wtnsfile import read_wtns, write_wtns

from .helpers import num2bits, random_system, sections


def same_system(a: R1CS, b: R1CS) -> None:
    assert (a.n_wires, a.n_pub_out, a.n_pub_in, a.n_prv_in) == (
        b.n_wires, b.n_pub_out, b.n_pub_in, b.n_prv_in)
    assert a.to_rows() == b.to_rows()


def test_num2bits_round_trip(tmp_path):
    r = num2bits(8)
    write_r1cs(tmp_path / "a.r1cs", r)
    back = read_r1cs(tmp_path / "a.r1cs")
    same_system(r, back)
    assert back.n_labels == 10
    assert back.wire_to_label.tolist() == list(range(10))
    assert back.n_constraints == 9


def test_exact_bytes_of_a_tiny_file(tmp_path):
    """One constraint 2·w1 × 1 = w2 written byte for byte as the iden3 spec says."""
    r = R1CS.from_rows(3, 1, 1, 0, [({1: 2}, {0: 1}, {2: R - 1})])
    write_r1cs(tmp_path / "t.r1cs", r)
    data = (tmp_path / "t.r1cs").read_bytes()
    fe = lambda v: v.to_bytes(32, "little")  # noqa: E731
    header = struct.pack("<I", 32) + fe(R) + struct.pack("<IIIIQI", 3, 1, 1, 0, 3, 1)
    lcs = b"".join(struct.pack("<II", 1, w) + fe(c) for w, c in ((1, 2), (0, 1), (2, R - 1)))
    w2l = struct.pack("<QQQ", 0, 1, 2)
    expect = (b"r1cs" + struct.pack("<II", 1, 3)
              + struct.pack("<IQ", 1, len(header)) + header
              + struct.pack("<IQ", 2, len(lcs)) + lcs
              + struct.pack("<IQ", 3, len(w2l)) + w2l)
    assert data == expect


@pytest.mark.parametrize("seed", range(6))
def test_random_round_trip(tmp_path, seed):
    rng = random.Random(seed)
    r = random_system(rng, n_wires=rng.randint(2, 40), m=rng.randint(0, 30), max_terms=6)
    write_r1cs(tmp_path / "r.r1cs", r)
    same_system(r, read_r1cs(tmp_path / "r.r1cs"))


def _assemble(magic: bytes, version: int, secs: list[tuple[int, bytes]]) -> bytes:
    out = magic + struct.pack("<II", version, len(secs))
    for t, body in secs:
        out += struct.pack("<IQ", t, len(body)) + body
    return out


def test_sections_in_any_order_and_unknown_skipped(tmp_path):
    r = num2bits(5)
    write_r1cs(tmp_path / "a.r1cs", r)
    secs = sections((tmp_path / "a.r1cs").read_bytes())
    shuffled = [secs[2], (99, b"\x07" * 13), secs[1], secs[0]]
    (tmp_path / "b.r1cs").write_bytes(_assemble(b"r1cs", 1, shuffled))
    same_system(r, read_r1cs(tmp_path / "b.r1cs"))


def test_every_truncation_is_a_format_error(tmp_path):
    write_r1cs(tmp_path / "a.r1cs", num2bits(3))
    data = (tmp_path / "a.r1cs").read_bytes()
    for cut in range(len(data)):
        (tmp_path / "t.r1cs").write_bytes(data[:cut])
        with pytest.raises(FormatError) as ei:
            read_r1cs(tmp_path / "t.r1cs")
        assert "t.r1cs" in str(ei.value)


def _with_section(data: bytes, stype: int, body: bytes) -> bytes:
    secs = [(t, body if t == stype else b) for t, b in sections(data)]
    return _assemble(data[:4], struct.unpack_from("<I", data, 4)[0], secs)


@pytest.mark.parametrize("case", ["magic", "version", "prime", "n8", "wire", "coeff",
                                  "missing_constraints", "extra_bytes", "map_size"])
def test_malformed_files(tmp_path, case):
    write_r1cs(tmp_path / "a.r1cs", num2bits(3))
    data = bytearray((tmp_path / "a.r1cs").read_bytes())
    secs = dict(sections(bytes(data)))
    if case == "magic":
        data[:4] = b"wtns"
        msg = "magic"
    elif case == "version":
        data[4:8] = struct.pack("<I", 2)
        msg = "version"
    elif case == "prime":
        h = bytearray(secs[1])
        h[4:36] = (R - 2).to_bytes(32, "little")
        data = _with_section(bytes(data), 1, bytes(h))
        msg = "prime"
    elif case == "n8":
        h = bytearray(secs[1])
        h[0:4] = struct.pack("<I", 48)
        data = _with_section(bytes(data), 1, bytes(h))
        msg = "field size"
    elif case == "wire":
        c = bytearray(secs[2])
        c[4:8] = struct.pack("<I", 77)  # first term's wire id
        data = _with_section(bytes(data), 2, bytes(c))
        msg = "wire 77"
    elif case == "coeff":
        c = bytearray(secs[2])
        c[8:40] = R.to_bytes(32, "little")
        data = _with_section(bytes(data), 2, bytes(c))
        msg = "≥ r"
    elif case == "missing_constraints":
        data = _assemble(b"r1cs", 1, [(t, b) for t, b in sections(bytes(data)) if t != 2])
        msg = "constraints section"
    elif case == "extra_bytes":
        data = _with_section(bytes(data), 2, secs[2] + b"\0\0\0\0")
        msg = "size mismatch"
    else:
        data = _with_section(bytes(data), 3, secs[3][:-8])
        msg = "wire2label"
    (tmp_path / "bad.r1cs").write_bytes(bytes(data))
    with pytest.raises(FormatError) as ei:
        read_r1cs(tmp_path / "bad.r1cs")
    assert msg in str(ei.value) and "bad.r1cs" in str(ei.value)


def test_canonicalise_merges_sorts_and_drops_zeros():
    # row 0, A: w2·3, w1·5, w2·(r−3) (cancels), w1·7 → {1: 12}; C: w3·(r−1), w3·2 → {3: 1}
    A = SparseMatrix(np.array([0, 4]), np.array([2, 1, 2, 1]),
                     np.array([0, 1, 2, 3], np.int32))
    B = SparseMatrix(np.array([0, 1]), np.array([0]), np.array([4], np.int32))
    C = SparseMatrix(np.array([0, 2]), np.array([3, 3]), np.array([5, 6], np.int32))
    r = R1CS(4, 0, 1, 0, A, B, C, [3, 5, R - 3, 7, 1, R - 1, 2]).canonicalise()
    assert r.to_rows() == [({1: 12}, {0: 1}, {3: 1})]
    assert r.A.wire.tolist() == [1] and r.C.wire.tolist() == [3]
    assert 12 in r.coeffs


def test_wtns_round_trip_and_errors(tmp_path):
    vals = [1, 0, 5, R - 1, 2**200 + 3]
    write_wtns(tmp_path / "w.wtns", ints_to_limbs(vals))
    assert limbs_to_ints(read_wtns(tmp_path / "w.wtns")) == vals
    data = (tmp_path / "w.wtns").read_bytes()
    assert data[:4] == b"wtns" and struct.unpack_from("<II", data, 4) == (2, 2)
    assert data[-32:] == (2**200 + 3).to_bytes(32, "little")
    for cut in range(0, len(data), 7):
        (tmp_path / "t.wtns").write_bytes(data[:cut])
        with pytest.raises(FormatError):
            read_wtns(tmp_path / "t.wtns")
    bad = data[:-32] + R.to_bytes(32, "little")
    (tmp_path / "b.wtns").write_bytes(bad)
    with pytest.raises(FormatError, match="not < r"):
        read_wtns(tmp_path / "b.wtns")
    over = ints_to_limbs([1])
    over[0] = [0xFFFFFFFFFFFFFFFF] * 4
    with pytest.raises(FormatError, match="≥ r"):
        write_wtns(tmp_path / "c.wtns", over)


def test_sym_round_trip(tmp_path):
    r = num2bits(4)
    r.labels[7] = "main.sub.aux"
    r.n_labels = 8
    r.wire_to_label = np.array([0, 1, 2, 3, 4, 6], np.int64)  # label 5 eliminated, 7 unused
    r.labels[5] = "main.out[3]"
    write_sym(tmp_path / "a.sym", r)
    lines = (tmp_path / "a.sym").read_text().splitlines()
    assert lines[0] == "1,1,0,main.in"
    assert "5,-1,0,main.out[3]" in lines
    assert lines[-1] == "7,-1,1,main.sub.aux"
    syms = read_sym(tmp_path / "a.sym")
    assert [s.name for s in syms][:2] == ["main.in", "main.out[0]"]
    (tmp_path / "b.sym").write_text("1,2,main.x\n")
    with pytest.raises(FormatError, match=r"b\.sym:1"):
        read_sym(tmp_path / "b.sym")


@pytest.mark.slow
def test_million_constraints_is_fast(tmp_path):
    """10^6 constraints (3.4·10^6 terms) write and read back in a few CPU seconds (CPU time:
    the CI machine is shared, wall time is not a property of this code)."""
    m = 10**6
    n_wires = m + 2
    rng = np.random.default_rng(7)
    table = [1, R - 1] + [1 << i for i in range(1, 30)]

    def mat(counts: np.ndarray) -> SparseMatrix:
        ptr = np.zeros(m + 1, np.int64)
        np.cumsum(counts, out=ptr[1:])
        rows = np.repeat(np.arange(m), counts)
        wire = rows + (np.arange(ptr[-1]) - ptr[rows])  # strictly increasing within a row
        return SparseMatrix(ptr, wire, rng.integers(0, len(table), ptr[-1]).astype(np.int32))

    r = R1CS(n_wires, 1, 1, 1, mat(np.ones(m, np.int64)), mat(np.full(m, 2)),
             mat(rng.integers(0, 2, m)), table)
    t0 = time.process_time()
    write_r1cs(tmp_path / "big.r1cs", r)
    back = read_r1cs(tmp_path / "big.r1cs")
    elapsed = time.process_time() - t0
    for a, b in ((r.A, back.A), (r.B, back.B), (r.C, back.C)):
        assert np.array_equal(a.row_ptr, b.row_ptr) and np.array_equal(a.wire, b.wire)
        tb = np.array(back.coeffs, dtype=object)
        assert (np.array(table, dtype=object)[a.coeff_id] == tb[b.coeff_id]).all()
    assert elapsed < 15, elapsed


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_files_give_format_error_or_a_system(tmp_path_factory, data):
    """Random byte edits of valid .r1cs/.wtns files: FormatError or a valid result, never
    another exception."""
    tmp = tmp_path_factory.mktemp("fuzz")
    kind = data.draw(st.sampled_from(["r1cs", "wtns"]))
    if kind == "r1cs":
        write_r1cs(tmp / "f", num2bits(3))
    else:
        write_wtns(tmp / "f", ints_to_limbs([1, 2, R - 1]))
    buf = bytearray((tmp / "f").read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["set", "set32", "cut", "insert"]))
        pos = data.draw(st.integers(0, len(buf) - 1))
        if op == "set":
            buf[pos] = data.draw(st.integers(0, 255))
        elif op == "set32":
            buf[pos:pos + 4] = struct.pack("<I", data.draw(st.sampled_from(
                [0, 1, 2, 3, 35, 36, 0x7FFFFFFF, 0xFFFFFFFF])))
        elif op == "cut":
            del buf[pos:pos + data.draw(st.integers(1, 40))]
        else:
            buf[pos:pos] = bytes(data.draw(st.integers(1, 40)))
    (tmp / "g").write_bytes(bytes(buf))
    try:
        out = read_r1cs(tmp / "g") if kind == "r1cs" else read_wtns(tmp / "g")
    except FormatError as exc:
        assert "g" in str(exc)
        return
    if kind == "r1cs":
        assert all(w < out.n_wires for m in (out.A, out.B, out.C) for w in m.wire.tolist())
        assert all(0 <= c < R for c in out.coeffs)
    else:
        assert all(0 <= v < R for v in limbs_to_ints(out))


def test_writer_merges_duplicate_wires(tmp_path):
    """snarkjs keeps one term per wire, so the writer must merge 2·w1 + 3·w1 into 5·w1."""
    A = SparseMatrix(np.array([0, 2]), np.array([1, 1]), np.array([0, 1], np.int32))
    one = SparseMatrix(np.array([0, 1]), np.array([0]), np.array([2], np.int32))
    C = SparseMatrix(np.array([0, 1]), np.array([2]), np.array([3], np.int32))
    r = R1CS(3, 0, 1, 0, A, one, C, [2, 3, 1, 5])
    assert not r.is_canonical()
    write_r1cs(tmp_path / "d.r1cs", r)
    assert read_r1cs(tmp_path / "d.r1cs", canonical=False).to_rows() == [
        ({1: 5}, {0: 1}, {2: 5})]


def test_empty_system_and_witness(tmp_path):
    e = SparseMatrix.empty(0)
    write_r1cs(tmp_path / "e.r1cs", R1CS(1, 0, 0, 0, e, e, e, []))
    back = read_r1cs(tmp_path / "e.r1cs")
    assert (back.n_wires, back.n_constraints, back.coeffs) == (1, 0, [])
    write_wtns(tmp_path / "e.wtns", np.zeros((0, 4), np.uint64))
    assert read_wtns(tmp_path / "e.wtns").shape == (0, 4)
