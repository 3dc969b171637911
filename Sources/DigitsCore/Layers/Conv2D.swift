/// A 2-D convolution over NCHW batches: y[b, o] = Σ_c W[o, c] ⋆ x[b, c] + bias[o], optionally
/// followed by a fused activation.
///
/// Computed as im2col + one matrix multiply for the whole batch: the input patches are laid out
/// as the columns of a matrix `cols` of shape (inC·k·k, B·outH·outW), so that
///
///     forward:   Y (outC, B·HW)  = W (outC, inC·k·k) · cols
///     backward:  dW             += dY · colsᵀ
///                dcols           = Wᵀ · dY,  then col2im adds each patch back into dx
///
/// and all the arithmetic goes through `GEMM.multiply`. The product is laid out channel-major
/// (outC, B, HW); one copy per (sample, channel) moves it to NCHW, adding the bias and applying
/// the activation on the way. Every buffer is sized on the first batch and reused after.
public final class Conv2D: Layer {
    public let inChannels: Int
    public let outChannels: Int
    /// The side of the square kernel.
    public let kernelSize: Int
    public let stride: Int
    /// Zeros added on each side of the input, in pixels.
    public let padding: Int
    /// The activation fused after the convolution, or nil for none.
    public let activation: Activation?

    /// The kernels, `(outC, inC, k, k)` (PyTorch's layout).
    public let weight: Parameter
    /// The bias, `(outC)`, or nil.
    public let bias: Parameter?
    public var computesInputGradient = true

    private var x: Tensor?                     // the last input, (B, inC, H, W)
    private var inH = 0, inW = 0, outH = 0, outW = 0, batch = 0
    private let cols = Tensor(shape: [0])      // (inC·k·k, B·outH·outW)
    private let product = Tensor(shape: [0])   // (outC, B·outH·outW): the GEMM's output, then dz in backward
    private let y = Tensor(shape: [0])         // (B, outC, outH, outW)
    private let dcols = Tensor(shape: [0])     // (inC·k·k, B·outH·outW)
    private let dx = Tensor(shape: [0])        // (B, inC, H, W)

    /// A convolution with weights drawn by `initializer` (fan-in inC·k·k) and bias by
    /// `biasInitializer`, in that order, from `rng`.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, activation: Activation? = nil,
                initializer: Initializer = .he, biasInitializer: Initializer = .zeros, rng: inout RandomSource) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.activation = activation
        let k2 = kernelSize * kernelSize
        let w = Tensor(shape: [outChannels, inChannels, kernelSize, kernelSize])
        initializer.fill(w, fanIn: inChannels * k2, fanOut: outChannels * k2, rng: &rng)
        self.weight = Parameter(name: "weight", value: w, decays: true)
        if bias {
            let b = Tensor(shape: [outChannels])
            biasInitializer.fill(b, fanIn: inChannels * k2, fanOut: outChannels * k2, rng: &rng)
            self.bias = Parameter(name: "bias", value: b, decays: false)
        } else {
            self.bias = nil
        }
    }

    public var summary: String {
        var s = "Conv2D(\(inChannels) → \(outChannels), \(kernelSize)×\(kernelSize)"
        if stride != 1 { s += ", stride \(stride)" }
        if padding != 0 { s += ", padding \(padding)" }
        if bias == nil { s += ", no bias" }
        if let activation { s += ", \(activation.name)" }
        return s + ")"
    }

    public var spec: LayerSpec {
        .conv2d(inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize, stride: stride,
                padding: padding, bias: bias != nil, activation: activation)
    }

    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    /// The rows of the patch matrix: inC·k·k.
    private var patchSize: Int { inChannels * kernelSize * kernelSize }

    public func outputShape(for input: [Int]) throws(ModelError) -> [Int] {
        guard input.count == 3, input[0] == inChannels else {
            throw .invalidArchitecture("\(summary) takes inputs of shape [\(inChannels), H, W], got \(input)")
        }
        let h = (input[1] + 2 * padding - kernelSize) / stride + 1
        let w = (input[2] + 2 * padding - kernelSize) / stride + 1
        guard input[1] + 2 * padding >= kernelSize, input[2] + 2 * padding >= kernelSize, h > 0, w > 0 else {
            throw .invalidArchitecture("\(summary) needs inputs of at least \(kernelSize)×\(kernelSize), got \(input)")
        }
        return [outChannels, h, w]
    }

    // MARK: - Forward and backward

    // x: (B, inC, H, W) -> y: (B, outC, outH, outW)
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[1] == inChannels, "\(summary) got input of shape \(x.shape)")
        self.x = x
        batch = x.shape[0]; inH = x.shape[2]; inW = x.shape[3]
        outH = (inH + 2 * padding - kernelSize) / stride + 1
        outW = (inW + 2 * padding - kernelSize) / stride + 1
        let hw = outH * outW, n = batch * hw, kk = patchSize

        cols.reshape(to: [kk, n])
        im2col(x.data, cols.data)
        // product (outC, B·HW) = W (outC, kk) · cols (kk, B·HW)
        product.reshape(to: [outChannels, n])
        GEMM.multiply(m: outChannels, n: n, k: kk, a: weight.value.data, lda: kk, b: cols.data, ldb: n,
                      c: product.data, ldc: n)
        // (outC, B, HW) -> (B, outC, HW), + bias, activation
        y.reshape(to: [batch, outChannels, outH, outW])
        let biasData = bias?.value.data
        for b in 0..<batch {
            for o in 0..<outChannels {
                let src = product.data + o * n + b * hw, dst = y.data + (b * outChannels + o) * hw
                let add = biasData?[o] ?? 0
                for i in 0..<hw { dst[i] = src[i] + add }
                activation?.forward(dst, dst, hw)
            }
        }
        return y
    }

    // dy: (B, outC, outH, outW) -> dx: (B, inC, H, W); dW += dz · colsᵀ, db += Σ dz
    public func backward(_ dy: Tensor) -> Tensor {
        guard x != nil else { preconditionFailure("\(summary): backward before forward") }
        let hw = outH * outW, n = batch * hw, kk = patchSize
        // dz (outC, B·HW) = dy · f'(y), moved back to channel-major order.
        let dz = product
        dz.reshape(to: [outChannels, n])
        for b in 0..<batch {
            for o in 0..<outChannels {
                let off = (b * outChannels + o) * hw
                let dst = dz.data + o * n + b * hw
                if let activation {
                    activation.backward(y: y.data + off, dy: dy.data + off, dx: dst, hw)
                } else {
                    dst.update(from: dy.data + off, count: hw)
                }
            }
        }
        if let bias {
            let db = bias.grad.data
            for o in 0..<outChannels {
                let row = dz.data + o * n
                var s: Float = 0
                for i in 0..<n { s += row[i] }
                db[o] += s
            }
        }
        // dW (outC, kk) += dz (outC, n) · colsᵀ (n, kk)
        GEMM.multiply(transB: true, m: outChannels, n: kk, k: n, a: dz.data, lda: n, b: cols.data, ldb: n,
                      beta: 1, c: weight.grad.data, ldc: kk)
        guard computesInputGradient else { return dx }
        // dcols (kk, n) = Wᵀ (kk, outC) · dz (outC, n)
        dcols.reshape(to: [kk, n])
        GEMM.multiply(transA: true, m: kk, n: n, k: outChannels, a: weight.value.data, lda: kk, b: dz.data, ldb: n,
                      c: dcols.data, ldc: n)
        dx.reshape(to: [batch, inChannels, inH, inW])
        dx.zero()
        col2im(dcols.data, dx.data)
        return dx
    }

    // MARK: - Patches

    /// For output column ox and kernel column kx, the input column is ox·stride − padding + kx.
    /// The range of ox that lands inside 0..<inW.
    @inline(__always)
    private func validRange(kernelOffset kx: Int, inSize: Int, outSize: Int) -> Range<Int> {
        // ox·s − p + kx ≥ 0  ⇔  ox ≥ ceil((p − kx) / s);  ox·s − p + kx < inSize  ⇔  ox ≤ (inSize − 1 + p − kx) / s
        let lowNum = padding - kx
        let low = lowNum <= 0 ? 0 : (lowNum + stride - 1) / stride
        let highNum = inSize - 1 + padding - kx
        let high = highNum < 0 ? -1 : min(highNum / stride, outSize - 1)
        return low <= high ? low..<(high + 1) : 0..<0
    }

    /// x (B, inC, H, W) -> cols (inC·k·k, B·outH·outW); zeros where a patch overhangs the padding.
    private func im2col(_ x: UnsafePointer<Float>, _ cols: UnsafeMutablePointer<Float>) {
        let k = kernelSize, s = stride, hw = outH * outW, n = batch * hw
        for c in 0..<inChannels {
            for ky in 0..<k {
                let oyRange = validRange(kernelOffset: ky, inSize: inH, outSize: outH)
                for kx in 0..<k {
                    let row = cols + ((c * k + ky) * k + kx) * n
                    let oxRange = validRange(kernelOffset: kx, inSize: inW, outSize: outW)
                    for b in 0..<batch {
                        let plane = x + (b * inChannels + c) * inH * inW
                        let out = row + b * hw
                        for oy in 0..<outH {
                            let dst = out + oy * outW
                            guard oyRange.contains(oy), !oxRange.isEmpty else {
                                dst.update(repeating: 0, count: outW); continue
                            }
                            let src = plane + (oy * s - padding + ky) * inW - padding + kx
                            for ox in 0..<oxRange.lowerBound { dst[ox] = 0 }
                            if s == 1 {
                                // Rows are short (24 values for MNIST's first layer): a plain loop beats memcpy.
                                for ox in oxRange { dst[ox] = src[ox] }
                            } else {
                                for ox in oxRange { dst[ox] = src[ox * s] }
                            }
                            for ox in oxRange.upperBound..<outW { dst[ox] = 0 }
                        }
                    }
                }
            }
        }
    }

    /// dcols (inC·k·k, B·outH·outW) -> dx (B, inC, H, W), adding every patch's share (dx must be zero).
    private func col2im(_ dcols: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>) {
        let k = kernelSize, s = stride, hw = outH * outW, n = batch * hw
        for c in 0..<inChannels {
            for ky in 0..<k {
                let oyRange = validRange(kernelOffset: ky, inSize: inH, outSize: outH)
                for kx in 0..<k {
                    let row = dcols + ((c * k + ky) * k + kx) * n
                    let oxRange = validRange(kernelOffset: kx, inSize: inW, outSize: outW)
                    guard !oxRange.isEmpty else { continue }
                    for b in 0..<batch {
                        let plane = dx + (b * inChannels + c) * inH * inW
                        let src = row + b * hw
                        for oy in oyRange {
                            let from = src + oy * outW
                            let to = plane + (oy * s - padding + ky) * inW - padding + kx
                            if s == 1 {
                                for ox in oxRange { to[ox] += from[ox] }
                            } else {
                                for ox in oxRange { to[ox * s] += from[ox] }
                            }
                        }
                    }
                }
            }
        }
    }
}
