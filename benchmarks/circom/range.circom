pragma circom 2.0.0;

// The range rule of circuits/range.omni written by hand, the peer of benchmarks/compile_bench.py
// (circom2 --O2).  x (private), lo, hi (public): signed 16-bit fixed point, frac 12.
//   lo <= hi;   lo <= x[i] <= hi for every i.
// x[i] - lo and hi - x[i] are decomposed into 16 bits each; with lo and hi range-checked that
// also proves x[i] in [lo, hi], inside x's declared 16-bit range, so x needs no check of its own.

include "circomlib/circuits/bitify.circom";

template Range(D) {
    signal input x[D];
    signal input lo;
    signal input hi;

    component rlo = Num2Bits(16);
    rlo.in <== lo + (1 << 15);
    component rhi = Num2Bits(16);
    rhi.in <== hi + (1 << 15);
    component ord = Num2Bits(16);         // hi - lo in [0, 2^16)
    ord.in <== hi - lo;

    component above[D];
    component below[D];
    for (var i = 0; i < D; i++) {
        above[i] = Num2Bits(16);
        above[i].in <== x[i] - lo;
        below[i] = Num2Bits(16);
        below[i].in <== hi - x[i];
    }
}
