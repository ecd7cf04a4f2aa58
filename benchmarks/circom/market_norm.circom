pragma circom 2.0.0;

// The market's norm rule (circuits/market_norm.omni) written by hand: norm_bound.circom plus the
// data owner's address (public, 161-bit signed), the task's challenge rho (public field element),
// a private mask (field element) and the public fingerprint output (docs/gadgets.md), for
// benchmarks/compile_bench.py --rules (circom2 --O2).  Same statement, same
// encodings (negative values are r - |x|, as in omnidsl):
//
//   g[i]     private, fixed point with 12 fractional bits, |g[i]| <= 4.0 (= 16384); this bound
//            also proves g[i] is a signed 16-bit value, so no separate range check is needed
//   max_norm public, signed 32-bit fixed point with 12 fractional bits
//   L2:      sum g[i]^2 <= max_norm^2 (both at scale 2^24)
//
// Per entry: 16 bits of g[i] + 16384 (so 0 <= g[i] + 16384 < 2^16), one product forcing
// g[i] + 16384 <= 2^15 (the top bit may be set only when the 15 lower bits are all 0), one
// square: 18 constraints.

include "circomlib/circuits/bitify.circom";

// |in| <= 2^m for a field element in: in + 2^m in [0, 2^(m+1)]: m + 2 bits of in + 2^m, and
// the top bit (2^(m+1)) may be set only when all lower bits are 0
template AbsAtMostPow2(m) {
    signal input in;
    component n = Num2Bits(m + 2);
    n.in <== in + (1 << m);
    var low = 0;
    for (var j = 0; j <= m; j++) {
        low += n.out[j] * (1 << j);
    }
    n.out[m + 1] * low === 0;
}

template MarketNorm(D) {
    signal input g[D];
    signal input owner;
    signal input rho;
    signal input max_norm;
    signal input mask;
    signal output fp;

    component linf[D];
    signal sq[D];
    var total = 0;
    for (var i = 0; i < D; i++) {
        linf[i] = AbsAtMostPow2(14);          // |g| <= 4.0 = 2^14 at 12 fractional bits
        linf[i].in <== g[i];
        sq[i] <== g[i] * g[i];
        total += sq[i];
    }

    component mrange = Num2Bits(32);          // signed 32-bit max_norm
    mrange.in <== max_norm + (1 << 31);
    signal m2 <== max_norm * max_norm;

    // m2 - total >= 0: m2 < 2^62 and total >= 0, so m2 - total is in [0, 2^63) when it holds
    // (and wraps far above 2^63 when it does not, for total < 2^250)
    component le = Num2Bits(63);
    le.in <== m2 - total;

    // owner: a signed 161-bit integer (an address); rho and mask: raw field elements
    component rown = Num2Bits(161);
    rown.in <== owner + (1 << 160);
    // fp = sum_i g_i rho^(i+1) + mask rho^(D+1), by Horner: acc[D] = mask rho,
    // acc[i] = (acc[i+1] + g[i]) rho, fp = acc[0]
    signal acc[D + 1];
    acc[D] <== mask * rho;
    for (var i = D - 1; i >= 0; i--) {
        acc[i] <== (acc[i + 1] + g[i]) * rho;
    }
    fp <== acc[0];
}
