//! Fused Beaver-multiplication steps for the additive MPC driver (omnidsl/mpc/driver.py).
//!
//! A party holding shares [a], [b] and a triple ([x], [y], [z = x·y]) first *masks*
//! (d, e shares = a − x, b − y), broadcasts them, and after receiving every party's shares
//! *opens* d = Σ d_j, e = Σ e_j and computes its share of a·b:
//! [c] = [z] + d·[y] + e·[x] (+ d·e for the leader only).
//! Both steps are single passes over the vectors; additions and subtractions stay on canonical
//! integers (no Montgomery round trip), and every received element is checked to be < r.

use ark_bn254::Fr;
use ark_ff::{BigInt, One, PrimeField};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rayon::prelude::*;

use crate::codec::{Res, FR_BYTES};
use crate::fr::{add_mod, canonical, elements, read, sub_mod, write, CHUNK};
use crate::py::{bytes, run};

/// (a − x) ‖ (b − y): this party's shares of the Beaver differences d and e (2n elements).
pub fn mask(a: &[u8], b: &[u8], x: &[u8], y: &[u8]) -> Res<Vec<u8>> {
    let n = a.len() / FR_BYTES;
    for (what, v) in [("a", a), ("b", b), ("x", x), ("y", y)] {
        elements(what, v, n)?;
    }
    let mut out = vec![0u8; 2 * n * FR_BYTES];
    let (d_out, e_out) = out.split_at_mut(n * FR_BYTES);
    for (what, (o, (p, q))) in [("d", (d_out, (a, x))), ("e", (e_out, (b, y)))] {
        o.par_chunks_mut(CHUNK * FR_BYTES)
            .enumerate()
            .try_for_each(|(k, oc)| -> Res<()> {
                let base = k * CHUNK;
                for (i, o1) in oc.chunks_exact_mut(FR_BYTES).enumerate() {
                    let j = (base + i) * FR_BYTES;
                    let pv = canonical(read(&p[j..j + FR_BYTES]), what, base + i)?;
                    let qv = canonical(read(&q[j..j + FR_BYTES]), what, base + i)?;
                    write(o1, &sub_mod(&pv, &qv));
                }
                Ok(())
            })?;
    }
    Ok(out)
}

/// Open d, e from every party's broadcast (each 2n elements, `parts[j]` from party j) and
/// return (d ‖ e, this party's share of a·b).  Err names the party and element that is not < r.
pub fn open(
    parts: &[&[u8]],
    x: &[u8],
    y: &[u8],
    z: &[u8],
    leader: bool,
) -> Res<(Vec<u8>, Vec<u8>)> {
    let n = x.len() / FR_BYTES;
    for (what, v) in [("x", x), ("y", y), ("z", z)] {
        elements(what, v, n)?;
    }
    for (j, p) in parts.iter().enumerate() {
        elements(&format!("party {j}"), p, 2 * n)?;
    }
    let mut de = vec![0u8; 2 * n * FR_BYTES];
    let mut c = vec![0u8; n * FR_BYTES];
    // internal representation R² mod r: multiplying by it maps v·R⁻¹ (internal v) to v
    let r2 = Fr::from_bigint(Fr::one().0).expect("R mod r is canonical");
    let (d_out, e_out) = de.split_at_mut(n * FR_BYTES);
    d_out
        .par_chunks_mut(CHUNK * FR_BYTES)
        .zip(e_out.par_chunks_mut(CHUNK * FR_BYTES))
        .zip(c.par_chunks_mut(CHUNK * FR_BYTES))
        .enumerate()
        .try_for_each(|(k, ((dc, ec), cc))| -> Res<()> {
            let base = k * CHUNK;
            for i in 0..cc.len() / FR_BYTES {
                let g = base + i;
                let (mut d, mut e) = (BigInt::<4>::zero(), BigInt::<4>::zero());
                for (j, p) in parts.iter().enumerate() {
                    let dj = read(&p[g * FR_BYTES..(g + 1) * FR_BYTES]);
                    let ej = read(&p[(n + g) * FR_BYTES..(n + g + 1) * FR_BYTES]);
                    if dj >= Fr::MODULUS || ej >= Fr::MODULUS {
                        let at = if dj >= Fr::MODULUS { g } else { n + g };
                        return Err(format!("party {j}: element #{at} is not < r"));
                    }
                    d = add_mod(&d, &dj);
                    e = add_mod(&e, &ej);
                }
                let r = i * FR_BYTES..(i + 1) * FR_BYTES;
                write(&mut dc[r.clone()], &d);
                write(&mut ec[r.clone()], &e);
                // Montgomery trick: an Fr whose internal representation is the canonical value
                // v stands for v·R⁻¹, so products of such elements carry one factor R⁻¹ and one
                // multiplication by (R² mod r) at the end undoes it: 4 multiplications per
                // element instead of 5 conversions in, 3 products and 1 conversion out.
                let s = g * FR_BYTES..(g + 1) * FR_BYTES;
                let raw = |v: &[u8], what: &str| -> Res<Fr> {
                    Ok(Fr::new_unchecked(canonical(read(v), what, g)?))
                };
                let (fx, fy) = (raw(&x[s.clone()], "x")?, raw(&y[s.clone()], "y")?);
                let fz = canonical(read(&z[s]), "z", g)?;
                let (fd, fe) = (Fr::new_unchecked(d), Fr::new_unchecked(e));
                let mut t = fd * fy + fe * fx;
                if leader {
                    t += fd * fe;
                }
                let out = add_mod(&(t * r2).0, &fz);
                write(&mut cc[r], &out);
            }
            Ok(())
        })?;
    Ok((de, c))
}

/// Σ parts (every part n elements, `parts[j]` from party j): one slice of an opening.
pub fn sum(parts: &[&[u8]]) -> Res<Vec<u8>> {
    let n = parts.first().map_or(0, |p| p.len() / FR_BYTES);
    for (j, p) in parts.iter().enumerate() {
        elements(&format!("party {j}"), p, n)?;
    }
    let mut out = vec![0u8; n * FR_BYTES];
    out.par_chunks_mut(CHUNK * FR_BYTES)
        .enumerate()
        .try_for_each(|(k, oc)| -> Res<()> {
            let base = k * CHUNK;
            for (i, o1) in oc.chunks_exact_mut(FR_BYTES).enumerate() {
                let g = (base + i) * FR_BYTES;
                let mut acc = BigInt::<4>::zero();
                for (j, p) in parts.iter().enumerate() {
                    let v = read(&p[g..g + FR_BYTES]);
                    if v >= Fr::MODULUS {
                        return Err(format!("party {j}: element #{} is not < r", base + i));
                    }
                    acc = add_mod(&acc, &v);
                }
                write(o1, &acc);
            }
            Ok(())
        })?;
    Ok(out)
}

// ------------------------------------------------------------------ Python

/// Beaver step 1: this party's shares of d ‖ e = (a − x) ‖ (b − y).
#[pyfunction]
fn beaver_mask<'py>(
    py: Python<'py>,
    a: &[u8],
    b: &[u8],
    x: &[u8],
    y: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let v = run(py, || mask(a, b, x, y))?;
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
    let (de, c) = run(py, || open(&refs, x, y, z, leader))?;
    Ok((bytes(py, &de), bytes(py, &c)))
}

/// Σ parts (list of equal-length Fr vectors, index = party); ValueError names the bad party.
#[pyfunction]
fn fr_sum<'py>(py: Python<'py>, parts: Vec<Bound<'py, PyBytes>>) -> PyResult<Bound<'py, PyBytes>> {
    let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
    let v = run(py, || sum(&refs))?;
    Ok(bytes(py, &v))
}

/// Add this module's functions to `omnidsl._native`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(beaver_mask, m)?)?;
    m.add_function(wrap_pyfunction!(beaver_open, m)?)?;
    m.add_function(wrap_pyfunction!(fr_sum, m)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{UniformRand, Zero};
    use ark_std::test_rng;

    fn enc(v: &[Fr]) -> Vec<u8> {
        let mut out = vec![0u8; v.len() * FR_BYTES];
        for (o, x) in out.chunks_exact_mut(FR_BYTES).zip(v) {
            write(o, &x.into_bigint());
        }
        out
    }

    fn dec(b: &[u8]) -> Vec<Fr> {
        b.chunks_exact(FR_BYTES)
            .map(|c| Fr::from_bigint(read(c)).unwrap())
            .collect()
    }

    #[test]
    fn three_parties_multiply() {
        let mut rng = test_rng();
        let n = 5000; // spans two parallel chunks
        let r = |rng: &mut _| (0..n).map(|_| Fr::rand(rng)).collect::<Vec<_>>();
        let (a, b, x, y) = (r(&mut rng), r(&mut rng), r(&mut rng), r(&mut rng));
        let share = |v: &[Fr], rng: &mut _| {
            let s0 = (0..n).map(|_| Fr::rand(rng)).collect::<Vec<_>>();
            let s1 = (0..n).map(|_| Fr::rand(rng)).collect::<Vec<_>>();
            let s2: Vec<Fr> = (0..n).map(|i| v[i] - s0[i] - s1[i]).collect();
            [s0, s1, s2]
        };
        let z: Vec<Fr> = x.iter().zip(&y).map(|(p, q)| *p * q).collect();
        let (sa, sb, sx, sy, sz) = (
            share(&a, &mut rng),
            share(&b, &mut rng),
            share(&x, &mut rng),
            share(&y, &mut rng),
            share(&z, &mut rng),
        );
        let msgs: Vec<Vec<u8>> = (0..3)
            .map(|j| mask(&enc(&sa[j]), &enc(&sb[j]), &enc(&sx[j]), &enc(&sy[j])).unwrap())
            .collect();
        let parts: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
        let mut total = vec![Fr::zero(); n];
        for j in 0..3 {
            let (de, c) = open(&parts, &enc(&sx[j]), &enc(&sy[j]), &enc(&sz[j]), j == 0).unwrap();
            let de = dec(&de);
            assert_eq!(de[7], a[7] - x[7]);
            assert_eq!(de[n + 9], b[9] - y[9]);
            for (t, v) in total.iter_mut().zip(dec(&c)) {
                *t += v;
            }
        }
        for i in 0..n {
            assert_eq!(total[i], a[i] * b[i]);
        }
        let summed = dec(&sum(&parts).unwrap());
        let de0 = dec(
            &open(&parts, &enc(&sx[0]), &enc(&sy[0]), &enc(&sz[0]), true)
                .unwrap()
                .0,
        );
        assert_eq!(summed, de0);
        let mut bad = msgs[1].clone();
        bad[32 * 4100 + 31] = 0xff;
        let parts = [msgs[0].as_slice(), bad.as_slice(), msgs[2].as_slice()];
        let err = open(&parts, &enc(&sx[0]), &enc(&sy[0]), &enc(&sz[0]), true).unwrap_err();
        assert!(err.contains("party 1") && err.contains("#4100"), "{err}");
        let err = sum(&parts).unwrap_err();
        assert!(err.contains("party 1") && err.contains("#4100"), "{err}");
    }
}
