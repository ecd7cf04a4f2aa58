//! The MPC share PRG (normative definition: omnidsl/mpc/prg.py): ChaCha20 keystreams read as
//! 32-byte little-endian candidates.
//!
//! * `uniform(key, n)`: top two bits of each candidate cleared, accepted iff < r; the first n
//!   accepted candidates (exactly uniform on F_r).
//! * `masked(key, widths)`: candidate i with every bit from bit widths[i] up cleared (uniform on
//!   [0, 2^w)).
//!
//! ChaCha20 is the IETF variant (RFC 8439): 256-bit key, 96-bit zero nonce, block counter from 0.
//! Its keystream is seekable, so chunks are generated in parallel and joined in order.

use ark_bn254::Fr;
use ark_ff::{BigInt, PrimeField};
use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use chacha20::ChaCha20;
use rayon::prelude::*;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::codec::Res;
use crate::py::{bytes, run, u16s};

const FR_BYTES: usize = 32;
/// Candidates per parallel task (a multiple of 2, so a task starts on a 64-byte block).
const CHUNK: usize = 1 << 13;

fn keystream(key: &[u8; 32], first_candidate: usize, out: &mut [u8]) {
    let mut c = ChaCha20::new(key.into(), &[0u8; 12].into());
    c.seek((first_candidate * FR_BYTES) as u64);
    out.fill(0);
    c.apply_keystream(out);
}

fn key_of(key: &[u8]) -> Res<[u8; 32]> {
    key.try_into()
        .map_err(|_| format!("PRG key must be 32 bytes, got {}", key.len()))
}

#[inline]
fn limbs(c: &[u8]) -> [u64; 4] {
    let mut l = [0u64; 4];
    for (i, w) in l.iter_mut().enumerate() {
        *w = u64::from_le_bytes(c[8 * i..8 * i + 8].try_into().unwrap());
    }
    l
}

/// n uniform field elements (n·32 bytes, canonical LE).
pub fn uniform(key: &[u8], n: usize) -> Res<Vec<u8>> {
    let key = key_of(key)?;
    let modulus = Fr::MODULUS;
    let mut out = Vec::with_capacity(n * FR_BYTES);
    let mut start = 0usize;
    // acceptance ≈ 0.756: ask for n/0.75 + slack candidates, more rounds only if unlucky
    let mut want = n + n / 3 + 64;
    while out.len() < n * FR_BYTES {
        let tasks = want.div_ceil(CHUNK);
        let parts: Vec<Vec<u8>> = (0..tasks)
            .into_par_iter()
            .map(|t| {
                let mut buf = vec![0u8; CHUNK * FR_BYTES];
                keystream(&key, start + t * CHUNK, &mut buf);
                let mut acc = Vec::with_capacity(buf.len());
                for c in buf.chunks_exact_mut(FR_BYTES) {
                    c[31] &= 0x3f;
                    if BigInt::new(limbs(c)) < modulus {
                        acc.extend_from_slice(c);
                    }
                }
                acc
            })
            .collect();
        for p in parts {
            let room = n * FR_BYTES - out.len();
            out.extend_from_slice(&p[..p.len().min(room)]);
        }
        start += tasks * CHUNK;
        want = CHUNK;
    }
    Ok(out)
}

/// One masked candidate per width (widths ≤ 256 bits), widths.len()·32 bytes.
pub fn masked(key: &[u8], widths: &[u16]) -> Res<Vec<u8>> {
    let key = key_of(key)?;
    let mut out = vec![0u8; widths.len() * FR_BYTES];
    out.par_chunks_mut(CHUNK * FR_BYTES)
        .zip(widths.par_chunks(CHUNK))
        .enumerate()
        .for_each(|(t, (buf, ws))| {
            keystream(&key, t * CHUNK, buf);
            for (c, &w) in buf.chunks_exact_mut(FR_BYTES).zip(ws) {
                let w = w.min(256) as usize;
                let (full, rest) = (w / 8, w % 8);
                if full < FR_BYTES {
                    c[full] &= ((1u16 << rest) - 1) as u8;
                    c[full + 1..].fill(0);
                }
            }
        });
    Ok(out)
}

// ------------------------------------------------------------------ Python

/// n uniform field elements from the ChaCha20 keystream of `key` (omnidsl/mpc/prg.py).
#[pyfunction]
fn prg_uniform<'py>(py: Python<'py>, key: &[u8], n: usize) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || uniform(key, n))?;
    Ok(bytes(py, &v))
}

/// One masked keystream candidate per width (`widths`: u16 LE each; omnidsl/mpc/prg.py).
#[pyfunction]
fn prg_masked<'py>(py: Python<'py>, key: &[u8], widths: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || masked(key, &u16s("widths", widths)?))?;
    Ok(bytes(py, &v))
}

/// Add this module's functions to `omnidsl._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(prg_uniform, m)?)?;
    m.add_function(wrap_pyfunction!(prg_masked, m)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_is_prefix_consistent_and_canonical() {
        let key = [7u8; 32];
        let a = uniform(&key, 20_000).unwrap();
        let b = uniform(&key, 50_000).unwrap();
        assert_eq!(&b[..a.len()], &a[..]);
        for c in b.chunks_exact(FR_BYTES) {
            assert!(BigInt::new(limbs(c)) < Fr::MODULUS);
        }
        assert_ne!(uniform(&[8u8; 32], 10).unwrap(), uniform(&key, 10).unwrap());
    }

    #[test]
    fn masked_respects_widths_and_matches_the_stream() {
        let key = [3u8; 32];
        let widths: Vec<u16> = (0..20_000).map(|i| (i % 257) as u16).collect();
        let m = masked(&key, &widths).unwrap();
        let mut raw = vec![0u8; widths.len() * FR_BYTES];
        keystream(&key, 0, &mut raw);
        for (i, (c, r)) in m
            .chunks_exact(FR_BYTES)
            .zip(raw.chunks_exact(FR_BYTES))
            .enumerate()
        {
            let w = widths[i] as usize;
            for bit in 0..256 {
                let got = (c[bit / 8] >> (bit % 8)) & 1;
                let want = if bit < w {
                    (r[bit / 8] >> (bit % 8)) & 1
                } else {
                    0
                };
                assert_eq!(got, want, "entry {i} bit {bit}");
            }
        }
    }
}
