//! Multi-scalar multiplication: the point handles `G1Bases`/`G2Bases` (a proving key's queries
//! held in Rust memory) and `g1_msm`/`g2_msm` over them.

pub mod buckets;
pub mod pippenger;

pub use pippenger::{msm, msm_serial};

use ark_bn254::{G1Affine, G2Affine};
use ark_ec::CurveGroup;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::codec::{self, Res};
use crate::py::{bytes, g1_out, g2_out, run};

/// G1 points held in Rust memory (e.g. a proving key's query), usable by `g1_msm`.
///
/// `G1Bases(points, unchecked=False)`: `points` is an n*64-byte G1 point array.  Every point is
/// checked to have coordinates < q and to lie on the curve unless `unchecked=True`, which only
/// checks coordinates < q; use it only for data omnidsl produced itself (its own proving key).
#[pyclass(frozen, module = "omnidsl._native")]
pub struct G1Bases {
    pts: Vec<G1Affine>,
}

#[pymethods]
impl G1Bases {
    #[new]
    #[pyo3(signature = (points, unchecked = false))]
    fn new(py: Python<'_>, points: &[u8], unchecked: bool) -> PyResult<Self> {
        let pts = run(py, || codec::g1_array("G1 bases", points, !unchecked))?;
        Ok(Self { pts })
    }

    fn __len__(&self) -> usize {
        self.pts.len()
    }

    /// The points as an n*64-byte array.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let v = run(py, || Ok(codec::g1_array_bytes(&self.pts)))?;
        Ok(bytes(py, &v))
    }
}

/// G2 points held in Rust memory, usable by `g2_msm`.
///
/// `G2Bases(points, unchecked=False)`: n*128-byte G2 point array.  Checked: coordinates < q, on
/// the twist, in the r-torsion subgroup; `unchecked=True` only checks coordinates < q (own data).
#[pyclass(frozen, module = "omnidsl._native")]
pub struct G2Bases {
    pts: Vec<G2Affine>,
}

#[pymethods]
impl G2Bases {
    #[new]
    #[pyo3(signature = (points, unchecked = false))]
    fn new(py: Python<'_>, points: &[u8], unchecked: bool) -> PyResult<Self> {
        let pts = run(py, || codec::g2_array("G2 bases", points, !unchecked))?;
        Ok(Self { pts })
    }

    fn __len__(&self) -> usize {
        self.pts.len()
    }

    /// The points as an n*128-byte array.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let v = run(py, || Ok(codec::g2_array_bytes(&self.pts)))?;
        Ok(bytes(py, &v))
    }
}

fn msm_len(bases: usize, scalars: usize) -> Res<()> {
    if scalars > bases {
        return Err(format!("MSM: {scalars} scalars for only {bases} bases"));
    }
    Ok(())
}

/// Σ scalars[i]·bases[i]; uses the first len(scalars) bases (len(scalars) ≤ len(bases)).
#[pyfunction]
fn g1_msm<'py>(
    py: Python<'py>,
    bases: &Bound<'py, G1Bases>,
    scalars: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let b = bases.get();
    let v = run(py, || {
        let s = codec::fr_bigints("scalars", scalars)?;
        msm_len(b.pts.len(), s.len())?;
        Ok(g1_out(msm(&b.pts, &s).into_affine()))
    })?;
    Ok(bytes(py, &v))
}

/// Σ scalars[i]·bases[i] in G2; uses the first len(scalars) bases.
#[pyfunction]
fn g2_msm<'py>(
    py: Python<'py>,
    bases: &Bound<'py, G2Bases>,
    scalars: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let b = bases.get();
    let v = run(py, || {
        let s = codec::fr_bigints("scalars", scalars)?;
        msm_len(b.pts.len(), s.len())?;
        Ok(g2_out(msm(&b.pts, &s).into_affine()))
    })?;
    Ok(bytes(py, &v))
}

/// Add this module's classes and functions to `omnidsl._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<G1Bases>()?;
    m.add_class::<G2Bases>()?;
    m.add_function(wrap_pyfunction!(g1_msm, m)?)?;
    m.add_function(wrap_pyfunction!(g2_msm, m)?)?;
    Ok(())
}
