/// Max pooling over NCHW batches: each output is the largest value of a `kernelSize`² window,
/// windows `stride` apart (no padding; a partial window at the edge is dropped, as PyTorch does).
///
/// Forward remembers where each maximum came from; backward sends each output's gradient there.
public final class MaxPool2D: Layer {
    public let kernelSize: Int
    public let stride: Int
    public var computesInputGradient = true

    private var inShape: [Int] = []
    private let y = Tensor(shape: [0])          // (B, C, outH, outW)
    private let dx = Tensor(shape: [0])         // (B, C, H, W)
    private let argmax = GrowableBuffer<Int32>() // for each output, its window's maximum's offset in the input plane

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
        inShape = x.shape
        let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3], k = kernelSize, s = stride
        let oh = (h - k) / s + 1, ow = (w - k) / s + 1
        y.reshape(to: [x.shape[0], x.shape[1], oh, ow])
        argmax.reserve(planes * oh * ow)
        let where_ = argmax.data
        for p in 0..<planes {
            let src = x.data + p * h * w, dst = y.data + p * oh * ow, idx = where_ + p * oh * ow
            if k == 2 && s == 2 {
                // The common case, unrolled: the first of equal values wins, as in the general loop.
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let i0 = (2 * oy) * w + 2 * ox, i2 = i0 + w
                        var best = i0
                        if src[i0 + 1] > src[best] { best = i0 + 1 }
                        if src[i2] > src[best] { best = i2 }
                        if src[i2 + 1] > src[best] { best = i2 + 1 }
                        dst[oy * ow + ox] = src[best]
                        idx[oy * ow + ox] = Int32(best)
                    }
                }
                continue
            }
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var best = (oy * s) * w + ox * s
                    var bestValue = src[best]
                    for ky in 0..<k {
                        let rowStart = (oy * s + ky) * w + ox * s
                        for kx in 0..<k where src[rowStart + kx] > bestValue {
                            best = rowStart + kx; bestValue = src[best]
                        }
                    }
                    dst[oy * ow + ox] = bestValue
                    idx[oy * ow + ox] = Int32(best)
                }
            }
        }
        return y
    }

    // dy: (B, C, outH, outW) -> dx: (B, C, H, W), each gradient sent to its window's maximum
    public func backward(_ dy: Tensor) -> Tensor {
        dx.reshape(to: inShape)
        guard computesInputGradient else { return dx }
        dx.zero()
        let planes = inShape[0] * inShape[1], hw = inShape[2] * inShape[3], ohw = y.shape[2] * y.shape[3]
        let idx = argmax.data
        for p in 0..<planes {
            let d = dx.data + p * hw, g = dy.data + p * ohw, at = idx + p * ohw
            for i in 0..<ohw { d[Int(at[i])] += g[i] }
        }
        return dx
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
    public func backward(_ dy: Tensor) -> Tensor {
        dx.reshape(to: inShape)
        guard computesInputGradient else { return dx }
        let planes = inShape[0] * inShape[1], hw = inShape[2] * inShape[3]
        let scale = 1 / Float(hw)
        for p in 0..<planes { (dx.data + p * hw).update(repeating: dy.data[p] * scale, count: hw) }
        return dx
    }
}

/// A buffer of plain values that grows when asked for more room and never shrinks, for the
/// bookkeeping a layer keeps between forward and backward (pooling indices, dropout masks).
final class GrowableBuffer<Element: BitwiseCopyable> {
    private(set) var data: UnsafeMutablePointer<Element>
    private(set) var capacity = 0

    init() { data = .allocate(capacity: 1) }
    deinit { data.deallocate() }

    /// Makes room for `count` values; the old values are lost when it grows.
    func reserve(_ count: Int) {
        guard count > capacity else { return }
        data.deallocate()
        data = .allocate(capacity: count)
        capacity = count
    }
}
