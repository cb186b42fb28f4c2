#include "lk_attention.h"
#include "lk_internal.h"

#include <math.h>
#include <stdlib.h>

#define KB 64  // keys per block

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
// scores into exp(score − new max) in place and rescales the row's accumulator. Branch-free loops over 16 lanes so
// they vectorise (no -ffast-math: the max and the sum keep 16 partial results).
static inline __attribute__((always_inline)) void softmax_update(float *s, long allowed, const float *mask, float *m,
                                                                 float *l, float *acc, long d) {
    float lane_max[16];
    for (int t = 0; t < 16; t++) lane_max[t] = -INFINITY;
    for (long j = 0; j < KB; j += 16)
        for (int t = 0; t < 16; t++) {
            int ok = j + t < allowed;
            float x = ok ? s[j + t] : -INFINITY;
            s[j + t] = x;
            lane_max[t] = x > lane_max[t] ? x : lane_max[t];
        }
    if (mask != NULL) {
        for (int t = 0; t < 16; t++) lane_max[t] = -INFINITY;
        for (long j = 0; j < allowed; j++) {
            if (mask[j] == 0) s[j] = -INFINITY;
            lane_max[j & 15] = s[j] > lane_max[j & 15] ? s[j] : lane_max[j & 15];
        }
    }
    float block_max = -INFINITY;
    for (int t = 0; t < 16; t++) block_max = lane_max[t] > block_max ? lane_max[t] : block_max;
    if (block_max == -INFINITY) {
        memset(s, 0, KB * sizeof(float));
        return;
    }
    float m_new = *m > block_max ? *m : block_max;
    float lane_sum[16] = {0};
    for (long j = 0; j < KB; j += 16)
        for (int t = 0; t < 16; t++) {
            float x = s[j + t];
            float e = lk_expf(x - m_new);
            e = x == -INFINITY ? 0.0f : e;  // lk_expf clamps its argument, so -inf is explicit
            s[j + t] = e;
            lane_sum[t] += e;
        }
    float sum = 0;
    for (int t = 0; t < 16; t++) sum += lane_sum[t];
    if (*m != -INFINITY && *m != m_new) {
        float alpha = lk_expf(*m - m_new);
        *l *= alpha;
        for (long c = 0; c < d; c++) acc[c] *= alpha;
    }
    *l += sum;
    *m = m_new;
}

// Key blocks outer, query rows inner: each 64-key block of K is transposed once for all the call's rows (scores
// broadcast a query element against 64 keys), and under a causal mask rows that cannot see a block skip it.
LK_CLONES void lk_attention_rows(const float *restrict q, long ldq, const float *restrict k, const float *restrict v,
                                 long ldkv, float *restrict o, long ldo, long rows, long d, long tk, long first_limit,
                                 int causal, const float *restrict mask, float scale, float *restrict row_max,
                                 float *restrict row_inv) {
    if (rows <= 0) return;
    long rows4 = (rows + 3) & ~3L;  // rows rows..<rows4 are zero padding, computed and dropped
    float *buffer = malloc(sizeof(float) * (size_t)(2 * rows4 * d + 2 * rows4 + d * KB));
    if (buffer == NULL) abort();
    float *qs = buffer, *acc = qs + rows4 * d, *m = acc + rows4 * d, *l = m + rows4, *kt = l + rows4;
    float s[4][KB] __attribute__((aligned(64)));
    for (long r = 0; r < rows4; r++) {
        m[r] = -INFINITY;
        l[r] = 0;
        for (long c = 0; c < d; c++) qs[r * d + c] = r < rows ? q[r * ldq + c] * scale : 0.0f;
    }
    memset(acc, 0, sizeof(float) * (size_t)(rows4 * d));
    long kend = row_limit(rows - 1, first_limit, causal, tk);  // the widest row
    for (long j0 = 0; j0 < kend; j0 += KB) {
        long jn = kend - j0 < KB ? kend - j0 : KB;
        for (long j = 0; j < jn; j++)
            for (long c = 0; c < d; c++) kt[c * KB + j] = k[(j0 + j) * ldkv + c];
        for (long c = 0; c < d && jn < KB; c++) memset(kt + c * KB + jn, 0, (size_t)(KB - jn) * sizeof(float));
        long first = causal ? j0 - first_limit + 1 : 0;  // rows before this one see no key of the block
        first = first < 0 ? 0 : first & ~3L;
        for (long r = first; r < rows4; r += 4) {
            scores4(qs + r * d, d, kt, s);
            for (long i = 0; i < 4; i++) {
                long allowed = r + i < rows ? row_limit(r + i, first_limit, causal, tk) - j0 : 0;
                if (allowed > jn) allowed = jn;
                softmax_update(s[i], allowed, mask ? mask + j0 : NULL, &m[r + i], &l[r + i], acc + (r + i) * d, d);
            }
            for (long c0 = 0; c0 < d; c0 += 64) values4(s, jn, v + j0 * ldkv, ldkv, acc + r * d, d, c0);
        }
    }
    for (long r = 0; r < rows; r++) {
        float inv = l[r] > 0 ? 1.0f / l[r] : 0.0f;
        for (long c = 0; c < d; c++) o[r * ldo + c] = acc[r * d + c] * inv;
        row_max[r] = l[r] > 0 ? m[r] : 0.0f;
        row_inv[r] = inv;
    }
    free(buffer);
}
