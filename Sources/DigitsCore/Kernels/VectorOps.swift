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
        if i < count && count >= 8 {
            // The last (count mod 8) values as one vector that overlaps the previous: the
            // values it writes twice are the same.
            store8(load8(src + (count &- 8)), dst + (count &- 8))
            return
        }
        while i < count { dst[i] = src[i]; i &+= 1 }
    }

    /// `rows` rows of `width` values, `srcStride` apart, to rows `dstStride` apart: a plane into
    /// (or out of) a wider one, such as a plane inside its zero border.
    @inline(__always)
    static func copyRows(_ src: UnsafePointer<Float>, stride srcStride: Int, into dst: UnsafeMutablePointer<Float>,
                         stride dstStride: Int, rows: Int, width: Int) {
        for r in 0..<rows { copy(src + r * srcStride, dst + r * dstStride, width) }
    }

    /// dst[0..<count] += src[0..<count].
    @inline(__always)
    static func add(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, _ count: Int) {
        guard count >= 8 else {
            for i in 0..<count { dst[i] += src[i] }
            return
        }
        // The last eight sums, taken before anything is stored (a load that overlaps a store
        // just made waits for it): where they overlap the vectors before them they are the
        // same sums, stored twice.
        let at = count &- 8, last = load8(dst + at) + load8(src + at)
        var i = 0
        while i &+ 8 <= count { store8(load8(dst + i) + load8(src + i), dst + i); i &+= 8 }
        if i < count { store8(last, dst + at) }
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

    /// sums[r] += Σ row r of `rows` rows of `count` values, `stride` apart. Each row is summed from
    /// its first value to its last, as a plain loop would (so the result has the same bits), but
    /// eight rows at a time, so that their additions overlap instead of each waiting for the last.
    static func addRowSums(_ p: UnsafePointer<Float>, rows: Int, count: Int, stride: Int,
                           into sums: UnsafeMutablePointer<Float>) {
        var r = 0
        while r &+ 8 <= rows {
            let p0 = p + r * stride, p1 = p0 + stride, p2 = p1 + stride, p3 = p2 + stride
            let p4 = p3 + stride, p5 = p4 + stride, p6 = p5 + stride, p7 = p6 + stride
            var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
            var s4: Float = 0, s5: Float = 0, s6: Float = 0, s7: Float = 0
            for i in 0..<count {
                s0 += p0[i]; s1 += p1[i]; s2 += p2[i]; s3 += p3[i]
                s4 += p4[i]; s5 += p5[i]; s6 += p6[i]; s7 += p7[i]
            }
            sums[r] += s0; sums[r &+ 1] += s1; sums[r &+ 2] += s2; sums[r &+ 3] += s3
            sums[r &+ 4] += s4; sums[r &+ 5] += s5; sums[r &+ 6] += s6; sums[r &+ 7] += s7
            r &+= 8
        }
        while r < rows {
            let row = p + r * stride
            var s: Float = 0
            for i in 0..<count { s += row[i] }
            sums[r] += s
            r &+= 1
        }
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

    /// dst[i] = Float(src[i]) · scale + offset over 0..<count: bytes to the network's input,
    /// eight at a time (a multiply then an add, as `bytesToFloatsReference` does, so the same bits).
    @inline(__always)
    static func bytesToFloats(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<Float>, _ count: Int,
                              scale: Float, offset: Float) {
        var i = 0
        while i &+ 8 <= count {
            let bytes = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<UInt8>.self)
            store8(SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: bytes)) * scale + offset, dst + i)
            i &+= 8
        }
        while i < count { dst[i] = Float(src[i]) * scale + offset; i &+= 1 }
    }

    static func bytesToFloatsReference(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<Float>, _ count: Int,
                                       scale: Float, offset: Float) {
        for i in 0..<count { dst[i] = Float(src[i]) * scale + offset }
    }
}
