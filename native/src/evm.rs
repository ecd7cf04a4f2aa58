//! The EVM's BN254 precompiles on arkworks: 0x06 ecAdd, 0x07 ecMul (EIP-196) and 0x08 ecPairing
//! (EIP-197), byte for byte as the EVM defines them, so that an embedded py-evm chain can serve
//! them natively (omnidsl/solidity/precompiles.py).  Gas (EIP-1108) is charged by the caller.
//!
//! Encodings (big-endian 32-byte words): a G1 point is x‖y, (0, 0) being the point at infinity; a
//! G2 point is x_im‖x_re‖y_im‖y_re, all-zero being infinity.  Every coordinate must be < q and
//! every point on its curve; G2 points must also be in the r-torsion subgroup (G1 has cofactor 1).
//!
//! * ecAdd: the input is right-padded with zeros (or cut) to 128 bytes; output P + Q (64 bytes).
//! * ecMul: the input is right-padded (or cut) to 96 bytes: P‖k with any 256-bit k; output k·P.
//! * ecPairing: the input length must be a multiple of 192 (zero pairs are allowed); output 32
//!   bytes holding 1 if Π e(P_i, Q_i) = 1, else 0.
//!
//! Invalid input is an `Err` (the EVM call fails and burns its gas).

use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};

use ark_bn254::{Bn254, Fq, Fq2, G1Affine, G1Projective, G2Affine};
use ark_ec::{pairing::Pairing, AffineRepr, CurveGroup};
use ark_ff::{BigInt, One, PrimeField, Zero};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::codec::Res;

/// Bytes of one ecPairing pair (a G1 and a G2 point).
pub const PAIR_BYTES: usize = 192;

/// `input` right-padded with zeros (or cut) to exactly `n` bytes.
fn padded(input: &[u8], n: usize) -> Cow<'_, [u8]> {
    if input.len() >= n {
        Cow::Borrowed(&input[..n])
    } else {
        let mut v = input.to_vec();
        v.resize(n, 0);
        Cow::Owned(v)
    }
}

/// A 32-byte big-endian word as four little-endian limbs.
fn word(b: &[u8]) -> BigInt<4> {
    let mut l = [0u64; 4];
    for (i, w) in l.iter_mut().enumerate() {
        let mut c = [0u8; 8];
        c.copy_from_slice(&b[32 - 8 * (i + 1)..32 - 8 * i]);
        *w = u64::from_be_bytes(c);
    }
    BigInt::new(l)
}

fn fq(b: &[u8], what: &str) -> Res<Fq> {
    Fq::from_bigint(word(b)).ok_or_else(|| format!("{what} is not < q"))
}

fn put_fq(out: &mut [u8], x: &Fq) {
    let v = x.into_bigint();
    for (i, w) in v.0.iter().enumerate() {
        out[32 - 8 * (i + 1)..32 - 8 * i].copy_from_slice(&w.to_be_bytes());
    }
}

/// A G1 point from 64 bytes x‖y: coordinates < q, on the curve, or (0, 0) for infinity.
pub fn g1(b: &[u8]) -> Res<G1Affine> {
    let x = fq(&b[0..32], "G1 x")?;
    let y = fq(&b[32..64], "G1 y")?;
    if x.is_zero() && y.is_zero() {
        return Ok(G1Affine::zero());
    }
    let p = G1Affine::new_unchecked(x, y);
    if !p.is_on_curve() {
        return Err("G1 point is not on the curve".into());
    }
    Ok(p)
}

/// A G2 point from 128 bytes x_im‖x_re‖y_im‖y_re: coordinates < q, on the twist and in the
/// r-torsion subgroup, or all zero for infinity.
pub fn g2(b: &[u8]) -> Res<G2Affine> {
    let x = Fq2::new(fq(&b[32..64], "G2 x_re")?, fq(&b[0..32], "G2 x_im")?);
    let y = Fq2::new(fq(&b[96..128], "G2 y_re")?, fq(&b[64..96], "G2 y_im")?);
    if x.is_zero() && y.is_zero() {
        return Ok(G2Affine::zero());
    }
    let p = G2Affine::new_unchecked(x, y);
    if !p.is_on_curve() {
        return Err("G2 point is not on the twist curve".into());
    }
    if !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err("G2 point is not in the r-torsion subgroup".into());
    }
    Ok(p)
}

/// 64 bytes x‖y big-endian; infinity is (0, 0).
fn g1_out(p: G1Projective) -> [u8; 64] {
    let mut out = [0u8; 64];
    let a = p.into_affine();
    if let Some((x, y)) = a.xy() {
        put_fq(&mut out[0..32], &x);
        put_fq(&mut out[32..64], &y);
    }
    out
}

/// ecAdd (0x06).
pub fn ecadd(input: &[u8]) -> Res<[u8; 64]> {
    let b = padded(input, 128);
    let p = g1(&b[0..64])?;
    let q = g1(&b[64..128])?;
    Ok(g1_out(p + q))
}

/// ecMul (0x07); the scalar is any 256-bit value (k and k mod r give the same point).
pub fn ecmul(input: &[u8]) -> Res<[u8; 64]> {
    let b = padded(input, 96);
    let p = g1(&b[0..64])?;
    Ok(g1_out(p.mul_bigint(word(&b[64..96]))))
}

/// ecPairing (0x08): Π e(P_i, Q_i) == 1 (true for no pairs).
pub fn ecpairing_check(input: &[u8]) -> Res<bool> {
    if input.len() % PAIR_BYTES != 0 {
        return Err(format!(
            "ecPairing input length {} is not a multiple of {PAIR_BYTES}",
            input.len()
        ));
    }
    let mut a = Vec::with_capacity(input.len() / PAIR_BYTES);
    let mut b = Vec::with_capacity(input.len() / PAIR_BYTES);
    for (i, c) in input.chunks_exact(PAIR_BYTES).enumerate() {
        let p = g1(&c[0..64]).map_err(|e| format!("pair #{i}: {e}"))?;
        let q = g2(&c[64..192]).map_err(|e| format!("pair #{i}: {e}"))?;
        if !p.is_zero() && !q.is_zero() {
            a.push(p);
            b.push(q);
        }
    }
    if a.is_empty() {
        return Ok(true);
    }
    let ml = Bn254::multi_miller_loop(a, b);
    Ok(Bn254::final_exponentiation(ml).is_some_and(|out| out.0.is_one()))
}

/// ecPairing's 32-byte output word.
pub fn ecpairing(input: &[u8]) -> Res<[u8; 32]> {
    let mut out = [0u8; 32];
    out[31] = ecpairing_check(input)? as u8;
    Ok(out)
}

// ------------------------------------------------------------------ Python

/// A short computation on the calling thread: `Err` and panics become `ValueError`.
fn quick<const N: usize>(
    py: Python<'_>,
    f: impl FnOnce() -> Res<[u8; N]>,
) -> PyResult<Bound<'_, PyBytes>> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(PyBytes::new(py, &v)),
        Ok(Err(msg)) => Err(PyValueError::new_err(msg)),
        Err(_) => Err(PyValueError::new_err(
            "omnidsl._native: internal error (Rust panic)",
        )),
    }
}

/// EVM ecAdd (0x06) on the raw call data: 64 output bytes, ValueError on invalid input.
#[pyfunction]
fn evm_ecadd<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    quick(py, || ecadd(data))
}

/// EVM ecMul (0x07) on the raw call data: 64 output bytes, ValueError on invalid input.
#[pyfunction]
fn evm_ecmul<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    quick(py, || ecmul(data))
}

/// EVM ecPairing (0x08) on the raw call data: 32 output bytes (0…01 or 0…00), ValueError on
/// invalid input.  Runs without the GIL on the worker pool.
#[pyfunction]
fn evm_ecpairing<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let v = crate::py::run(py, || ecpairing(data))?;
    Ok(PyBytes::new(py, &v))
}

/// Add this module's functions to `omnidsl._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(evm_ecadd, m)?)?;
    m.add_function(wrap_pyfunction!(evm_ecmul, m)?)?;
    m.add_function(wrap_pyfunction!(evm_ecpairing, m)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::Fr;
    use ark_ec::short_weierstrass::SWCurveConfig;
    use ark_ff::{Field, UniformRand};
    use ark_std::test_rng;

    fn be_g1(p: &G1Affine) -> Vec<u8> {
        g1_out(p.into_group()).to_vec()
    }

    fn be_g2(p: &G2Affine) -> Vec<u8> {
        let mut out = vec![0u8; 128];
        if let Some((x, y)) = p.xy() {
            put_fq(&mut out[0..32], &x.c1);
            put_fq(&mut out[32..64], &x.c0);
            put_fq(&mut out[64..96], &y.c1);
            put_fq(&mut out[96..128], &y.c0);
        }
        out
    }

    fn be_word(k: BigInt<4>) -> Vec<u8> {
        let mut out = vec![0u8; 32];
        for (i, w) in k.0.iter().enumerate() {
            out[32 - 8 * (i + 1)..32 - 8 * i].copy_from_slice(&w.to_be_bytes());
        }
        out
    }

    #[test]
    fn generator_arithmetic() {
        let g = G1Affine::generator();
        let mut inp = be_g1(&g);
        inp.extend(be_g1(&g));
        let two = ecadd(&inp).unwrap();
        let mut m = be_g1(&g);
        m.extend(be_word(BigInt::from(2u64)));
        assert_eq!(ecmul(&m).unwrap(), two);
        assert_eq!(two.to_vec(), be_g1(&(g + g).into_affine()));
        // the empty input is (0,0) + (0,0) = (0,0); a truncated input is right-padded
        assert_eq!(ecadd(&[]).unwrap(), [0u8; 64]);
        assert_eq!(ecadd(&be_g1(&g)).unwrap().to_vec(), be_g1(&g));
        // k = r and k = 2^256 - 1 ≡ (2^256 - 1) mod r
        let mut r = be_g1(&g);
        r.extend(be_word(Fr::MODULUS));
        assert_eq!(ecmul(&r).unwrap(), [0u8; 64]);
        let mut big = be_g1(&g);
        big.extend([0xffu8; 32]);
        let k = Fr::from_be_bytes_mod_order(&[0xffu8; 32]);
        assert_eq!(ecmul(&big).unwrap().to_vec(), be_g1(&(g * k).into_affine()));
    }

    #[test]
    fn invalid_points_fail() {
        let g = G1Affine::generator();
        let mut off = be_g1(&g);
        off[63] ^= 1;
        assert!(ecmul(&off).is_err());
        let mut big = vec![0u8; 64];
        big[..32].copy_from_slice(&be_word(Fq::MODULUS));
        assert!(ecadd(&big).is_err());
        // (q, 0): x ≥ q although y = 0 (must not be taken for infinity)
        let mut qy = be_word(Fq::MODULUS);
        qy.extend([0u8; 32]);
        assert!(ecadd(&qy).is_err());
    }

    #[test]
    fn pairing_bilinear_and_subgroup() {
        let mut rng = test_rng();
        let a = Fr::rand(&mut rng);
        let b = Fr::rand(&mut rng);
        let p = (G1Affine::generator() * a).into_affine();
        let q = (G2Affine::generator() * b).into_affine();
        let np = (G1Affine::generator() * -(a * b)).into_affine();
        let g2 = G2Affine::generator();
        let mut inp = be_g1(&p);
        inp.extend(be_g2(&q));
        inp.extend(be_g1(&np));
        inp.extend(be_g2(&g2));
        assert_eq!(ecpairing(&inp).unwrap()[31], 1);
        assert!(ecpairing_check(&[]).unwrap());
        assert!(!ecpairing_check(&inp[..192]).unwrap());
        assert!(ecpairing_check(&inp[..191]).is_err());
        // a twist point outside the subgroup: x = 1 + u·k for the first k giving a square
        let mut k = 0u64;
        let bad = loop {
            let x = Fq2::new(Fq::from(1u64), Fq::from(k));
            if let Some(y) = (x * x * x + ark_bn254::g2::Config::COEFF_B).sqrt() {
                let pt = G2Affine::new_unchecked(x, y);
                if !pt.is_in_correct_subgroup_assuming_on_curve() {
                    break pt;
                }
            }
            k += 1;
        };
        let mut inp = be_g1(&p);
        inp.extend(be_g2(&bad));
        assert!(ecpairing_check(&inp).is_err());
        // infinity in either slot contributes 1
        let mut inf = vec![0u8; 64];
        inf.extend(be_g2(&q));
        assert!(ecpairing_check(&inf).unwrap());
    }
}
