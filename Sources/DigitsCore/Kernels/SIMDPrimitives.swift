// The vector operations every kernel is written in: fused multiply-add, and 8-lane loads and
// stores at any address.

// MARK: - Multiply-add

// c + a·b, fused (one rounding) where the build targets FMA hardware: x86-64-v3 or arm64. A
// portable x86-64 build (`DIGITS_PORTABLE=1`, which defines DIGITS_NO_FMA) multiplies and adds
// separately instead, since without the instruction a fused multiply-add is a slow library call
// per lane.

@inline(__always)
func madd(_ c: SIMD8<Float>, _ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
    #if DIGITS_NO_FMA
    c + a * b
    #else
    c.addingProduct(a, b)
    #endif
}

@inline(__always)
func madd(_ c: SIMD8<Float>, _ a: Float, _ b: SIMD8<Float>) -> SIMD8<Float> {
    #if DIGITS_NO_FMA
    c + a * b
    #else
    c.addingProduct(a, b)
    #endif
}

@inline(__always)
func madd<V: SIMD>(_ c: V, _ a: Float, _ b: V) -> V where V.Scalar == Float {
    #if DIGITS_NO_FMA
    c + a * b
    #else
    c.addingProduct(a, b)
    #endif
}

@inline(__always)
func madd(_ c: Float, _ a: Float, _ b: Float) -> Float {
    #if DIGITS_NO_FMA
    c + a * b
    #else
    c.addingProduct(a, b)
    #endif
}

// MARK: - Square root

/// √x lane by lane, for x ≥ +0: the same bits as `x.squareRoot()`, in one vector instruction
/// (a NaN stays a NaN, with its sign bit cleared). `squareRoot()` of a value the compiler cannot
/// prove non-negative becomes, on Linux, a scalar square root per lane with a library call
/// beside it (for errno, should the value be negative); the square root of an absolute value
/// cannot fail, and is vectorised.
@inline(__always)
func squareRootOfNonNegative(_ x: SIMD8<Float>) -> SIMD8<Float> {
    var r = SIMD8<Float>()
    for i in 0..<8 { r[i] = abs(x[i]).squareRoot() }
    return r
}

// MARK: - Vector loads and stores

@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func load8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

@inline(__always)
func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always)
func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// (e0, o0, e1, o1, …, e7, o7): three rounds of splitting into even and odd lanes (each
/// rotates the 4 bits of a lane's index right by one; three rotate it left by one).
@inline(__always)
func interleave(_ even: SIMD8<Float>, _ odd: SIMD8<Float>) -> SIMD16<Float> {
    var v = SIMD16<Float>(lowHalf: even, highHalf: odd)
    for _ in 0..<3 { v = SIMD16(lowHalf: v.evenHalf, highHalf: v.oddHalf) }
    return v
}

/// (e0, o0, e1, o1, e2, o2, e3, o3), likewise in two rounds.
@inline(__always)
func interleave(_ even: SIMD4<Float>, _ odd: SIMD4<Float>) -> SIMD8<Float> {
    var v = SIMD8<Float>(lowHalf: even, highHalf: odd)
    for _ in 0..<2 { v = SIMD8(lowHalf: v.evenHalf, highHalf: v.oddHalf) }
    return v
}

// MARK: - What the build computes with

extension SIMDGEMM {
    /// Whether this build's multiply-adds are fused (one rounding), as a wide-tile kernel's
    /// must be to give the same bits: false in a portable x86-64 build (`DIGITS_NO_FMA`).
    public static var fusesMultiplyAdd: Bool {
        #if DIGITS_NO_FMA
        false
        #else
        true
        #endif
    }
}
