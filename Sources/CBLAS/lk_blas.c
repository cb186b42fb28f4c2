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
const char *lk_blas_error(void) { return NULL; }
const char *lk_blas_library(void) { return "Accelerate"; }
const char *lk_blas_core_name(void) { return "Accelerate"; }
const char *lk_blas_config(void) { return "Accelerate"; }
const char *lk_blas_coretype_set(void) { return NULL; }
void lk_blas_set_threads(int n) { (void)n; }
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

static void load_once(void) {
    choose_coretype();
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
    p_corename = (get_string_fn)dlsym(handle, "openblas_get_corename");
    p_config = (get_string_fn)dlsym(handle, "openblas_get_config");
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

const char *lk_blas_library(void) { lk_blas_load(); return library_name ? library_name : "none"; }
const char *lk_blas_core_name(void) { lk_blas_load(); return p_corename ? p_corename() : "unknown"; }
const char *lk_blas_config(void) { lk_blas_load(); return p_config ? p_config() : "unknown"; }
const char *lk_blas_coretype_set(void) { lk_blas_load(); return coretype_set; }
void lk_blas_set_threads(int n) { lk_blas_load(); if (p_set_threads) p_set_threads(n); }
int lk_blas_get_threads(void) { lk_blas_load(); return p_get_threads ? p_get_threads() : 1; }
#endif
