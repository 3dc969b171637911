// AVX-512 kernels for DigitsCore's matrix multiply, compiled for AVX-512 function by function
// (a target attribute, not a flag on the whole file), so that the binary still runs on any
// x86-64-v3 machine: DigitsAVX512 calls them only when digits_avx512_available() says so.
#ifndef C_DIGITS_AVX512_H
#define C_DIGITS_AVX512_H

#include <stdint.h>

/// 1 when the processor has AVX-512F (and FMA) and the operating system saves the 512-bit
/// registers; 0 otherwise, and always 0 off x86-64.
int digits_avx512_available(void);

/// One row panel of A times `panels` (1 to 4) whole column panels of B: the sums of
/// SIMDGEMM's micro-kernel, in the same order, for a 6 × (16·panels) tile. Must only be called
/// when digits_avx512_available() is 1.
///
/// Step q reads A's six values at a + q·aStep + r·aRowStride and B's row at
/// b + (dense ? q : indices[q])·bStride, panel p of it at + p·bPanelStride.
///
/// With `c` null the sums go to `out` (row r at out + 64·r). Otherwise the first `rows` rows are
/// finished as the micro-kernel finishes them: C = alpha·sum (the product skipped when alpha is
/// 1), then + beta·C as one fused multiply-add when beta is not 0; row r at c + r·ldc.
void digits_avx512_tiles(long count, int dense,
                         const float *_Nonnull a, long aRowStride, long aStep,
                         const int32_t *_Nonnull indices,
                         const float *_Nonnull b, long bStride, long bPanelStride,
                         long panels, float *_Nonnull out,
                         float *_Nullable c, long ldc, long rows, float alpha, float beta);

/// `iterations` turns of 12 independent 16-lane fused multiply-adds (the FMA peak at the width
/// the AVX-512 kernel uses). Must only be called when digits_avx512_available() is 1.
float digits_avx512_fma_loop(long iterations);

#endif
