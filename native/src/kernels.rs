//! Curve and field kernels in plain Rust (no Python types; tested by `cargo test`).

use ark_bn254::{Bn254, Fr, G1Affine, G2Affine};
use ark_ec::pairing::Pairing;
use ark_ec::scalar_mul::glv::GLVConfig;
use ark_ec::scalar_mul::BatchMulPreprocessing;
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AdditiveGroup, AffineRepr, CurveGroup};
use ark_ff::{BigInt, BigInteger, FftField, Field, One, PrimeField, Zero};
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use rayon::prelude::*;

use crate::codec::{bits, is_one, Res};

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

// ---------------------------------------------------------------- sparse (CSR) structures

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

/// out[k] = Σ coeff[e]·z[idx[e]] over e in row k (arrays already validated by `csr_check`).
pub fn sparse_matvec(row_ptr: &[i64], idx: &[i64], coeff: &[Fr], z: &[Fr]) -> Vec<Fr> {
    let rows = row_ptr.len() - 1;
    (0..rows)
        .into_par_iter()
        .with_min_len(256)
        .map(|r| {
            let (s, e) = (row_ptr[r] as usize, row_ptr[r + 1] as usize);
            let mut acc = Fr::zero();
            for k in s..e {
                let c = &coeff[k];
                let x = &z[idx[k] as usize];
                if c.is_one() {
                    acc += x;
                } else {
                    acc += *c * x;
                }
            }
            acc
        })
        .collect()
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

// ---------------------------------------------------------------- fixed-base and scaling

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

// ---------------------------------------------------------------- MSM

/// Work below this many points is not split across threads.
const MSM_PAR_MIN: usize = 1 << 11;

/// Σ s_i·B_i.  Zero scalars are skipped; scalars ±1 are summed directly (mixed additions);
/// the others are split by the bit length of min(s, r−s) (negating the base when r−s is the
/// small one) into classes of at most 64, 128 and 254 bits, each run through a Pippenger whose
/// window count fits the longest scalar actually in the class (signed digits).
pub fn msm<P: SWCurveConfig<ScalarField = Fr>>(
    bases: &[Affine<P>],
    scalars: &[BigInt<4>],
) -> Projective<P> {
    let n = scalars.len().min(bases.len());
    let (bases, scalars) = (&bases[..n], &scalars[..n]);
    let chunk = (n / (4 * rayon::current_num_threads().max(1))).max(MSM_PAR_MIN);
    let parts: Vec<Classes<P>> = scalars
        .par_chunks(chunk)
        .zip(bases.par_chunks(chunk))
        .map(|(sc, bs)| classify(sc, bs))
        .collect();
    let mut all = Classes::<P>::default();
    for p in parts {
        all.absorb(p);
    }
    let [c64, c128, c254] = all.classes;
    let (small, (mid, big)) = rayon::join(
        || pippenger(&c64.0, &c64.1, c64.2 as usize),
        || {
            rayon::join(
                || pippenger(&c128.0, &c128.1, c128.2 as usize),
                || pippenger(&c254.0, &c254.1, c254.2 as usize),
            )
        },
    );
    all.ones + small + mid + big
}

/// The MSM on the calling thread only (used inside already-parallel loops).
pub fn msm_serial<P: SWCurveConfig<ScalarField = Fr>>(
    bases: &[Affine<P>],
    scalars: &[BigInt<4>],
) -> Projective<P> {
    let all = classify(scalars, bases);
    let mut acc = all.ones;
    for (b, s, nb) in &all.classes {
        acc += pippenger_serial(b, s, *nb as usize);
    }
    acc
}

/// Class upper bounds (bits of min(s, r − s)) used by [`msm`].
const CLASS_BITS: [u32; 3] = [64, 128, 254];

/// Points with scalar ±1 already summed, and per class: bases, scalars, longest scalar (bits).
struct Classes<P: SWCurveConfig> {
    ones: Projective<P>,
    classes: [(Vec<Affine<P>>, Vec<BigInt<4>>, u32); 3],
}

impl<P: SWCurveConfig> Default for Classes<P> {
    fn default() -> Self {
        Self {
            ones: Projective::<P>::zero(),
            classes: Default::default(),
        }
    }
}

impl<P: SWCurveConfig> Classes<P> {
    fn push(&mut self, b: Affine<P>, s: BigInt<4>, nbits: u32) {
        let k = CLASS_BITS.iter().position(|&c| nbits <= c).unwrap_or(2);
        let cl = &mut self.classes[k];
        cl.0.push(b);
        cl.1.push(s);
        cl.2 = cl.2.max(nbits);
    }

    fn absorb(&mut self, other: Self) {
        self.ones += other.ones;
        for (mine, theirs) in self.classes.iter_mut().zip(other.classes) {
            mine.0.extend(theirs.0);
            mine.1.extend(theirs.1);
            mine.2 = mine.2.max(theirs.2);
        }
    }
}

fn classify<P: SWCurveConfig<ScalarField = Fr>>(sc: &[BigInt<4>], bs: &[Affine<P>]) -> Classes<P> {
    let modulus = Fr::MODULUS;
    let mut out = Classes::<P>::default();
    for (s, b) in sc.iter().zip(bs) {
        if s.is_zero() || b.is_zero() {
            continue;
        }
        if is_one(s) {
            out.ones += b;
            continue;
        }
        let mut neg = modulus;
        neg.sub_with_borrow(s);
        if is_one(&neg) {
            out.ones -= b;
            continue;
        }
        let (pos_bits, neg_bits) = (bits(s), bits(&neg));
        if neg_bits < pos_bits {
            out.push(-*b, neg, neg_bits);
        } else {
            out.push(*b, *s, pos_bits);
        }
    }
    out
}

/// Window width minimising ⌈(bits+1)/c⌉·(a·n + 0.9·2^c): a bucket addition costs a ≈ 0.75 of a
/// projective addition (mixed), or ≈ 0.55 with batched affine additions (c ≥ 11); the bucket
/// reduction costs about one mixed plus one full addition per bucket (2^(c−1) buckets).
fn window_bits(n: usize, num_bits: usize) -> usize {
    let mut best = (f64::INFINITY, 2usize);
    for c in 2..=20usize {
        let w = num_bits / c + 1;
        let a = if c >= BATCH_AFFINE_MIN_C { 0.55 } else { 0.75 };
        let cost = w as f64 * (a * n as f64 + 0.9 * (1u64 << c) as f64);
        if cost < best.0 {
            best = (cost, c);
        }
    }
    best.1
}

#[inline]
fn window_value(s: &BigInt<4>, start: usize, c: usize) -> u64 {
    let limb = start / 64;
    if limb >= 4 {
        return 0;
    }
    let off = start % 64;
    let mut v = s.0[limb] >> off;
    if off + c > 64 && limb + 1 < 4 {
        v |= s.0[limb + 1] << (64 - off);
    }
    v & ((1u64 << c) - 1)
}

/// Signed base-2^c digits of every scalar (scalar-major, `windows` digits each).
fn signed_digits(scalars: &[BigInt<4>], c: usize, windows: usize, parallel: bool) -> Vec<i32> {
    let half = 1u64 << (c - 1);
    let full = 1i64 << c;
    let mut digits = vec![0i32; scalars.len() * windows];
    let one = |(d, s): (&mut [i32], &BigInt<4>)| {
        let mut carry = 0u64;
        for (j, dj) in d.iter_mut().enumerate() {
            let v = window_value(s, j * c, c) + carry;
            if v > half {
                *dj = (v as i64 - full) as i32;
                carry = 1;
            } else {
                *dj = v as i32;
                carry = 0;
            }
        }
    };
    if parallel {
        digits
            .par_chunks_mut(windows)
            .zip(scalars.par_iter())
            .for_each(one);
    } else {
        digits.chunks_mut(windows).zip(scalars.iter()).for_each(one);
    }
    digits
}

/// Bucket sum of one window over a range of points: Σ_d d·(Σ_{digit=d} B_i).
fn window_sum<P: SWCurveConfig>(
    bases: &[Affine<P>],
    digits: &[i32],
    windows: usize,
    j: usize,
    c: usize,
) -> Projective<P> {
    if c >= BATCH_AFFINE_MIN_C {
        return window_sum_batch_affine(bases, digits, windows, j, c);
    }
    let mut buckets = vec![Projective::<P>::zero(); 1usize << (c - 1)];
    for (i, b) in bases.iter().enumerate() {
        let d = digits[i * windows + j];
        if d > 0 {
            buckets[(d - 1) as usize] += b;
        } else if d < 0 {
            buckets[(-d - 1) as usize] -= b;
        }
    }
    let mut running = Projective::<P>::zero();
    let mut res = Projective::<P>::zero();
    for b in buckets.iter().rev() {
        running += b;
        res += &running;
    }
    res
}

/// Windows at least this wide accumulate buckets with batched affine additions.
const BATCH_AFFINE_MIN_C: usize = 11;

/// As `window_sum`, with affine buckets updated in batches that share one field inversion
/// (Montgomery's trick: ~6 multiplications per addition instead of ~11 for a mixed addition).
/// Within a batch every bucket occurs at most once; a point whose bucket is already taken goes
/// to a projective overflow bucket instead (mixed addition), so no input pattern is slow.
fn window_sum_batch_affine<P: SWCurveConfig>(
    bases: &[Affine<P>],
    digits: &[i32],
    windows: usize,
    j: usize,
    c: usize,
) -> Projective<P> {
    let nb = 1usize << (c - 1);
    let batch_max = (nb / 8).max(64);
    let mut buckets = vec![Affine::<P>::zero(); nb];
    let mut overflow = vec![Projective::<P>::zero(); nb];
    let mut busy = vec![false; nb];
    let mut batch: Vec<(usize, Affine<P>)> = Vec::with_capacity(batch_max);
    let mut scratch = BatchScratch::<P>::default();
    for (i, b) in bases.iter().enumerate() {
        let d = digits[i * windows + j];
        if d == 0 {
            continue;
        }
        let (k, p) = if d > 0 {
            ((d - 1) as usize, *b)
        } else {
            ((-d - 1) as usize, -*b)
        };
        if busy[k] {
            overflow[k] += &p;
            continue;
        }
        busy[k] = true;
        batch.push((k, p));
        if batch.len() == batch_max {
            apply_batch(&mut buckets, &batch, &mut scratch);
            for (k, _) in batch.drain(..) {
                busy[k] = false;
            }
        }
    }
    apply_batch(&mut buckets, &batch, &mut scratch);
    let mut running = Projective::<P>::zero();
    let mut res = Projective::<P>::zero();
    for (b, o) in buckets.iter().zip(overflow.iter()).rev() {
        running += b;
        running += o;
        res += &running;
    }
    res
}

struct BatchScratch<P: SWCurveConfig> {
    adds: Vec<usize>,
    den: Vec<P::BaseField>,
    pre: Vec<P::BaseField>,
}

impl<P: SWCurveConfig> Default for BatchScratch<P> {
    fn default() -> Self {
        Self {
            adds: Vec::new(),
            den: Vec::new(),
            pre: Vec::new(),
        }
    }
}

/// buckets[k] += p for every (k, p) of the batch (distinct k), with one shared inversion.
fn apply_batch<P: SWCurveConfig>(
    buckets: &mut [Affine<P>],
    batch: &[(usize, Affine<P>)],
    s: &mut BatchScratch<P>,
) {
    s.adds.clear();
    s.den.clear();
    s.pre.clear();
    let mut acc = P::BaseField::one();
    for (m, (k, p)) in batch.iter().enumerate() {
        let q = buckets[*k];
        if q.infinity {
            buckets[*k] = *p;
        } else if q.x == p.x {
            // doubling or cancellation: rare, done projectively
            buckets[*k] = (q.into_group() + p).into_affine();
        } else {
            let d = p.x - q.x;
            s.pre.push(acc);
            acc *= d;
            s.den.push(d);
            s.adds.push(m);
        }
    }
    if s.adds.is_empty() {
        return;
    }
    let mut inv = acc
        .inverse()
        .expect("non-zero product of non-zero denominators");
    for t in (0..s.adds.len()).rev() {
        let d_inv = inv * s.pre[t];
        inv *= s.den[t];
        let (k, p) = batch[s.adds[t]];
        let q = buckets[k];
        let lambda = (p.y - q.y) * d_inv;
        let x3 = lambda.square() - q.x - p.x;
        let y3 = lambda * (q.x - x3) - q.y;
        buckets[k] = Affine::new_unchecked(x3, y3);
    }
}

fn combine_windows<P: SWCurveConfig>(sums: &[Projective<P>], c: usize) -> Projective<P> {
    let mut total = Projective::<P>::zero();
    for w in sums.iter().rev() {
        for _ in 0..c {
            total.double_in_place();
        }
        total += w;
    }
    total
}

fn naive<P: SWCurveConfig<ScalarField = Fr>>(
    bases: &[Affine<P>],
    scalars: &[BigInt<4>],
) -> Projective<P> {
    bases
        .iter()
        .zip(scalars)
        .map(|(b, s)| b.into_group() * Fr::from_bigint(*s).unwrap_or_default())
        .sum()
}

/// Pippenger over scalars < 2^num_bits, parallel over (window, chunk of points) tasks.
fn pippenger<P: SWCurveConfig<ScalarField = Fr>>(
    bases: &[Affine<P>],
    scalars: &[BigInt<4>],
    num_bits: usize,
) -> Projective<P> {
    let n = bases.len();
    if n < MSM_PAR_MIN {
        return pippenger_serial(bases, scalars, num_bits);
    }
    let c = window_bits(n, num_bits);
    let windows = num_bits / c + 1;
    let digits = signed_digits(scalars, c, windows, true);
    let threads = rayon::current_num_threads().max(1);
    // Enough tasks to keep every thread busy: split the points when there are few windows.
    let splits = (2 * threads).div_ceil(windows).max(1);
    let per = n.div_ceil(splits);
    let sums: Vec<Projective<P>> = (0..windows * splits)
        .into_par_iter()
        .map(|t| {
            let (j, part) = (t / splits, t % splits);
            let lo = part * per;
            let hi = ((part + 1) * per).min(n);
            if lo >= hi {
                return Projective::<P>::zero();
            }
            window_sum(
                &bases[lo..hi],
                &digits[lo * windows..hi * windows],
                windows,
                j,
                c,
            )
        })
        .collect();
    let per_window: Vec<Projective<P>> = sums
        .chunks(splits)
        .map(|ch| ch.iter().copied().sum())
        .collect();
    combine_windows(&per_window, c)
}

fn pippenger_serial<P: SWCurveConfig<ScalarField = Fr>>(
    bases: &[Affine<P>],
    scalars: &[BigInt<4>],
    num_bits: usize,
) -> Projective<P> {
    let n = bases.len();
    if n < 8 {
        return naive(bases, scalars);
    }
    let c = window_bits(n, num_bits);
    let windows = num_bits / c + 1;
    let digits = signed_digits(scalars, c, windows, false);
    let sums: Vec<Projective<P>> = (0..windows)
        .map(|j| window_sum(bases, &digits, windows, j, c))
        .collect();
    combine_windows(&sums, c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{G1Projective, G2Projective};
    use ark_ff::UniformRand;
    use ark_std::test_rng;

    fn naive_msm<P: SWCurveConfig<ScalarField = Fr>>(b: &[Affine<P>], s: &[Fr]) -> Projective<P> {
        b.iter().zip(s).map(|(b, s)| *b * s).sum()
    }

    #[test]
    fn msm_matches_naive_with_mixed_scalars() {
        let mut rng = test_rng();
        for &n in &[0usize, 1, 2, 7, 33, 300, 5000] {
            let bases: Vec<G1Affine> = (0..n)
                .map(|_| G1Projective::rand(&mut rng).into_affine())
                .collect();
            let scalars: Vec<Fr> = (0..n)
                .map(|i| match i % 9 {
                    0 => Fr::zero(),
                    1 => Fr::one(),
                    2 => -Fr::one(),
                    3 => Fr::from(i as u64 * 977),
                    4 => -Fr::from(i as u64 + 5),
                    // 65..128-bit magnitudes, both signs (the 128-bit class)
                    5 => Fr::from(u64::MAX) * Fr::from(i as u64 + 2),
                    6 => -(Fr::from(u64::MAX) * Fr::from(u64::MAX - i as u64)),
                    // exactly 64 bits
                    7 => Fr::from(u64::MAX - i as u64),
                    _ => Fr::rand(&mut rng),
                })
                .collect();
            let big: Vec<BigInt<4>> = scalars.iter().map(|s| s.into_bigint()).collect();
            assert_eq!(msm(&bases, &big), naive_msm(&bases, &scalars), "n = {n}");
            assert_eq!(
                msm_serial(&bases, &big),
                naive_msm(&bases, &scalars),
                "serial n = {n}"
            );
        }
    }

    #[test]
    fn batch_affine_msm_handles_repeated_and_opposite_points() {
        let mut rng = test_rng();
        let n = 20000;
        let p = G1Projective::rand(&mut rng).into_affine();
        let q = G1Projective::rand(&mut rng).into_affine();
        // repeated points hit the doubling branch, opposite points the cancellation branch
        let bases: Vec<G1Affine> = (0..n)
            .map(|i| match i % 3 {
                0 => p,
                1 => -p,
                _ => q,
            })
            .collect();
        for same in [true, false] {
            let scalars: Vec<Fr> = (0..n)
                .map(|i| {
                    if same {
                        Fr::from(123456789u64) + Fr::from((i % 2) as u64)
                    } else {
                        Fr::rand(&mut rng)
                    }
                })
                .map(|s| {
                    if same {
                        s * Fr::from(1u64 << 63) * Fr::from(1u64 << 63)
                    } else {
                        s
                    }
                })
                .collect();
            let big: Vec<BigInt<4>> = scalars.iter().map(|s| s.into_bigint()).collect();
            let expect: G1Projective = bases.iter().zip(&scalars).map(|(b, s)| *b * s).sum();
            assert_eq!(msm(&bases, &big), expect, "same = {same}");
        }
        let bases: Vec<G1Affine> = (0..n)
            .map(|_| G1Projective::rand(&mut rng).into_affine())
            .collect();
        let scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
        let big: Vec<BigInt<4>> = scalars.iter().map(|s| s.into_bigint()).collect();
        assert_eq!(msm(&bases, &big), naive_msm(&bases, &scalars));
    }

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
    fn g2_msm_matches_naive() {
        let mut rng = test_rng();
        let n = 40;
        let bases: Vec<G2Affine> = (0..n)
            .map(|_| G2Projective::rand(&mut rng).into_affine())
            .collect();
        let scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
        let big: Vec<BigInt<4>> = scalars.iter().map(|s| s.into_bigint()).collect();
        assert_eq!(msm(&bases, &big), naive_msm(&bases, &scalars));
    }

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

    #[test]
    fn csr_checks_reject_bad_structure() {
        assert!(csr_check(&[0, 1], &[0], 1, 1).is_ok());
        assert!(csr_check(&[1, 1], &[0], 1, 1).is_err());
        assert!(csr_check(&[0, 1], &[1], 1, 1).is_err());
        assert!(csr_check(&[0, 2, 1], &[0], 1, 1).is_err());
        assert!(csr_check(&[0, 1], &[0], 2, 1).is_err());
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
