pragma circom 2.0.0;

// A self-contained circom2 norm rule (circuits/norm_bound.omni at 51 constraints per entry, no
// circomlib include): the circom2-file reader test of tests/interop/test_snarkjs_files.py.
//
//   g[i]     private, 16-bit signed fixed point with 12 fractional bits (range-checked)
//   max_norm public, 32-bit fixed point with 12 fractional bits (range-checked)
//   L-inf:   |g[i]| <= 4.0           i.e. -16384 <= g[i] <= 16384
//   L2:      sum g[i]^2 <= max_norm^2 (both at scale 2^24)
// Negative values are field elements r - |x|, as in omnidsl.

// in = sum out[i] 2^i with every out[i] a bit: in is an n-bit unsigned integer.
template Num2Bits(n) {
    signal input in;
    signal output out[n];
    var acc = 0;
    var pow = 1;
    for (var i = 0; i < n; i++) {
        out[i] <-- (in >> i) & 1;
        out[i] * (out[i] - 1) === 0;
        acc += out[i] * pow;
        pow = pow + pow;
    }
    acc === in;
}

// out = (in[0] < in[1]) for inputs known to be below 2^n.
template LessThan(n) {
    assert(n <= 252);
    signal input in[2];
    signal output out;
    component bits = Num2Bits(n + 1);
    bits.in <== in[0] + (1 << n) - in[1];
    out <== 1 - bits.out[n];
}

// out = (in[0] <= in[1]) for inputs known to be below 2^n.
template LessEqThan(n) {
    signal input in[2];
    signal output out;
    component lt = LessThan(n);
    lt.in[0] <== in[0];
    lt.in[1] <== in[1] + 1;
    out <== lt.out;
}

// in is an n-bit signed integer: in + 2^(n-1) is in [0, 2^n).
template SignedRange(n) {
    signal input in;
    component bits = Num2Bits(n);
    bits.in <== in + (1 << (n - 1));
}

// |in| <= bound for an n-bit signed in: both in + bound and bound - in are non-negative
// (n + 1 bits hold them without wrapping).
template AbsAtMost(n, bound) {
    signal input in;
    component lo = Num2Bits(n + 1);
    lo.in <== in + bound;
    component hi = Num2Bits(n + 1);
    hi.in <== bound - in;
}

template NormBound(D) {
    signal input g[D];
    signal input max_norm;

    component range[D];
    component linf[D];
    signal sq[D];
    var total = 0;
    for (var i = 0; i < D; i++) {
        range[i] = SignedRange(16);
        range[i].in <== g[i];
        linf[i] = AbsAtMost(16, 16384);       // 4.0 at 12 fractional bits
        linf[i].in <== g[i];
        sq[i] <== g[i] * g[i];
        total += sq[i];
    }

    component mrange = Num2Bits(32);
    mrange.in <== max_norm;
    signal m2;
    m2 <== max_norm * max_norm;

    // sum of squares < D * 2^30 and m2 < 2^64: 66 bits cover both for D <= 2^35
    component le = LessEqThan(66);
    le.in[0] <== total;
    le.in[1] <== m2;
    le.out === 1;
}
