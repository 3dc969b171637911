/// Small loops over contiguous floats, eight lanes at a time: the building blocks of the layers
/// that are not matrix multiplies (im2col, batch normalisation, pooling).
///
/// Sums use eight partial sums added in a fixed order, so a result depends only on the values,
/// never on the thread that computes it.
enum VectorOps {
    /// dst[0..<count] = src[0..<count]. For the short rows of an image (8 to 28 values), where a
    /// call to memcpy costs more than the copy.
    @inline(__always)
    static func copy(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        var i = 0
        while i &+ 8 <= count { store8(load8(src + i), dst + i); i &+= 8 }
        while i < count { dst[i] = src[i]; i &+= 1 }
    }

    /// dst[0..<count] += src[0..<count].
    @inline(__always)
    static func add(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, _ count: Int) {
        var i = 0
        while i &+ 8 <= count { store8(load8(dst + i) + load8(src + i), dst + i); i &+= 8 }
        while i < count { dst[i] += src[i]; i &+= 1 }
    }

    /// Σ p[0..<count].
    @inline(__always)
    static func sum(_ p: UnsafePointer<Float>, _ count: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i &+ 8 <= count { acc += load8(p + i); i &+= 8 }
        var s = acc.sum()
        while i < count { s += p[i]; i &+= 1 }
        return s
    }

    /// Σ (p[i] − mean)² over 0..<count.
    @inline(__always)
    static func sumOfSquaredDeviations(_ p: UnsafePointer<Float>, _ count: Int, mean: Float) -> Float {
        var acc = SIMD8<Float>()
        let m = SIMD8<Float>(repeating: mean)
        var i = 0
        while i &+ 8 <= count { let d = load8(p + i) - m; acc = madd(acc, d, d); i &+= 8 }
        var s = acc.sum()
        while i < count { let d = p[i] - mean; s += d * d; i &+= 1 }
        return s
    }

    /// (Σ a[i], Σ a[i]·b[i]) over 0..<count.
    @inline(__always)
    static func sumAndDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> (Float, Float) {
        var s8 = SIMD8<Float>(), d8 = SIMD8<Float>()
        var i = 0
        while i &+ 8 <= count {
            let x = load8(a + i)
            s8 += x; d8 = madd(d8, x, load8(b + i)); i &+= 8
        }
        var s = s8.sum(), d = d8.sum()
        while i < count { s += a[i]; d += a[i] * b[i]; i &+= 1 }
        return (s, d)
    }
}
