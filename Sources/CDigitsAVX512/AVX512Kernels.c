// See include/CDigitsAVX512.h. Every function that uses 512-bit registers carries its own
// target attribute; the file is compiled for the package's baseline.
#include "CDigitsAVX512.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

#define DIGITS_AVX512 __attribute__((target("avx512f,fma")))

int digits_avx512_available(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & (1u << 27)) || !(c & (1u << 12))) return 0;   // OSXSAVE, FMA
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    if ((lo & 0xe6) != 0xe6) return 0;                      // SSE, AVX, opmask, ZMM state saved
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b >> 16) & 1;                                   // AVX512F
}

// The tile for a fixed number of panels P: 6·P accumulators. Each is the chain
// acc = fma(a[q, r], B[q, lanes], acc) over q in order, as in SIMDGEMM.microKernel, so every
// value is rounded exactly as there.
#define TILE_BODY(P)                                                                          \
    __m512 acc[6][P];                                                                         \
    for (int r = 0; r < 6; r++)                                                               \
        for (int p = 0; p < P; p++) acc[r][p] = _mm512_setzero_ps();                          \
    const float *ap = a;                                                                      \
    for (long q = 0; q < count; q++) {                                                        \
        const float *bp = b + (dense ? q : (long)indices[q]) * bStride;                        \
        __m512 bv[P];                                                                         \
        for (int p = 0; p < P; p++) bv[p] = _mm512_loadu_ps(bp + p * bPanelStride);           \
        for (int r = 0; r < 6; r++) {                                                         \
            __m512 x = _mm512_set1_ps(ap[r * aRowStride]);                                    \
            for (int p = 0; p < P; p++) acc[r][p] = _mm512_fmadd_ps(x, bv[p], acc[r][p]);     \
        }                                                                                     \
        ap += aStep;                                                                          \
    }                                                                                         \
    if (!c) {                                                                                 \
        for (int r = 0; r < 6; r++)                                                           \
            for (int p = 0; p < P; p++) _mm512_storeu_ps(out + 64 * r + 16 * p, acc[r][p]);   \
        return;                                                                               \
    }                                                                                         \
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);                       \
    for (int r = 0; r < 6; r++) {                                                             \
        if (r >= rows) break;                                                                 \
        float *row = c + r * ldc;                                                             \
        for (int p = 0; p < P; p++) {                                                         \
            __m512 x = acc[r][p];                                                             \
            if (alpha != 1) x = _mm512_mul_ps(x, va);                                         \
            if (beta != 0) x = _mm512_fmadd_ps(vb, _mm512_loadu_ps(row + 16 * p), x);         \
            _mm512_storeu_ps(row + 16 * p, x);                                                \
        }                                                                                     \
    }

#define TILE_FUNCTION(P)                                                                      \
    DIGITS_AVX512 static void tiles##P(long count, int dense, const float *a, long aRowStride, \
                                       long aStep, const int32_t *indices, const float *b,     \
                                       long bStride, long bPanelStride, float *out, float *c,  \
                                       long ldc, long rows, float alpha, float beta) {         \
        TILE_BODY(P)                                                                          \
    }

TILE_FUNCTION(1)
TILE_FUNCTION(2)
TILE_FUNCTION(3)
TILE_FUNCTION(4)

void digits_avx512_tiles(long count, int dense, const float *a, long aRowStride, long aStep,
                         const int32_t *indices, const float *b, long bStride, long bPanelStride,
                         long panels, float *out, float *c, long ldc, long rows, float alpha, float beta) {
    switch (panels) {
    case 1: tiles1(count, dense, a, aRowStride, aStep, indices, b, bStride, bPanelStride, out, c, ldc, rows, alpha, beta); break;
    case 2: tiles2(count, dense, a, aRowStride, aStep, indices, b, bStride, bPanelStride, out, c, ldc, rows, alpha, beta); break;
    case 3: tiles3(count, dense, a, aRowStride, aStep, indices, b, bStride, bPanelStride, out, c, ldc, rows, alpha, beta); break;
    default: tiles4(count, dense, a, aRowStride, aStep, indices, b, bStride, bPanelStride, out, c, ldc, rows, alpha, beta); break;
    }
}

DIGITS_AVX512 float digits_avx512_fma_loop(long iterations) {
    const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
    __m512 acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_ps(1);
    for (long n = 0; n < iterations; n++) {
        for (int i = 0; i < 12; i++) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
    }
    __m512 sum = acc[0];
    for (int i = 1; i < 12; i++) sum = _mm512_add_ps(sum, acc[i]);
    return _mm512_reduce_add_ps(sum);
}

#else

int digits_avx512_available(void) { return 0; }

void digits_avx512_tiles(long count, int dense, const float *a, long aRowStride, long aStep,
                         const int32_t *indices, const float *b, long bStride, long bPanelStride,
                         long panels, float *out, float *c, long ldc, long rows, float alpha, float beta) {
    (void)c; (void)ldc; (void)rows; (void)alpha; (void)beta;
    (void)count; (void)dense; (void)a; (void)aRowStride; (void)aStep; (void)indices;
    (void)b; (void)bStride; (void)bPanelStride; (void)panels; (void)out;
}

float digits_avx512_fma_loop(long iterations) { (void)iterations; return 0; }

#endif
