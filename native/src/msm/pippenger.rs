//! The variable-base MSM Σ s_i·B_i (see native/README.md, "MSM").

use ark_bn254::Fr;
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::AffineRepr;
use ark_ff::{BigInt, BigInteger, PrimeField, Zero};
use rayon::prelude::*;

use super::buckets::{combine_windows, signed_digits, window_sum, BATCH_AFFINE_MIN_C};
use crate::codec::{bits, is_one};

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
    use ark_bn254::{G1Affine, G1Projective, G2Affine, G2Projective};
    use ark_ec::CurveGroup;
    use ark_ff::{One, UniformRand};
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
}
