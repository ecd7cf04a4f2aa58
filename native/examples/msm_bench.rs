//! Dev benchmark: `msm_bench N MODE REPS` with MODE in setup|g1|g1ark|g2|g2ark|bits.
use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::{CurveGroup, VariableBaseMSM};
use ark_ff::{PrimeField, UniformRand};
use std::time::Instant;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let n: usize = a[1].parse().unwrap();
    let mode = a[2].as_str();
    let reps: usize = a[3].parse().unwrap();
    let mut rng = ark_std::test_rng();
    let ks: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
    let g = G1Projective::rand(&mut rng);
    let bases: Vec<G1Affine> = _native::points::batch_mul(g.into_affine(), &ks);
    let g2 = G2Projective::rand(&mut rng);
    let bases2: Vec<G2Affine> = if mode.starts_with("g2") {
        _native::points::batch_mul(g2.into_affine(), &ks)
    } else {
        vec![]
    };
    let sc: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
    let big: Vec<_> = sc.iter().map(|s| s.into_bigint()).collect();
    let t = Instant::now();
    for _ in 0..reps {
        match mode {
            "g1" => drop(_native::msm::msm(&bases, &big)),
            "g1ark" => drop(G1Projective::msm(&bases, &sc).unwrap()),
            "g2" => drop(_native::msm::msm(&bases2, &big)),
            "g2ark" => drop(G2Projective::msm(&bases2, &sc).unwrap()),
            _ => {}
        }
    }
    println!(
        "{mode} n={n} wall/rep {:?}",
        t.elapsed() / reps.max(1) as u32
    );
}
