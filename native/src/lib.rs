//! `omnidsl._native`: BN254 maths for omnidsl on arkworks.
//!
//! Everything crosses the boundary as bytes (encodings in `codec.rs` and
//! `omnidsl/backend/base.py`).  Malformed input raises `ValueError`; heavy calls release the GIL.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use ark_bn254::{Fr, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::Field;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

pub mod beaver;
pub mod codec;
pub mod evm;
pub mod kernels;
pub mod prg;

use codec::{Res, G1_BYTES, G2_BYTES};

/// The worker pool of the current process.  A pool inherited through `fork()` has no threads
/// in the child, so a child (pid changed) builds its own instead of hanging on the parent's.
fn pool() -> Res<Arc<rayon::ThreadPool>> {
    static POOL: Mutex<Option<(u32, Arc<rayon::ThreadPool>)>> = Mutex::new(None);
    let pid = std::process::id();
    let mut guard = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((owner, tp)) = guard.as_ref() {
        if *owner == pid {
            return Ok(tp.clone());
        }
    }
    let tp = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .build()
            .map_err(|e| format!("cannot start worker threads: {e}"))?,
    );
    if let Some(stale) = guard.replace((pid, tp.clone())) {
        std::mem::forget(stale); // its threads belong to the parent process
    }
    Ok(tp)
}

/// Run `f` without the GIL on the worker pool; `Err` and panics both become `ValueError`.
fn run<T: Send>(py: Python<'_>, f: impl FnOnce() -> Res<T> + Send) -> PyResult<T> {
    let work = || -> Res<T> { pool()?.install(f) };
    match py.allow_threads(|| catch_unwind(AssertUnwindSafe(work))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(msg)) => Err(PyValueError::new_err(msg)),
        Err(_) => Err(PyValueError::new_err(
            "omnidsl._native: internal error (Rust panic)",
        )),
    }
}

fn bytes<'py>(py: Python<'py>, v: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, v)
}

fn g1_point(what: &str, b: &[u8]) -> Res<G1Affine> {
    if b.len() != G1_BYTES {
        return Err(format!("{what}: a G1 point is 64 bytes, got {}", b.len()));
    }
    codec::g1_decode(b, true).map_err(|e| format!("{what}: {e}"))
}

fn g2_point(what: &str, b: &[u8]) -> Res<G2Affine> {
    if b.len() != G2_BYTES {
        return Err(format!("{what}: a G2 point is 128 bytes, got {}", b.len()));
    }
    codec::g2_decode(b, true).map_err(|e| format!("{what}: {e}"))
}

fn g1_out(p: G1Affine) -> Vec<u8> {
    let mut out = vec![0u8; G1_BYTES];
    codec::g1_encode(&mut out, &p);
    out
}

fn g2_out(p: G2Affine) -> Vec<u8> {
    let mut out = vec![0u8; G2_BYTES];
    codec::g2_encode(&mut out, &p);
    out
}

fn same_len(a: &[u8], b: &[u8]) -> Res<()> {
    if a.len() != b.len() {
        return Err(format!(
            "vector lengths differ: {} and {} bytes",
            a.len(),
            b.len()
        ));
    }
    Ok(())
}

// ------------------------------------------------------------------ point handles

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

// ------------------------------------------------------------------ Fr vectors

fn fr_binop<'py>(
    py: Python<'py>,
    a: &[u8],
    b: &[u8],
    op: impl Fn(Fr, Fr) -> Fr + Sync + Send,
) -> PyResult<Bound<'py, PyBytes>> {
    use rayon::prelude::*;
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

/// Beaver step 1: this party's shares of d ‖ e = (a − x) ‖ (b − y).
#[pyfunction]
fn beaver_mask<'py>(
    py: Python<'py>,
    a: &[u8],
    b: &[u8],
    x: &[u8],
    y: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || beaver::mask(a, b, x, y))?;
    Ok(bytes(py, &v))
}

/// Beaver step 2: from every party's d ‖ e shares (list, index = party) open d ‖ e and return
/// (d ‖ e, this party's share of a·b); the leader adds d·e.
#[pyfunction]
fn beaver_open<'py>(
    py: Python<'py>,
    parts: Vec<Bound<'py, PyBytes>>,
    x: &[u8],
    y: &[u8],
    z: &[u8],
    leader: bool,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
    let (de, c) = run(py, || beaver::open(&refs, x, y, z, leader))?;
    Ok((bytes(py, &de), bytes(py, &c)))
}

/// A u16 little-endian array.
fn u16s(what: &str, b: &[u8]) -> Res<Vec<u16>> {
    if b.len() & 1 == 1 {
        return Err(format!("{what} must be u16 values"));
    }
    Ok(b.chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect())
}

/// Σ parts (list of equal-length Fr vectors, index = party); ValueError names the bad party.
#[pyfunction]
fn fr_sum<'py>(py: Python<'py>, parts: Vec<Bound<'py, PyBytes>>) -> PyResult<Bound<'py, PyBytes>> {
    let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
    let v = run(py, || beaver::sum(&refs))?;
    Ok(bytes(py, &v))
}

/// n uniform field elements from the ChaCha20 keystream of `key` (omnidsl/mpc/prg.py).
#[pyfunction]
fn prg_uniform<'py>(py: Python<'py>, key: &[u8], n: usize) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || prg::uniform(key, n))?;
    Ok(bytes(py, &v))
}

/// One masked keystream candidate per width (`widths`: u16 LE each; omnidsl/mpc/prg.py).
#[pyfunction]
fn prg_masked<'py>(py: Python<'py>, key: &[u8], widths: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || prg::masked(key, &u16s("widths", widths)?))?;
    Ok(bytes(py, &v))
}

/// Per element: is min(v, r − v) < 2^bits[i]?  (`bits`: u16 LE each; returns one byte 0/1 each.)
#[pyfunction]
fn fr_below_pow2<'py>(py: Python<'py>, v: &[u8], bits: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let out = run(py, || beaver::below_pow2(v, &u16s("bits", bits)?))?;
    Ok(bytes(py, &out))
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
    use rayon::prelude::*;
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

// ------------------------------------------------------------------ FFT

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
fn fft<'py>(py: Python<'py>, values: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    fft_call(py, values, kernels::fft)
}

/// Evaluations on ⟨ω_n⟩ → coefficients.
#[pyfunction]
fn ifft<'py>(py: Python<'py>, values: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    fft_call(py, values, kernels::ifft)
}

/// Coefficients → evaluations on 5·⟨ω_n⟩.
#[pyfunction]
fn coset_fft<'py>(py: Python<'py>, values: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    fft_call(py, values, kernels::coset_fft)
}

/// Evaluations on 5·⟨ω_n⟩ → coefficients.
#[pyfunction]
fn coset_ifft<'py>(py: Python<'py>, values: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    fft_call(py, values, kernels::coset_ifft)
}

// ------------------------------------------------------------------ sparse

/// CSR matrix × vector: `row_ptr` and `idx` are little-endian int64 arrays (as bytes), `coeffs`
/// an nnz*32-byte Fr vector, `z` an Fr vector; returns one Fr element per row.
#[pyfunction]
fn sparse_matvec<'py>(
    py: Python<'py>,
    row_ptr: &[u8],
    idx: &[u8],
    coeffs: &[u8],
    z: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || {
        let rp = codec::i64_array("row_ptr", row_ptr)?;
        let ix = codec::i64_array("wire", idx)?;
        let c = codec::fr_vec("coefficients", coeffs)?;
        let zv = codec::fr_vec("z", z)?;
        kernels::csr_check(&rp, &ix, c.len(), zv.len())?;
        Ok(codec::fr_vec_bytes(&kernels::sparse_matvec(
            &rp, &ix, &c, &zv,
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
        kernels::csr_check(&rp, &ix, c.len(), pts.len())?;
        Ok(codec::g1_array_bytes(&kernels::sparse_combine(
            &rp, &ix, &c, &pts,
        )))
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
        kernels::csr_check(&rp, &ix, c.len(), pts.len())?;
        Ok(codec::g2_array_bytes(&kernels::sparse_combine(
            &rp, &ix, &c, &pts,
        )))
    })?;
    Ok(bytes(py, &v))
}

// ------------------------------------------------------------------ MSM and batches

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
        Ok(g1_out(kernels::msm(&b.pts, &s).into_affine()))
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
        Ok(g2_out(kernels::msm(&b.pts, &s).into_affine()))
    })?;
    Ok(bytes(py, &v))
}

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
        Ok(codec::g1_array_bytes(&kernels::batch_mul(p, &k)))
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
        Ok(codec::g2_array_bytes(&kernels::batch_mul(p, &k)))
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
        Ok(codec::g1_array_bytes(&kernels::array_scale(&pts, k)))
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
        Ok(codec::g2_array_bytes(&kernels::array_scale(&pts, k)))
    })?;
    Ok(bytes(py, &v))
}

// ------------------------------------------------------------------ single points

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
fn pairing_check(py: Python<'_>, g1: &[u8], g2: &[u8]) -> PyResult<bool> {
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
        Ok(kernels::pairing_check(&a, &b))
    })
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<G1Bases>()?;
    m.add_class::<G2Bases>()?;
    m.add_function(wrap_pyfunction!(fr_add, m)?)?;
    m.add_function(wrap_pyfunction!(beaver_mask, m)?)?;
    m.add_function(wrap_pyfunction!(beaver_open, m)?)?;
    m.add_function(wrap_pyfunction!(fr_sum, m)?)?;
    m.add_function(wrap_pyfunction!(fr_below_pow2, m)?)?;
    m.add_function(wrap_pyfunction!(prg_uniform, m)?)?;
    m.add_function(wrap_pyfunction!(prg_masked, m)?)?;
    m.add_function(wrap_pyfunction!(fr_sub, m)?)?;
    m.add_function(wrap_pyfunction!(fr_mul, m)?)?;
    m.add_function(wrap_pyfunction!(fr_scale, m)?)?;
    m.add_function(wrap_pyfunction!(fr_from_wide, m)?)?;
    m.add_function(wrap_pyfunction!(fr_inv, m)?)?;
    m.add_function(wrap_pyfunction!(fft, m)?)?;
    m.add_function(wrap_pyfunction!(ifft, m)?)?;
    m.add_function(wrap_pyfunction!(coset_fft, m)?)?;
    m.add_function(wrap_pyfunction!(coset_ifft, m)?)?;
    m.add_function(wrap_pyfunction!(sparse_matvec, m)?)?;
    m.add_function(wrap_pyfunction!(g1_sparse_combine, m)?)?;
    m.add_function(wrap_pyfunction!(g2_sparse_combine, m)?)?;
    m.add_function(wrap_pyfunction!(g1_msm, m)?)?;
    m.add_function(wrap_pyfunction!(g2_msm, m)?)?;
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
    m.add_function(wrap_pyfunction!(pairing_check, m)?)?;
    evm::register(m)?;
    Ok(())
}
