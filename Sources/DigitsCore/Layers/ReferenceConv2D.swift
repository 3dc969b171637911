/// The plain, obviously correct 2-D convolution: the formula as nested loops, one output (or
/// one gradient term) at a time, summed in `Double`. Slow; it is the yardstick `Conv2D` (im2col
/// and the fast multiply) is tested against, forward and backward.
///
///     y[b, o, i, j] = bias[o] + Σ_c Σ_ky Σ_kx W[o, c, ky, kx] · x[b, c, i·s − p + ky, j·s − p + kx]
///
/// with x read as zero outside the image (the padding).
public enum ReferenceConv2D {
    /// The shape of a convolution: channels, kernel side, stride and padding.
    public struct Shape: Sendable, Equatable {
        public var inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int, padding: Int

        public init(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int, padding: Int) {
            self.inChannels = inChannels; self.outChannels = outChannels
            self.kernelSize = kernelSize; self.stride = stride; self.padding = padding
        }

        /// The shape of `conv`.
        public init(_ conv: Conv2D) {
            self.init(inChannels: conv.inChannels, outChannels: conv.outChannels, kernelSize: conv.kernelSize,
                      stride: conv.stride, padding: conv.padding)
        }

        /// The output side for an input side.
        public func outputSize(_ input: Int) -> Int { (input + 2 * padding - kernelSize) / stride + 1 }
    }

    /// Calls `body(b, o, i, j, c, ky, kx, iy, ix)` for every term of every output: output
    /// (b, o, i, j) of `batch` samples of h × w, and input pixel (c, iy, ix) inside the image.
    @inline(__always)
    static func forEachTerm(_ shape: Shape, batch: Int, h: Int, w: Int,
                            _ body: (Int, Int, Int, Int, Int, Int, Int, Int, Int) -> Void) {
        let oh = shape.outputSize(h), ow = shape.outputSize(w), k = shape.kernelSize
        for b in 0..<batch {
            for o in 0..<shape.outChannels {
                for i in 0..<oh {
                    for j in 0..<ow {
                        for c in 0..<shape.inChannels {
                            for ky in 0..<k {
                                for kx in 0..<k {
                                    let iy = i * shape.stride - shape.padding + ky
                                    let ix = j * shape.stride - shape.padding + kx
                                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                    body(b, o, i, j, c, ky, kx, iy, ix)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// y (B, outC, outH, outW) for x (B, inC, H, W), weights (outC, inC, k, k) and an optional
    /// bias (outC), in `Double`.
    public static func forward(_ shape: Shape, x: Tensor, weight: Tensor, bias: Tensor?) -> [Double] {
        let batch = x.shape[0], h = x.shape[2], w = x.shape[3], k = shape.kernelSize
        let oh = shape.outputSize(h), ow = shape.outputSize(w), inC = shape.inChannels, outC = shape.outChannels
        var y = [Double](repeating: 0, count: batch * outC * oh * ow)
        for b in 0..<batch {
            for o in 0..<outC {
                for p in 0..<(oh * ow) { y[(b * outC + o) * oh * ow + p] = Double(bias?.data[o] ?? 0) }
            }
        }
        forEachTerm(shape, batch: batch, h: h, w: w) { b, o, i, j, c, ky, kx, iy, ix in
            y[((b * outC + o) * oh + i) * ow + j] += Double(weight.data[((o * inC + c) * k + ky) * k + kx])
                * Double(x.data[((b * inC + c) * h + iy) * w + ix])
        }
        return y
    }

    /// The gradients for dy = d(loss)/dy (B, outC, outH, outW) at input x: dx (B, inC, H, W),
    /// dW (outC, inC, k, k) and db (outC), in `Double`.
    public static func backward(_ shape: Shape, x: Tensor, weight: Tensor, dy: Tensor)
        -> (dx: [Double], dWeight: [Double], dBias: [Double]) {
        let batch = x.shape[0], h = x.shape[2], w = x.shape[3], k = shape.kernelSize
        let oh = shape.outputSize(h), ow = shape.outputSize(w), inC = shape.inChannels, outC = shape.outChannels
        var dx = [Double](repeating: 0, count: x.count)
        var dW = [Double](repeating: 0, count: outC * inC * k * k)
        var db = [Double](repeating: 0, count: outC)
        for b in 0..<batch {
            for o in 0..<outC {
                for p in 0..<(oh * ow) { db[o] += Double(dy.data[(b * outC + o) * oh * ow + p]) }
            }
        }
        forEachTerm(shape, batch: batch, h: h, w: w) { b, o, i, j, c, ky, kx, iy, ix in
            let g = Double(dy.data[((b * outC + o) * oh + i) * ow + j])
            let wi = ((o * inC + c) * k + ky) * k + kx, xi = ((b * inC + c) * h + iy) * w + ix
            dW[wi] += g * Double(x.data[xi])
            dx[xi] += g * Double(weight.data[wi])
        }
        return (dx, dW, db)
    }
}
