//! Window digits and bucket sums: the inner loops of the Pippenger MSM, also used by the
//! fixed-base batches in `points`.

use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AdditiveGroup, AffineRepr, CurveGroup};
use ark_ff::{BigInt, Field, One, Zero};
use rayon::prelude::*;

#[inline]
pub(crate) fn window_value(s: &BigInt<4>, start: usize, c: usize) -> u64 {
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
pub(crate) fn signed_digits(
    scalars: &[BigInt<4>],
    c: usize,
    windows: usize,
    parallel: bool,
) -> Vec<i32> {
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
pub(crate) fn window_sum<P: SWCurveConfig>(
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
pub(crate) const BATCH_AFFINE_MIN_C: usize = 11;

/// As `window_sum`, with affine buckets updated in batches that share one field inversion
/// (Montgomery's trick: ~6 multiplications per addition instead of ~11 for a mixed addition).
/// Within a batch every bucket occurs at most once; a point whose bucket is already taken goes
/// to a projective overflow bucket instead (mixed addition), so no input pattern is slow.
pub(crate) fn window_sum_batch_affine<P: SWCurveConfig>(
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

pub(crate) struct BatchScratch<P: SWCurveConfig> {
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
pub(crate) fn apply_batch<P: SWCurveConfig>(
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

pub(crate) fn combine_windows<P: SWCurveConfig>(sums: &[Projective<P>], c: usize) -> Projective<P> {
    let mut total = Projective::<P>::zero();
    for w in sums.iter().rev() {
        for _ in 0..c {
            total.double_in_place();
        }
        total += w;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msm::msm;
    use ark_bn254::{Fr, G1Affine, G1Projective};
    use ark_ff::{PrimeField, UniformRand};
    use ark_std::test_rng;

    fn naive_msm<P: SWCurveConfig<ScalarField = Fr>>(b: &[Affine<P>], s: &[Fr]) -> Projective<P> {
        b.iter().zip(s).map(|(b, s)| *b * s).sum()
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
}
