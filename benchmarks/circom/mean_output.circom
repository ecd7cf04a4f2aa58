pragma circom 2.0.0;

// The rule of circuits/mean_output.omni written by hand, the peer of benchmarks/compile_bench.py
// (circom2 --O2).  g (private) and clip (public): signed 16-bit fixed point, frac 12.
//   |g[i]| <= clip;  sum g[i]^2 <= 64.0 (= 2^30 at scale 24);
//   output total = sum g[i] (frac 12);  output mean = floor(total / D) at frac 12, then
//   floor-converted to frac 8, i.e. floor(total / (16 D)).
// Per entry: 16 bits of g (its top bit is the sign s), |g| = (2s - 1) g, clip - |g| >= 0 on 15
// bits, the square.

include "circomlib/circuits/bitify.circom";

template MeanOutput(D) {
    signal input g[D];
    signal input clip;
    signal output total;
    signal output mean;

    component rclip = Num2Bits(16);
    rclip.in <== clip + (1 << 15);

    component rg[D];
    component lim[D];
    signal a[D];
    signal sq[D];
    var s = 0;
    var n2 = 0;
    for (var i = 0; i < D; i++) {
        rg[i] = Num2Bits(16);
        rg[i].in <== g[i] + (1 << 15);
        a[i] <== (2 * rg[i].out[15] - 1) * g[i];     // |g[i]|
        lim[i] = Num2Bits(15);                      // clip - |g| in [0, 2^15)
        lim[i].in <== clip - a[i];
        sq[i] <== g[i] * g[i];
        s += g[i];
        n2 += sq[i];
    }
    component l2 = Num2Bits(31);                    // 2^30 - sum of squares in [0, 2^31)
    l2.in <== (1 << 30) - n2;

    total <== s;
    // total = 16 D mean + rem, 0 <= rem < 16 D, |mean| < 2^11
    var p = 16 * D;
    var kb = 0;
    while ((1 << kb) < p) { kb++; }
    signal rem;
    mean <-- (total + (1 << 15) * D) \ p - (1 << 15) * D \ p;
    rem <-- total - p * mean;
    total === p * mean + rem;
    component rr = Num2Bits(kb);
    rr.in <== rem;
    if ((1 << kb) != p) {                          // not a power of two: also p - 1 - rem >= 0
        component rr2 = Num2Bits(kb);
        rr2.in <== p - 1 - rem;
    }
    component rm = Num2Bits(12);
    rm.in <== mean + (1 << 11);
}
