//! The Python boundary: the worker pool, GIL release, errors and panics as `ValueError`, and the
//! argument helpers the Python functions of every module share.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use ark_bn254::{G1Affine, G2Affine};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::codec::{self, Res, G1_BYTES, G2_BYTES};

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
pub fn run<T: Send>(py: Python<'_>, f: impl FnOnce() -> Res<T> + Send) -> PyResult<T> {
    let work = || -> Res<T> { pool()?.install(f) };
    match py.allow_threads(|| catch_unwind(AssertUnwindSafe(work))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(msg)) => Err(PyValueError::new_err(msg)),
        Err(_) => Err(PyValueError::new_err(
            "omnidsl._native: internal error (Rust panic)",
        )),
    }
}

/// A Python `bytes` object holding `v`.
pub fn bytes<'py>(py: Python<'py>, v: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, v)
}

/// One validated G1 point (64 bytes); `what` names the argument in the error.
pub fn g1_point(what: &str, b: &[u8]) -> Res<G1Affine> {
    if b.len() != G1_BYTES {
        return Err(format!("{what}: a G1 point is 64 bytes, got {}", b.len()));
    }
    codec::g1_decode(b, true).map_err(|e| format!("{what}: {e}"))
}

/// One validated G2 point (128 bytes, subgroup checked).
pub fn g2_point(what: &str, b: &[u8]) -> Res<G2Affine> {
    if b.len() != G2_BYTES {
        return Err(format!("{what}: a G2 point is 128 bytes, got {}", b.len()));
    }
    codec::g2_decode(b, true).map_err(|e| format!("{what}: {e}"))
}

/// A G1 point as 64 bytes.
pub fn g1_out(p: G1Affine) -> Vec<u8> {
    let mut out = vec![0u8; G1_BYTES];
    codec::g1_encode(&mut out, &p);
    out
}

/// A G2 point as 128 bytes.
pub fn g2_out(p: G2Affine) -> Vec<u8> {
    let mut out = vec![0u8; G2_BYTES];
    codec::g2_encode(&mut out, &p);
    out
}

/// Two vectors of the same byte length.
pub fn same_len(a: &[u8], b: &[u8]) -> Res<()> {
    if a.len() != b.len() {
        return Err(format!(
            "vector lengths differ: {} and {} bytes",
            a.len(),
            b.len()
        ));
    }
    Ok(())
}

/// A u16 little-endian array.
pub fn u16s(what: &str, b: &[u8]) -> Res<Vec<u16>> {
    if b.len() & 1 == 1 {
        return Err(format!("{what} must be u16 values"));
    }
    Ok(b.chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect())
}
