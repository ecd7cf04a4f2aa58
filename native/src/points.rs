//! Points of G1 and G2: fixed-base batches, scaling a whole array, single-point operations,
//! validity checks, and the pairing check.

use ark_bn254::{Bn254, Fr, G1Affine, G2Affine};
use ark_ec::pairing::Pairing;
use ark_ec::scalar_mul::glv::GLVConfig;
use ark_ec::scalar_mul::BatchMulPreprocessing;
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AdditiveGroup, AffineRepr, CurveGroup};
use ark_ff::{BigInt, One, PrimeField, Zero};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rayon::prelude::*;

use crate::codec::{self, bits, G1_BYTES, G2_BYTES};
use crate::msm::buckets::{apply_batch, signed_digits, window_value, BatchScratch};
use crate::py::{bytes, g1_out, g1_point, g2_out, g2_point, run};

/// [k_i·base] for every scalar: a window table of multiples of `base` (arkworks'
/// `BatchMulPreprocessing`), then all accumulators advance window by window in lockstep, each
/// round one batched affine addition per scalar (chunks share one inversion), parallel over chunks.
pub fn batch_mul<P: SWCurveConfig<ScalarField = Fr>>(base: Affine<P>, k: &[Fr]) -> Vec<Affine<P>> {
    if k.is_empty() {
        return Vec::new();
    }
    if base.is_zero() {
        return vec![Affine::<P>::zero(); k.len()];
    }
    let pre = BatchMulPreprocessing::new(base.into_group(), k.len());
    let (w, table) = (pre.window, &pre.table);
    let bigs: Vec<BigInt<4>> = k.par_iter().map(|s| s.into_bigint()).collect();
    let mut out = vec![Affine::<P>::zero(); k.len()];
    out.par_chunks_mut(BATCH_MUL_CHUNK)
        .zip(bigs.par_chunks(BATCH_MUL_CHUNK))
        .for_each(|(acc, sc)| {
            let mut scratch = BatchScratch::<P>::default();
            let mut batch: Vec<(usize, Affine<P>)> = Vec::with_capacity(acc.len());
            for (outer, row) in table.iter().enumerate() {
                batch.clear();
                for (i, s) in sc.iter().enumerate() {
                    let p = row[window_value(s, outer * w, w) as usize];
                    if !p.infinity {
                        batch.push((i, p));
                    }
                }
                apply_batch(acc, &batch, &mut scratch);
            }
        });
    out
}

/// Accumulators per batched inversion in `batch_mul`.
const BATCH_MUL_CHUNK: usize = 512;

/// [k·p] for every point of the array.  One GLV split k = k1 + k2·λ for the whole array, then per
/// point a table of multiples 1..16 of ±p and ±φ(p) (φ(x, y) = (βx, y)) and a joint signed
/// 5-bit window walk over the ~128-bit halves (≈ 128 doublings + 52 mixed additions per point).
pub fn array_scale<P: GLVConfig<ScalarField = Fr>>(pts: &[Affine<P>], k: Fr) -> Vec<Affine<P>> {
    const C: usize = 5;
    let ((pos1, k1), (pos2, k2)) = P::scalar_decomposition(k);
    let (b1, b2) = (k1.into_bigint(), k2.into_bigint());
    let nbits = bits(&b1).max(bits(&b2)) as usize;
    let windows = nbits / C + 1;
    let digits = signed_digits(&[b1, b2], C, windows, false);
    let (d1, d2) = digits.split_at(windows);
    let half = 1usize << (C - 1);
    pts.par_chunks(1024)
        .flat_map_iter(|chunk| {
            // tables: t[i·half + m−1] = m·p for m = 1..=half, as affine points (one batch inversion)
            let mut proj = Vec::with_capacity(chunk.len() * half);
            for p in chunk {
                let p = if pos1 { *p } else { -*p };
                let mut acc = Projective::<P>::zero();
                for _ in 0..half {
                    acc += &p;
                    proj.push(acc);
                }
            }
            let table = Projective::normalize_batch(&proj);
            let out: Vec<Projective<P>> = chunk
                .iter()
                .enumerate()
                .map(|(i, _)| {
                    let t1 = &table[i * half..(i + 1) * half];
                    let mut acc = Projective::<P>::zero();
                    for j in (0..windows).rev() {
                        for _ in 0..C {
                            acc.double_in_place();
                        }
                        for (d, phi) in [(d1[j], false), (d2[j], true)] {
                            if d == 0 {
                                continue;
                            }
                            let mut q = t1[d.unsigned_abs() as usize - 1];
                            if phi {
                                q = P::endomorphism_affine(&q);
                                if pos1 != pos2 {
                                    q = -q;
                                }
                            }
                            if d > 0 {
                                acc += &q;
                            } else {
                                acc -= &q;
                            }
                        }
                    }
                    acc
                })
                .collect();
            Projective::normalize_batch(&out)
        })
        .collect()
}

// ---------------------------------------------------------------- pairing

/// Π e(P_i, Q_i) == 1 (one multi-Miller loop and one final exponentiation).
pub fn pairing_check(g1: &[G1Affine], g2: &[G2Affine]) -> bool {
    let ml = Bn254::multi_miller_loop(g1.iter().copied(), g2.iter().copied());
    match Bn254::final_exponentiation(ml) {
        Some(out) => out.0.is_one(),
        None => false,
    }
}

// ------------------------------------------------------------------ Python

/// [k_i·base] for every scalar (fixed-base window table); returns a G1 point array.
#[pyfunction]
fn g1_batch_mul<'py>(
    py: Python<'py>,
    base: &[u8],
    scalars: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || {
        let p = g1_point("base", base)?;
        let k = codec::fr_vec("scalars", scalars)?;
        Ok(codec::g1_array_bytes(&batch_mul(p, &k)))
    })?;
    Ok(bytes(py, &v))
}

/// [k_i·base] in G2; returns a G2 point array.
#[pyfunction]
fn g2_batch_mul<'py>(
    py: Python<'py>,
    base: &[u8],
    scalars: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || {
        let p = g2_point("base", base)?;
        let k = codec::fr_vec("scalars", scalars)?;
        Ok(codec::g2_array_bytes(&batch_mul(p, &k)))
    })?;
    Ok(bytes(py, &v))
}

/// Every point of a G1 point array times `k` (32 bytes LE, < r).
#[pyfunction]
#[pyo3(signature = (points, k, unchecked = false))]
fn g1_array_scale<'py>(
    py: Python<'py>,
    points: &[u8],
    k: &[u8],
    unchecked: bool,
) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || {
        let k = codec::fr_from_bytes(k)?;
        let pts = codec::g1_array("points", points, !unchecked)?;
        Ok(codec::g1_array_bytes(&array_scale(&pts, k)))
    })?;
    Ok(bytes(py, &v))
}

/// Every point of a G2 point array times `k`.
#[pyfunction]
#[pyo3(signature = (points, k, unchecked = false))]
fn g2_array_scale<'py>(
    py: Python<'py>,
    points: &[u8],
    k: &[u8],
    unchecked: bool,
) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || {
        let k = codec::fr_from_bytes(k)?;
        let pts = codec::g2_array("points", points, !unchecked)?;
        Ok(codec::g2_array_bytes(&array_scale(&pts, k)))
    })?;
    Ok(bytes(py, &v))
}

/// p + q (64-byte G1 points, both validated).
#[pyfunction]
fn g1_add<'py>(py: Python<'py>, p: &[u8], q: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || {
        Ok(g1_out(
            (g1_point("p", p)? + g1_point("q", q)?).into_affine(),
        ))
    })?;
    Ok(bytes(py, &v))
}

/// −p.
#[pyfunction]
fn g1_neg<'py>(py: Python<'py>, p: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || Ok(g1_out(-g1_point("p", p)?)))?;
    Ok(bytes(py, &v))
}

/// k·p (k: 32 bytes LE, < r).
#[pyfunction]
fn g1_mul<'py>(py: Python<'py>, p: &[u8], k: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || {
        Ok(g1_out(
            (g1_point("p", p)?.into_group() * codec::fr_from_bytes(k)?).into_affine(),
        ))
    })?;
    Ok(bytes(py, &v))
}

/// p + q (128-byte G2 points, validated incl. subgroup).
#[pyfunction]
fn g2_add<'py>(py: Python<'py>, p: &[u8], q: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || {
        Ok(g2_out(
            (g2_point("p", p)? + g2_point("q", q)?).into_affine(),
        ))
    })?;
    Ok(bytes(py, &v))
}

/// −p in G2.
#[pyfunction]
fn g2_neg<'py>(py: Python<'py>, p: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || Ok(g2_out(-g2_point("p", p)?)))?;
    Ok(bytes(py, &v))
}

/// k·p in G2.
#[pyfunction]
fn g2_mul<'py>(py: Python<'py>, p: &[u8], k: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || {
        Ok(g2_out(
            (g2_point("p", p)?.into_group() * codec::fr_from_bytes(k)?).into_affine(),
        ))
    })?;
    Ok(bytes(py, &v))
}

/// The G1 generator (1, 2) as 64 bytes.
#[pyfunction]
fn g1_generator<'py>(py: Python<'py>) -> Bound<'py, PyBytes> {
    bytes(py, &g1_out(G1Affine::generator()))
}

/// The G2 generator (EIP-197) as 128 bytes.
#[pyfunction]
fn g2_generator<'py>(py: Python<'py>) -> Bound<'py, PyBytes> {
    bytes(py, &g2_out(G2Affine::generator()))
}

/// 64 bytes: coordinates < q and on the curve (or all zero = infinity).  Wrong length → False.
#[pyfunction]
fn g1_is_valid(p: &[u8]) -> bool {
    p.len() == G1_BYTES && codec::g1_decode(p, true).is_ok()
}

/// 128 bytes: coordinates < q, on the twist and in the r-torsion subgroup (or all zero).
#[pyfunction]
fn g2_is_valid(p: &[u8]) -> bool {
    p.len() == G2_BYTES && codec::g2_decode(p, true).is_ok()
}

/// Π e(P_i, Q_i) == 1 for a G1 point array and a G2 point array of equal length (all points are
/// validated: ValueError if one is malformed).
#[pyfunction]
#[pyo3(name = "pairing_check")]
fn py_pairing_check(py: Python<'_>, g1: &[u8], g2: &[u8]) -> PyResult<bool> {
    run(py, || {
        let a = codec::g1_array("pairing G1", g1, true)?;
        let b = codec::g2_array("pairing G2", g2, true)?;
        if a.len() != b.len() {
            return Err(format!(
                "pairing: {} G1 points but {} G2 points",
                a.len(),
                b.len()
            ));
        }
        Ok(pairing_check(&a, &b))
    })
}

/// Add this module's functions to `omnidsl._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(g1_batch_mul, m)?)?;
    m.add_function(wrap_pyfunction!(g2_batch_mul, m)?)?;
    m.add_function(wrap_pyfunction!(g1_array_scale, m)?)?;
    m.add_function(wrap_pyfunction!(g2_array_scale, m)?)?;
    m.add_function(wrap_pyfunction!(g1_add, m)?)?;
    m.add_function(wrap_pyfunction!(g1_neg, m)?)?;
    m.add_function(wrap_pyfunction!(g1_mul, m)?)?;
    m.add_function(wrap_pyfunction!(g2_add, m)?)?;
    m.add_function(wrap_pyfunction!(g2_neg, m)?)?;
    m.add_function(wrap_pyfunction!(g2_mul, m)?)?;
    m.add_function(wrap_pyfunction!(g1_generator, m)?)?;
    m.add_function(wrap_pyfunction!(g2_generator, m)?)?;
    m.add_function(wrap_pyfunction!(g1_is_valid, m)?)?;
    m.add_function(wrap_pyfunction!(g2_is_valid, m)?)?;
    m.add_function(wrap_pyfunction!(py_pairing_check, m)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{G1Projective, G2Projective};
    use ark_ff::{One, UniformRand, Zero};
    use ark_std::test_rng;

    #[test]
    fn batch_mul_matches_naive() {
        let mut rng = test_rng();
        let g = G1Projective::rand(&mut rng).into_affine();
        let mut k: Vec<Fr> = (0..1500).map(|_| Fr::rand(&mut rng)).collect();
        k[3] = Fr::zero();
        k[4] = Fr::one();
        k[5] = -Fr::one();
        k[6] = Fr::from(2u64);
        let got = batch_mul(g, &k);
        for (p, s) in got.iter().zip(&k) {
            assert_eq!(*p, (g * s).into_affine());
        }
        let h = G2Projective::rand(&mut rng).into_affine();
        let got2 = batch_mul(h, &k[..40]);
        for (p, s) in got2.iter().zip(&k[..40]) {
            assert_eq!(*p, (h * s).into_affine());
        }
    }

    #[test]
    fn array_scale_matches_naive() {
        let mut rng = test_rng();
        let mut pts: Vec<G1Affine> = (0..300)
            .map(|_| G1Projective::rand(&mut rng).into_affine())
            .collect();
        pts[7] = G1Affine::zero();
        let q: Vec<G2Affine> = (0..5)
            .map(|_| G2Projective::rand(&mut rng).into_affine())
            .collect();
        for k in [
            Fr::zero(),
            Fr::one(),
            -Fr::one(),
            Fr::from(16u64),
            Fr::rand(&mut rng),
            Fr::rand(&mut rng),
        ] {
            let got = array_scale(&pts, k);
            for (a, p) in got.iter().zip(&pts) {
                assert_eq!(*a, (*p * k).into_affine());
            }
            let got2 = array_scale(&q, k);
            for (a, p) in got2.iter().zip(&q) {
                assert_eq!(*a, (*p * k).into_affine());
            }
        }
    }

    #[test]
    fn pairing_bilinearity() {
        let mut rng = test_rng();
        let (a, b) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
        let p = G1Affine::generator();
        let q = G2Affine::generator();
        let pa = (p * a).into_affine();
        let qb = (q * b).into_affine();
        let pab = (-(p * (a * b))).into_affine();
        assert!(pairing_check(&[pa, pab], &[qb, q]));
        assert!(!pairing_check(&[pa, pa], &[qb, q]));
    }
}
