// bf16-weight kernels (see include/lk_bf16.h). The AVX-512 paths are compiled with per-function target
// attributes and chosen at run time (lk_bf16_gemm_available / __builtin_cpu_supports), so the binary stays portable.
#include "lk_bf16.h"
#include "lk_blas.h"
#include <stdlib.h>
#include <string.h>

#include "lk_internal.h"

int lk_bf16_gemm_available(void) {
#if defined(LK_X86)
    return lk_cpu_has_avx512bf16() && lk_cpu_has_avx512bw() && lk_cpu_has_avx512vl();
#else
    return 0;
#endif
}

static int has_avx512bw(void) {
#if defined(LK_X86)
    return lk_cpu_has_avx512f() && lk_cpu_has_avx512bw();
#else
    return 0;
#endif
}

// MARK: conversions

static inline uint16_t bf16_round(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);  // NaN: keep it a (quiet) NaN
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}


LK_CLONES void lk_f32_to_bf16(const float *restrict x, uint16_t *restrict y, long n) {
    for (long i = 0; i < n; i++) y[i] = bf16_round(x[i]);
}

LK_CLONES void lk_bf16_to_f32(const uint16_t *restrict x, float *restrict y, long n) {
    for (long i = 0; i < n; i++) y[i] = bf16_widen(x[i]);
}

#if defined(LK_X86)
// vcvtneps2bf16 rounds to nearest even (input denormals read as zero, which activations never miss).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
static void rows_to_bf16_avx512(const float *x, long ldx, uint16_t *y, long ldy, long r0, long r1, long cols) {
    for (long r = r0; r < r1; r++) {
        const float *src = x + r * ldx;
        uint16_t *dst = y + r * ldy;
        long c = 0;
        for (; c + 32 <= cols; c += 32) {
            __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + c + 16), _mm512_loadu_ps(src + c));
            _mm512_storeu_si512((void *)(dst + c), (__m512i)v);
        }
        for (; c < cols; c += 16) {
            long left = cols - c < 16 ? cols - c : 16;
            __mmask16 m = (__mmask16)((1u << left) - 1u);
            __m256bh v = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + c));
            _mm256_mask_storeu_epi16(dst + c, m, (__m256i)v);
        }
        for (c = cols; c < ldy; c++) dst[c] = 0;
    }
}
#endif

void lk_f32_to_bf16_rows(const float *x, long ldx, uint16_t *y, long ldy, long r0, long r1, long cols) {
#if defined(LK_X86)
    if (lk_bf16_gemm_available()) { rows_to_bf16_avx512(x, ldx, y, ldy, r0, r1, cols); return; }
#endif
    for (long r = r0; r < r1; r++) {
        lk_f32_to_bf16(x + r * ldx, y + r * ldy, cols);
        for (long c = cols; c < ldy; c++) y[r * ldy + c] = 0;
    }
}

// MARK: skinny (decode) kernels

static inline void store_out(float *out, float s, float alpha, float beta) {
    *out = alpha * s + (beta == 0 ? 0.0f : beta * *out);
}

LK_CLONES static void skinny_portable(const uint16_t *restrict w, long ldw, const float *restrict x, long ldx,
                                      float *restrict y, long ldy, long m, long rows, long k, float alpha, float beta) {
    for (long i = 0; i < rows; i++) {
        const uint16_t *row = w + i * ldw;
        for (long j = 0; j < m; j++) {
            const float *xv = x + j * ldx;
            float acc[16] = {0};
            long q = 0;
            for (; q + 16 <= k; q += 16)
                for (int t = 0; t < 16; t++) acc[t] += bf16_widen(row[q + t]) * xv[q + t];
            float s = 0;
            for (; q < k; q++) s += bf16_widen(row[q]) * xv[q];
            for (int t = 0; t < 16; t++) s += acc[t];
            store_out(y + j * ldy + i, s, alpha, beta);
        }
    }
}

#if defined(LK_X86)
#define LK_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl"), always_inline)) static inline
#define LK_AVX512_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16"), always_inline)) static inline

// R weight rows × M input rows; M and R are compile-time constants after inlining. 32 weights per step: one 512-bit
// load holds 16 pairs; the even elements widen by a 16-bit shift, the odd ones by masking the low half (no shuffles),
// and multiply x split the same way (xe: x[2i], xo: x[2i + 1], each ldxs floats per row, zero-padded).
LK_AVX512 void skinny_block(const uint16_t *w, long ldw, const float *xe, const float *xo, long ldxs, float *y,
                            long ldy, long k, float alpha, float beta, const int M, const int R) {
    __m512 acc[4][4], odd[4][4];  // even and odd products: two independent FMA chains per output
    for (int r = 0; r < R; r++)
        for (int j = 0; j < M; j++) acc[r][j] = odd[r][j] = _mm512_setzero_ps();
    const __m512i high = _mm512_set1_epi32((int)0xffff0000u);
    long q = 0;
    for (; q + 32 <= k; q += 32) {
        __m512 ev[4], od[4];
        for (int j = 0; j < M; j++) {
            ev[j] = _mm512_loadu_ps(xe + j * ldxs + q / 2);
            od[j] = _mm512_loadu_ps(xo + j * ldxs + q / 2);
        }
        for (int r = 0; r < R; r++) {
            __m512i v = _mm512_loadu_si512((const void *)(w + r * ldw + q));
            __m512 we = _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
            __m512 wo = _mm512_castsi512_ps(_mm512_and_si512(v, high));
            for (int j = 0; j < M; j++) {
                acc[r][j] = _mm512_fmadd_ps(we, ev[j], acc[r][j]);
                odd[r][j] = _mm512_fmadd_ps(wo, od[j], odd[r][j]);
            }
        }
    }
    if (q < k) {  // masked tail: missing weights read as zero, x is zero-padded
        __mmask32 mask = (__mmask32)((1ull << (k - q)) - 1ull);
        __m512 ev[4], od[4];
        for (int j = 0; j < M; j++) {
            ev[j] = _mm512_loadu_ps(xe + j * ldxs + q / 2);
            od[j] = _mm512_loadu_ps(xo + j * ldxs + q / 2);
        }
        for (int r = 0; r < R; r++) {
            __m512i v = _mm512_maskz_loadu_epi16(mask, w + r * ldw + q);
            __m512 we = _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
            __m512 wo = _mm512_castsi512_ps(_mm512_and_si512(v, high));
            for (int j = 0; j < M; j++) {
                acc[r][j] = _mm512_fmadd_ps(we, ev[j], acc[r][j]);
                odd[r][j] = _mm512_fmadd_ps(wo, od[j], odd[r][j]);
            }
        }
    }
    for (int r = 0; r < R; r++)
        for (int j = 0; j < M; j++)
            store_out(y + j * ldy + r, _mm512_reduce_add_ps(_mm512_add_ps(acc[r][j], odd[r][j])), alpha, beta);
}

// One weight row at a time: the weights stream strictly sequentially, which the hardware prefetcher follows (four
// interleaved row streams measured 2.5x slower on Zen 4).
#define LK_SKINNY_DISPATCH(fn, M)                                                                                \
    do {                                                                                                         \
        for (long i = 0; i < rows; i++) fn(w + i * ldw, ldw, xe, xo, ldxs, y + i, ldy, k, alpha, beta, M, 1);   \
    } while (0)

__attribute__((target("avx512f,avx512bw,avx512vl")))
static void skinny_avx512(const uint16_t *w, long ldw, const float *x, long ldx, float *y, long ldy, long m,
                          long rows, long k, float alpha, float beta) {
    long ldxs = (k + 31) / 32 * 16;  // floats per row of xe / xo, a multiple of 16
    float stack[2 * 4 * 1024];
    float *split = 2 * 4 * ldxs <= 2 * 4 * 1024 ? stack : malloc(sizeof(float) * 2 * 4 * ldxs);
    for (long j0 = 0; j0 < m; j0 += 4, x += 4 * ldx, y += 4 * ldy) {
        long mm = m - j0 < 4 ? m - j0 : 4;
        float *xe = split, *xo = split + 4 * ldxs;
        for (long j = 0; j < mm; j++) {
            for (long i = 0; i < ldxs; i++) {
                xe[j * ldxs + i] = 2 * i < k ? x[j * ldx + 2 * i] : 0;
                xo[j * ldxs + i] = 2 * i + 1 < k ? x[j * ldx + 2 * i + 1] : 0;
            }
        }
        switch (mm) {
        case 1: LK_SKINNY_DISPATCH(skinny_block, 1); break;
        case 2: LK_SKINNY_DISPATCH(skinny_block, 2); break;
        case 3: LK_SKINNY_DISPATCH(skinny_block, 3); break;
        default: LK_SKINNY_DISPATCH(skinny_block, 4); break;
        }
    }
    if (split != stack) free(split);
}

// The vdpbf16ps variant: x rows already in bf16 (xb, leading dimension ldxb, zero-padded to a multiple of 32).
LK_AVX512_BF16 void skinny_dot_block(const uint16_t *w, long ldw, const uint16_t *xb, long ldxb, float *y, long ldy,
                                     long k, float alpha, float beta, const int M, const int R) {
    __m512 acc[4][4];
    for (int r = 0; r < R; r++)
        for (int j = 0; j < M; j++) acc[r][j] = _mm512_setzero_ps();
    for (long q = 0; q < k; q += 32) {
        __mmask32 mask = k - q >= 32 ? 0xffffffffu : (__mmask32)((1u << (k - q)) - 1u);
        __m512bh xv[4];
        for (int j = 0; j < M; j++) xv[j] = (__m512bh)_mm512_loadu_si512((const void *)(xb + j * ldxb + q));
        for (int r = 0; r < R; r++) {
            __m512bh wv = (__m512bh)_mm512_maskz_loadu_epi16(mask, w + r * ldw + q);
            for (int j = 0; j < M; j++) acc[r][j] = _mm512_dpbf16_ps(acc[r][j], wv, xv[j]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int j = 0; j < M; j++) store_out(y + j * ldy + r, _mm512_reduce_add_ps(acc[r][j]), alpha, beta);
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
static void skinny_dot_avx512(const uint16_t *w, long ldw, const float *xf, long ldx, float *y, long ldy, long m,
                              long rows, long k, float alpha, float beta) {
    long ldxb = (k + 31) / 32 * 32;
    uint16_t stack[4 * 2048];
    uint16_t *buffer = 4 * ldxb <= 4 * 2048 ? stack : malloc(sizeof(uint16_t) * 4 * ldxb);
    for (long j0 = 0; j0 < m; j0 += 4, xf += 4 * ldx, y += 4 * ldy) {
        long mm = m - j0 < 4 ? m - j0 : 4;
        rows_to_bf16_avx512(xf, ldx, buffer, ldxb, 0, mm, k);
        const uint16_t *x = buffer;
        long ldx2 = ldxb;
#define LK_DOT(M)                                                                                          \
    do {                                                                                                   \
        long i = 0;                                                                                        \
        for (; i < rows; i++) skinny_dot_block(w + i * ldw, ldw, x, ldx2, y + i, ldy, k, alpha, beta, M, 1); \
    } while (0)
        switch (mm) {
        case 1: LK_DOT(1); break;
        case 2: LK_DOT(2); break;
        case 3: LK_DOT(3); break;
        default: LK_DOT(4); break;
        }
#undef LK_DOT
    }
    if (buffer != stack) free(buffer);
}
#endif

void lk_gemm_skinny_bf16(const uint16_t *w, long ldw, const float *x, long ldx, float *y, long ldy, long m,
                         long rows, long k, float alpha, float beta) {
#if defined(LK_X86)
    if (has_avx512bw()) { skinny_avx512(w, ldw, x, ldx, y, ldy, m, rows, k, alpha, beta); return; }
#endif
    skinny_portable(w, ldw, x, ldx, y, ldy, m, rows, k, alpha, beta);
}

void lk_gemm_skinny_bf16_portable(const uint16_t *w, long ldw, const float *x, long ldx, float *y, long ldy, long m,
                                  long rows, long k, float alpha, float beta) {
    skinny_portable(w, ldw, x, ldx, y, ldy, m, rows, k, alpha, beta);
}

void lk_gemm_skinny_bf16_dot(const uint16_t *w, long ldw, const float *x, long ldx, float *y, long ldy, long m,
                             long rows, long k, float alpha, float beta) {
#if defined(LK_X86)
    if (lk_bf16_gemm_available()) { skinny_dot_avx512(w, ldw, x, ldx, y, ldy, m, rows, k, alpha, beta); return; }
#endif
    lk_gemm_skinny_bf16(w, ldw, x, ldx, y, ldy, m, rows, k, alpha, beta);
}

// MARK: GEMM (prefill, training)

/// k-pairs per packed block (k = 512): a 64-column panel of it is 64 KiB, a row strip of A 6 KiB.
#define LK_BF16_KCP 256
/// Columns per packed block (4 panels, 256 KiB: stays in L2 while every row strip of A passes over it).
#define LK_BF16_NC 256

long lk_bf16_gemm_workspace(long k) {
    long kp = (k + 1) / 2;
    return (kp < LK_BF16_KCP ? kp : LK_BF16_KCP) * LK_BF16_NC;
}

#if defined(LK_X86)
// dst[p * NR + i] = pair p of row i (two adjacent bf16 as one uint32) for 16 rows i of `b` (leading dimension ldb in
// bf16) and pairs p < pairs (a multiple of 16): 16 × 16 transposes in registers (unpack 32/64-bit, then 128-bit
// lane shuffles) instead of one strided 4-byte store per element.
__attribute__((target("avx512f")))
static void pack_transposed16(const uint16_t *b, long ldb, long pairs, uint32_t *dst) {
    for (long p0 = 0; p0 < pairs; p0 += 16) {
        __m512i r[16], t[16], u[16];
        for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_si512((const void *)(b + i * ldb + 2 * p0));
        for (int i = 0; i < 16; i += 2) {
            t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
            t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
        }
        for (int i = 0; i < 16; i += 4) {  // u[i + c] lane L: rows i..i+3 of pair 4L + c
            u[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
            u[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
            u[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
            u[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
        }
        for (int c = 0; c < 4; c++) {  // a 4 × 4 transpose of 128-bit lanes across u[c], u[4 + c], u[8 + c], u[12 + c]
            __m512i v0 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x44), v1 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xEE);
            __m512i v2 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x44);
            __m512i v3 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xEE);
            uint32_t *out = dst + (p0 + c) * LK_BF16_NR;
            _mm512_storeu_si512((void *)out, _mm512_shuffle_i32x4(v0, v2, 0x88));
            _mm512_storeu_si512((void *)(out + 4 * LK_BF16_NR), _mm512_shuffle_i32x4(v0, v2, 0xDD));
            _mm512_storeu_si512((void *)(out + 8 * LK_BF16_NR), _mm512_shuffle_i32x4(v1, v3, 0x88));
            _mm512_storeu_si512((void *)(out + 12 * LK_BF16_NR), _mm512_shuffle_i32x4(v1, v3, 0xDD));
        }
    }
}

// One packed pair-row of a whole panel from two rows of B [k, n]: out[j] = r0[j] | r1[j] << 16 for j < 64, as four
// two-source word permutes. The rows of the next pairs are prefetched (they sit 2·ldb apart, a stride the hardware
// prefetcher follows poorly: the scalar loop spent most of its time waiting on these loads).
__attribute__((target("avx512f,avx512bw")))
static void pack_pair_row64(const uint16_t *r0, const uint16_t *r1, long ldb, uint32_t *out) {
    const __m512i lo = _mm512_set_epi16(47, 15, 46, 14, 45, 13, 44, 12, 43, 11, 42, 10, 41, 9, 40, 8,
                                        39, 7, 38, 6, 37, 5, 36, 4, 35, 3, 34, 2, 33, 1, 32, 0);
    const __m512i hi = _mm512_set_epi16(63, 31, 62, 30, 61, 29, 60, 28, 59, 27, 58, 26, 57, 25, 56, 24,
                                        55, 23, 54, 22, 53, 21, 52, 20, 51, 19, 50, 18, 49, 17, 48, 16);
    __builtin_prefetch(r0 + 8 * ldb);
    __builtin_prefetch(r1 + 8 * ldb);
    __builtin_prefetch(r0 + 8 * ldb + 32);
    __builtin_prefetch(r1 + 8 * ldb + 32);
    for (int h = 0; h < 2; h++) {
        __m512i a = _mm512_loadu_si512((const void *)(r0 + 32 * h)), b = _mm512_loadu_si512((const void *)(r1 + 32 * h));
        _mm512_storeu_si512((void *)(out + 32 * h), _mm512_permutex2var_epi16(a, lo, b));
        _mm512_storeu_si512((void *)(out + 32 * h + 16), _mm512_permutex2var_epi16(a, hi, b));
    }
}
#endif

// Packs columns [jc, jc + nc) and k-pairs [pc, pc + kcp) of B into panels [panel][pair][64] of
// (B[2p][col] | B[2p + 1][col] << 16); missing columns and the odd k's missing partner are zero.
static void pack_b(int transB, const uint16_t *b, long ldb, long jc, long nc, long pc, long kcp, long k,
                   uint32_t *dst) {
    long panels = (nc + LK_BF16_NR - 1) / LK_BF16_NR;
    for (long jr = 0; jr < panels; jr++) {
        uint32_t *panel = dst + jr * kcp * LK_BF16_NR;
        long cols = nc - jr * LK_BF16_NR < LK_BF16_NR ? nc - jr * LK_BF16_NR : LK_BF16_NR;
        if (transB) {  // B [n, k]: each packed pair is two adjacent elements of one row
            // Whole 16 × 16 blocks of (column, pair) as register transposes; the edges element by element.
            long cols16 = cols & ~15L, whole = 0;  // pairs of columns 0..<cols16 already packed
#if defined(LK_X86)
            if (lk_bf16_gemm_available()) {
                whole = (k / 2 - pc < kcp ? k / 2 - pc : kcp) & ~15L;
                for (long j0 = 0; j0 < cols16; j0 += 16)
                    pack_transposed16(b + (jc + jr * LK_BF16_NR + j0) * ldb + 2 * pc, ldb, whole, panel + j0);
            }
#endif
            for (long j = 0; j < LK_BF16_NR; j++) {
                if (j >= cols) {
                    for (long p = 0; p < kcp; p++) panel[p * LK_BF16_NR + j] = 0;
                    continue;
                }
                const uint16_t *row = b + (jc + jr * LK_BF16_NR + j) * ldb;
                for (long p = j < cols16 ? whole : 0; p < kcp; p++) {
                    long kk = 2 * (pc + p);
                    uint32_t lo = row[kk], hi = kk + 1 < k ? row[kk + 1] : 0;
                    panel[p * LK_BF16_NR + j] = lo | hi << 16;
                }
            }
        } else {  // B [k, n]: each packed pair interleaves two rows
            for (long p = 0; p < kcp; p++) {
                long kk = 2 * (pc + p);
                const uint16_t *r0 = b + kk * ldb + jc + jr * LK_BF16_NR;
                const uint16_t *r1 = kk + 1 < k ? r0 + ldb : NULL;
                uint32_t *out = panel + p * LK_BF16_NR;
                if (r1 && cols == LK_BF16_NR) {
#if defined(LK_X86)
                    if (lk_bf16_gemm_available()) {
                        pack_pair_row64(r0, r1, ldb, out);
                        continue;
                    }
#endif
                    for (long j = 0; j < LK_BF16_NR; j++) out[j] = (uint32_t)r0[j] | (uint32_t)r1[j] << 16;
                } else {
                    for (long j = 0; j < LK_BF16_NR; j++)
                        out[j] = j < cols ? ((uint32_t)r0[j] | (r1 ? (uint32_t)r1[j] << 16 : 0)) : 0;
                }
            }
        }
    }
}

#if defined(LK_X86)
// C[rows ≤ 6, cols ≤ 64] (+)= alpha · A[6 rows, 2·kcp] · panel; acc 6 × 4 zmm, one broadcast k-pair per row.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
static void kernel_6x64(long kcp, const uint16_t *a, long lda, long rows, const uint32_t *panel, float *c, long ldc,
                        long cols, float alpha, float beta) {
    const uint32_t *ap[LK_BF16_MR];
    for (int i = 0; i < LK_BF16_MR; i++) ap[i] = (const uint32_t *)(a + (i < rows ? i : rows - 1) * lda);
    __m512 acc[LK_BF16_MR][4];
#pragma clang loop unroll(full)
    for (int i = 0; i < LK_BF16_MR; i++)
#pragma clang loop unroll(full)
        for (int g = 0; g < 4; g++) acc[i][g] = _mm512_setzero_ps();
    for (long p = 0; p < kcp; p++) {
        const uint32_t *bp = panel + p * LK_BF16_NR;
        __m512bh b0 = (__m512bh)_mm512_load_si512((const void *)bp);
        __m512bh b1 = (__m512bh)_mm512_load_si512((const void *)(bp + 16));
        __m512bh b2 = (__m512bh)_mm512_load_si512((const void *)(bp + 32));
        __m512bh b3 = (__m512bh)_mm512_load_si512((const void *)(bp + 48));
#pragma clang loop unroll(full)
        for (int i = 0; i < LK_BF16_MR; i++) {
            __m512bh av = (__m512bh)_mm512_set1_epi32((int)ap[i][p]);
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], av, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], av, b1);
            acc[i][2] = _mm512_dpbf16_ps(acc[i][2], av, b2);
            acc[i][3] = _mm512_dpbf16_ps(acc[i][3], av, b3);
        }
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int i = 0; i < LK_BF16_MR; i++) {
        if (i >= rows) break;
        float *row = c + i * ldc;
        for (int g = 0; g < 4; g++) {
            long left = cols - 16 * g;
            if (left <= 0) break;
            __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1u);
            __m512 r = _mm512_mul_ps(va, acc[i][g]);
            if (beta != 0) r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, row + 16 * g), r);
            _mm512_mask_storeu_ps(row + 16 * g, m, r);
        }
    }
}
#endif

void lk_bf16_gemm_block(int transB, long m0, long m1, long n0, long n1, long k, float alpha, const uint16_t *a,
                        long lda, const uint16_t *b, long ldb, float beta, float *c, long ldc, uint32_t *work) {
#if defined(LK_X86)
    long kp = (k + 1) / 2;
    for (long jc = n0; jc < n1; jc += LK_BF16_NC) {
        long nc = n1 - jc < LK_BF16_NC ? n1 - jc : LK_BF16_NC;
        long panels = (nc + LK_BF16_NR - 1) / LK_BF16_NR;
        for (long pc = 0; pc < kp; pc += LK_BF16_KCP) {
            long kcp = kp - pc < LK_BF16_KCP ? kp - pc : LK_BF16_KCP;
            pack_b(transB, b, ldb, jc, nc, pc, kcp, k, work);
            float betaBlock = pc == 0 ? beta : 1.0f;
            for (long ir = m0; ir < m1; ir += LK_BF16_MR) {
                long rows = m1 - ir < LK_BF16_MR ? m1 - ir : LK_BF16_MR;
                for (long jr = 0; jr < panels; jr++) {
                    long cols = nc - jr * LK_BF16_NR < LK_BF16_NR ? nc - jr * LK_BF16_NR : LK_BF16_NR;
                    kernel_6x64(kcp, a + ir * lda + 2 * pc, lda, rows, work + jr * kcp * LK_BF16_NR,
                                c + ir * ldc + jc + jr * LK_BF16_NR, ldc, cols, alpha, betaBlock);
                }
            }
        }
    }
#else
    (void)transB; (void)m0; (void)m1; (void)n0; (void)n1; (void)k; (void)alpha; (void)a; (void)lda; (void)b;
    (void)ldb; (void)beta; (void)c; (void)ldc; (void)work;
#endif
}
