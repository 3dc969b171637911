/// Batch normalisation (Ioffe & Szegedy), per channel:
///
///     y = γ · (x − μ) / √(σ² + ε) + β
///
/// over (B, C, H, W) the statistics of channel c are taken over B·H·W values; over (B, C) (after a
/// dense layer) over the B values. In training μ and σ² are the batch's (biased variance) and the
/// running estimates move towards them by `momentum` (the running variance uses the unbiased
/// batch variance, as PyTorch does); at inference the running estimates are used.
///
/// The running mean and variance are `Parameter`s that are not trainable: optimisers leave them
/// alone, and model files save them with the weights.
public final class BatchNorm: Layer {
    public let channels: Int
    /// How far the running statistics move towards each batch's: running = (1 − m)·running + m·batch.
    public let momentum: Float
    public let epsilon: Float

    /// γ, `(C)`, starts at 1.
    public let scale: Parameter
    /// β, `(C)`, starts at 0.
    public let shift: Parameter
    /// The running mean, `(C)`; not trainable.
    public let runningMean: Parameter
    /// The running variance, `(C)`; not trainable.
    public let runningVariance: Parameter
    public var computesInputGradient = true

    private var batch = 0, plane = 0, training = false
    /// The last input, (B, C, …), read again in backward: x̂ = (x − μ)·(1/σ) is recomputed there
    /// (the same operations, so the same bits) rather than written in forward and read back.
    private var x: Tensor?
    private let y = Tensor(shape: [0])        // (B, C, …)
    private let dx = Tensor(shape: [0])       // (B, C, …)
    private let mean = Tensor(shape: [0])     // (C): μ of the last batch (the running mean at inference)
    private let invStd = Tensor(shape: [0])   // (C): 1/√(σ² + ε) of the last batch
    /// Per channel, one plane of x̂ in backward, or of the output before it is pooled in a
    /// forward fused with a pooling, (C, plane).
    private let xHatPlanes = Tensor(shape: [0])
    /// Per channel, in a backward fused with a pooling, one pooled plane's dy·f', (C, plane).
    private let pooledPlanes = Tensor(shape: [0])
    /// In training, on planes smaller than `gathersBelow`: per channel, its values of the whole
    /// batch in one run, and in backward a second run beside it, (C, 2·B·plane). Used with or
    /// without a fused pooling, so that fusing changes no sum.
    private let gathered = Tensor(shape: [0])

    /// Planes of fewer values than this (maps of 15×15 and under, or the one value a channel has after
    /// a dense layer) are gathered in training, a channel at a time, into one run of B·plane
    /// values: the statistics, normalisation and gradient then run over it in long vector
    /// loops, where loops over each sample's few values would spend their time starting and
    /// ending. The same formula for each value; sums taken in another order.
    static let gathersBelow = 256

    /// Batch normalisation of `channels` channels.
    public init(channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        self.channels = channels
        self.momentum = momentum
        self.epsilon = epsilon
        scale = Parameter(name: "weight", value: Tensor(shape: [channels], repeating: 1), decays: false)
        shift = Parameter(name: "bias", value: Tensor(shape: [channels]), decays: false)
        runningMean = Parameter(name: "running_mean", value: Tensor(shape: [channels]), decays: false, trainable: false)
        runningVariance = Parameter(name: "running_var", value: Tensor(shape: [channels], repeating: 1),
                                    decays: false, trainable: false)
        invStd.reshape(to: [channels])
        mean.reshape(to: [channels])
    }

    public var summary: String { "BatchNorm(\(channels))" }
    public var spec: LayerSpec { .batchNorm(channels: channels, momentum: momentum, epsilon: epsilon) }
    public var parameters: [Parameter] { [scale, shift, runningMean, runningVariance] }

    public func outputShape(for input: [Int]) throws(ModelError) -> [Int] {
        guard input.first == channels else {
            throw .invalidArchitecture("\(summary) takes inputs of shape [\(channels), …], got \(input)")
        }
        return input
    }

    // MARK: - Forward and backward

    // x: (B, C, H, W) or (B, C) -> y: same shape
    public func forward(_ x: Tensor, training: Bool) -> Tensor { forward(x, training: training, then: nil) }

    // dy -> dx = (γ/σ)/N · (N·dy − Σdy − x̂·Σ(dy·x̂)) in training; dγ += Σ dy·x̂, dβ += Σ dy
    public func backward(_ dy: Tensor) -> Tensor? { backward(dy, through: nil) }

    // MARK: - Fused with the activation that follows

    /// y = f(γ·x̂ + β): the activation applied to each plane as it is written, while it is in
    /// cache. The same values as this layer's forward, then the activation layer's.
    ///
    /// With `pool` (a 2×2 max pooling, 2 apart, of (B, C, H, W) maps), each plane is pooled while
    /// in cache and only the pooled map and the pooling's notes are written, into `pool`'s
    /// buffers, as `Conv2D.forward(_:training:then:pool:)` does.
    // x: (B, C, H, W) or (B, C) -> y: same shape, or pooled: (B, C, H/2, W/2)
    public func forward(_ x: Tensor, training: Bool, then activation: Activation?, pool: MaxPool2D? = nil) -> Tensor {
        precondition(x.shape.count >= 2 && x.shape[1] == channels, "\(summary) got input of shape \(x.shape)")
        let pooled = pool?.fusedBuffers(inputShape: x.shape)
        let h = x.shape.count == 4 ? x.shape[2] : 1, w = x.shape.count == 4 ? x.shape[3] : 1
        let pooledHW = (h / 2) * (w / 2)
        if pooled != nil { xHatPlanes.reshape(rows: channels, columns: x.count / max(x.shape[0] * channels, 1)) }
        let pooledY = pooled?.y.data, pooledWhich = pooled?.which.data, outPlanes = xHatPlanes.data
        self.training = training
        self.x = x
        batch = x.shape[0]
        plane = x.count / max(batch * channels, 1)
        if pooled == nil { y.reshape(to: x.shape) }
        let n = batch * plane, stride = channels * plane
        let gamma = scale.value.data, beta = shift.value.data
        let rm = runningMean.value.data, rv = runningVariance.value.data
        let xData = x.data, yData = y.data, invData = invStd.data, meanData = mean.data
        let batch = self.batch, plane = self.plane, momentum = self.momentum, epsilon = self.epsilon
        /// Channel c's batch mean and variance (biased) to μ and 1/σ, and its running statistics
        /// moved towards them (the running variance towards the unbiased one).
        @inline(__always) func normalisation(_ c: Int, mean m: Double, variance: Double) -> (mu: Float, inv: Float) {
            let mu = Float(m), inv = Float(1 / (variance + Double(epsilon)).squareRoot())
            let unbiased = n > 1 ? variance * Double(n) / Double(n - 1) : variance
            rm[c] = (1 - momentum) * rm[c] + momentum * mu
            rv[c] = (1 - momentum) * rv[c] + momentum * Float(unbiased)
            return (mu, inv)
        }
        if training && plane < BatchNorm.gathersBelow {
            gathered.reshape(rows: channels, columns: 2 * n)
            let runs = gathered.data
            Parallel.forEach(channels) { c in
                // Channel c of every sample, in one run.
                let t = runs + c * 2 * n
                for b in 0..<batch { VectorOps.copy(xData + b * stride + c * plane, t + b * plane, plane) }
                let m = BatchNorm.sum(t, n) / Double(n)
                let variance = BatchNorm.sumOfSquaredDeviations(t, n, mean: Float(m)) / Double(n)
                let (mu, inv) = normalisation(c, mean: m, variance: variance)
                meanData[c] = mu
                invData[c] = inv
                let g = gamma[c], bt = beta[c]
                for i in 0..<n { t[i] = g * ((t[i] - mu) * inv) + bt }
                activation?.forward(t, t, n)
                for b in 0..<batch {
                    if let pooledY, let pooledWhich {
                        let at = (b * channels + c) * pooledHW
                        MaxPool2D.pool2x2(t + b * plane, h: h, w: w, into: pooledY + at, which: pooledWhich + at)
                    } else {
                        VectorOps.copy(t + b * plane, yData + b * stride + c * plane, plane)
                    }
                }
            }
            return pooled?.y ?? y
        }
        // Channels are independent: each is one part, so any thread count gives the same result.
        Parallel.forEach(channels) { c in
            var mu: Float, inv: Float
            if training {
                // Two passes in Double: the mean, then the variance about it.
                var s = 0.0
                for b in 0..<batch {
                    s += Double(VectorOps.sum(xData + b * stride + c * plane, plane))
                }
                let m = s / Double(n)
                var v = 0.0
                for b in 0..<batch {
                    v += Double(VectorOps.sumOfSquaredDeviations(xData + b * stride + c * plane, plane, mean: Float(m)))
                }
                (mu, inv) = normalisation(c, mean: m, variance: v / Double(n))
            } else {
                mu = rm[c]
                inv = 1 / (rv[c] + epsilon).squareRoot()
            }
            meanData[c] = mu
            invData[c] = inv
            let g = gamma[c], bt = beta[c]
            for b in 0..<batch {
                let off = b * stride + c * plane
                let p = xData + off, out = pooledY == nil ? yData + off : outPlanes + c * plane
                for i in 0..<plane { out[i] = g * ((p[i] - mu) * inv) + bt }
                activation?.forward(out, out, plane)
                if let pooledY, let pooledWhich {
                    let at = (b * channels + c) * pooledHW
                    MaxPool2D.pool2x2(out, h: h, w: w, into: pooledY + at, which: pooledWhich + at)
                }
            }
        }
        return pooled?.y ?? y
    }

    /// The backward of `forward(_:training:then:pool:)`: dz = dy · f'(y), from the output y, plane
    /// by plane while in cache (into dx, or into the gathered run of a small plane's channel),
    /// then this layer's backward with dz. With `pool`, dy is the
    /// pooled map's gradient: each window's goes to its noted maximum, times f' at that maximum
    /// (the pooled value), the others get 0, as the pooling's backward and the activation's would.
    // dy: (B, C, …), or pooled (B, C, H/2, W/2) -> dx = (γ/σ)/N · (N·dz − Σdz − x̂·Σ(dz·x̂)) in
    // training; dγ += Σ dz·x̂, dβ += Σ dz
    public func backward(_ dy: Tensor, through activation: Activation?, pool: MaxPool2D? = nil) -> Tensor? {
        guard let x else { preconditionFailure("\(summary): backward before forward") }
        let n = batch * plane, stride = channels * plane
        dx.reshape(to: x.shape)
        let pooled = pool?.fusedOutput
        let mapH = x.shape.count == 4 ? x.shape[2] : 1, mapW = x.shape.count == 4 ? x.shape[3] : 1
        let pooledHW = (mapH / 2) * (mapW / 2)
        if pooled != nil {
            precondition(dy.count == batch * channels * pooledHW, "\(summary): pooled dy of shape \(dy.shape)")
            pooledPlanes.reshape(rows: channels, columns: plane)
        }
        let pooledY = pooled?.y.data, pooledWhich = pooled?.which.data, windowsData = pooledPlanes.data
        xHatPlanes.reshape(rows: channels, columns: plane)
        let gamma = scale.value.data, dGamma = scale.grad.data, dBeta = shift.grad.data
        let dyData = dy.data, xData = x.data, yData = y.data, dxData = dx.data
        let invData = invStd.data, meanData = mean.data, hats = xHatPlanes.data
        let batch = self.batch, plane = self.plane, training = self.training, needDx = computesInputGradient
        /// dz = dy·f' of sample b's plane of channel c, into `to`: through the fused pooling, f' at
        /// each window's maximum (its pooled value), then sent to where the maximum was, 0
        /// elsewhere. False, and nothing written, when there is neither activation nor pooling:
        /// dz is dy.
        @inline(__always) func planeGradient(_ b: Int, _ c: Int, into to: UnsafeMutablePointer<Float>) -> Bool {
            if let pooledY, let pooledWhich {
                let at = (b * channels + c) * pooledHW
                MaxPool2D.unpool2x2(which: pooledWhich + at, dy: dyData + at, through: activation, y: pooledY + at,
                                    scratch: windowsData + c * plane, h: mapH, w: mapW, into: to)
            } else if let activation {
                let off = b * stride + c * plane
                activation.backward(y: yData + off, dy: dyData + off, dx: to, plane)
            } else {
                return false
            }
            return true
        }
        if training && plane < BatchNorm.gathersBelow {
            gathered.reshape(rows: channels, columns: 2 * n)
            let runs = gathered.data
            Parallel.forEach(channels) { c in
                // dz = dy·f' and x̂ of channel c of every sample, each in one run.
                let dz = runs + c * 2 * n, h = dz + n
                let mu = meanData[c], inv = invData[c]
                for b in 0..<batch {
                    let off = b * stride + c * plane
                    if !planeGradient(b, c, into: dz + b * plane) { VectorOps.copy(dyData + off, dz + b * plane, plane) }
                    VectorOps.copy(xData + off, h + b * plane, plane)
                }
                for i in 0..<n { h[i] = (h[i] - mu) * inv }
                let (sumDy, sumDyXHat) = BatchNorm.sumAndDot(dz, h, n)
                dGamma[c] += sumDyXHat
                dBeta[c] += sumDy
                guard needDx else { return }
                let k = gamma[c] * inv, meanDy = sumDy / Float(n), meanDyXHat = sumDyXHat / Float(n)
                for i in 0..<n { dz[i] = k * (dz[i] - meanDy - h[i] * meanDyXHat) }
                for b in 0..<batch { VectorOps.copy(dz + b * plane, dxData + b * stride + c * plane, plane) }
            }
            return needDx ? dx : nil
        }
        Parallel.forEach(channels) { c in
            let mu = meanData[c], inv = invData[c], h = hats + c * plane
            /// x̂ of sample b's plane of this channel, into h: forward's operations.
            @inline(__always) func xHat(_ b: Int) {
                let p = xData + b * stride + c * plane
                for i in 0..<plane { h[i] = (p[i] - mu) * inv }
            }
            var sumDy: Float = 0, sumDyXHat: Float = 0
            for b in 0..<batch {
                let off = b * stride + c * plane
                let g = UnsafePointer(planeGradient(b, c, into: dxData + off) ? dxData + off : dyData + off)
                xHat(b)
                let (s, d) = VectorOps.sumAndDot(g, h, plane)
                sumDy += s; sumDyXHat += d
            }
            dGamma[c] += sumDyXHat
            dBeta[c] += sumDy
            guard needDx else { return }
            let k = gamma[c] * inv
            let from = activation == nil && pooledY == nil ? UnsafePointer(dyData) : UnsafePointer(dxData)
            if training {
                let meanDy = sumDy / Float(n), meanDyXHat = sumDyXHat / Float(n)
                for b in 0..<batch {
                    let off = b * stride + c * plane
                    let g = from + off, d = dxData + off
                    xHat(b)
                    for i in 0..<plane { d[i] = k * (g[i] - meanDy - h[i] * meanDyXHat) }
                }
            } else {
                for b in 0..<batch {
                    let off = b * stride + c * plane
                    let g = from + off, d = dxData + off
                    for i in 0..<plane { d[i] = k * g[i] }
                }
            }
        }
        return needDx ? dx : nil
    }

    // MARK: - Sums of a gathered run

    /// Values summed in Float before their sum is added in Double.
    private static let block = 512

    /// Σ p[0..<count]: blocks summed eight lanes at a time, the blocks' sums in Double.
    private static func sum(_ p: UnsafePointer<Float>, _ count: Int) -> Double {
        var s = 0.0, i = 0
        while i < count {
            s += Double(VectorOps.sum(p + i, min(block, count - i)))
            i += block
        }
        return s
    }

    /// Σ (p[i] − mean)² over 0..<count, in blocks as `sum`.
    private static func sumOfSquaredDeviations(_ p: UnsafePointer<Float>, _ count: Int, mean: Float) -> Double {
        var s = 0.0, i = 0
        while i < count {
            s += Double(VectorOps.sumOfSquaredDeviations(p + i, min(block, count - i), mean: mean))
            i += block
        }
        return s
    }

    /// (Σ a[i], Σ a[i]·b[i]) over 0..<count, in blocks as `sum`, the blocks' sums added in Float,
    /// as the gradient's sums of each sample's plane are.
    private static func sumAndDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> (Float, Float) {
        var s: Float = 0, d: Float = 0, i = 0
        while i < count {
            let (bs, bd) = VectorOps.sumAndDot(a + i, b + i, min(block, count - i))
            s += bs; d += bd
            i += block
        }
        return (s, d)
    }
}
