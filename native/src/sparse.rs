//! Sparse (CSR) structures: the R1CS matrix × witness product and sparse point combinations
//! (the proving-key queries of a rule's matrices).

use ark_bn254::Fr;
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{BigInt, BigInteger, One, PrimeField, Zero};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rayon::prelude::*;

use crate::codec::{self, bits, is_one, Res};
use crate::msm::msm_serial;
use crate::py::{bytes, run};

/// Validate CSR arrays: row_ptr starts at 0, never decreases, ends at nnz; every column < ncols.
pub fn csr_check(row_ptr: &[i64], idx: &[i64], nnz_coeffs: usize, ncols: usize) -> Res<()> {
    if row_ptr.is_empty() {
        return Err("row_ptr must have at least one entry (0)".into());
    }
    if row_ptr[0] != 0 {
        return Err(format!("row_ptr[0] must be 0, got {}", row_ptr[0]));
    }
    if let Some(i) = row_ptr.windows(2).position(|w| w[1] < w[0]) {
        return Err(format!("row_ptr decreases at row {i}"));
    }
    let last = *row_ptr.last().unwrap_or(&0);
    if last as usize != idx.len() || last < 0 {
        return Err(format!(
            "row_ptr ends at {last} but there are {} column indices",
            idx.len()
        ));
    }
    if nnz_coeffs != idx.len() {
        return Err(format!(
            "{} coefficients for {} column indices",
            nnz_coeffs,
            idx.len()
        ));
    }
    if let Some(k) = idx.iter().position(|&c| c < 0 || c as u64 >= ncols as u64) {
        return Err(format!(
            "column index {} at entry {k} is out of range 0..{ncols}",
            idx[k]
        ));
    }
    Ok(())
}

/// out[k] = Σ c(e)·z[idx[e]] over e in row k, where `coeff(e)` is None for a coefficient 1
/// (added without a multiplication) and Some(c) otherwise (arrays already validated).
fn matvec_rows<C>(row_ptr: &[i64], idx: &[i64], z: &[Fr], coeff: C) -> Vec<Fr>
where
    C: Fn(usize) -> Option<Fr> + Sync,
{
    let rows = row_ptr.len() - 1;
    (0..rows)
        .into_par_iter()
        .with_min_len(256)
        .map(|r| {
            let (s, e) = (row_ptr[r] as usize, row_ptr[r + 1] as usize);
            let mut acc = Fr::zero();
            for k in s..e {
                let x = &z[idx[k] as usize];
                match coeff(k) {
                    None => acc += x,
                    Some(c) => acc += c * x,
                }
            }
            acc
        })
        .collect()
}

/// out[k] = Σ coeff[e]·z[idx[e]] over e in row k (arrays already validated by `csr_check`).
pub fn sparse_matvec(row_ptr: &[i64], idx: &[i64], coeff: &[Fr], z: &[Fr]) -> Vec<Fr> {
    matvec_rows(row_ptr, idx, z, |k| {
        (!coeff[k].is_one()).then_some(coeff[k])
    })
}

/// As `sparse_matvec` with coefficient e given as `table[ids[e]]` (an R1CS holds few distinct
/// coefficients: the matrix costs 12 bytes per entry instead of 40, nothing of size nnz × 32 is
/// built).  Arrays already validated (`csr_check`, every id < table.len()).
pub fn sparse_matvec_table(
    row_ptr: &[i64],
    idx: &[i64],
    ids: &[u32],
    table: &[Fr],
    z: &[Fr],
) -> Vec<Fr> {
    let ones: Vec<bool> = table.iter().map(|c| c.is_one()).collect();
    matvec_rows(row_ptr, idx, z, |k| {
        let id = ids[k] as usize;
        (!ones[id]).then_some(table[id])
    })
}

/// Little-endian uint32 array (numpy `<u4` bytes), every entry < `bound`.
fn u32_ids(what: &str, b: &[u8], bound: usize) -> Res<Vec<u32>> {
    if !b.len().is_multiple_of(4) {
        return Err(format!(
            "{what}: {} bytes is not a whole number of uint32",
            b.len()
        ));
    }
    let v: Vec<u32> = b
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    if let Some(k) = v.iter().position(|&i| i as usize >= bound) {
        return Err(format!(
            "{what}: entry {k} is {} but the table has {bound} coefficients",
            v[k]
        ));
    }
    Ok(v)
}

/// out[j] = Σ coeff[e]·points[idx[e]] over e in row j, normalised to affine.
pub fn sparse_combine<P: SWCurveConfig<ScalarField = Fr>>(
    row_ptr: &[i64],
    idx: &[i64],
    coeff: &[BigInt<4>],
    points: &[Affine<P>],
) -> Vec<Affine<P>> {
    let rows = row_ptr.len() - 1;
    let out: Vec<Projective<P>> = (0..rows)
        .into_par_iter()
        .map(|r| {
            let (s, e) = (row_ptr[r] as usize, row_ptr[r + 1] as usize);
            if e - s >= 32 {
                let bases: Vec<Affine<P>> = idx[s..e].iter().map(|&i| points[i as usize]).collect();
                msm_serial(&bases, &coeff[s..e])
            } else {
                let mut acc = Projective::<P>::zero();
                for k in s..e {
                    add_scaled(&mut acc, &points[idx[k] as usize], &coeff[k]);
                }
                acc
            }
        })
        .collect();
    Projective::normalize_batch(&out)
}

/// acc += c·p, with cheap paths for the coefficients R1CS matrices are made of: 0, ±1, and
/// ±(small) (double-and-add over 64 bits instead of a full 254-bit GLV multiplication).
fn add_scaled<P: SWCurveConfig<ScalarField = Fr>>(
    acc: &mut Projective<P>,
    p: &Affine<P>,
    c: &BigInt<4>,
) {
    if c.is_zero() || p.is_zero() {
        return;
    }
    if is_one(c) {
        *acc += p;
        return;
    }
    if bits(c) <= 64 {
        *acc += p.mul_bigint([c.0[0]]);
        return;
    }
    let mut neg = Fr::MODULUS;
    neg.sub_with_borrow(c);
    if is_one(&neg) {
        *acc -= p;
    } else if bits(&neg) <= 64 {
        *acc -= p.mul_bigint([neg.0[0]]);
    } else {
        *acc += p.into_group() * Fr::from_bigint(*c).unwrap_or_default();
    }
}

// ------------------------------------------------------------------ Python

/// The CSR arrays and the vector of a matrix × vector call, decoded and checked for `nnz`
/// coefficients.
fn matvec_args(
    row_ptr: &[u8],
    idx: &[u8],
    z: &[u8],
    nnz: usize,
) -> Res<(Vec<i64>, Vec<i64>, Vec<Fr>)> {
    let rp = codec::i64_array("row_ptr", row_ptr)?;
    let ix = codec::i64_array("wire", idx)?;
    let zv = codec::fr_vec("z", z)?;
    csr_check(&rp, &ix, nnz, zv.len())?;
    Ok((rp, ix, zv))
}

/// CSR matrix × vector: `row_ptr` and `idx` are little-endian int64 arrays (as bytes), `coeffs`
/// an nnz*32-byte Fr vector, `z` an Fr vector; returns one Fr element per row.
#[pyfunction]
#[pyo3(name = "sparse_matvec")]
fn py_sparse_matvec<'py>(
    py: Python<'py>,
    row_ptr: &[u8],
    idx: &[u8],
    coeffs: &[u8],
    z: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || {
        let c = codec::fr_vec("coefficients", coeffs)?;
        let (rp, ix, zv) = matvec_args(row_ptr, idx, z, c.len())?;
        Ok(codec::fr_vec_bytes(&sparse_matvec(&rp, &ix, &c, &zv)))
    })?;
    Ok(bytes(py, &v))
}

/// CSR matrix × vector with coefficient ids: `ids` little-endian uint32 (one per entry) into
/// `table`, an Fr vector of the distinct coefficients; otherwise as `sparse_matvec`.
#[pyfunction]
#[pyo3(name = "sparse_matvec_table")]
fn py_sparse_matvec_table<'py>(
    py: Python<'py>,
    row_ptr: &[u8],
    idx: &[u8],
    ids: &[u8],
    table: &[u8],
    z: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || {
        let t = codec::fr_vec("coefficient table", table)?;
        let id = u32_ids("coefficient ids", ids, t.len())?;
        let (rp, ix, zv) = matvec_args(row_ptr, idx, z, id.len())?;
        Ok(codec::fr_vec_bytes(&sparse_matvec_table(
            &rp, &ix, &id, &t, &zv,
        )))
    })?;
    Ok(bytes(py, &v))
}

/// out[j] = Σ coeff·points[idx] over CSR row j, for a G1 point array; returns a G1 point array.
#[pyfunction]
#[pyo3(signature = (row_ptr, idx, coeffs, points, unchecked = false))]
fn g1_sparse_combine<'py>(
    py: Python<'py>,
    row_ptr: &[u8],
    idx: &[u8],
    coeffs: &[u8],
    points: &[u8],
    unchecked: bool,
) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || {
        let rp = codec::i64_array("row_ptr", row_ptr)?;
        let ix = codec::i64_array("idx", idx)?;
        let c = codec::fr_bigints("coefficients", coeffs)?;
        let pts = codec::g1_array("points", points, !unchecked)?;
        csr_check(&rp, &ix, c.len(), pts.len())?;
        Ok(codec::g1_array_bytes(&sparse_combine(&rp, &ix, &c, &pts)))
    })?;
    Ok(bytes(py, &v))
}

/// As `g1_sparse_combine` for G2 point arrays.
#[pyfunction]
#[pyo3(signature = (row_ptr, idx, coeffs, points, unchecked = false))]
fn g2_sparse_combine<'py>(
    py: Python<'py>,
    row_ptr: &[u8],
    idx: &[u8],
    coeffs: &[u8],
    points: &[u8],
    unchecked: bool,
) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || {
        let rp = codec::i64_array("row_ptr", row_ptr)?;
        let ix = codec::i64_array("idx", idx)?;
        let c = codec::fr_bigints("coefficients", coeffs)?;
        let pts = codec::g2_array("points", points, !unchecked)?;
        csr_check(&rp, &ix, c.len(), pts.len())?;
        Ok(codec::g2_array_bytes(&sparse_combine(&rp, &ix, &c, &pts)))
    })?;
    Ok(bytes(py, &v))
}

/// Add this module's functions to `omnidsl._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(py_sparse_matvec, m)?)?;
    m.add_function(wrap_pyfunction!(py_sparse_matvec_table, m)?)?;
    m.add_function(wrap_pyfunction!(g1_sparse_combine, m)?)?;
    m.add_function(wrap_pyfunction!(g2_sparse_combine, m)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{G1Affine, G1Projective};
    use ark_ff::UniformRand;
    use ark_std::test_rng;

    #[test]
    fn sparse_combine_matches_naive() {
        let mut rng = test_rng();
        let pts: Vec<G1Affine> = (0..50)
            .map(|_| G1Projective::rand(&mut rng).into_affine())
            .collect();
        let coeffs = [
            Fr::one(),
            -Fr::one(),
            Fr::from(7u64),
            -Fr::from(9u64),
            Fr::zero(),
            Fr::rand(&mut rng),
        ];
        // rows: one of every coefficient kind, an empty row, and a long row (MSM path)
        let mut row_ptr = vec![0i64];
        let mut idx = vec![];
        let mut co = vec![];
        for (i, c) in coeffs.iter().enumerate() {
            idx.push(i as i64);
            co.push(*c);
            row_ptr.push(idx.len() as i64);
        }
        row_ptr.push(idx.len() as i64);
        for i in 0..40 {
            idx.push((i % 50) as i64);
            co.push(coeffs[i % coeffs.len()]);
        }
        row_ptr.push(idx.len() as i64);
        csr_check(&row_ptr, &idx, co.len(), pts.len()).unwrap();
        let big: Vec<BigInt<4>> = co.iter().map(|c| c.into_bigint()).collect();
        let out = sparse_combine(&row_ptr, &idx, &big, &pts);
        for r in 0..row_ptr.len() - 1 {
            let (s, e) = (row_ptr[r] as usize, row_ptr[r + 1] as usize);
            let expect: G1Projective = (s..e).map(|k| pts[idx[k] as usize] * co[k]).sum();
            assert_eq!(out[r], expect.into_affine(), "row {r}");
        }
    }

    #[test]
    fn table_matvec_equals_the_explicit_one() {
        let table = [Fr::from(1u64), Fr::from(7u64), -Fr::from(3u64)];
        let ids = [0u32, 1, 2, 2, 1];
        let coeff: Vec<Fr> = ids.iter().map(|&i| table[i as usize]).collect();
        let (rp, ix) = ([0i64, 2, 2, 5], [0i64, 1, 1, 2, 0]);
        let z = [Fr::from(5u64), Fr::from(11u64), Fr::from(13u64)];
        let want = sparse_matvec(&rp, &ix, &coeff, &z);
        assert_eq!(sparse_matvec_table(&rp, &ix, &ids, &table, &z), want);
        assert_eq!(want[1], Fr::zero());
        assert!(u32_ids("ids", &[3, 0, 0, 0], 3).is_err());
        assert!(u32_ids("ids", &[2, 0, 0], 3).is_err());
    }

    #[test]
    fn csr_checks_reject_bad_structure() {
        assert!(csr_check(&[0, 1], &[0], 1, 1).is_ok());
        assert!(csr_check(&[1, 1], &[0], 1, 1).is_err());
        assert!(csr_check(&[0, 1], &[1], 1, 1).is_err());
        assert!(csr_check(&[0, 2, 1], &[0], 1, 1).is_err());
        assert!(csr_check(&[0, 1], &[0], 2, 1).is_err());
    }
}
