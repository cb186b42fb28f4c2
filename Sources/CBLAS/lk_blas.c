#include "lk_blas.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__APPLE__)
#include <Accelerate/Accelerate.h>

void lk_sgemm(int transA, int transB, int m, int n, int k, float alpha,
              const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void lk_sgemv(int transA, int m, int n, float alpha, const float *a, int lda,
              const float *x, int incx, float beta, float *y, int incy) {
    cblas_sgemv(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, m, n, alpha, a, lda, x, incx, beta, y, incy);
}
int lk_blas_load(void) { return 0; }
// Accelerate's CLAPACK interface (__CLPK_integer is a 32-bit int).
int lk_dgesdd(int m, int n, double *a, int lda, double *s, double *u, int ldu, double *vt, int ldvt) {
    __CLPK_integer M = m, N = n, LDA = lda, LDU = ldu, LDVT = ldvt, info = 0, lwork = -1;
    int k = m < n ? m : n;
    __CLPK_integer *iwork = malloc(sizeof(__CLPK_integer) * 8 * (size_t)(k > 0 ? k : 1));
    char jobz = 'S';
    double query = 0;
    dgesdd_(&jobz, &M, &N, a, &LDA, s, u, &LDU, vt, &LDVT, &query, &lwork, iwork, &info);
    if (info == 0) {
        lwork = (__CLPK_integer)query;
        double *work = malloc(sizeof(double) * (size_t)(lwork > 1 ? lwork : 1));
        dgesdd_(&jobz, &M, &N, a, &LDA, s, u, &LDU, vt, &LDVT, work, &lwork, iwork, &info);
        free(work);
    }
    free(iwork);
    return (int)info;
}
int lk_dgeqrf(int m, int n, double *a, int lda, double *tau) {
    __CLPK_integer M = m, N = n, LDA = lda, info = 0, lwork = -1;
    double query = 0;
    dgeqrf_(&M, &N, a, &LDA, tau, &query, &lwork, &info);
    if (info != 0) return (int)info;
    lwork = (__CLPK_integer)query;
    double *work = malloc(sizeof(double) * (size_t)(lwork > 1 ? lwork : 1));
    dgeqrf_(&M, &N, a, &LDA, tau, work, &lwork, &info);
    free(work);
    return (int)info;
}
int lk_dorgqr(int m, int n, int k, double *a, int lda, const double *tau) {
    __CLPK_integer M = m, N = n, K = k, LDA = lda, info = 0, lwork = -1;
    double query = 0;
    dorgqr_(&M, &N, &K, a, &LDA, (double *)tau, &query, &lwork, &info);
    if (info != 0) return (int)info;
    lwork = (__CLPK_integer)query;
    double *work = malloc(sizeof(double) * (size_t)(lwork > 1 ? lwork : 1));
    dorgqr_(&M, &N, &K, a, &LDA, (double *)tau, work, &lwork, &info);
    free(work);
    return (int)info;
}
const char *lk_blas_error(void) { return NULL; }
const char *lk_blas_library(void) { return "Accelerate"; }
const char *lk_blas_core_name(void) { return "Accelerate"; }
const char *lk_blas_config(void) { return "Accelerate"; }
const char *lk_blas_coretype_set(void) { return NULL; }
int lk_blas_get_threads(void) { return 0; }
int lk_cpu_has_avx2(void) { return 0; }
int lk_cpu_has_fma(void) { return 0; }
int lk_cpu_has_avx512f(void) { return 0; }
int lk_cpu_has_avx512bw(void) { return 0; }
int lk_cpu_has_avx512vl(void) { return 0; }
int lk_cpu_has_avx512dq(void) { return 0; }
int lk_cpu_has_avx512bf16(void) { return 0; }
int lk_cpu_has_f16c(void) { return 0; }

#else
#include <dlfcn.h>
#include <pthread.h>

// CBLAS enum values (identical in every CBLAS).
enum { LK_ROW_MAJOR = 101, LK_NO_TRANS = 111, LK_TRANS = 112 };

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int,
                         float, float *, int);
typedef void (*sgemv_fn)(int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);
typedef char *(*get_string_fn)(void);

// Fortran LAPACK entry points (OpenBLAS exports them; 32-bit integers in Debian's build).
typedef void (*dgesdd_fn)(const char *, const int *, const int *, double *, const int *, double *, double *,
                          const int *, double *, const int *, double *, const int *, int *, int *, size_t);
typedef void (*dgeqrf_fn)(const int *, const int *, double *, const int *, double *, double *, const int *, int *);
typedef void (*dorgqr_fn)(const int *, const int *, const int *, double *, const int *, const double *, double *,
                          const int *, int *);
static dgesdd_fn p_dgesdd;
static dgeqrf_fn p_dgeqrf;
static dorgqr_fn p_dorgqr;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static sgemm_fn p_sgemm;
static sgemv_fn p_sgemv;
static set_threads_fn p_set_threads;
static get_threads_fn p_get_threads;
static get_string_fn p_corename;
static get_string_fn p_config;
static const char *library_name;
static char error_text[512];
static const char *coretype_set;

#if defined(__x86_64__) || defined(__i386__)
int lk_cpu_has_avx2(void) { return __builtin_cpu_supports("avx2"); }
int lk_cpu_has_fma(void) { return __builtin_cpu_supports("fma"); }
int lk_cpu_has_avx512f(void) { return __builtin_cpu_supports("avx512f"); }
int lk_cpu_has_avx512bw(void) { return __builtin_cpu_supports("avx512bw"); }
int lk_cpu_has_avx512vl(void) { return __builtin_cpu_supports("avx512vl"); }
int lk_cpu_has_avx512dq(void) { return __builtin_cpu_supports("avx512dq"); }
int lk_cpu_has_avx512bf16(void) { return __builtin_cpu_supports("avx512bf16"); }
int lk_cpu_has_f16c(void) { return __builtin_cpu_supports("f16c"); }
#else
int lk_cpu_has_avx2(void) { return 0; }
int lk_cpu_has_fma(void) { return 0; }
int lk_cpu_has_avx512f(void) { return 0; }
int lk_cpu_has_avx512bw(void) { return 0; }
int lk_cpu_has_avx512vl(void) { return 0; }
int lk_cpu_has_avx512dq(void) { return 0; }
int lk_cpu_has_avx512bf16(void) { return 0; }
int lk_cpu_has_f16c(void) { return 0; }
#endif

/// Chooses OPENBLAS_CORETYPE from the CPU's features when the user has not set it. OpenBLAS's
/// SkylakeX kernels need AVX-512 F/BW/VL/DQ; Cooperlake adds the BF16 instructions.
static void choose_coretype(void) {
    if (getenv("OPENBLAS_CORETYPE") != NULL) return;
    if (getenv("LORAKIT_BLAS_AUTOTUNE") != NULL && strcmp(getenv("LORAKIT_BLAS_AUTOTUNE"), "0") == 0) return;
    if (lk_cpu_has_avx512f() && lk_cpu_has_avx512bw() && lk_cpu_has_avx512vl() && lk_cpu_has_avx512dq()) {
        coretype_set = lk_cpu_has_avx512bf16() ? "Cooperlake" : "SkylakeX";
        setenv("OPENBLAS_CORETYPE", coretype_set, 0);
    }
}

/// LoRAKit runs BLAS on one thread per call and splits products across its own pool (Kernels.gemm), so OpenBLAS
/// need not start a thread pool of its own: two pools on the same cores spin against each other (measured on 2
/// cores: decode and training were 10-30% slower with OpenBLAS's workers alive).
static void choose_blas_threads(void) {
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
}

static void load_once(void) {
    choose_coretype();
    choose_blas_threads();
    const char *candidates[] = {getenv("LORAKIT_BLAS_LIBRARY"), "libopenblas.so.0", "libopenblas.so",
                                "libopenblasp.so.0", "libcblas.so.3", "libblas.so.3"};
    void *handle = NULL;
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        if (candidates[i] == NULL) continue;
        handle = dlopen(candidates[i], RTLD_NOW | RTLD_GLOBAL);
        if (handle != NULL) { library_name = candidates[i]; break; }
    }
    if (handle == NULL) {
        snprintf(error_text, sizeof(error_text),
                 "no BLAS library found (tried libopenblas.so.0, libblas.so.3); install it with "
                 "`apt-get install libopenblas-dev` or set LORAKIT_BLAS_LIBRARY");
        return;
    }
    p_sgemm = (sgemm_fn)dlsym(handle, "cblas_sgemm");
    p_sgemv = (sgemv_fn)dlsym(handle, "cblas_sgemv");
    p_set_threads = (set_threads_fn)dlsym(handle, "openblas_set_num_threads");
    p_get_threads = (get_threads_fn)dlsym(handle, "openblas_get_num_threads");
    if (p_set_threads) p_set_threads(1);  // also for a library that did not read OPENBLAS_NUM_THREADS
    p_corename = (get_string_fn)dlsym(handle, "openblas_get_corename");
    p_config = (get_string_fn)dlsym(handle, "openblas_get_config");
    p_dgesdd = (dgesdd_fn)dlsym(handle, "dgesdd_");
    p_dgeqrf = (dgeqrf_fn)dlsym(handle, "dgeqrf_");
    p_dorgqr = (dorgqr_fn)dlsym(handle, "dorgqr_");
    if (p_sgemm == NULL || p_sgemv == NULL) {
        snprintf(error_text, sizeof(error_text), "%s has no cblas_sgemm/cblas_sgemv; install libopenblas-dev",
                 library_name);
        p_sgemm = NULL;
        p_sgemv = NULL;
    }
}

int lk_blas_load(void) {
    pthread_once(&once, load_once);
    return p_sgemm != NULL ? 0 : -1;
}

const char *lk_blas_error(void) {
    lk_blas_load();
    return error_text[0] ? error_text : NULL;
}

static void require_blas(void) {
    if (lk_blas_load() != 0) {
        fprintf(stderr, "error: %s\n", error_text);
        exit(1);
    }
}

void lk_sgemm(int transA, int transB, int m, int n, int k, float alpha,
              const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    if (p_sgemm == NULL) require_blas();
    p_sgemm(LK_ROW_MAJOR, transA ? LK_TRANS : LK_NO_TRANS, transB ? LK_TRANS : LK_NO_TRANS, m, n, k, alpha, a,
            lda, b, ldb, beta, c, ldc);
}

void lk_sgemv(int transA, int m, int n, float alpha, const float *a, int lda,
              const float *x, int incx, float beta, float *y, int incy) {
    if (p_sgemv == NULL) require_blas();
    p_sgemv(LK_ROW_MAJOR, transA ? LK_TRANS : LK_NO_TRANS, m, n, alpha, a, lda, x, incx, beta, y, incy);
}

int lk_dgesdd(int m, int n, double *a, int lda, double *s, double *u, int ldu, double *vt, int ldvt) {
    lk_blas_load();
    if (p_dgesdd == NULL) return LK_LAPACK_MISSING;
    int k = m < n ? m : n, info = 0, lwork = -1;
    int *iwork = malloc(sizeof(int) * 8 * (size_t)(k > 0 ? k : 1));
    double query = 0;
    p_dgesdd("S", &m, &n, a, &lda, s, u, &ldu, vt, &ldvt, &query, &lwork, iwork, &info, 1);
    if (info == 0) {
        lwork = (int)query;
        double *work = malloc(sizeof(double) * (size_t)(lwork > 1 ? lwork : 1));
        p_dgesdd("S", &m, &n, a, &lda, s, u, &ldu, vt, &ldvt, work, &lwork, iwork, &info, 1);
        free(work);
    }
    free(iwork);
    return info;
}

int lk_dgeqrf(int m, int n, double *a, int lda, double *tau) {
    lk_blas_load();
    if (p_dgeqrf == NULL) return LK_LAPACK_MISSING;
    int info = 0, lwork = -1;
    double query = 0;
    p_dgeqrf(&m, &n, a, &lda, tau, &query, &lwork, &info);
    if (info != 0) return info;
    lwork = (int)query;
    double *work = malloc(sizeof(double) * (size_t)(lwork > 1 ? lwork : 1));
    p_dgeqrf(&m, &n, a, &lda, tau, work, &lwork, &info);
    free(work);
    return info;
}

int lk_dorgqr(int m, int n, int k, double *a, int lda, const double *tau) {
    lk_blas_load();
    if (p_dorgqr == NULL) return LK_LAPACK_MISSING;
    int info = 0, lwork = -1;
    double query = 0;
    p_dorgqr(&m, &n, &k, a, &lda, tau, &query, &lwork, &info);
    if (info != 0) return info;
    lwork = (int)query;
    double *work = malloc(sizeof(double) * (size_t)(lwork > 1 ? lwork : 1));
    p_dorgqr(&m, &n, &k, a, &lda, tau, work, &lwork, &info);
    free(work);
    return info;
}

const char *lk_blas_library(void) { lk_blas_load(); return library_name ? library_name : "none"; }
const char *lk_blas_core_name(void) { lk_blas_load(); return p_corename ? p_corename() : "unknown"; }
const char *lk_blas_config(void) { lk_blas_load(); return p_config ? p_config() : "unknown"; }
const char *lk_blas_coretype_set(void) { lk_blas_load(); return coretype_set; }
int lk_blas_get_threads(void) { lk_blas_load(); return p_get_threads ? p_get_threads() : 1; }
#endif
