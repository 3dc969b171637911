// The C math functions the Swift code still calls in a module with no C library: `round` and
// `roundf` (Swift's `rounded()`, half away from zero; WebAssembly's `nearest` rounds half to
// even). DigitsCore computes exp, log and the rest itself where there is no C library
// (DigitsCore/Math/Elementary.swift).

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
