// Fused attention forward (flash-attention style) for prefill and training: one head's query rows against its keys
// in blocks of 64, with an online softmax, so the [queries, keys] score matrix is never stored and, under a causal
// mask, key blocks past the diagonal are never computed (half the work of two full GEMMs).
#ifndef LK_ATTENTION_H
#define LK_ATTENTION_H
#ifdef __cplusplus
extern "C" {
#endif

/// Largest head dimension `lk_attention_rows` takes; it also needs `d % 64 == 0`.
#define LK_ATTENTION_MAX_D 256

/// For query rows r in `0..<rows` of one head:
///   o[r] = softmax_j(scale · q[r]·k[j]) · V over the keys j < limit(r) with `mask[j] != 0` (mask may be NULL),
///   limit(r) = causal ? clamp(first_limit + r, 0, tk) : tk.
/// Row r of q/o starts at `q + r * ldq` / `o + r * ldo`; key/value j at `k + j * ldkv` / `v + j * ldkv`.
/// Also writes row_max[r] (the largest allowed scaled score) and row_inv[r] = 1 / Σ_j exp(score_j − row_max[r]),
/// the statistics backward uses to rebuild the probabilities; a row with no key gets zeros and (0, 0).
/// Requires d % 64 == 0 and d <= LK_ATTENTION_MAX_D.
void lk_attention_rows(const float *q, long ldq, const float *k, const float *v, long ldkv, float *o, long ldo,
                       long rows, long d, long tk, long first_limit, int causal, const float *mask, float scale,
                       float *row_max, float *row_inv);

#ifdef __cplusplus
}
#endif
#endif
