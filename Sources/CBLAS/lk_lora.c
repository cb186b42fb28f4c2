// Segmented LoRA kernels (see include/lk_lora.h). The AVX-512 paths are compiled with per-function target attributes
// and chosen at run time (AVX-512 F/BW/VL), so the binary stays portable.
#include "lk_lora.h"
#include "lk_blas.h"
#include "lk_pool.h"
#include "lk_vmath.h"
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "lk_internal.h"

/// Rows of x (shrink) or y (expand) that share each load of a weight row.
#define LK_LORA_ROWS 4

// Walks units [u0, u1) segment by segment: calls body(segment, j0, j1) for the rows [j0, j1) of its A.
#define LK_FOR_UNITS(s, count, u0, u1, body)                                       \
    do {                                                                           \
        long first = 0;                                                            \
        for (long g = 0; g < (count) && first < (u1); first += (s)[g].rank, g++) { \
            long j0 = (u0) > first ? (u0) - first : 0;                             \
            long j1 = (u1) - first < (s)[g].rank ? (u1) - first : (s)[g].rank;     \
            if (j0 < j1) body(&(s)[g], j0, j1);                                    \
        }                                                                          \
    } while (0)

// MARK: portable

/// Row j of a factor with rows of n elements of type dtype.
static inline const void *factor_row(const void *w, long j, long n, int dtype) {
    return (const char *)w + j * n * lk_factor_size(dtype);
}

/// The factor on t[:, j]: the segment's scale, times the int8 scales of A's row j and B's column j.
static inline float rank_factor(const lk_lora_segment *g, long j) {
    return g->rank_scale ? g->scale * g->rank_scale[j] : g->scale;
}

LK_CLONES static void shrink_rows_portable(const lk_lora_segment *g, long j0, long j1, const float *restrict x,
                                           long in) {
    for (long j = j0; j < j1; j++) {
        for (long i = 0; i < g->rows; i++) {
            const float *restrict xi = x + (g->row0 + i) * in;
            float acc[16] = {0};
            long q = 0;
            for (; q + 16 <= in; q += 16)
                for (int v = 0; v < 16; v++) acc[v] += lk_factor_at(g->a, j * in + q + v, g->dtype) * xi[q + v];
            float sum = 0;
            for (; q < in; q++) sum += lk_factor_at(g->a, j * in + q, g->dtype) * xi[q];
            for (int v = 0; v < 16; v++) sum += acc[v];
            g->t[i * g->rank + j] = rank_factor(g, j) * sum;
        }
    }
}

LK_CLONES static void expand_segment_portable(const lk_lora_segment *g, float *restrict y, long out, long c0,
                                              long c1) {
    for (long i = 0; i < g->rows; i++) {
        float *restrict yi = y + (g->row0 + i) * out;
        const float *t = g->t + i * g->rank;
        for (long c = c0; c < c1; c += 16) {
            long width = c1 - c < 16 ? c1 - c : 16, panel = (c / 16) * g->rank * 16;
            float acc[16];
            for (long v = 0; v < width; v++) acc[v] = yi[c + v];
            for (long j = 0; j < g->rank; j++)
                for (long v = 0; v < width; v++) acc[v] += t[j] * lk_factor_at(g->bt, panel + j * 16 + v, g->dtype);
            for (long v = 0; v < width; v++) yi[c + v] = acc[v];
        }
    }
}

void lk_lora_shrink_portable(const lk_lora_segment *s, long count, const float *x, long in, long u0, long u1) {
#define LK_BODY(g, j0, j1) shrink_rows_portable(g, j0, j1, x, in)
    LK_FOR_UNITS(s, count, u0, u1, LK_BODY);
#undef LK_BODY
}

void lk_lora_expand_portable(const lk_lora_segment *s, long count, float *y, long out, long c0, long c1) {
    for (long g = 0; g < count; g++) expand_segment_portable(&s[g], y, out, c0, c1);
}

void lk_lora_segments_portable(const lk_lora_segment *s, long count, const float *x, long in, float *y, long out) {
    for (long g = 0; g < count; g++) {
        shrink_rows_portable(&s[g], 0, s[g].rank, x, in);
        expand_segment_portable(&s[g], y, out, 0, out);
    }
}

// MARK: AVX-512

#if defined(LK_X86)
#define LK_TARGET __attribute__((target("avx512f,avx512bw,avx512vl")))
#define LK_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl"), always_inline)) static inline

static inline __mmask16 tail_mask(long left) { return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1u); }

// 16 weights from element i of w of type DT (bf16 widened by a 16-bit shift, int8 converted); lanes outside mask m
// read 0.
LK_AVX512 __m512 load_weights(const void *w, long i, __mmask16 m, const int DT) {
    if (DT == LK_LORA_I8) return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, (const int8_t *)w + i)));
    if (DT == LK_LORA_F32) return _mm512_maskz_loadu_ps(m, (const float *)w + i);
    __m256i h = _mm256_maskz_loadu_epi16(m, (const uint16_t *)w + i);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// Adapters' weights are many short streams (a few KiB to a few hundred KiB per projection) that the hardware
// prefetcher barely ramps up on: prefetch this many elements ahead into L2 (prefetcht1), one cache line per 16 elements.
// Measured on the serving benchmark's layer shapes (8 adapters, 2 threads): 2048 elements into L2 cut the adapters'
// extra time per step by a quarter against 512 into L1, as for the skinny GEMM's weight stream.
#define LK_LORA_PREFETCH 2048
LK_AVX512 void prefetch_weights(const void *w, long i, const int DT) {
    if (DT == LK_LORA_I8) {
        if ((i & 63) == 0) __builtin_prefetch((const int8_t *)w + i + LK_LORA_PREFETCH, 0, 2);
    } else if (DT == LK_LORA_BF16) {
        if ((i & 31) == 0) __builtin_prefetch((const uint16_t *)w + i + LK_LORA_PREFETCH, 0, 2);
    } else {
        __builtin_prefetch((const float *)w + i + LK_LORA_PREFETCH, 0, 2);
    }
}

// t[i, j] = scale · A[j, :] · x[i, :] for M ≤ 4 rows; two FMA chains per row (32 floats per step), masked tail.
LK_AVX512 void shrink_block(const void *a, const float *x, long in, float *t, long ldt, float scale, const int M,
                            const int DT) {
    __m512 acc[LK_LORA_ROWS][2];
    for (int i = 0; i < M; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    long q = 0;
    for (; q + 32 <= in; q += 32) {
        prefetch_weights(a, q, DT);
        prefetch_weights(a, q + 16, DT);
        __m512 a0 = load_weights(a, q, 0xffff, DT), a1 = load_weights(a, q + 16, 0xffff, DT);
        for (int i = 0; i < M; i++) {
            acc[i][0] = _mm512_fmadd_ps(a0, _mm512_loadu_ps(x + i * in + q), acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(a1, _mm512_loadu_ps(x + i * in + q + 16), acc[i][1]);
        }
    }
    for (; q < in; q += 16) {
        __mmask16 m = tail_mask(in - q);
        __m512 a0 = load_weights(a, q, m, DT);
        for (int i = 0; i < M; i++)
            acc[i][0] = _mm512_fmadd_ps(a0, _mm512_maskz_loadu_ps(m, x + i * in + q), acc[i][0]);
    }
    for (int i = 0; i < M; i++) t[i * ldt] = scale * _mm512_reduce_add_ps(_mm512_add_ps(acc[i][0], acc[i][1]));
}

LK_AVX512 void shrink_rows(const lk_lora_segment *g, long j0, long j1, const float *x, long in, const int DT) {
    for (long j = j0; j < j1; j++) {
        const void *a = factor_row(g->a, j, in, DT);
        float scale = rank_factor(g, j);
        for (long i = 0; i < g->rows; i += LK_LORA_ROWS) {
            const float *xi = x + (g->row0 + i) * in;
            float *t = g->t + i * g->rank + j;
            switch (g->rows - i < LK_LORA_ROWS ? g->rows - i : LK_LORA_ROWS) {
            case 1: shrink_block(a, xi, in, t, g->rank, scale, 1, DT); break;
            case 2: shrink_block(a, xi, in, t, g->rank, scale, 2, DT); break;
            case 3: shrink_block(a, xi, in, t, g->rank, scale, 3, DT); break;
            default: shrink_block(a, xi, in, t, g->rank, scale, 4, DT); break;
            }
        }
    }
}

LK_TARGET static void shrink_rows_avx512(const lk_lora_segment *g, long j0, long j1, const float *x, long in) {
    switch (g->dtype) {
    case LK_LORA_BF16: shrink_rows(g, j0, j1, x, in, LK_LORA_BF16); break;
    case LK_LORA_I8: shrink_rows(g, j0, j1, x, in, LK_LORA_I8); break;
    default: shrink_rows(g, j0, j1, x, in, LK_LORA_F32); break;
    }
}

// y[i, c0..<c1] += Σ_j t[i, j] · Bᵀ[j, c0..<c1] for M ≤ 4 rows, 16 columns at a time: the columns' panel of Bᵀ
// ([rank][16], contiguous) streams once into M accumulators, and y is read and written once per 16 columns.
LK_AVX512 void expand_block(const void *bt, long rank, long out, const float *t, float *y, long c0, long c1,
                            const int M, const int DT) {
    for (long c = c0; c < c1; c += 16) {
        __mmask16 m = tail_mask(c1 - c);
        long panel = (c / 16) * rank * 16;
        __m512 acc[LK_LORA_ROWS];
        for (int i = 0; i < M; i++) acc[i] = _mm512_maskz_loadu_ps(m, y + i * out + c);
        for (long j = 0; j < rank; j++) {
            prefetch_weights(bt, panel + j * 16, DT);
            __m512 bv = load_weights(bt, panel + j * 16, 0xffff, DT);
            for (int i = 0; i < M; i++) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(t[i * rank + j]), bv, acc[i]);
        }
        for (int i = 0; i < M; i++) _mm512_mask_storeu_ps(y + i * out + c, m, acc[i]);
    }
}

LK_AVX512 void expand_segment(const lk_lora_segment *g, float *y, long out, long c0, long c1, const int DT) {
    for (long i = 0; i < g->rows; i += LK_LORA_ROWS) {
        float *yi = y + (g->row0 + i) * out;
        const float *t = g->t + i * g->rank;
        switch (g->rows - i < LK_LORA_ROWS ? g->rows - i : LK_LORA_ROWS) {
        case 1: expand_block(g->bt, g->rank, out, t, yi, c0, c1, 1, DT); break;
        case 2: expand_block(g->bt, g->rank, out, t, yi, c0, c1, 2, DT); break;
        case 3: expand_block(g->bt, g->rank, out, t, yi, c0, c1, 3, DT); break;
        default: expand_block(g->bt, g->rank, out, t, yi, c0, c1, 4, DT); break;
        }
    }
}

LK_TARGET static void expand_segment_avx512(const lk_lora_segment *g, float *y, long out, long c0, long c1) {
    switch (g->dtype) {
    case LK_LORA_BF16: expand_segment(g, y, out, c0, c1, LK_LORA_BF16); break;
    case LK_LORA_I8: expand_segment(g, y, out, c0, c1, LK_LORA_I8); break;
    default: expand_segment(g, y, out, c0, c1, LK_LORA_F32); break;
    }
}
#endif

// MARK: dispatch

static int has_avx512(void) {
#if defined(LK_X86)
    return lk_cpu_has_avx512f() && lk_cpu_has_avx512bw() && lk_cpu_has_avx512vl();
#else
    return 0;
#endif
}

void lk_lora_shrink(const lk_lora_segment *s, long count, const float *x, long in, long u0, long u1) {
#if defined(LK_X86)
    if (has_avx512()) {
#define LK_BODY(g, j0, j1) shrink_rows_avx512(g, j0, j1, x, in)
        LK_FOR_UNITS(s, count, u0, u1, LK_BODY);
#undef LK_BODY
        return;
    }
#endif
    lk_lora_shrink_portable(s, count, x, in, u0, u1);
}

void lk_lora_expand(const lk_lora_segment *s, long count, float *y, long out, long c0, long c1) {
#if defined(LK_X86)
    if (has_avx512()) {
        for (long g = 0; g < count; g++) expand_segment_avx512(&s[g], y, out, c0, c1);
        return;
    }
#endif
    lk_lora_expand_portable(s, count, y, out, c0, c1);
}

void lk_lora_segments(const lk_lora_segment *s, long count, const float *x, long in, float *y, long out) {
#if defined(LK_X86)
    if (has_avx512()) {
        for (long g = 0; g < count; g++) {
            shrink_rows_avx512(&s[g], 0, s[g].rank, x, in);
            expand_segment_avx512(&s[g], y, out, 0, out);
        }
        return;
    }
#endif
    lk_lora_segments_portable(s, count, x, in, y, out);
}

// MARK: fused decode projection

/// Weight elements (A's, times the rows that share them) per shrink chunk: small, so the base chunks that wait for
/// the last shrink chunk wait a few microseconds at most.
#define LK_FUSED_SHRINK_GRAIN 16384

struct fused_job {
    const float *w, *bias, *x;
    float *y;
    long m, in, out;
    const lk_lora_segment *s;
    long count, units, shrink_chunks, rows_per_chunk;
    lk_lora_row rows[LK_LORA_FUSED_ROWS];
    atomic_long shrunk;
};

static void fused_chunk(void *context, long c) {
    struct fused_job *f = context;
    if (c < f->shrink_chunks) {
        lk_lora_shrink(f->s, f->count, f->x, f->in, f->units * c / f->shrink_chunks,
                       f->units * (c + 1) / f->shrink_chunks);
        atomic_fetch_add_explicit(&f->shrunk, 1, memory_order_release);
        return;
    }
    while (atomic_load_explicit(&f->shrunk, memory_order_acquire) < f->shrink_chunks) {
#if defined(LK_X86)
        _mm_pause();
#endif
    }
    long n0 = (c - f->shrink_chunks) * f->rows_per_chunk;
    long n1 = n0 + f->rows_per_chunk < f->out ? n0 + f->rows_per_chunk : f->out;
    if (n0 >= n1) return;
    float beta = 0;
    if (f->bias) {
        for (long i = 0; i < f->m; i++) memcpy(f->y + i * f->out + n0, f->bias + n0, (size_t)(n1 - n0) * sizeof(float));
        beta = 1;
    }
    lk_gemm_skinny_lora(f->w, f->in, f->x, f->in, f->y, f->out, f->m, n0, n1 - n0, f->in, beta, f->rows);
}

void lk_lora_fused(const float *w, const float *bias, const float *x, long m, long in, float *y, long out,
                   const lk_lora_segment *s, long count) {
    struct fused_job f = {.w = w, .bias = bias, .x = x, .y = y, .m = m, .in = in, .out = out, .s = s, .count = count};
    memset(f.rows, 0, sizeof f.rows);
    long work = 0;
    for (long g = 0; g < count; g++) {
        f.units += s[g].rank;
        work += s[g].rank * in * s[g].rows;
        for (long i = s[g].row0; i < s[g].row0 + s[g].rows && i < LK_LORA_FUSED_ROWS; i++)
            f.rows[i] = (lk_lora_row){.b = s[g].b, .t = s[g].t + (i - s[g].row0) * s[g].rank, .rank = s[g].rank,
                                      .dtype = s[g].dtype};
    }
    long threads = lk_pool_threads();
    f.shrink_chunks = work / LK_FUSED_SHRINK_GRAIN;
    if (f.shrink_chunks > f.units) f.shrink_chunks = f.units;
    if (f.shrink_chunks < 1 && f.units > 0) f.shrink_chunks = 1;
    // The base rows: as Kernels.gemm's skinny split (4 chunks per thread), at least 16 rows each.
    long base_chunks = threads * 4;
    f.rows_per_chunk = (out + base_chunks - 1) / base_chunks;
    if (f.rows_per_chunk < 16) f.rows_per_chunk = 16;
    base_chunks = (out + f.rows_per_chunk - 1) / f.rows_per_chunk;
    atomic_init(&f.shrunk, 0);
    lk_pool_run(f.shrink_chunks + base_chunks, fused_chunk, &f);
}
