/// Max pooling over NCHW batches: each output is the largest value of a `kernelSize`² window,
/// windows `stride` apart (no padding; a partial window at the edge is dropped, as PyTorch does).
///
/// Backward sends each output's gradient to where its maximum came from: the first value of the
/// window (in reading order) equal to it. For 2×2 windows 2 apart, forward notes which of the four
/// that is (so backward need not read the input again); otherwise backward finds it again from
/// the input.
public final class MaxPool2D: Layer {
    public let kernelSize: Int
    public let stride: Int
    public var computesInputGradient = true

    private var x: Tensor?                      // the last input, (B, C, H, W)
    private let y = Tensor(shape: [0])          // (B, C, outH, outW)
    private let dx = Tensor(shape: [0])         // (B, C, H, W)
    /// For 2×2 windows 2 apart: which value of each window (0-3, in reading order) gets its
    /// gradient, (B, C, outH, outW).
    private let which = Tensor(shape: [0])

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
        y.reshape(batch: x.shape[0], channels: x.shape[1], height: oh, width: ow)
        if k == 2 && s == 2 { which.reshape(to: y.shape) }
        let xData = x.data, yData = y.data, whichData = which.data
        // Planes are independent: slices of them run in parallel.
        Parallel.forEachSlice(planes, minimumSlice: MaxPool2D.planesPerSlice, maximumParts: 16) { slice in
            for p in slice {
                if k == 2 && s == 2 {
                    MaxPool2D.pool2x2(xData + p * h * w, h: h, w: w, into: yData + p * oh * ow, which: whichData + p * oh * ow)
                } else {
                    poolPlane(xData + p * h * w, h: h, w: w, into: yData + p * oh * ow)
                }
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
        let xData = x.data, yData = y.data, dxData = dx.data, dyData = dy.data, whichData = which.data
        let k = kernelSize, s = stride
        Parallel.forEachSlice(planes, minimumSlice: MaxPool2D.planesPerSlice, maximumParts: 16) { slice in
            for p in slice {
                let src = xData + p * h * w, d = dxData + p * h * w
                let top = yData + p * oh * ow, g = dyData + p * oh * ow
                if k == 2 && s == 2 {
                    MaxPool2D.unpool2x2(which: whichData + p * oh * ow, dy: g, h: h, w: w, into: d)
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

    // MARK: - Fused into the convolution before it

    /// Whether a convolution can pool its own output into this layer (`Conv2D`'s fused step):
    /// windows of 2×2, 2 apart, whose notes make backward need neither the input nor its copy.
    public var fusesIntoConvolution: Bool { kernelSize == 2 && stride == 2 }

    /// Readies this layer's output `(B, C, H/2, W/2)` and its notes for an input of `shape`
    /// that is never stored: the convolution before it writes both (`Conv2D.forward(_:training:then:pool:)`)
    /// and reads them in its backward. This layer's own backward is not run then.
    func fusedBuffers(inputShape shape: [Int]) -> (y: Tensor, which: Tensor) {
        precondition(fusesIntoConvolution && shape.count == 4, "\(summary) cannot be fused for input \(shape)")
        x = nil
        y.reshape(batch: shape[0], channels: shape[1], height: shape[2] / 2, width: shape[3] / 2)
        which.reshape(batch: shape[0], channels: shape[1], height: shape[2] / 2, width: shape[3] / 2)
        return (y, which)
    }

    /// The output and notes of the last fused forward.
    var fusedOutput: (y: Tensor, which: Tensor) { (y, which) }

    /// Forward of 2×2 windows, 2 apart, on one plane (h, w) -> (h/2, w/2): each window's
    /// maximum, and which of its four values (in reading order: 0 top left, 1 top right, 2 bottom
    /// left, 3 bottom right) is the first equal to it (3 when none is, as for a NaN).
    @inline(__always)
    static func pool2x2(_ src: UnsafePointer<Float>, h: Int, w: Int, into dst: UnsafeMutablePointer<Float>,
                        which: UnsafeMutablePointer<Float>) {
        let oh = h / 2, ow = w / 2
        for oy in 0..<oh {
            let r0 = src + 2 * oy * w, r1 = r0 + w, out = dst + oy * ow, code = which + oy * ow
            var ox = 0
            // Eight outputs at a time from two rows of sixteen inputs.
            while ox + 8 <= ow {
                let upper = SIMD16<Float>(lowHalf: load8(r0 + 2 * ox), highHalf: load8(r0 + 2 * ox + 8))
                let lower = SIMD16<Float>(lowHalf: load8(r1 + 2 * ox), highHalf: load8(r1 + 2 * ox + 8))
                let m = upper.replacing(with: lower, where: lower .> upper)
                let even = m.evenHalf, odd = m.oddHalf
                let top = even.replacing(with: odd, where: odd .> even)
                store8(top, out + ox)
                store8(firstMaximum(upper.evenHalf, upper.oddHalf, lower.evenHalf, max: top), code + ox)
                ox += 8
            }
            // Then four (from two rows of eight), then one.
            while ox + 4 <= ow {
                let upper = load8(r0 + 2 * ox), lower = load8(r1 + 2 * ox)
                let m = upper.replacing(with: lower, where: lower .> upper)
                let even = m.evenHalf, odd = m.oddHalf
                let top = even.replacing(with: odd, where: odd .> even)
                let first = firstMaximum(SIMD8(lowHalf: upper.evenHalf, highHalf: upper.evenHalf),
                                        SIMD8(lowHalf: upper.oddHalf, highHalf: upper.oddHalf),
                                        SIMD8(lowHalf: lower.evenHalf, highHalf: lower.evenHalf),
                                        max: SIMD8(lowHalf: top, highHalf: top))
                UnsafeMutableRawPointer(out + ox).storeBytes(of: top, as: SIMD4<Float>.self)
                UnsafeMutableRawPointer(code + ox).storeBytes(of: first.lowHalf, as: SIMD4<Float>.self)
                ox += 4
            }
            while ox < ow {
                let a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], e = r1[2 * ox + 1]
                let top = max(max(a, b), max(c, e))
                out[ox] = top
                code[ox] = a == top ? 0 : b == top ? 1 : c == top ? 2 : 3
                ox += 1
            }
        }
    }

    /// Which of a, b, c (or else the fourth) is the first equal to `max`, as 0-3, lane by lane.
    @inline(__always)
    static func firstMaximum(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>, max: SIMD8<Float>) -> SIMD8<Float> {
        // As bit masks, so that every select is an `and` (no branches, no generic code).
        let isA = mask(a .== max), isB = mask(b .== max), isC = mask(c .== max)
        let afterA = ~isA, afterB = afterA & ~isB, afterC = afterB & ~isC
        let code = (afterA & isB & bits(1)) | (afterB & isC & bits(2)) | (afterC & bits(3))
        return unsafeBitCast(code, to: SIMD8<Float>.self)
    }

    /// Every lane holds `value`'s bits.
    @inline(__always)
    static func bits(_ value: Float) -> SIMD8<UInt32> { SIMD8(repeating: value.bitPattern) }

    /// All ones where the mask is true, zeros elsewhere (a mask's lanes are stored that way).
    @inline(__always)
    static func mask(_ m: SIMDMask<SIMD8<Int32>>) -> SIMD8<UInt32> {
        unsafeBitCast(m, to: SIMD8<UInt32>.self)
    }

    /// The gradient of one plane through an activation and the 2×2 pooling fused after it: each
    /// window's gradient times f' at the window's maximum (its pooled value `y`), sent to where
    /// the maximum was; 0 elsewhere, as the pooling's backward and the activation's would give
    /// it. `scratch` holds the windows' gradients through f' (h/2 · w/2 values) when there is an
    /// activation.
    // dy, y: (h/2, w/2) -> d: (h, w)
    @inline(__always)
    static func unpool2x2(which: UnsafePointer<Float>, dy: UnsafePointer<Float>, through activation: Activation?,
                          y: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>, h: Int, w: Int,
                          into d: UnsafeMutablePointer<Float>) {
        var windows = dy
        if let activation {
            activation.backward(y: y, dy: dy, dx: scratch, (h / 2) * (w / 2))
            windows = UnsafePointer(scratch)
        }
        unpool2x2(which: which, dy: windows, h: h, w: w, into: d)
    }

    /// Backward of 2×2 windows, 2 apart: every input gets its window's gradient if forward
    /// noted it as the window's first maximum, else 0 (written with vector selects rather than
    /// branches, and without zeroing dx first). Reads the notes and dy, not the input.
    @inline(__always)
    static func unpool2x2(which: UnsafePointer<Float>, dy: UnsafePointer<Float>, h: Int, w: Int,
                          into d: UnsafeMutablePointer<Float>) {
        let oh = h / 2, ow = w / 2
        let codes = (SIMD8<Float>(repeating: 0), SIMD8<Float>(repeating: 1), SIMD8<Float>(repeating: 2),
                     SIMD8<Float>(repeating: 3))
        @inline(__always) func float(_ v: SIMD8<UInt32>) -> SIMD8<Float> { unsafeBitCast(v, to: SIMD8<Float>.self) }
        for oy in 0..<oh {
            let d0 = d + 2 * oy * w, d1 = d0 + w
            let code = which + oy * ow, g = dy + oy * ow
            var ox = 0
            // Eight windows at a time, then one.
            while ox + 8 <= ow {
                let c = load8(code + ox), v = unsafeBitCast(load8(g + ox), to: SIMD8<UInt32>.self)
                let a = float(v & mask(c .== codes.0)), b = float(v & mask(c .== codes.1))
                let l = float(v & mask(c .== codes.2)), e = float(v & mask(c .== codes.3))
                store16(interleave(a, b), d0 + 2 * ox)
                store16(interleave(l, e), d1 + 2 * ox)
                ox += 8
            }
            while ox + 4 <= ow {
                let c4 = UnsafeRawPointer(code + ox).loadUnaligned(as: SIMD4<Float>.self)
                let v4 = UnsafeRawPointer(g + ox).loadUnaligned(as: SIMD4<Float>.self)
                let c = SIMD8(lowHalf: c4, highHalf: c4)
                let v = unsafeBitCast(SIMD8(lowHalf: v4, highHalf: v4), to: SIMD8<UInt32>.self)
                let a = float(v & mask(c .== codes.0)), b = float(v & mask(c .== codes.1))
                let l = float(v & mask(c .== codes.2)), e = float(v & mask(c .== codes.3))
                store8(interleave(a.lowHalf, b.lowHalf), d0 + 2 * ox)
                store8(interleave(l.lowHalf, e.lowHalf), d1 + 2 * ox)
                ox += 4
            }
            while ox < ow {
                let c = code[ox], v = g[ox]
                d0[2 * ox] = c == 0 ? v : 0; d0[2 * ox + 1] = c == 1 ? v : 0
                d1[2 * ox] = c == 2 ? v : 0; d1[2 * ox + 1] = c == 3 ? v : 0
                ox += 1
            }
            // An odd last column is in no window.
            if w % 2 == 1 { d0[w - 1] = 0; d1[w - 1] = 0 }
        }
        // An odd last row is in no window.
        if h % 2 == 1 { (d + (h - 1) * w).update(repeating: 0, count: w) }
    }

    /// Planes are run in parallel in slices of at least 64 (at most 16 slices).
    static let planesPerSlice = 64

    /// One plane (h, w) -> (oh, ow), for windows other than 2×2 two apart.
    @inline(__always)
    private func poolPlane(_ src: UnsafePointer<Float>, h: Int, w: Int, into dst: UnsafeMutablePointer<Float>) {
        let k = kernelSize, s = stride, oh = (h - k) / s + 1, ow = (w - k) / s + 1
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
        y.reshape(rows: x.shape[0], columns: x.shape[1])
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
