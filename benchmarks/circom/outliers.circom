pragma circom 2.0.0;

// The rule of circuits/outliers.omni written by hand, the peer of benchmarks/compile_bench.py
// (circom2 --O2).  x (private), spread and cap (public): signed 16-bit fixed point, frac 8.
//   any(x[i] != 0);  max(x) - min(x) <= spread;  max(max(x), 0) < cap;
//   n_large = #{i : 2 x[i] > cap} <= K, output.
// Written the way a hand circuit would: the maximum and minimum are not computed but bounded —
// the prover supplies u >= every x[i] and l <= every x[i] (both range-checked) with
// u - l <= spread and u < cap, which holds for some u, l exactly when it holds for u = max(x),
// l = min(x); l <= x[i] <= u also proves x[i]'s 16-bit range.  "Some entry is non-zero" is
// sum x[i]^2 != 0 (no wrap-around: the sum is below 2^30 D).  Per entry: 16 + 16 bits for
// l <= x[i] <= u, one square, and the decision 2 x[i] > cap on 18 bits (51 constraints).

include "circomlib/circuits/bitify.circom";

template Outliers(D, K) {
    signal input x[D];
    signal input spread;
    signal input cap;
    signal output n_large;

    component rs = Num2Bits(16);
    rs.in <== spread + (1 << 15);
    component rc = Num2Bits(16);
    rc.in <== cap + (1 << 15);

    // the bounds u (>= every entry) and l (<= every entry), chosen by the prover
    signal u;
    signal l;
    var mx = -(1 << 15);
    var mn = (1 << 15) - 1;
    for (var i = 0; i < D; i++) {
        var v = x[i] > (1 << 252) ? x[i] - 21888242871839275222246405745257275088548364400416034343698204186575808495617 : x[i];
        if (v > mx) { mx = v; }
        if (v < mn) { mn = v; }
    }
    u <-- mx;
    l <-- mn;
    component ru = Num2Bits(16);
    ru.in <== u + (1 << 15);
    component rl = Num2Bits(16);
    rl.in <== l + (1 << 15);

    component up[D];
    component lo[D];
    component big[D];
    signal sq[D];
    var n2 = 0;
    var count = 0;
    for (var i = 0; i < D; i++) {
        up[i] = Num2Bits(16);                 // u - x[i] in [0, 2^16)
        up[i].in <== u - x[i];
        lo[i] = Num2Bits(16);                 // x[i] - l in [0, 2^16)
        lo[i].in <== x[i] - l;
        sq[i] <== x[i] * x[i];
        n2 += sq[i];
        // 2 x[i] > cap  <=>  2 x[i] - cap - 1 >= 0; |2 x - cap - 1| <= 2^16 + 2^15 < 2^17
        big[i] = Num2Bits(18);
        big[i].in <== 2 * x[i] - cap - 1 + (1 << 17);
        count += big[i].out[17];
    }
    // some entry is non-zero: the sum of squares has an inverse
    signal inv;
    inv <-- n2 != 0 ? 1 / n2 : 0;
    inv * n2 === 1;
    // max - min <= spread, max < cap (and so 0 < cap, as max(x, 0) >= 0)
    component sp = Num2Bits(17);              // spread - (u - l) in [0, 2^17)
    sp.in <== spread - u + l;
    component cu = Num2Bits(17);              // cap - 1 - u in [0, 2^17)
    cu.in <== cap - 1 - u;
    component cp = Num2Bits(15);              // cap - 1 in [0, 2^15)
    cp.in <== cap - 1;

    n_large <== count;
    component ck = Num2Bits(16);              // K - n_large in [0, 2^16) (n_large <= D)
    ck.in <== K - n_large;
}
