// Internal to the CBLAS target (not in include/): helpers shared by LoRAKit's C kernels.
#ifndef LK_INTERNAL_H
#define LK_INTERNAL_H
#include <stdint.h>
#include <string.h>

#include "lk_vmath.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define LK_X86 1
#endif
// Plain C loops built for AVX-512, AVX2+FMA and the baseline, picked at load time by CPU (x86-64 Linux).
#if defined(__x86_64__) && defined(__linux__)
#define LK_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LK_CLONES
#endif

// exp(x): Cephes polynomial, relative error ~2e-7 on [-87, 88]; same maths as Kernels.exp in Swift.
static inline __attribute__((always_inline)) float lk_expf(float x) {
    x = x < -87.3f ? -87.3f : (x > 88.7f ? 88.7f : x);
    const float magic = 12582912.0f;
    float kb = x * 1.44269504f + magic;
    float k = kb - magic;
    float r = x - k * 0.693359375f - k * -2.12194440e-4f;
    float y = 1.9875691500e-4f;
    y = y * r + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * r * r + r + 1.0f;
    int32_t bits;
    memcpy(&bits, &kb, 4);
    bits = (bits - 0x4B400000 + 127) << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    return y * scale;
}

/// bfloat16 → float, exactly: its bits are the float's upper half.
static inline float bf16_widen(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/// Bytes of one LoRA factor element of type dtype (LK_LORA_F32 / _BF16 / _I8).
static inline long lk_factor_size(int dtype) { return dtype == LK_LORA_F32 ? 4 : dtype == LK_LORA_BF16 ? 2 : 1; }

/// Element i of a LoRA factor of type dtype, as a float (bf16 and int8 widen exactly; int8's scales are applied
/// elsewhere).
static inline float lk_factor_at(const void *w, long i, int dtype) {
    switch (dtype) {
    case LK_LORA_BF16: return bf16_widen(((const uint16_t *)w)[i]);
    case LK_LORA_I8: return (float)((const int8_t *)w)[i];
    default: return ((const float *)w)[i];
    }
}

// 16 floats: one AVX-512 register in an avx512f clone, pairs or quads of narrower ones in the others. No v16 may
// cross a function boundary (the clones' ABIs differ): loads and stores are macros, helpers are always inlined.
// `v16u` is the unaligned view of memory.
typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));
#define load16(p) (*(const v16u *)(p))
#define store16(p, x) (*(v16u *)(p) = (x))

#endif
