//! Radix-2 FFTs over F_r on ⟨ω_n⟩ and on the coset 5·⟨ω_n⟩ (the Groth16 quotient).

use ark_bn254::Fr;
use ark_ff::FftField;
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::codec::{self, Res};
use crate::py::{bytes, run};

/// Largest supported FFT domain (F_r has two-adicity 28).
pub const MAX_LOG_DOMAIN: u32 = 28;

// ---------------------------------------------------------------- FFT

fn domain(n: usize) -> Res<Radix2EvaluationDomain<Fr>> {
    if n == 0 || !n.is_power_of_two() {
        return Err(format!("FFT size {n} is not a power of two"));
    }
    if n.trailing_zeros() > MAX_LOG_DOMAIN {
        return Err(format!("FFT size {n} exceeds 2^{MAX_LOG_DOMAIN}"));
    }
    Radix2EvaluationDomain::new(n).ok_or_else(|| format!("no radix-2 domain of size {n}"))
}

fn coset(n: usize) -> Res<Radix2EvaluationDomain<Fr>> {
    domain(n)?
        .get_coset(Fr::GENERATOR)
        .ok_or_else(|| "cannot build the FFT coset".to_string())
}

/// Coefficients → evaluations at ω_n^0..ω_n^(n−1).
pub fn fft(v: &mut Vec<Fr>) -> Res<()> {
    domain(v.len())?.fft_in_place(v);
    Ok(())
}

/// Evaluations at ω_n^i → coefficients.
pub fn ifft(v: &mut Vec<Fr>) -> Res<()> {
    domain(v.len())?.ifft_in_place(v);
    Ok(())
}

/// Coefficients → evaluations at g·ω_n^i (g = 5).
pub fn coset_fft(v: &mut Vec<Fr>) -> Res<()> {
    coset(v.len())?.fft_in_place(v);
    Ok(())
}

/// Evaluations at g·ω_n^i → coefficients.
pub fn coset_ifft(v: &mut Vec<Fr>) -> Res<()> {
    coset(v.len())?.ifft_in_place(v);
    Ok(())
}

// ------------------------------------------------------------------ Python

fn fft_call<'py>(
    py: Python<'py>,
    values: &[u8],
    f: fn(&mut Vec<Fr>) -> Res<()>,
) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || {
        let mut x = codec::fr_vec("values", values)?;
        f(&mut x)?;
        Ok(codec::fr_vec_bytes(&x))
    })?;
    Ok(bytes(py, &v))
}

/// Coefficients → evaluations on ⟨ω_n⟩ (n = len/32, a power of two).
#[pyfunction]
#[pyo3(name = "fft")]
fn py_fft<'py>(py: Python<'py>, values: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    fft_call(py, values, fft)
}

/// Evaluations on ⟨ω_n⟩ → coefficients.
#[pyfunction]
#[pyo3(name = "ifft")]
fn py_ifft<'py>(py: Python<'py>, values: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    fft_call(py, values, ifft)
}

/// Coefficients → evaluations on 5·⟨ω_n⟩.
#[pyfunction]
#[pyo3(name = "coset_fft")]
fn py_coset_fft<'py>(py: Python<'py>, values: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    fft_call(py, values, coset_fft)
}

/// Evaluations on 5·⟨ω_n⟩ → coefficients.
#[pyfunction]
#[pyo3(name = "coset_ifft")]
fn py_coset_ifft<'py>(py: Python<'py>, values: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    fft_call(py, values, coset_ifft)
}

/// Add this module's functions to `omnidsl._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(py_fft, m)?)?;
    m.add_function(wrap_pyfunction!(py_ifft, m)?)?;
    m.add_function(wrap_pyfunction!(py_coset_fft, m)?)?;
    m.add_function(wrap_pyfunction!(py_coset_ifft, m)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{One, UniformRand};
    use ark_std::test_rng;

    #[test]
    fn fft_roundtrips_and_uses_documented_constants() {
        assert_eq!(Fr::GENERATOR, Fr::from(5u64));
        let mut rng = test_rng();
        for k in 0..8 {
            let v: Vec<Fr> = (0..1usize << k).map(|_| Fr::rand(&mut rng)).collect();
            let mut w = v.clone();
            fft(&mut w).unwrap();
            ifft(&mut w).unwrap();
            assert_eq!(v, w);
            coset_fft(&mut w).unwrap();
            coset_ifft(&mut w).unwrap();
            assert_eq!(v, w);
        }
        let mut bad = vec![Fr::one(); 3];
        assert!(fft(&mut bad).is_err());
    }
}
