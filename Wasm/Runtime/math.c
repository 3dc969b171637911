// The C math functions the Swift code calls (through the standard library or `@_extern`), for
// a module with no C library. Double-precision functions are evaluated by argument reduction
// and a series to within about an ulp; the float ones are computed in double and rounded once,
// so they are correctly rounded in nearly every case, as glibc's are (the native build's), and
// readings agree far below the 1e-4 the tests ask for.

#include <stdint.h>

static inline double from_bits(uint64_t b) { double d; __builtin_memcpy(&d, &b, 8); return d; }
static inline uint64_t to_bits(double d) { uint64_t b; __builtin_memcpy(&b, &d, 8); return b; }

// y · 2^k for k in about -2100 ... 2100, in two steps so that neither factor leaves the normal range.
static double scale2(double y, int k) {
    int k1 = k / 2, k2 = k - k1;
    return y * from_bits((uint64_t)(k1 + 1023) << 52) * from_bits((uint64_t)(k2 + 1023) << 52);
}

// ln 2 split so that k · LN2_HI is exact for |k| < 2^11.
static const double LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10;
static const double INV_LN2 = 1.44269504088896338700e+00;

// MARK: - exp, log, pow

double exp(double x) {
    if (x != x) return x;
    if (x > 709.782712893384) return __builtin_inf();
    if (x < -745.1332191019412) return 0;
    double kd = __builtin_rint(x * INV_LN2);
    double r = (x - kd * LN2_HI) - kd * LN2_LO;  // |r| <= 0.35
    // e^r = 1 + r(1 + r/2(1 + r/3(... (1 + r/14)))): the last term is below 1e-18 of the result.
    double p = 1;
    for (int n = 14; n >= 1; n--) p = 1 + r / n * p;
    return scale2(p, (int)kd);
}

double log(double x) {
    if (x != x) return x;
    if (x < 0) return __builtin_nan("");
    if (x == 0) return -__builtin_inf();
    if (x == __builtin_inf()) return x;
    int k = 0;
    if (x < 2.2250738585072014e-308) { x *= 18014398509481984.0; k = -54; }  // subnormal: × 2^54
    uint64_t b = to_bits(x);
    k += (int)(b >> 52) - 1023;
    double m = from_bits((b & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);  // [1, 2)
    if (m > 1.4142135623730951) { m *= 0.5; k += 1; }                            // [0.707, 1.414]
    double f = m - 1, s = f / (2 + f), z = s * s;
    // log(1 + f) = 2 atanh(s) = f - s (f - R), R = 2z/3 + 2z²/5 + ... (z <= 0.0295).
    double R = 0;
    for (int n = 12; n >= 1; n--) R = z * (2.0 / (2 * n + 1) + R);
    return k * LN2_HI + (f - (s * (f - R) - k * LN2_LO));
}

double pow(double x, double y) {
    if (y == 0 || x == 1) return 1;
    if (x != x || y != y) return x + y;
    if (x < 0) {
        // Only integral exponents give a real result.
        if (__builtin_trunc(y) != y) return __builtin_nan("");
        double r = pow(-x, y);
        return __builtin_fmod(y, 2) != 0 ? -r : r;
    }
    if (x == 0) return y > 0 ? 0 : __builtin_inf();
    return exp(y * log(x));
}

// MARK: - sin, cos

// π/2 in three parts (fdlibm's split): n · PIO2_1 is exact for |n| < 2^20.
static const double PIO2_1 = 1.57079632673412561417e+00, PIO2_2 = 6.07710050630396597660e-11,
                    PIO2_3 = 2.02226624871116645580e-21, INV_PIO2 = 6.36619772367581382433e-01;

// sin and cos of |r| <= π/4 by their series (the last term below 1e-18).
static double sin_kernel(double r) {
    double z = r * r, p = 1;
    for (int n = 17; n >= 3; n -= 2) p = 1 - z / (n * (n - 1)) * p;
    return r * p;
}
static double cos_kernel(double r) {
    double z = r * r, p = 1;
    for (int n = 18; n >= 2; n -= 2) p = 1 - z / (n * (n - 1)) * p;
    return p;
}

// x = n·π/2 + r; returns n mod 4. Accurate for the arguments a network uses (|x| well below 2^20·π/2).
static int reduce(double x, double *r) {
    double n = __builtin_rint(x * INV_PIO2);
    *r = ((x - n * PIO2_1) - n * PIO2_2) - n * PIO2_3;
    return (int)((int64_t)n & 3);
}

double sin(double x) {
    if (x != x || x == __builtin_inf() || x == -__builtin_inf()) return __builtin_nan("");
    double r;
    switch (reduce(x, &r)) {
    case 0: return sin_kernel(r);
    case 1: return cos_kernel(r);
    case 2: return -sin_kernel(r);
    default: return -cos_kernel(r);
    }
}

double cos(double x) {
    if (x != x || x == __builtin_inf() || x == -__builtin_inf()) return __builtin_nan("");
    double r;
    switch (reduce(x, &r)) {
    case 0: return cos_kernel(r);
    case 1: return -sin_kernel(r);
    case 2: return -cos_kernel(r);
    default: return sin_kernel(r);
    }
}

double tanh(double x) {
    double a = __builtin_fabs(x);
    if (x != x) return x;
    if (a > 22) return x > 0 ? 1 : -1;
    if (a < 1e-5) return x * (1 - x * x / 3);
    double e = exp(2 * a);
    double t = (e - 1) / (e + 1);
    return x < 0 ? -t : t;
}

// MARK: - Rounding

double round(double x) {
    double t = __builtin_trunc(x);
    if (__builtin_fabs(x - t) >= 0.5) t += __builtin_copysign(1.0, x);  // x - t is exact
    return t;
}

float roundf(float x) {
    float t = __builtin_truncf(x);
    if (__builtin_fabsf(x - t) >= 0.5f) t += __builtin_copysignf(1.0f, x);
    return t;
}

// MARK: - Float versions, through double

float expf(float x) { return (float)exp(x); }
float logf(float x) { return (float)log(x); }
float powf(float x, float y) { return (float)pow(x, y); }
float sinf(float x) { return (float)sin(x); }
float cosf(float x) { return (float)cos(x); }
float tanhf(float x) { return (float)tanh(x); }
// The product of two floats is exact in double: one rounding to double, then to float (exact
// but in rare double-rounding cases).
float fmaf(float a, float b, float c) { return (float)((double)a * b + c); }
double fma(double a, double b, double c) { return a * b + c; }  // not fused: unused by the kernels
