//! Fr vectors: elementwise arithmetic, inversion, reduction of wide random bytes, and the
//! canonical-integer helpers (no Montgomery round trip) shared with `sharing::beaver`.

use ark_bn254::Fr;
use ark_ff::{BigInt, BigInteger, Field, PrimeField};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rayon::prelude::*;

use crate::codec::{self, Res, FR_BYTES};
use crate::py::{bytes, run, same_len, u16s};

/// Elements per parallel task.
pub(crate) const CHUNK: usize = 1 << 12;

/// The 32-byte little-endian integer at the start of `chunk` (not reduced).
#[inline]
pub(crate) fn read(chunk: &[u8]) -> BigInt<4> {
    let mut l = [0u64; 4];
    for (i, w) in l.iter_mut().enumerate() {
        *w = u64::from_le_bytes(chunk[8 * i..8 * i + 8].try_into().unwrap());
    }
    BigInt::new(l)
}

/// `v` as 32 bytes little-endian into `out`.
#[inline]
pub(crate) fn write(out: &mut [u8], v: &BigInt<4>) {
    for (i, w) in v.0.iter().enumerate() {
        out[8 * i..8 * i + 8].copy_from_slice(&w.to_le_bytes());
    }
}

/// (a + b) mod r for canonical a, b (r < 2^254, so the sum never overflows 256 bits).
#[inline]
pub(crate) fn add_mod(a: &BigInt<4>, b: &BigInt<4>) -> BigInt<4> {
    let mut s = *a;
    s.add_with_carry(b);
    if s >= Fr::MODULUS {
        s.sub_with_borrow(&Fr::MODULUS);
    }
    s
}

/// (a − b) mod r for canonical a, b.
#[inline]
pub(crate) fn sub_mod(a: &BigInt<4>, b: &BigInt<4>) -> BigInt<4> {
    let mut s = *a;
    if s.sub_with_borrow(b) {
        s.add_with_carry(&Fr::MODULUS);
    }
    s
}

/// `v` if it is < r, else an error naming element #i of `what`.
pub(crate) fn canonical(v: BigInt<4>, what: &str, i: usize) -> Res<BigInt<4>> {
    if v < Fr::MODULUS {
        Ok(v)
    } else {
        Err(format!("{what}: element #{i} is not < r"))
    }
}

/// `b` holds exactly n field elements.
pub(crate) fn elements(what: &str, b: &[u8], n: usize) -> Res<()> {
    if b.len() != n * FR_BYTES {
        return Err(format!(
            "{what}: {} bytes, expected {} ({n} elements)",
            b.len(),
            n * FR_BYTES
        ));
    }
    Ok(())
}

/// Per element v of an Fr vector: 1 if min(v, r − v) < 2^bits[i] (bits ≥ 254: always), else 0.
/// The masking guard of the servers and the data owner's width check (omnidsl/mpc/shares.py).
pub fn below_pow2(v: &[u8], bits: &[u16]) -> Res<Vec<u8>> {
    elements("values", v, bits.len())?;
    let mut out = vec![0u8; bits.len()];
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .try_for_each(|(k, oc)| -> Res<()> {
            for (i, o) in oc.iter_mut().enumerate() {
                let g = k * CHUNK + i;
                let x = canonical(read(&v[g * FR_BYTES..(g + 1) * FR_BYTES]), "values", g)?;
                let b = bits[g] as u32;
                let small = |y: &BigInt<4>| y.num_bits() <= b.min(256);
                let neg = sub_mod(&BigInt::zero(), &x);
                *o = u8::from(b >= 254 || small(&x) || small(&neg));
            }
            Ok(())
        })?;
    Ok(out)
}

// ------------------------------------------------------------------ Python

fn fr_binop<'py>(
    py: Python<'py>,
    a: &[u8],
    b: &[u8],
    op: impl Fn(Fr, Fr) -> Fr + Sync + Send,
) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || {
        same_len(a, b)?;
        let x = codec::fr_vec("a", a)?;
        let y = codec::fr_vec("b", b)?;
        let z: Vec<Fr> = x
            .par_iter()
            .zip(y.par_iter())
            .map(|(p, q)| op(*p, *q))
            .collect();
        Ok(codec::fr_vec_bytes(&z))
    })?;
    Ok(bytes(py, &v))
}

/// Elementwise a + b (two n*32-byte Fr vectors).
#[pyfunction]
fn fr_add<'py>(py: Python<'py>, a: &[u8], b: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    fr_binop(py, a, b, |x, y| x + y)
}

/// Elementwise a − b.
#[pyfunction]
fn fr_sub<'py>(py: Python<'py>, a: &[u8], b: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    fr_binop(py, a, b, |x, y| x - y)
}

/// Elementwise a · b.
#[pyfunction]
fn fr_mul<'py>(py: Python<'py>, a: &[u8], b: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    fr_binop(py, a, b, |x, y| x * y)
}

/// Every element of `a` times the scalar `k` (32 bytes LE, < r).
#[pyfunction]
fn fr_scale<'py>(py: Python<'py>, a: &[u8], k: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || {
        let k = codec::fr_from_bytes(k)?;
        let x = codec::fr_vec("a", a)?;
        let z: Vec<Fr> = x.par_iter().map(|p| *p * k).collect();
        Ok(codec::fr_vec_bytes(&z))
    })?;
    Ok(bytes(py, &v))
}

/// n*64 (random) bytes → n Fr elements, each 512-bit chunk reduced mod r.
#[pyfunction]
fn fr_from_wide<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || Ok(codec::fr_vec_bytes(&codec::fr_from_wide(data)?)))?;
    Ok(bytes(py, &v))
}

/// Multiplicative inverse of every element (zero has none: ValueError).
#[pyfunction]
fn fr_inv<'py>(py: Python<'py>, a: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || {
        let mut x = codec::fr_vec("a", a)?;
        if let Some(i) = x.iter().position(|e| e.inverse().is_none()) {
            return Err(format!("element #{i} is zero and has no inverse"));
        }
        ark_ff::batch_inversion(&mut x);
        Ok(codec::fr_vec_bytes(&x))
    })?;
    Ok(bytes(py, &v))
}

/// Per element: is min(v, r − v) < 2^bits[i]?  (`bits`: u16 LE each; returns one byte 0/1 each.)
#[pyfunction]
fn fr_below_pow2<'py>(py: Python<'py>, v: &[u8], bits: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let out = run(py, || below_pow2(v, &u16s("bits", bits)?))?;
    Ok(bytes(py, &out))
}

/// Add this module's functions to `omnidsl._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fr_add, m)?)?;
    m.add_function(wrap_pyfunction!(fr_sub, m)?)?;
    m.add_function(wrap_pyfunction!(fr_mul, m)?)?;
    m.add_function(wrap_pyfunction!(fr_scale, m)?)?;
    m.add_function(wrap_pyfunction!(fr_from_wide, m)?)?;
    m.add_function(wrap_pyfunction!(fr_inv, m)?)?;
    m.add_function(wrap_pyfunction!(fr_below_pow2, m)?)?;
    Ok(())
}
