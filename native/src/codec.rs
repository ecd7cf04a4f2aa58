//! Byte encodings shared with Python (see omnidsl/backend/base.py).
//!
//! * field element: 32 bytes little-endian, standard form, value < modulus;
//! * G1 point: x‖y (64 bytes), infinity = 64 zero bytes;
//! * G2 point: x_c0‖x_c1‖y_c0‖y_c1 (128 bytes), infinity = 128 zero bytes.
//!
//! Decoding never panics: every failure is an `Err(String)` naming the offending element.

use ark_bn254::{Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInt, BigInteger, PrimeField};
use rayon::prelude::*;

pub type Res<T> = Result<T, String>;

pub const FR_BYTES: usize = 32;
pub const G1_BYTES: usize = 64;
pub const G2_BYTES: usize = 128;

/// Below this many elements the work is done on the calling thread.
const PAR_MIN: usize = 1 << 10;

#[inline]
fn limbs(chunk: &[u8]) -> BigInt<4> {
    let mut l = [0u64; 4];
    for (i, w) in l.iter_mut().enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(&chunk[8 * i..8 * i + 8]);
        *w = u64::from_le_bytes(b);
    }
    BigInt::new(l)
}

#[inline]
fn put_bigint(out: &mut [u8], v: &BigInt<4>) {
    for (i, w) in v.0.iter().enumerate() {
        out[8 * i..8 * i + 8].copy_from_slice(&w.to_le_bytes());
    }
}

#[allow(clippy::manual_is_multiple_of)] // keeps the crate building on toolchains before 1.87
fn check_len(what: &str, len: usize, unit: usize) -> Res<usize> {
    if len % unit != 0 {
        return Err(format!(
            "{what}: length {len} is not a multiple of {unit} bytes"
        ));
    }
    Ok(len / unit)
}

/// One scalar (32 bytes LE, must be < r).
pub fn fr_from_bytes(b: &[u8]) -> Res<Fr> {
    if b.len() != FR_BYTES {
        return Err(format!("scalar must be 32 bytes, got {}", b.len()));
    }
    Fr::from_bigint(limbs(b)).ok_or_else(|| "scalar is not < r".to_string())
}

/// One scalar as a canonical big integer (value < r), without Montgomery conversion.
pub fn fr_bigints(what: &str, b: &[u8]) -> Res<Vec<BigInt<4>>> {
    let n = check_len(what, b.len(), FR_BYTES)?;
    let modulus = Fr::MODULUS;
    let conv = |(i, c): (usize, &[u8])| {
        let v = limbs(c);
        if v < modulus {
            Ok(v)
        } else {
            Err(format!("{what}: element #{i} is not < r"))
        }
    };
    if n >= PAR_MIN {
        b.par_chunks_exact(FR_BYTES).enumerate().map(conv).collect()
    } else {
        b.chunks_exact(FR_BYTES).enumerate().map(conv).collect()
    }
}

/// Fr vector (n*32 bytes, every element < r).
pub fn fr_vec(what: &str, b: &[u8]) -> Res<Vec<Fr>> {
    let n = check_len(what, b.len(), FR_BYTES)?;
    let conv = |(i, c): (usize, &[u8])| {
        Fr::from_bigint(limbs(c)).ok_or_else(|| format!("{what}: element #{i} is not < r"))
    };
    if n >= PAR_MIN {
        b.par_chunks_exact(FR_BYTES).enumerate().map(conv).collect()
    } else {
        b.chunks_exact(FR_BYTES).enumerate().map(conv).collect()
    }
}

/// Fr vector → n*32 bytes.
pub fn fr_vec_bytes(v: &[Fr]) -> Vec<u8> {
    let mut out = vec![0u8; v.len() * FR_BYTES];
    let conv = |(o, x): (&mut [u8], &Fr)| put_bigint(o, &x.into_bigint());
    if v.len() >= PAR_MIN {
        out.par_chunks_exact_mut(FR_BYTES)
            .zip(v.par_iter())
            .for_each(conv);
    } else {
        out.chunks_exact_mut(FR_BYTES).zip(v.iter()).for_each(conv);
    }
    out
}

/// n*64 random bytes → n elements, each a 512-bit integer reduced mod r (bias < 2^-256).
pub fn fr_from_wide(b: &[u8]) -> Res<Vec<Fr>> {
    check_len("random bytes", b.len(), 64)?;
    Ok(b.par_chunks_exact(64)
        .map(Fr::from_le_bytes_mod_order)
        .collect())
}

#[inline]
fn fq(b: &[u8]) -> Option<Fq> {
    Fq::from_bigint(limbs(b))
}

#[inline]
fn fq_bytes(out: &mut [u8], x: &Fq) {
    put_bigint(out, &x.into_bigint());
}

/// One G1 point from 64 bytes. `check`: on-curve (G1 has cofactor 1, so that is membership).
pub fn g1_decode(b: &[u8], check: bool) -> Result<G1Affine, &'static str> {
    if b.iter().all(|&x| x == 0) {
        return Ok(G1Affine::zero());
    }
    let x = fq(&b[0..32]).ok_or("x coordinate is not < q")?;
    let y = fq(&b[32..64]).ok_or("y coordinate is not < q")?;
    let p = G1Affine::new_unchecked(x, y);
    if check && !p.is_on_curve() {
        return Err("point is not on the curve");
    }
    Ok(p)
}

/// One G2 point from 128 bytes. `check`: on the twist and in the r-torsion subgroup.
pub fn g2_decode(b: &[u8], check: bool) -> Result<G2Affine, &'static str> {
    if b.iter().all(|&x| x == 0) {
        return Ok(G2Affine::zero());
    }
    let c = |i: usize| fq(&b[32 * i..32 * i + 32]).ok_or("coordinate is not < q");
    let p = G2Affine::new_unchecked(Fq2::new(c(0)?, c(1)?), Fq2::new(c(2)?, c(3)?));
    if check {
        if !p.is_on_curve() {
            return Err("point is not on the twist curve");
        }
        if !p.is_in_correct_subgroup_assuming_on_curve() {
            return Err("point is not in the r-torsion subgroup");
        }
    }
    Ok(p)
}

pub fn g1_encode(out: &mut [u8], p: &G1Affine) {
    if p.is_zero() {
        out[..G1_BYTES].fill(0);
    } else {
        fq_bytes(&mut out[0..32], &p.x);
        fq_bytes(&mut out[32..64], &p.y);
    }
}

pub fn g2_encode(out: &mut [u8], p: &G2Affine) {
    if p.is_zero() {
        out[..G2_BYTES].fill(0);
    } else {
        fq_bytes(&mut out[0..32], &p.x.c0);
        fq_bytes(&mut out[32..64], &p.x.c1);
        fq_bytes(&mut out[64..96], &p.y.c0);
        fq_bytes(&mut out[96..128], &p.y.c1);
    }
}

fn decode_array<T: Send>(
    what: &str,
    b: &[u8],
    unit: usize,
    dec: impl Fn(&[u8]) -> Result<T, &'static str> + Sync + Send,
) -> Res<Vec<T>> {
    let n = check_len(what, b.len(), unit)?;
    let conv = |(i, c): (usize, &[u8])| dec(c).map_err(|e| format!("{what}: point #{i}: {e}"));
    if n >= PAR_MIN / 8 {
        b.par_chunks_exact(unit).enumerate().map(conv).collect()
    } else {
        b.chunks_exact(unit).enumerate().map(conv).collect()
    }
}

/// G1 point array (n*64 bytes); with `check` every point must be on the curve.
pub fn g1_array(what: &str, b: &[u8], check: bool) -> Res<Vec<G1Affine>> {
    decode_array(what, b, G1_BYTES, |c| g1_decode(c, check))
}

/// G2 point array (n*128 bytes); with `check` every point must be on the twist and in the subgroup.
pub fn g2_array(what: &str, b: &[u8], check: bool) -> Res<Vec<G2Affine>> {
    decode_array(what, b, G2_BYTES, |c| g2_decode(c, check))
}

pub fn g1_array_bytes(v: &[G1Affine]) -> Vec<u8> {
    let mut out = vec![0u8; v.len() * G1_BYTES];
    out.par_chunks_exact_mut(G1_BYTES)
        .zip(v.par_iter())
        .for_each(|(o, p)| g1_encode(o, p));
    out
}

pub fn g2_array_bytes(v: &[G2Affine]) -> Vec<u8> {
    let mut out = vec![0u8; v.len() * G2_BYTES];
    out.par_chunks_exact_mut(G2_BYTES)
        .zip(v.par_iter())
        .for_each(|(o, p)| g2_encode(o, p));
    out
}

/// Little-endian int64 array (numpy `<i8` bytes).
pub fn i64_array(what: &str, b: &[u8]) -> Res<Vec<i64>> {
    check_len(what, b.len(), 8)?;
    Ok(b.chunks_exact(8)
        .map(|c| {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            i64::from_le_bytes(w)
        })
        .collect())
}

/// Is the big integer equal to 1?
#[inline]
pub fn is_one(v: &BigInt<4>) -> bool {
    v.0[0] == 1 && v.0[1] == 0 && v.0[2] == 0 && v.0[3] == 0
}

/// Bit length of a big integer.
#[inline]
pub fn bits(v: &BigInt<4>) -> u32 {
    v.num_bits()
}
