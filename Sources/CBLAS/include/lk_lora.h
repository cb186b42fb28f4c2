// Segmented LoRA for serving many adapters in one batch (Punica's SGMV; BGMV when every segment is one row): for
// one projection and every segment — a contiguous range of rows with its own adapter —
//
//     y[rows] += scale · (x[rows] · Aᵀ) · Bᵀ      A [rank, in], B [out, rank]
//
// in two passes the caller splits across its threads:
// - shrink: t = scale · x · Aᵀ per segment, one unit of work = one row of one segment's A, read once for all the
//   segment's rows (units are numbered segment by segment: segment 0's rank rows first);
// - expand: y += t · Bᵀ over a range of output columns (starting at a multiple of 16) for all segments, 16 columns
//   at a time from Bᵀ packed in panels: panel p is Bᵀ[0..<rank][16p..<16p+16] (zero past `out`), contiguous, so each
//   16 columns of y are read and written once and nothing is reduced horizontally.
// Weights are fp32 or, opt-in, bfloat16 (widened exactly to fp32 as they load; half the bytes to stream) or int8
// (a quarter of the bytes: A's rows and B's columns each carry one scale, and since both scales sit on the rank index
// their product is folded into t, so the expand reads plain int8). Nothing is allocated. AVX-512 paths are chosen at
// run time; the portable paths run on any CPU.
#ifndef LK_LORA_H
#define LK_LORA_H
#ifdef __cplusplus
extern "C" {
#endif

/// One segment of rows [row0, row0 + rows) that one adapter owns.
typedef struct lk_lora_segment {
    long row0;
    long rows;
    long rank;
    /// A [rank, in], row-major, of element type `dtype`: float, uint16_t bfloat16 bits or int8_t.
    const void *a;
    /// Bᵀ in panels [ceil(out / 16)][rank][16] (B transposed and packed once, when the adapter is prepared), in A's
    /// type.
    const void *bt;
    /// B [out, rank] row-major, in A's type (the fused path reads B's row for each output).
    const void *b;
    /// LK_LORA_F32, LK_LORA_BF16 or LK_LORA_I8 (lk_vmath.h).
    int dtype;
    float scale;
    /// int8 only: [rank] factors (A's row scale times B's column scale) that t[:, j] is multiplied by; NULL otherwise.
    const float *rank_scale;
    /// Scratch t [rows, rank]: written by the shrink, read by the expand.
    float *t;
} lk_lora_segment;

/// Shrink units [u0, u1) (see above) of the segments `s[0..<count]`; x [rows, in] row-major.
void lk_lora_shrink(const lk_lora_segment *s, long count, const float *x, long in, long u0, long u1);
/// Expand output columns [c0, c1) of every segment into y [rows, out] row-major.
void lk_lora_expand(const lk_lora_segment *s, long count, float *y, long out, long c0, long c1);

/// Both passes for whole segments `s[0..<count]` (the caller gives each thread its own segments: each thread then
/// streams its adapters' A and Bᵀ front to back, with one hand-off per projection).
void lk_lora_segments(const lk_lora_segment *s, long count, const float *x, long in, float *y, long out);

/// Rows lk_lora_fused takes at most (the skinny kernel's row block).
#define LK_LORA_FUSED_ROWS 8

/// One projection of a decode step (m ≤ LK_LORA_FUSED_ROWS rows) with every segment's adapter, in one job on the compute pool
/// (Punica's fused path):
///
///     y = x · Wᵀ (+ bias);  y[rows] += scale · (x[rows] · Aᵀ) · Bᵀ per segment
///
/// The job's first chunks run the shrink (t, as lk_lora_shrink); the rest run lk_gemm_skinny_lora over ranges of W's
/// rows, adding each row's t · B[n, :] before its sum is reduced, and start once every shrink chunk is done (chunks
/// are claimed in order, so that wait is at most one shrink chunk). So the adapters' B streams beside W, and the
/// step pays one hand-off per projection instead of three. Rows outside every segment get lk_gemm_skinny's result.
/// w [out, in] row-major; bias [out] or NULL; x [m, in]; y [m, out] (written, not read); segments need `b` and `t`.
void lk_lora_fused(const float *w, const float *bias, const float *x, long m, long in, float *y, long out,
                   const lk_lora_segment *s, long count);

/// The same on the portable paths (any CPU; tests compare the two).
void lk_lora_shrink_portable(const lk_lora_segment *s, long count, const float *x, long in, long u0, long u1);
void lk_lora_expand_portable(const lk_lora_segment *s, long count, float *y, long out, long c0, long c1);
void lk_lora_segments_portable(const lk_lora_segment *s, long count, const float *x, long in, float *y, long out);

#ifdef __cplusplus
}
#endif
#endif
