// pogo's bookkeeping kernels: the 4-bit codec and the exact update rules of docs/protocol.md, bit for bit
// the same as the CPU reference (pogo-primitives: quant.rs, update.rs).
//
// Exactness rules (checked on the PTX by pogo-cuda before a module is loaded):
//  * every f32 operation that rounds is an explicit IEEE round-to-nearest-even intrinsic
//    (__fadd_rn, __fsub_rn, __fmul_rn, __fdiv_rn, __fsqrt_rn): never contracted into an FMA, never
//    approximated, denormals kept (compiled with --fmad=false --ftz=false --prec-div=true --prec-sqrt=true);
//  * max, abs, comparisons and int <-> float conversions of small integers are exact, so their order and
//    grouping (warp reductions) cannot change a result.
//
// NVRTC compiles this file at run time: no headers, no toolkit at build time.

#define POGO_RNE_MAGIC 12582912.0f  /* 1.5 * 2^23: (v + M) - M rounds |v| < 2^22 to an integer, ties to even */

typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned char u8;

// code_of of quant.rs: clamp(rne(x / scale), -7, 7) under a non-zero scale.
__device__ __forceinline__ int pogo_code_of(float x, float scale) {
    float q = __fdiv_rn(x, scale);
    float r = __fsub_rn(__fadd_rn(q, POGO_RNE_MAGIC), POGO_RNE_MAGIC);
    if (r >= 7.0f) return 7;
    if (r <= -7.0f) return -7;
    return (int)r;
}

// Quantize + pack, one warp per codec block of `block` elements (the last block of `x` may be short).
// Output block b starts at b * (4 + block / 2 rounded up): the scale's little-endian bits, then the codes two
// per byte, the first of a pair in the low nibble. A NaN or infinity lowers *first_nonfinite to its index
// (the output is then meaningless and the host refuses it).
extern "C" __global__ void pogo_quantize(const float* __restrict__ x, u64 n, u32 block,
                                         u8* __restrict__ out, u64* __restrict__ first_nonfinite) {
    const u64 warp = ((u64)blockIdx.x * (u64)blockDim.x + (u64)threadIdx.x) >> 5;
    const u32 lane = threadIdx.x & 31u;
    const u64 nblocks = (n + (u64)block - 1ull) / (u64)block;
    if (warp >= nblocks) return;  // uniform across the warp: every lane has the same `warp`
    const u64 start = warp * (u64)block;
    const u64 left = n - start;
    const u32 len = left < (u64)block ? (u32)left : block;
    const u32 nbytes = (len + 1u) >> 1;

    float m = 0.0f;
    for (u32 j = lane; j < nbytes; j += 32u) {
        for (u32 e = 2u * j; e < 2u * j + 2u && e < len; ++e) {
            const float v = x[start + e];
            if (!isfinite(v)) {
                atomicMin(first_nonfinite, start + (u64)e);
            } else {
                m = fmaxf(m, fabsf(v));
            }
        }
    }
    for (int off = 16; off > 0; off >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, off));
    const float scale = __fdiv_rn(m, 7.0f);

    u8* o = out + warp * (4ull + (u64)((block + 1u) >> 1));
    if (lane == 0u) {
        const u32 bits = __float_as_uint(scale);
        o[0] = (u8)(bits & 0xffu);
        o[1] = (u8)((bits >> 8) & 0xffu);
        o[2] = (u8)((bits >> 16) & 0xffu);
        o[3] = (u8)(bits >> 24);
    }
    for (u32 j = lane; j < nbytes; j += 32u) {
        const u32 e = 2u * j;
        int lo = 0, hi = 0;
        if (scale > 0.0f) {
            lo = pogo_code_of(x[start + e], scale);
            if (e + 1u < len) hi = pogo_code_of(x[start + e + 1u], scale);
        }
        o[4u + j] = (u8)(((u32)lo & 0xfu) | (((u32)hi & 0xfu) << 4));
    }
}

// Dequantized value i of an encoding of n values in codec blocks of `block` (quant.rs::dequantize:
// code * scale rounded once to f32). *canonical is cleared when value i's block or nibble breaks one of
// quant.rs::decode's canonicity rules; `b` receives the block's index.
__device__ __forceinline__ float pogo_dequantized(const u8* __restrict__ codes, u64 n, u32 block, u64 i,
                                                  bool* canonical, u64* b_out) {
    const u64 b = i / (u64)block;
    const u32 k = (u32)(i - b * (u64)block);
    const u64 left = n - b * (u64)block;
    const u32 len = left < (u64)block ? (u32)left : block;
    const u8* base = codes + b * (4ull + (u64)((block + 1u) >> 1));
    const u32 bits = (u32)base[0] | ((u32)base[1] << 8) | ((u32)base[2] << 16) | ((u32)base[3] << 24);
    const float scale = __uint_as_float(bits);
    const u8 byte = base[4u + (k >> 1)];
    const int nib = (k & 1u) ? (int)(byte >> 4) : (int)(byte & 0xfu);
    const int code = nib >= 8 ? nib - 16 : nib;
    bool ok = isfinite(scale) && (bits >> 31) == 0u && code != -8 && !(scale == 0.0f && code != 0);
    if ((len & 1u) && k == len - 1u && (byte >> 4) != 0u) ok = false;  // the padding nibble
    *canonical = ok;
    *b_out = b;
    return __fmul_rn((float)code, scale);
}

// The clipping norm's square sums (update.rs::leaf_square_sum), one thread per gradient leaf of
// `leaf_size` values (the last may be shorter): each dequantized value widened to f64 and squared, the
// squares added in parameter order from 0.0, every operation rounded once (__dmul_rn, __dadd_rn). The host
// adds the leaves' sums in leaf order (update.rs::combine_leaf_sums). A non-canonical encoding lowers
// *first_noncanonical to its codec block.
extern "C" __global__ void pogo_square_sums(const u8* __restrict__ codes, u64 n, u32 block, u32 leaf_size,
                                            double* __restrict__ sums, u64* __restrict__ first_noncanonical) {
    const u64 leaf = (u64)blockIdx.x * (u64)blockDim.x + (u64)threadIdx.x;
    const u64 start = leaf * (u64)leaf_size;
    if (start >= n) return;
    const u64 end = n - start < (u64)leaf_size ? n : start + (u64)leaf_size;
    double acc = 0.0;
    for (u64 i = start; i < end; ++i) {
        bool canonical;
        u64 b;
        const double d = (double)pogo_dequantized(codes, n, block, i, &canonical, &b);
        if (!canonical) atomicMin(first_noncanonical, b);
        acc = __dadd_rn(acc, __dmul_rn(d, d));
    }
    sums[leaf] = acc;
}

// One optimizer step from a leaf's 4-bit gradient, one thread per parameter: decode (with every canonicity
// check of quant.rs::decode), dequantize (code * scale), scale by the step's gradient scale, apply the rule
// (update.rs, operation for operation). `values` holds n weights then the rule's slots (n each); the result
// goes to `next` (same layout), so a refused step leaves the leaf as it was. A non-canonical encoding lowers
// *first_noncanonical to its block; a non-finite result lowers *first_nonfinite to its parameter.
//
// rule: 0 = Sgd, 1 = Momentum, 2 = AdamW. Scalars derived once per step (1 - beta1, 1 - beta2,
// decay = 1 - lr * wd) are computed by the host in f32, as update.rs does.
extern "C" __global__ void pogo_update(u32 rule, const u8* __restrict__ codes, u64 n, u32 block,
                                       const float* __restrict__ values, float* __restrict__ next,
                                       float gs, float lr, float wd, float mu,
                                       float b1, float b2, float omb1, float omb2, float eps, float decay,
                                       float bc1, float bc2,
                                       u64* __restrict__ first_nonfinite, u64* __restrict__ first_noncanonical) {
    const u64 i = (u64)blockIdx.x * (u64)blockDim.x + (u64)threadIdx.x;
    if (i >= n) return;
    bool canonical;
    u64 b;
    const float d = pogo_dequantized(codes, n, block, i, &canonical, &b);
    if (!canonical) atomicMin(first_noncanonical, b);

    const float g = __fmul_rn(d, gs);
    const float w = values[i];
    bool finite = true;
    if (rule == 0u) {
        const float g2 = __fadd_rn(g, __fmul_rn(wd, w));
        const float w2 = __fsub_rn(w, __fmul_rn(lr, g2));
        finite = isfinite(w2);
        next[i] = w2;
    } else if (rule == 1u) {
        const float g2 = __fadd_rn(g, __fmul_rn(wd, w));
        const float bm = __fadd_rn(__fmul_rn(mu, values[n + i]), g2);
        const float w2 = __fsub_rn(w, __fmul_rn(lr, bm));
        finite = isfinite(bm) && isfinite(w2);
        next[n + i] = bm;
        next[i] = w2;
    } else {
        const float w1 = __fmul_rn(w, decay);
        const float m2 = __fadd_rn(__fmul_rn(b1, values[n + i]), __fmul_rn(omb1, g));
        const float v2 = __fadd_rn(__fmul_rn(b2, values[2ull * n + i]), __fmul_rn(omb2, __fmul_rn(g, g)));
        const float mhat = __fmul_rn(m2, bc1);
        const float vhat = __fmul_rn(v2, bc2);
        const float denom = __fadd_rn(__fsqrt_rn(vhat), eps);
        const float w2 = __fsub_rn(w1, __fdiv_rn(__fmul_rn(lr, mhat), denom));
        finite = isfinite(m2) && isfinite(v2) && isfinite(w2);
        next[n + i] = m2;
        next[2ull * n + i] = v2;
        next[i] = w2;
    }
    if (!finite) atomicMin(first_nonfinite, i);
}
