#include "lk_attention.h"
#include "lk_internal.h"

#include <math.h>

#define QB 32  // query rows per block (a multiple of 4)
#define KB 64  // keys per block

// 16 floats: AVX-512 registers in the avx512f clone, pairs or quads of narrower ones in the others. Loads and
// stores are macros (no v16 crosses a function boundary, whose ABI differs between the clones); `v16u` is the
// unaligned view of memory.
typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));
#define load16(p) (*(const v16u *)(p))
#define store16(p, x) (*(v16u *)(p) = (x))

static inline long row_limit(long r, long first_limit, int causal, long tk) {
    if (!causal) return tk;
    long l = first_limit + r;
    return l < 0 ? 0 : (l > tk ? tk : l);
}

// s[i][0..<64] = qs[i] · kt[:, 0..<64] for 4 rows i (qs rows already scaled); kt is [d][64].
static inline __attribute__((always_inline)) void scores4(const float *qs, long d, const float *kt, float (*s)[KB]) {
    v16 a[4][4] = {{0}};
    for (long c = 0; c < d; c++) {
        v16 k0 = load16(kt + c * KB), k1 = load16(kt + c * KB + 16), k2 = load16(kt + c * KB + 32),
            k3 = load16(kt + c * KB + 48);
        for (int i = 0; i < 4; i++) {
            v16 qb = (v16){0} + qs[i * d + c];
            a[i][0] += qb * k0;
            a[i][1] += qb * k1;
            a[i][2] += qb * k2;
            a[i][3] += qb * k3;
        }
    }
    for (int i = 0; i < 4; i++)
        for (int t = 0; t < 4; t++) store16(s[i] + 16 * t, a[i][t]);
}

// acc[i][c0..<c0+64] += Σ_j p[i][j] · v[j][c0..<c0+64] for 4 rows i and the block's jn keys.
static inline __attribute__((always_inline)) void values4(float (*p)[KB], long jn, const float *v, long ldkv,
                                                          float *acc, long d, long c0) {
    v16 a[4][4];
    for (int i = 0; i < 4; i++)
        for (int t = 0; t < 4; t++) a[i][t] = load16(acc + i * d + c0 + 16 * t);
    for (long j = 0; j < jn; j++) {
        const float *vr = v + j * ldkv + c0;
        v16 v0 = load16(vr), v1 = load16(vr + 16), v2 = load16(vr + 32), v3 = load16(vr + 48);
        for (int i = 0; i < 4; i++) {
            v16 pb = (v16){0} + p[i][j];
            a[i][0] += pb * v0;
            a[i][1] += pb * v1;
            a[i][2] += pb * v2;
            a[i][3] += pb * v3;
        }
    }
    for (int i = 0; i < 4; i++)
        for (int t = 0; t < 4; t++) store16(acc + i * d + c0 + 16 * t, a[i][t]);
}

// Online-softmax update of one row for one key block: masks keys at or past `allowed` (and masked ones), turns the
// scores into exp(score − new max) in place and rescales the row's accumulator. Returns 0 if no key was allowed.
static inline __attribute__((always_inline)) int softmax_update(float *s, long allowed, const float *mask,
                                                                float *m, float *l, float *acc, long d) {
    float block_max = -INFINITY;
    for (long j = 0; j < KB; j++) {
        int ok = j < allowed && (mask == NULL || mask[j] != 0);
        if (!ok) s[j] = -INFINITY;
        block_max = s[j] > block_max ? s[j] : block_max;
    }
    if (block_max == -INFINITY) {
        memset(s, 0, KB * sizeof(float));
        return 0;
    }
    float m_new = *m > block_max ? *m : block_max;
    float sum = 0;
    for (long j = 0; j < KB; j++) {
        float e = s[j] == -INFINITY ? 0.0f : lk_expf(s[j] - m_new);  // lk_expf clamps, so -inf is explicit
        s[j] = e;
        sum += e;
    }
    if (*m != -INFINITY && *m != m_new) {
        float alpha = lk_expf(*m - m_new);
        *l *= alpha;
        for (long c = 0; c < d; c++) acc[c] *= alpha;
    }
    *l += sum;
    *m = m_new;
    return 1;
}

LK_CLONES void lk_attention_rows(const float *restrict q, long ldq, const float *restrict k, const float *restrict v,
                                 long ldkv, float *restrict o, long ldo, long rows, long d, long tk, long first_limit,
                                 int causal, const float *restrict mask, float scale, float *restrict row_max,
                                 float *restrict row_inv) {
    float kt[LK_ATTENTION_MAX_D * KB] __attribute__((aligned(64)));
    float qs[QB * LK_ATTENTION_MAX_D] __attribute__((aligned(64)));
    float acc[QB * LK_ATTENTION_MAX_D] __attribute__((aligned(64)));
    float s[QB][KB] __attribute__((aligned(64)));
    float m[QB], l[QB];
    for (long r0 = 0; r0 < rows; r0 += QB) {
        long rn = rows - r0 < QB ? rows - r0 : QB;
        long rn4 = (rn + 3) & ~3L;  // rows rn..<rn4 are zero padding, computed and dropped
        long kend = row_limit(r0 + rn - 1, first_limit, causal, tk);  // the widest row of the block
        for (long r = 0; r < rn4; r++) {
            m[r] = -INFINITY;
            l[r] = 0;
            for (long c = 0; c < d; c++) qs[r * d + c] = r < rn ? q[(r0 + r) * ldq + c] * scale : 0.0f;
        }
        memset(acc, 0, (size_t)(rn4 * d) * sizeof(float));
        for (long j0 = 0; j0 < kend; j0 += KB) {
            long jn = kend - j0 < KB ? kend - j0 : KB;
            for (long j = 0; j < jn; j++)
                for (long c = 0; c < d; c++) kt[c * KB + j] = k[(j0 + j) * ldkv + c];
            for (long c = 0; c < d && jn < KB; c++) memset(kt + c * KB + jn, 0, (size_t)(KB - jn) * sizeof(float));
            for (long r = 0; r < rn4; r += 4) scores4(qs + r * d, d, kt, s + r);
            for (long r = 0; r < rn4; r++) {
                long allowed = r < rn ? row_limit(r0 + r, first_limit, causal, tk) - j0 : 0;
                if (allowed > jn) allowed = jn;
                softmax_update(s[r], allowed, mask ? mask + j0 : NULL, &m[r], &l[r], acc + r * d, d);
            }
            for (long r = 0; r < rn4; r += 4)
                for (long c0 = 0; c0 < d; c0 += 64) values4(s + r, jn, v + j0 * ldkv, ldkv, acc + r * d, d, c0);
        }
        for (long r = 0; r < rn; r++) {
            float inv = l[r] > 0 ? 1.0f / l[r] : 0.0f;
            for (long c = 0; c < d; c++) o[(r0 + r) * ldo + c] = acc[r * d + c] * inv;
            row_max[r0 + r] = l[r] > 0 ? m[r] : 0.0f;
            row_inv[r0 + r] = inv;
        }
    }
}
