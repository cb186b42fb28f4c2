// LoRAKit's BLAS shim.
//
// On Linux, OpenBLAS is opened with dlopen on first use rather than linked. OpenBLAS picks its kernels
// when the library loads, from the CPU id or from OPENBLAS_CORETYPE; Debian's 0.3.21 does not know
// newer CPUs (AMD Zen 5) and falls back to AVX2 kernels. Opening it ourselves lets us set
// OPENBLAS_CORETYPE from the CPU features detected at run time *before* it loads, in every process
// (CLI, tests, library users), unless the user set the variable already. OpenBLAS is kept single-threaded:
// LoRAKit's own pool splits the products (Kernels.gemm).
// On macOS the same functions call Accelerate.
#ifndef LK_BLAS_H
#define LK_BLAS_H

#ifdef __cplusplus
extern "C" {
#endif

/// Row-major single-precision GEMM: C = alpha * op(A) * op(B) + beta * C.
/// transA/transB: 0 = no transpose, 1 = transpose.
void lk_sgemm(int transA, int transB, int m, int n, int k, float alpha,
              const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

/// Row-major single-precision GEMV: y = alpha * op(A) * x + beta * y, A is m x n.
void lk_sgemv(int transA, int m, int n, float alpha, const float *a, int lda,
              const float *x, int incx, float beta, float *y, int incy);

/// Double-precision LAPACK, column-major (Fortran) layout. Each returns LAPACK's `info` (0 = success,
/// > 0 = no convergence, < 0 = bad argument), or LK_LAPACK_MISSING when the library has no LAPACK.
/// Workspace is queried and allocated inside.
#define LK_LAPACK_MISSING (-1000)
/// Thin SVD (dgesdd, jobz = 'S'): A [m, n] = U [m, k] diag(s [k]) VT [k, n], k = min(m, n). `a` is destroyed.
int lk_dgesdd(int m, int n, double *a, int lda, double *s, double *u, int ldu, double *vt, int ldvt);
/// Householder QR (dgeqrf): R in the upper triangle of `a`, reflectors below it and in `tau [min(m, n)]`.
int lk_dgeqrf(int m, int n, double *a, int lda, double *tau);
/// Forms the first `n` columns of Q from dgeqrf's reflectors (dorgqr), `k` reflectors, m >= n >= k.
int lk_dorgqr(int m, int n, int k, double *a, int lda, const double *tau);

/// Loads the BLAS library if needed. Returns 0 on success, -1 with lk_blas_error() set otherwise.
int lk_blas_load(void);
/// Why loading failed, or NULL.
const char *lk_blas_error(void);
/// Path or name of the library in use (e.g. "libopenblas.so.0" or "Accelerate").
const char *lk_blas_library(void);
/// The kernel family OpenBLAS chose (e.g. "SkylakeX", "Haswell"), or "Accelerate".
const char *lk_blas_core_name(void);
/// OpenBLAS build configuration string, or "Accelerate".
const char *lk_blas_config(void);
/// The OPENBLAS_CORETYPE value LoRAKit set before loading, or NULL when it set none.
const char *lk_blas_coretype_set(void);
int lk_blas_get_threads(void);

/// CPU features detected at run time (CPU and OS support).
int lk_cpu_has_avx2(void);
int lk_cpu_has_fma(void);
int lk_cpu_has_avx512f(void);
int lk_cpu_has_avx512bw(void);
int lk_cpu_has_avx512vl(void);
int lk_cpu_has_avx512dq(void);
int lk_cpu_has_avx512bf16(void);
int lk_cpu_has_f16c(void);

#ifdef __cplusplus
}
#endif
#endif
