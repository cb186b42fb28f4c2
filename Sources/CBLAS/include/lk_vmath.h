// LoRAKit's exp-heavy elementwise kernels. Plain C loops that the compiler vectorises; on x86-64 Linux each is
// built for AVX-512, AVX2+FMA and the baseline and picked at load time by CPU (target_clones), so the binary
// stays portable while Swift's SIMD types (compiled for the x86-64 baseline) would run them 3-5x slower.
#ifndef LK_VMATH_H
#define LK_VMATH_H
#ifdef __cplusplus
extern "C" {
#endif

/// Outputs of the functions below must not overlap their inputs (aliasing defeats vectorisation).

/// y[i] = exp(x[i] - shift) * scale when y is not NULL; returns the sum of exp(x[i] - shift) (before scale).
float lk_exp_sum(const float *x, float *y, long n, float shift, float scale);
/// x[i] = exp(x[i] - shift) * scale in place; returns the sum of exp(x[i] - shift) (before scale).
float lk_exp_sum_inplace(float *x, long n, float shift, float scale);
/// y = x * sigmoid(x).
void lk_silu(const float *x, float *y, long n);
/// dx = g * d silu(x)/dx.
void lk_silu_backward(const float *x, const float *g, float *dx, long n);
/// y = silu(gate) * up.
void lk_swiglu(const float *gate, const float *up, float *y, long n);
/// dgate = g * up * silu'(gate), dup = g * silu(gate); either output may be NULL.
void lk_swiglu_backward(const float *gate, const float *up, const float *g, float *dgate, float *dup, long n);
/// GELU, tanh approximation, and its backward.
void lk_gelu_tanh(const float *x, float *y, long n);
void lk_gelu_tanh_backward(const float *x, const float *g, float *dx, long n);
/// GELU with erf, and its backward.
void lk_gelu_erf(const float *x, float *y, long n);
void lk_gelu_erf_backward(const float *x, const float *g, float *dx, long n);

/// Skinny GEMM y[m, rows] = alpha * x[m, k] · w[rows, k]ᵀ + beta * y (row-major, leading dimensions ldx, ldw,
/// ldy): each weight row is read once for up to 8 inputs, so a decode batch of m ≤ 8 rows streams the weights at
/// memory bandwidth. The caller splits `rows` across threads. y is not read when beta == 0.
void lk_gemm_skinny(const float *w, long ldw, const float *x, long ldx, float *y, long ldy, long m, long rows, long k,
                    float alpha, float beta);

/// Element types of LoRA factors (here and in lk_lora.h).
enum { LK_LORA_F32 = 0, LK_LORA_BF16 = 1, LK_LORA_I8 = 2 };

/// One x row's low-rank term in ``lk_gemm_skinny_lora``: t [rank] (already scaled) against B [out, rank] row-major,
/// of element type dtype (LK_LORA_F32 / _BF16 / _I8; int8's scales are already folded into t). b == NULL: the row
/// has no adapter.
typedef struct lk_lora_row {
    const void *b;
    const float *t;
    long rank;
    int dtype;
} lk_lora_row;

/// ``lk_gemm_skinny`` (alpha 1) for the output rows [n0, n0 + rows) of w and y, plus, for each x row j with an
/// adapter, lora[j].t · B_j[n, :] added to its output n before the sum is reduced (Punica's fused expand). `w` and `y`
/// point at row 0 / column 0; `lora` has m entries. A row without an adapter gets exactly lk_gemm_skinny's result.
void lk_gemm_skinny_lora(const float *w, long ldw, const float *x, long ldx, float *y, long ldy, long m, long n0,
                         long rows, long k, float beta, const lk_lora_row *lora);

#ifdef __cplusplus
}
#endif
#endif
