// LoRAKit's bf16-weight kernels: frozen weights stored as bfloat16 (the upper half of an fp32), activations and
// results in fp32.
//
// - Decode (1-8 rows): `lk_gemm_skinny_bf16` streams each weight row once for all rows of x, widening bf16 to fp32
//   by a 16-bit shift and accumulating with fp32 FMA (memory-bound: half the bytes of fp32 weights).
// - Prefill / training: a cache-blocked GEMM whose micro-kernel uses AVX512_BF16 `vdpbf16ps` (two bf16 products
//   per fp32 lane per instruction, fp32 accumulation). Activations are rounded to bf16 once per call
//   (`lk_f32_to_bf16_rows`, row-major with an even leading dimension); the weights are packed per call into
//   64-column panels of k-pairs. Both `x · Wᵀ` (forward) and `dY · W` (input gradient) run on it.
// On CPUs without AVX512_BF16 `lk_bf16_gemm_available()` is 0 and callers widen weights to fp32 and use sgemm.
#ifndef LK_BF16_H
#define LK_BF16_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

/// fp32 → bf16, round to nearest even; NaN stays NaN (quiet).
void lk_f32_to_bf16(const float *x, uint16_t *y, long n);
/// bf16 → fp32 (exact).
void lk_bf16_to_f32(const uint16_t *x, float *y, long n);
/// Rows [r0, r1) of x [rows, cols] (leading dimension ldx) to bf16 y (leading dimension ldy ≥ cols, even);
/// columns cols..<ldy of y are zeroed.
void lk_f32_to_bf16_rows(const float *x, long ldx, uint16_t *y, long ldy, long r0, long r1, long cols);

/// 1 when this CPU (and OS) runs the AVX512_BF16 GEMM kernels.
int lk_bf16_gemm_available(void);

/// y[m, rows] = alpha · x[m, k] · w[rows, k]ᵀ + beta · y; w bf16 row-major (ldw), x fp32 (ldx), y fp32 (ldy).
/// Each weight row is read once for all m ≤ 8 rows of x. y is not read when beta == 0. The caller splits `rows`.
void lk_gemm_skinny_bf16(const uint16_t *w, long ldw, const float *x, long ldx, float *y, long ldy, long m,
                         long rows, long k, float alpha, float beta);
/// The same on the portable path (any CPU; tests compare the two).
void lk_gemm_skinny_bf16_portable(const uint16_t *w, long ldw, const float *x, long ldx, float *y, long ldy, long m,
                                  long rows, long k, float alpha, float beta);
/// The same with x rounded to bf16 and `vdpbf16ps` products (AVX512_BF16 only; kept to measure against the above).
void lk_gemm_skinny_bf16_dot(const uint16_t *w, long ldw, const float *x, long ldx, float *y, long ldy, long m,
                             long rows, long k, float alpha, float beta);

/// Columns of one packed weight panel of the GEMM micro-kernel.
#define LK_BF16_NR 64
/// Rows of the GEMM micro-kernel.
#define LK_BF16_MR 6
/// Size in uint32 of the per-call weight-packing workspace `work` of `lk_bf16_gemm_block`.
long lk_bf16_gemm_workspace(long k);

/// One block of C[m, n] = alpha · A · op(B) + beta · C: rows [m0, m1) × columns [n0, n1) (AVX512_BF16 only).
/// - a: activations already in bf16, row-major [m, k] with an even leading dimension lda (rows 4-byte aligned).
/// - b: bf16 weights. transB = 1: B is [n, k] (ldb), the forward `x · Wᵀ`; transB = 0: B is [k, n] (ldb), the
///   input gradient `dY · W`.
/// - work: lk_bf16_gemm_workspace(k) uint32, 64-byte aligned, private to the caller's thread.
/// C is not read when beta == 0.
void lk_bf16_gemm_block(int transB, long m0, long m1, long n0, long n1, long k, float alpha, const uint16_t *a,
                        long lda, const uint16_t *b, long ldb, float beta, float *c, long ldc, uint32_t *work);

#ifdef __cplusplus
}
#endif
#endif
