//! Secret-sharing arithmetic of the MPC drivers (omnidsl/mpc/): one module per scheme.

pub mod beaver;

use pyo3::prelude::*;

/// Add every scheme's functions to `omnidsl._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    beaver::register(m)
}
