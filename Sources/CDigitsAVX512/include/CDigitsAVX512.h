// Whether the AVX-512 kernels (Sources/DigitsAVX512Kernels, Swift compiled for x86-64-v4) can
// run here: a cpuid check, which Swift cannot make itself.
#ifndef C_DIGITS_AVX512_H
#define C_DIGITS_AVX512_H

/// 1 when the processor has the x86-64-v4 level's AVX-512 (F, DQ, CD, BW, VL) and FMA, and the
/// operating system saves the 512-bit registers; 0 otherwise, and always 0 off x86-64.
int digits_avx512_available(void);

#endif
