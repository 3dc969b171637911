// See include/CDigitsAVX512.h. Only the processor check is here: the kernels are Swift
// (Sources/DigitsAVX512Kernels).
#include "CDigitsAVX512.h"

#if defined(__x86_64__) && defined(__APPLE__)
#include <sys/sysctl.h>

static int digits_has(const char *name) {
    int value = 0;
    size_t size = sizeof value;
    return sysctlbyname(name, &value, &size, NULL, 0) == 0 && value != 0;
}

// macOS turns the 512-bit register state on only when a thread first uses it, so XGETBV says
// it is off: ask the kernel instead, for the same x86-64-v4 features as below.
int digits_avx512_available(void) {
    return digits_has("hw.optional.fma") && digits_has("hw.optional.avx512f") && digits_has("hw.optional.avx512dq")
        && digits_has("hw.optional.avx512cd") && digits_has("hw.optional.avx512bw") && digits_has("hw.optional.avx512vl");
}

#elif defined(__x86_64__)
#include <cpuid.h>

int digits_avx512_available(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & (1u << 27)) || !(c & (1u << 12))) return 0;   // OSXSAVE, FMA
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    if ((lo & 0xe6) != 0xe6) return 0;                      // SSE, AVX, opmask, ZMM state saved
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    // x86-64-v4, the level the kernels are compiled for: AVX512F, DQ, CD, BW and VL (and the
    // x86-64-v3 features below it, which the whole package already needs).
    const unsigned v4 = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31);
    return (b & v4) == v4;
}

#else

int digits_avx512_available(void) { return 0; }

#endif
