pragma circom 2.0.0;

// The market's cosine rule (circuits/market_cosine.omni): cosine_committed.circom plus the data
// owner's address (public, 161-bit signed), the challenge rho, a private mask and the public
// fingerprint output (as market_norm.circom), for benchmarks/compile_bench.py --rules.
// Below, the committed-cosine rule of circuits/cosine_committed.omni, written by hand for circom with
// circomlib's templates (Poseidon, Num2Bits), for the constraint comparison of
// benchmarks/commit_bench.py (circom2 --O2).  Same statement, same encodings:
//   entries are signed 16-bit integers (fixed-point frac 12), tau 16 bits, norms 32 bits;
//   refHash = the arity-16 Poseidon tree over ref packed 15 entries per element (docs/dsl.md);
//   dot(g, ref) >= tau * |g| * |ref| (sign cases as in docs/gadgets.md), |g|^2 <= max_norm^2,
//   |g|^2 >= min_norm^2, min_norm > 0.
// Compile with `-l node_modules` (include paths below are relative to it).

include "circomlib/circuits/poseidon.circom";
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

// root of the arity-16 Poseidon tree over N elements
template Tree(N) {
    signal input in[N];
    signal output out;
    var M = (N + 15) \ 16;
    var last = N - 16 * (M - 1);
    component h[M];
    for (var i = 0; i < M; i++) {
        var a = i < M - 1 ? 16 : last;
        h[i] = Poseidon(a);
        for (var j = 0; j < a; j++) {
            h[i].inputs[j] <== in[16 * i + j];
        }
    }
    if (M == 1) {
        out <== h[0].out;
    } else {
        component up = Tree(M);
        for (var i = 0; i < M; i++) {
            up.in[i] <== h[i].out;
        }
        out <== up.out;
    }
}

// Poseidon tree over the entries packed 15 to a field element (16-bit signed entries)
template Commit(D) {
    signal input v[D];
    signal output out;
    var K = 15;
    var N = (D + K - 1) \ K;
    signal packed[N];
    for (var e = 0; e < N; e++) {
        var acc = 0;
        for (var j = 0; j < K; j++) {
            if (e * K + j < D) {
                acc += (v[e * K + j] + 32768) * (1 << (16 * j));
            }
        }
        packed[e] <== acc;
    }
    component t = Tree(N);
    for (var e = 0; e < N; e++) {
        t.in[e] <== packed[e];
    }
    out <== t.out;
}

template MarketCosine(D) {
    signal input g[D];          // private: the data owner's gradient
    signal input owner;         // public
    signal input rho;           // public
    signal input mask;          // private
    signal output fp;           // public
    signal input ref[D];        // private: the reference entries
    signal input refHash;       // public: their commitment
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

    component c = Commit(D);
    for (var i = 0; i < D; i++) {
        c.v[i] <== ref[i];
    }
    refHash === c.out;

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
