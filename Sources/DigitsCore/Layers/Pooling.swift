/// Max pooling over NCHW batches: each output is the largest value of a `kernelSize`² window,
/// windows `stride` apart (no padding; a partial window at the edge is dropped, as PyTorch does).
///
/// Backward sends each output's gradient to where its maximum came from: the first value of the
/// window (in reading order) equal to it, found again from the input rather than remembered.
public final class MaxPool2D: Layer {
    public let kernelSize: Int
    public let stride: Int
    public var computesInputGradient = true

    private var x: Tensor?                      // the last input, (B, C, H, W)
    private let y = Tensor(shape: [0])          // (B, C, outH, outW)
    private let dx = Tensor(shape: [0])         // (B, C, H, W)

    /// Windows of `kernelSize`², `stride` apart (the kernel size unless told).
    public init(kernelSize: Int, stride: Int? = nil) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
    }

    public var summary: String {
        "MaxPool2D(\(kernelSize)×\(kernelSize)\(stride != kernelSize ? ", stride \(stride)" : ""))"
    }
    public var spec: LayerSpec { .maxPool2d(kernelSize: kernelSize, stride: stride) }

    public func outputShape(for input: [Int]) throws(ModelError) -> [Int] {
        guard input.count == 3, input[1] >= kernelSize, input[2] >= kernelSize else {
            throw .invalidArchitecture("\(summary) takes inputs of shape [C, H, W] at least \(kernelSize)×\(kernelSize), got \(input)")
        }
        return [input[0], (input[1] - kernelSize) / stride + 1, (input[2] - kernelSize) / stride + 1]
    }

    // MARK: - Forward and backward

    // x: (B, C, H, W) -> y: (B, C, outH, outW)
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        precondition(x.shape.count == 4, "\(summary) got input of shape \(x.shape)")
        self.x = x
        let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3], k = kernelSize, s = stride
        let oh = (h - k) / s + 1, ow = (w - k) / s + 1
        y.reshape(to: [x.shape[0], x.shape[1], oh, ow])
        let xData = x.data, yData = y.data
        // Planes are independent: slices of them run in parallel.
        Parallel.forEachSlice(planes, minimumSlice: MaxPool2D.planesPerSlice, maximumParts: 16) { slice in
            for p in slice {
                poolPlane(xData + p * h * w, h: h, w: w, into: yData + p * oh * ow)
            }
        }
        return y
    }

    // dy: (B, C, outH, outW) -> dx: (B, C, H, W), each gradient sent to its window's maximum
    public func backward(_ dy: Tensor) -> Tensor? {
        guard let x else { preconditionFailure("\(summary): backward before forward") }
        dx.reshape(to: x.shape)
        guard computesInputGradient else { return nil }
        let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3], oh = y.shape[2], ow = y.shape[3]
        let xData = x.data, yData = y.data, dxData = dx.data, dyData = dy.data
        let k = kernelSize, s = stride
        Parallel.forEachSlice(planes, minimumSlice: MaxPool2D.planesPerSlice, maximumParts: 16) { slice in
            for p in slice {
                let src = xData + p * h * w, d = dxData + p * h * w
                let top = yData + p * oh * ow, g = dyData + p * oh * ow
                if k == 2 && s == 2 {
                    unpool2x2(src, top: top, dy: g, h: h, w: w, into: d)
                    continue
                }
                d.update(repeating: 0, count: h * w)
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let m = top[oy * ow + ox]
                        var at = (oy * s) * w + ox * s
                        search: for ky in 0..<k {
                            let rowStart = (oy * s + ky) * w + ox * s
                            for kx in 0..<k where src[rowStart + kx] == m {
                                at = rowStart + kx
                                break search
                            }
                        }
                        d[at] += g[oy * ow + ox]
                    }
                }
            }
        }
        return dx
    }

    /// Backward of 2×2 windows, 2 apart: every input gets its window's gradient if it is the
    /// window's first maximum, else 0 (written with vector selects rather than branches, and
    /// without zeroing dx first).
    @inline(__always)
    private func unpool2x2(_ src: UnsafePointer<Float>, top: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                           h: Int, w: Int, into d: UnsafeMutablePointer<Float>) {
        let oh = h / 2, ow = w / 2
        for oy in 0..<oh {
            let r0 = src + 2 * oy * w, r1 = r0 + w, d0 = d + 2 * oy * w, d1 = d0 + w
            let m = top + oy * ow, g = dy + oy * ow
            var ox = 0
            // Eight windows at a time, then four, then one.
            while ox + 8 <= ow {
                let upper = SIMD16<Float>(lowHalf: load8(r0 + 2 * ox), highHalf: load8(r0 + 2 * ox + 8))
                let lower = SIMD16<Float>(lowHalf: load8(r1 + 2 * ox), highHalf: load8(r1 + 2 * ox + 8))
                let (a, b, c, e) = MaxPool2D.route(upper.evenHalf, upper.oddHalf, lower.evenHalf, lower.oddHalf,
                                                   max: load8(m + ox), dy: load8(g + ox))
                MaxPool2D.interleave(a, b, into: d0 + 2 * ox)
                MaxPool2D.interleave(c, e, into: d1 + 2 * ox)
                ox += 8
            }
            while ox + 4 <= ow {
                let upper = load8(r0 + 2 * ox), lower = load8(r1 + 2 * ox)
                let (a, b, c, e) = MaxPool2D.route(upper.evenHalf, upper.oddHalf, lower.evenHalf, lower.oddHalf,
                                                   max: SIMD4(m[ox], m[ox + 1], m[ox + 2], m[ox + 3]),
                                                   dy: SIMD4(g[ox], g[ox + 1], g[ox + 2], g[ox + 3]))
                MaxPool2D.interleave(a, b, into: d0 + 2 * ox)
                MaxPool2D.interleave(c, e, into: d1 + 2 * ox)
                ox += 4
            }
            while ox < ow {
                let (a, b, c, e) = MaxPool2D.route(SIMD4(repeating: r0[2 * ox]), SIMD4(repeating: r0[2 * ox + 1]),
                                                   SIMD4(repeating: r1[2 * ox]), SIMD4(repeating: r1[2 * ox + 1]),
                                                   max: SIMD4(repeating: m[ox]), dy: SIMD4(repeating: g[ox]))
                d0[2 * ox] = a[0]; d0[2 * ox + 1] = b[0]; d1[2 * ox] = c[0]; d1[2 * ox + 1] = e[0]
                ox += 1
            }
            // An odd last column is in no window.
            if w % 2 == 1 { d0[w - 1] = 0; d1[w - 1] = 0 }
        }
        // An odd last row is in no window.
        if h % 2 == 1 { (d + (h - 1) * w).update(repeating: 0, count: w) }
    }

    /// For windows whose four values (in reading order) are a, b, c, e and whose maximum is
    /// `max`: the gradient each value gets, dy for the first equal to the maximum, 0 for the rest.
    @inline(__always)
    static func route(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>, _ e: SIMD8<Float>,
                      max: SIMD8<Float>, dy: SIMD8<Float>) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        // As bit masks, so that every select is an `and` (no branches, no generic code).
        let isA = mask(a .== max), isB = mask(b .== max), isC = mask(c .== max)
        let g = unsafeBitCast(dy, to: SIMD8<UInt32>.self), afterA = g & ~isA, afterB = afterA & ~isB
        @inline(__always) func float(_ v: SIMD8<UInt32>) -> SIMD8<Float> { unsafeBitCast(v, to: SIMD8<Float>.self) }
        return (float(g & isA), float(afterA & isB), float(afterB & isC), float(afterB & ~isC))
    }

    /// The same for four windows.
    @inline(__always)
    static func route(_ a: SIMD4<Float>, _ b: SIMD4<Float>, _ c: SIMD4<Float>, _ e: SIMD4<Float>,
                      max: SIMD4<Float>, dy: SIMD4<Float>) -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
        let wide = route(SIMD8(lowHalf: a, highHalf: a), SIMD8(lowHalf: b, highHalf: b), SIMD8(lowHalf: c, highHalf: c),
                         SIMD8(lowHalf: e, highHalf: e), max: SIMD8(lowHalf: max, highHalf: max),
                         dy: SIMD8(lowHalf: dy, highHalf: dy))
        return (wide.0.lowHalf, wide.1.lowHalf, wide.2.lowHalf, wide.3.lowHalf)
    }

    /// All ones where the mask is true, zeros elsewhere (a mask's lanes are stored that way).
    @inline(__always)
    static func mask(_ m: SIMDMask<SIMD8<Int32>>) -> SIMD8<UInt32> {
        unsafeBitCast(m, to: SIMD8<UInt32>.self)
    }

    /// dst[2i] = even[i], dst[2i + 1] = odd[i].
    @inline(__always)
    static func interleave<V: SIMD>(_ even: V, _ odd: V, into dst: UnsafeMutablePointer<Float>) where V.Scalar == Float {
        for i in 0..<V.scalarCount { dst[2 * i] = even[i]; dst[2 * i + 1] = odd[i] }
    }

    /// Planes are run in parallel in slices of at least 64 (at most 16 slices).
    static let planesPerSlice = 64

    /// One plane (h, w) -> (oh, ow).
    @inline(__always)
    private func poolPlane(_ src: UnsafePointer<Float>, h: Int, w: Int, into dst: UnsafeMutablePointer<Float>) {
        let k = kernelSize, s = stride, oh = (h - k) / s + 1, ow = (w - k) / s + 1
        if k == 2 && s == 2 {
            // The common case: eight outputs at a time from two rows of sixteen inputs.
            for oy in 0..<oh {
                let r0 = src + 2 * oy * w, r1 = r0 + w, out = dst + oy * ow
                var ox = 0
                while ox + 8 <= ow {
                    let a = SIMD16<Float>(lowHalf: load8(r0 + 2 * ox), highHalf: load8(r0 + 2 * ox + 8))
                    let b = SIMD16<Float>(lowHalf: load8(r1 + 2 * ox), highHalf: load8(r1 + 2 * ox + 8))
                    let m = a.replacing(with: b, where: b .> a)
                    let even = m.evenHalf, odd = m.oddHalf
                    store8(even.replacing(with: odd, where: odd .> even), out + ox)
                    ox += 8
                }
                while ox < ow {
                    out[ox] = max(max(r0[2 * ox], r0[2 * ox + 1]), max(r1[2 * ox], r1[2 * ox + 1]))
                    ox += 1
                }
            }
            return
        }
        for oy in 0..<oh {
            for ox in 0..<ow {
                var best = src[(oy * s) * w + ox * s]
                for ky in 0..<k {
                    let rowStart = (oy * s + ky) * w + ox * s
                    for kx in 0..<k { best = max(best, src[rowStart + kx]) }
                }
                dst[oy * ow + ox] = best
            }
        }
    }
}

/// Global average pooling: the mean of each channel over its whole plane, (B, C, H, W) -> (B, C).
public final class GlobalAveragePool: Layer {
    public var computesInputGradient = true
    private var inShape: [Int] = []
    private let y = Tensor(shape: [0])   // (B, C)
    private let dx = Tensor(shape: [0])  // (B, C, H, W)

    public init() {}

    public var summary: String { "GlobalAveragePool" }
    public var spec: LayerSpec { .globalAveragePool }

    public func outputShape(for input: [Int]) throws(ModelError) -> [Int] {
        guard input.count == 3 else {
            throw .invalidArchitecture("\(summary) takes inputs of shape [C, H, W], got \(input)")
        }
        return [input[0]]
    }

    // MARK: - Forward and backward

    // x: (B, C, H, W) -> y: (B, C)
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        precondition(x.shape.count == 4, "\(summary) got input of shape \(x.shape)")
        inShape = x.shape
        let planes = x.shape[0] * x.shape[1], hw = x.shape[2] * x.shape[3]
        y.reshape(to: [x.shape[0], x.shape[1]])
        let scale = 1 / Float(hw)
        for p in 0..<planes {
            let src = x.data + p * hw
            var s: Float = 0
            for i in 0..<hw { s += src[i] }
            y.data[p] = s * scale
        }
        return y
    }

    // dy: (B, C) -> dx: (B, C, H, W) = dy / (H·W) everywhere in the plane
    public func backward(_ dy: Tensor) -> Tensor? {
        dx.reshape(to: inShape)
        guard computesInputGradient else { return nil }
        let planes = inShape[0] * inShape[1], hw = inShape[2] * inShape[3]
        let scale = 1 / Float(hw)
        for p in 0..<planes { (dx.data + p * hw).update(repeating: dy.data[p] * scale, count: hw) }
        return dx
    }
}
