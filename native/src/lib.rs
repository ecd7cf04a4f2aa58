//! `omnidsl._native`: BN254 maths for omnidsl on arkworks.
//!
//! Everything crosses the boundary as bytes (encodings in `codec.rs` and
//! `omnidsl/backend/base.py`).  Malformed input raises `ValueError`; heavy calls release the GIL
//! (`py.rs`).  One module per concern; this file only registers their Python functions.

use pyo3::prelude::*;

pub mod codec;
pub mod evm;
pub mod fft;
pub mod fr;
pub mod msm;
pub mod points;
pub mod poseidon;
pub mod prg;
pub mod py;
pub mod sharing;
pub mod sparse;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    fr::register(m)?;
    fft::register(m)?;
    sparse::register(m)?;
    msm::register(m)?;
    points::register(m)?;
    poseidon::register(m)?;
    prg::register(m)?;
    sharing::register(m)?;
    evm::register(m)?;
    Ok(())
}
