pragma circom 2.0.0;

// The cosine rule of circuits/cosine.omni (public reference) written by hand with circomlib's
// Num2Bits, the peer of benchmarks/compile_bench.py (circom2 --O2).  The statement of
// cosine_committed.circom without the commitment: every input is range-checked (entries signed
// 16-bit, tau 16 bits, norms 32 bits — a public input is not trusted to be in range either:
// the verifier only knows it is a field element), then
//   dot(g, ref) >= tau * |g| * |ref| (sign cases as in docs/gadgets.md), |g|^2 <= max_norm^2,
//   |g|^2 >= min_norm^2, min_norm > 0.
// Per entry: 16 + 16 range bits and the three products g*ref, g*g, ref*ref.

include "circomlib/circuits/bitify.circom";

// in + 2^(B-1) in [0, 2^B): a signed B-bit value
template SignedRange(B) {
    signal input in;
    component n = Num2Bits(B);
    n.in <== in + (1 << (B - 1));
}

// out = (in >= 0) for a signed value with |in| < 2^k
template NonNeg(k) {
    signal input in;
    signal output out;
    component n = Num2Bits(k + 1);
    n.in <== in + (1 << k);
    out <== n.out[k];
}

// in >= 0 for a value in (-2^k, 2^k): in in [0, 2^k)
template AssertNonNeg(k) {
    signal input in;
    component n = Num2Bits(k);
    n.in <== in;
}

template Cosine(D) {
    signal input g[D];          // private: the data owner's gradient
    signal input ref[D];        // public: the reference entries
    signal input tau;           // public
    signal input max_norm;      // public
    signal input min_norm;      // public

    component rg[D];
    component rr[D];
    for (var i = 0; i < D; i++) {
        rg[i] = SignedRange(16);
        rg[i].in <== g[i];
        rr[i] = SignedRange(16);
        rr[i].in <== ref[i];
    }
    component rt = SignedRange(16);
    rt.in <== tau;
    component rmx = SignedRange(32);
    rmx.in <== max_norm;
    component rmn = SignedRange(32);
    rmn.in <== min_norm;

    signal pd[D];
    signal pg[D];
    signal pr[D];
    var dot = 0;
    var n2g = 0;
    var n2r = 0;
    for (var i = 0; i < D; i++) {
        pd[i] <== g[i] * ref[i];
        pg[i] <== g[i] * g[i];
        pr[i] <== ref[i] * ref[i];
        dot += pd[i];
        n2g += pg[i];
        n2r += pr[i];
    }
    signal ng <== n2g;
    signal nr <== n2r;
    signal d <== dot;

    // min_norm > 0 (min_norm - 1 in [0, 2^31))
    component pos = AssertNonNeg(31);
    pos.in <== min_norm - 1;
    // |g|^2 <= max_norm^2 and |g|^2 >= min_norm^2 (all at scale 24, below 2^62)
    signal mx2 <== max_norm * max_norm;
    signal mn2 <== min_norm * min_norm;
    component le = AssertNonNeg(63);
    le.in <== mx2 - ng;
    component ge = AssertNonNeg(63);
    ge.in <== ng - mn2;

    // dot >= tau * |g| * |ref|, squared at scale 72: A2 = dot^2 * 2^24, B2 = tau^2 * |g|^2 * |ref|^2
    signal a2 <== d * d;
    signal t2 <== tau * tau;
    signal p <== ng * nr;
    signal b2 <== t2 * p;
    component sa = NonNeg(44);      // dot >= 0  (|dot| < 2^43)
    sa.in <== d;
    component sb = NonNeg(16);      // tau >= 1
    sb.in <== tau - 1;
    component c1 = NonNeg(120);     // A2 >= B2  (both below 2^117)
    c1.in <== a2 * (1 << 24) - b2;
    component c2 = NonNeg(120);     // B2 >= A2
    c2.in <== b2 - a2 * (1 << 24);
    // ok = sa * (not sb or c1) + (not sa) * (not sb) * c2
    signal nsbc1 <== sb.out * (1 - c1.out);
    signal u <== sa.out * (1 - nsbc1);
    signal nn <== (1 - sa.out) * (1 - sb.out);
    signal w <== nn * c2.out;
    u + w === 1;
}
