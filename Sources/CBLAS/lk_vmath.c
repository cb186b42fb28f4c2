#include "lk_vmath.h"
#include "lk_internal.h"

static inline __attribute__((always_inline)) float lk_sigmoidf(float x) { return 1.0f / (1.0f + lk_expf(-x)); }
static inline __attribute__((always_inline)) float lk_tanhf(float x) { return 1.0f - 2.0f / (lk_expf(2.0f * x) + 1.0f); }

// erf(x), Abramowitz & Stegun 7.1.26 (absolute error 1.5e-7).
static inline __attribute__((always_inline)) float lk_erff(float x) {
    float a = x < 0 ? -x : x;
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float p = 1.061405429f;
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    float y = 1.0f - p * t * lk_expf(-a * a);
    return x < 0 ? -y : y;
}

#define GELU_C 0.7978845608f
#define GELU_K 0.044715f

LK_CLONES float lk_exp_sum(const float *restrict x, float *restrict y, long n, float shift, float scale) {
    // 16 partial sums so the loop vectorises without reassociation flags.
    float acc[16] = {0};
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int j = 0; j < 16; j++) {
            float e = lk_expf(x[i + j] - shift);
            acc[j] += e;
            if (y) y[i + j] = e * scale;
        }
    }
    float sum = 0;
    for (; i < n; i++) { float e = lk_expf(x[i] - shift); sum += e; if (y) y[i] = e * scale; }
    for (int j = 0; j < 16; j++) sum += acc[j];
    return sum;
}

LK_CLONES float lk_exp_sum_inplace(float *x, long n, float shift, float scale) {
    float acc[16] = {0};
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int j = 0; j < 16; j++) {
            float e = lk_expf(x[i + j] - shift);
            acc[j] += e;
            x[i + j] = e * scale;
        }
    }
    float sum = 0;
    for (; i < n; i++) { float e = lk_expf(x[i] - shift); sum += e; x[i] = e * scale; }
    for (int j = 0; j < 16; j++) sum += acc[j];
    return sum;
}

LK_CLONES void lk_silu(const float *restrict x, float *restrict y, long n) {
    for (long i = 0; i < n; i++) y[i] = x[i] * lk_sigmoidf(x[i]);
}

LK_CLONES void lk_silu_backward(const float *restrict x, const float *restrict g, float *restrict dx, long n) {
    for (long i = 0; i < n; i++) {
        float s = lk_sigmoidf(x[i]);
        dx[i] = g[i] * s * (1.0f + x[i] * (1.0f - s));
    }
}

LK_CLONES void lk_swiglu(const float *restrict gate, const float *restrict up, float *restrict y, long n) {
    for (long i = 0; i < n; i++) y[i] = gate[i] * lk_sigmoidf(gate[i]) * up[i];
}

LK_CLONES void lk_swiglu_backward(const float *restrict gate, const float *restrict up, const float *restrict g, float *restrict dgate, float *restrict dup,
                                  long n) {
    if (dgate && dup) {
        for (long i = 0; i < n; i++) {
            float a = gate[i], s = lk_sigmoidf(a);
            dgate[i] = g[i] * up[i] * s * (1.0f + a * (1.0f - s));
            dup[i] = g[i] * a * s;
        }
    } else if (dgate) {
        for (long i = 0; i < n; i++) {
            float a = gate[i], s = lk_sigmoidf(a);
            dgate[i] = g[i] * up[i] * s * (1.0f + a * (1.0f - s));
        }
    } else if (dup) {
        for (long i = 0; i < n; i++) dup[i] = g[i] * gate[i] * lk_sigmoidf(gate[i]);
    }
}

LK_CLONES void lk_gelu_tanh(const float *restrict x, float *restrict y, long n) {
    for (long i = 0; i < n; i++) {
        float v = x[i];
        y[i] = 0.5f * v * (1.0f + lk_tanhf(GELU_C * (v + GELU_K * v * v * v)));
    }
}

LK_CLONES void lk_gelu_tanh_backward(const float *restrict x, const float *restrict g, float *restrict dx, long n) {
    for (long i = 0; i < n; i++) {
        float v = x[i], v2 = v * v;
        float t = lk_tanhf(GELU_C * (v + GELU_K * v2 * v));
        dx[i] = g[i] * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * GELU_C * (1.0f + 3.0f * GELU_K * v2));
    }
}

LK_CLONES void lk_gelu_erf(const float *restrict x, float *restrict y, long n) {
    for (long i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + lk_erff(x[i] * 0.7071067812f));
}

LK_CLONES void lk_gelu_erf_backward(const float *restrict x, const float *restrict g, float *restrict dx, long n) {
    for (long i = 0; i < n; i++) {
        float v = x[i];
        float cdf = 0.5f * (1.0f + lk_erff(v * 0.7071067812f));
        dx[i] = g[i] * (cdf + v * lk_expf(-0.5f * v * v) * 0.3989422804f);
    }
}

typedef float v8 __attribute__((vector_size(32)));
typedef float v4 __attribute__((vector_size(16)));

// The sum of a v16's lanes as a tree (a statement expression, so no v16 is passed to a function).
#define hsum16(v)                                                                                               \
    ({                                                                                                          \
        v16 v_ = (v);                                                                                           \
        v8 a_ = __builtin_shufflevector(v_, v_, 0, 1, 2, 3, 4, 5, 6, 7) +                                        \
                __builtin_shufflevector(v_, v_, 8, 9, 10, 11, 12, 13, 14, 15);                                   \
        v4 b_ = __builtin_shufflevector(a_, a_, 0, 1, 2, 3) + __builtin_shufflevector(a_, a_, 4, 5, 6, 7);       \
        (b_[0] + b_[2]) + (b_[1] + b_[3]);                                                                      \
    })

// With several rows of x the loop spends ~13 cycles per 64 weight bytes on loads and FMAs, and the hardware
// prefetcher alone keeps too few misses in flight: time was compute + memory (9 GB/s per core at 8 rows, 18 GB/s from
// L2). Prefetching 8 KiB ahead into L2 (prefetcht1) overlaps the two: measured 15-16 GB/s per core and 25-28 GB/s on
// two (the memory bandwidth), against 9 and 12 with prefetcht0 at 2 KiB.
#ifndef LK_SKINNY_PREFETCH
#define LK_SKINNY_PREFETCH 2048
#endif
// Output rows ahead to prefetch (into L2) in each adapter's B: a few dozen bytes per output row, eight short streams
// beside the weight's, which the hardware prefetcher does not follow (32 measured better than 8).
#define LK_LORA_ROW_PREFETCH 32

// bfloat16 bits → 16 floats (exact: a bf16 is the upper half of its float).
typedef uint16_t u16x16u __attribute__((vector_size(32), aligned(2)));
typedef uint32_t u32x16 __attribute__((vector_size(64)));
#define widen16(p) ((v16)(__builtin_convertvector(*(const u16x16u *)(p), u32x16) << 16))
// 16 int8 → 16 floats (exact).
typedef int8_t i8x16u __attribute__((vector_size(16), aligned(1)));
#define widen_i8(p) (__builtin_convertvector(*(const i8x16u *)(p), v16))
// 16 LoRA factor values of type DT at p, as floats (a compile-time DT folds to one load).
#define load_factor16(p, DT) \
    ((DT) == LK_LORA_I8 ? widen_i8(p) : (DT) == LK_LORA_BF16 ? widen16(p) : (v16)load16((const float *)(p)))
// 8 values (rank 8, PEFT's default, or a rank's last 8) as the low half of 16 lanes, the high half zero: an FMA with
// it leaves lanes 8-15 of the accumulator exactly as they were.
typedef float v8u __attribute__((vector_size(32), aligned(4)));
typedef uint16_t u16x8u __attribute__((vector_size(16), aligned(2)));
typedef uint32_t u32x8 __attribute__((vector_size(32)));
typedef int8_t i8x8u __attribute__((vector_size(8), aligned(1)));
#define pad8(v) __builtin_shufflevector((v8)(v), (v8){0}, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
#define load_factor8(p, DT)                                                                                       \
    pad8((DT) == LK_LORA_I8     ? __builtin_convertvector(*(const i8x8u *)(p), v8)                              \
         : (DT) == LK_LORA_BF16 ? (v8)(__builtin_convertvector(*(const u16x8u *)(p), u32x8) << 16)              \
                                : (v8)(*(const v8u *)(p)))
// A fast-path row's RK (8 or 16) factor values, and its t, as 16 lanes.
#define load_factor_rank(p, DT, RK) ((RK) == 16 ? load_factor16(p, DT) : load_factor8(p, DT))
#define load_t_rank(t, RK) ((RK) == 16 ? load16(t) : pad8(*(const v8u *)(t)))

// acc[j] += row[q0..<q1] · x[j][q0..<q1] in 16-wide chunks, one FMA chain per x row (q1 - q0 a multiple of 16). With
// more than 2 rows the loop runs slower per weight byte than the hardware prefetcher alone keeps up with (see above).
static inline __attribute__((always_inline)) void accumulate(v16 *acc, const float *restrict row,
                                                             const float *restrict x, long ldx, long q0, long q1,
                                                             const int M) {
    for (long q = q0; q < q1; q += 16) {
        if (M > 2) __builtin_prefetch(row + q + LK_SKINNY_PREFETCH, 0, 2);
        v16 wv = load16(row + q);
        for (int j = 0; j < M; j++) acc[j] += wv * load16(x + j * ldx + q);
    }
}

// The decode step's common case — every x row has an adapter, all of one rank RK (16, or 8: PEFT's and `lorakit
// train`'s default) and one element type LD — takes a
// fast path: each row's t is one vector held across the output loop and its B row one load, so the low-rank term
// costs a load, a widening and an FMA per x row and output (the general path also re-reads the row's descriptor,
// branches on its type and loops over the rank). Measured against the general path in one process, alternating
// (best of 40 each, serving shapes, 8 adapters): 1-5% less time for the whole projections. Both paths take the same
// single FMA per output for rank 16 (rank 8: the same FMA on zero-padded halves), so a row's result does not depend on
// the path (batch invariance). Before rank 8 had a fast path its 8 products were summed one by one, and 8 streams of
// rank-8 adapters ran at 0.79x base-only against 0.89x for rank 16 with twice the bytes.
// LK_LORA_GENERAL: the general path (or none, without `lora`).
#define LK_LORA_GENERAL (-1)


// Output i's end: the low-rank term (fast: bp/tv; general: `lora`), the k tail, the reduction, alpha and beta.
static inline __attribute__((always_inline)) void finish_row(v16 *acc, const float *restrict row,
                                                             const float *restrict x, long ldx, float *restrict y,
                                                             long ldy, long i, long k, float alpha, float beta,
                                                             const int M, const lk_lora_row *lora, long n0,
                                                             const int LD, const int RK, const void *const *bp,
                                                             const v16 *tv) {
    long k16 = k & ~15L;
    float tail[8];
    for (int j = 0; j < M; j++) tail[j] = 0;
    if (LD != LK_LORA_GENERAL) {
        // B rows of RK values per 64-byte line (1 to 8): prefetch once per line.
        long size = lk_factor_size(LD), line = (i % (64 / (RK * size))) == 0;
        for (int j = 0; j < M; j++) {
            const char *b = (const char *)bp[j] + i * RK * size;
            if (line) __builtin_prefetch(b + LK_LORA_ROW_PREFETCH * RK * size, 0, 2);
            acc[j] += load_factor_rank(b, LD, RK) * tv[j];
        }
    } else if (lora) {
        for (int j = 0; j < M; j++) {
            const lk_lora_row *r = &lora[j];
            if (!r->b) continue;
            long rank = r->rank, size = lk_factor_size(r->dtype), c = 0;
            const char *b = (const char *)r->b + (n0 + i) * rank * size;
            __builtin_prefetch(b + LK_LORA_ROW_PREFETCH * rank * size, 0, 2);
            for (; c + 16 <= rank; c += 16) acc[j] += load_factor16(b + c * size, r->dtype) * load16(r->t + c);
            if (c + 8 <= rank) {
                acc[j] += load_factor8(b + c * size, r->dtype) * pad8(*(const v8u *)(r->t + c));
                c += 8;
            }
            for (; c < rank; c++) tail[j] += lk_factor_at(b, c, r->dtype) * r->t[c];
        }
    }
    for (int j = 0; j < M; j++) {
        float s = tail[j];
        for (long q = k16; q < k; q++) s += row[q] * x[j * ldx + q];
        s += hsum16(acc[j]);
        float *out = y + j * ldy + i;
        *out = alpha * s + (beta == 0 ? 0.0f : beta * *out);
    }
}

// x rows of more than this many floats in all overflow L1 (32 KiB a core here): 8 rows of the down projection's 1536
// ran at 7.5 GB/s from memory against 13.3 for 576 (52 against 80 GFLOP/s in cache). Those take the k-blocked loop.
#define LK_SKINNY_L1_FLOATS 6144
// Its blocks: weight rows in groups of 8, k in blocks of 256 floats (x's block: 8 KiB, reused by the group's rows).
#define LK_SKINNY_GROUP 8
#define LK_SKINNY_KBLOCK 256

// M (≤ 8, a constant after inlining) rows of x against each weight row: the weight row streams once, each 16-wide
// chunk of it feeds M independent FMA chains (one per x row, so an output's arithmetic does not depend on M).
// One weight row at a time: two interleaved row streams measured 1.3x slower on Zen 4 (the prefetcher follows one).
// When x is too big for L1, a group of weight rows walks k in blocks, each row's accumulators parked between blocks:
// every chain takes the same FMAs in the same order, so the result is bit for bit the plain loop's.
//
// With `lora` (output rows numbered from n0 in B), row j's chain also takes t_j · B_j[n, :] before it is reduced
// (Punica's fused expand): B's row for this output is rank contiguous values, one or two vectors, read beside the
// weight row. A row without an adapter (b == NULL) computes exactly what it would without `lora`.
static inline __attribute__((always_inline)) void skinny_rows(const float *restrict w, long ldw,
                                                              const float *restrict x, long ldx, float *restrict y,
                                                              long ldy, long rows, long k, float alpha, float beta,
                                                              const int M, const lk_lora_row *lora, long n0,
                                                              const int LD, const int RK, const void *const *bp,
                                                              const v16 *tv) {
    long k16 = k & ~15L;
    if (M > 4 && k16 * M > LK_SKINNY_L1_FLOATS) {
        for (long i0 = 0; i0 < rows; i0 += LK_SKINNY_GROUP) {
            long g = rows - i0 < LK_SKINNY_GROUP ? rows - i0 : LK_SKINNY_GROUP;
            v16 parked[LK_SKINNY_GROUP][8];
            for (long r = 0; r < g; r++)
                for (int j = 0; j < M; j++) parked[r][j] = (v16){0};
            for (long kb = 0; kb < k16; kb += LK_SKINNY_KBLOCK) {
                long ke = k16 - kb < LK_SKINNY_KBLOCK ? k16 : kb + LK_SKINNY_KBLOCK;
                for (long r = 0; r < g; r++) {
                    v16 acc[8];
                    for (int j = 0; j < M; j++) acc[j] = parked[r][j];
                    accumulate(acc, w + (i0 + r) * ldw, x, ldx, kb, ke, M);
                    for (int j = 0; j < M; j++) parked[r][j] = acc[j];
                }
            }
            for (long r = 0; r < g; r++)
                finish_row(parked[r], w + (i0 + r) * ldw, x, ldx, y, ldy, i0 + r, k, alpha, beta, M, lora, n0, LD, RK,
                           bp, tv);
        }
        return;
    }
    for (long i = 0; i < rows; i++) {
        const float *row = w + i * ldw;
        v16 acc[8];
        for (int j = 0; j < M; j++) acc[j] = (v16){0};
        accumulate(acc, row, x, ldx, 0, k16, M);
        finish_row(acc, row, x, ldx, y, ldy, i, k, alpha, beta, M, lora, n0, LD, RK, bp, tv);
    }
}

// skinny_rows with `lora`, on the fast path when its rows allow (see LK_LORA_GENERAL).
static inline __attribute__((always_inline)) void skinny_rows_lora(const float *restrict w, long ldw,
                                                                   const float *restrict x, long ldx,
                                                                   float *restrict y, long ldy, long rows, long k,
                                                                   float alpha, float beta, const int M,
                                                                   const lk_lora_row *lora, long n0) {
    int type = lora[0].dtype;
    long rank = lora[0].rank;
    if (rank != 16 && rank != 8) type = LK_LORA_GENERAL;
    for (int j = 0; j < M; j++)
        if (!lora[j].b || lora[j].rank != rank || lora[j].dtype != type) type = LK_LORA_GENERAL;
    const void *bp[8];
    v16 tv[8];
    for (int j = 0; j < M && type != LK_LORA_GENERAL; j++) {
        bp[j] = (const char *)lora[j].b + n0 * rank * lk_factor_size(type);
        tv[j] = rank == 16 ? load_t_rank(lora[j].t, 16) : load_t_rank(lora[j].t, 8);
    }
#define LK_FAST(LD, RK) skinny_rows(w, ldw, x, ldx, y, ldy, rows, k, alpha, beta, M, NULL, n0, LD, RK, bp, tv)
    switch (type == LK_LORA_GENERAL ? -1 : type * 2 + (rank == 16)) {
    case LK_LORA_I8 * 2 + 1: LK_FAST(LK_LORA_I8, 16); break;
    case LK_LORA_I8 * 2: LK_FAST(LK_LORA_I8, 8); break;
    case LK_LORA_BF16 * 2 + 1: LK_FAST(LK_LORA_BF16, 16); break;
    case LK_LORA_BF16 * 2: LK_FAST(LK_LORA_BF16, 8); break;
    case LK_LORA_F32 * 2 + 1: LK_FAST(LK_LORA_F32, 16); break;
    case LK_LORA_F32 * 2: LK_FAST(LK_LORA_F32, 8); break;
    default:
        skinny_rows(w, ldw, x, ldx, y, ldy, rows, k, alpha, beta, M, lora, n0, LK_LORA_GENERAL, 0, NULL, NULL);
        break;
    }
#undef LK_FAST
}

// Every row count 1...8 as its own inlined copy (M must be a constant for the accumulators to stay in registers).
// ROWS(M, lora rows) runs one block of M rows (M a constant in each case).
#define LK_SKINNY_BLOCKS(LORA, ROWS)                                                                              \
    for (long j0 = 0; j0 < m; j0 += 8, x += 8 * ldx, y += 8 * ldy) {                                              \
        const lk_lora_row *lr = (LORA) ? (LORA) + j0 : NULL;                                                      \
        switch (m - j0 < 8 ? m - j0 : 8) {                                                                        \
        case 1: ROWS(1, lr); break;                                                                               \
        case 2: ROWS(2, lr); break;                                                                               \
        case 3: ROWS(3, lr); break;                                                                               \
        case 4: ROWS(4, lr); break;                                                                               \
        case 5: ROWS(5, lr); break;                                                                               \
        case 6: ROWS(6, lr); break;                                                                               \
        case 7: ROWS(7, lr); break;                                                                               \
        default: ROWS(8, lr); break;                                                                              \
        }                                                                                                         \
    }

LK_CLONES void lk_gemm_skinny(const float *restrict w, long ldw, const float *restrict x, long ldx,
                              float *restrict y, long ldy, long m, long rows, long k, float alpha, float beta) {
#define LK_PLAIN_ROWS(M, LR) skinny_rows(w, ldw, x, ldx, y, ldy, rows, k, alpha, beta, M, NULL, 0, LK_LORA_GENERAL, 0, NULL, NULL)
    LK_SKINNY_BLOCKS((const lk_lora_row *)NULL, LK_PLAIN_ROWS)
#undef LK_PLAIN_ROWS
}

LK_CLONES void lk_gemm_skinny_lora(const float *restrict w, long ldw, const float *restrict x, long ldx,
                                   float *restrict y, long ldy, long m, long n0, long rows, long k, float beta,
                                   const lk_lora_row *lora) {
    const float alpha = 1;
    w += n0 * ldw;
    y += n0;
#define LK_ADAPTED_ROWS(M, LR) skinny_rows_lora(w, ldw, x, ldx, y, ldy, rows, k, alpha, beta, M, LR, n0)
    LK_SKINNY_BLOCKS(lora, LK_ADAPTED_ROWS)
#undef LK_ADAPTED_ROWS
}
