/// A 2-D convolution over NCHW batches: y[b, o] = Σ_c W[o, c] ⋆ x[b, c] + bias[o].
///
/// Computed as im2col + matrix multiply: the input patches of a few samples are laid out as the
/// columns of a matrix `cols` of shape (inC·k·k, samples·outH·outW), so that
///
///     forward:   Y (outC, samples·HW) = W (outC, inC·k·k) · cols
///     backward:  dW                  += dY · colsᵀ
///                dcols                = Wᵀ · dY,  then col2im adds each patch back into dx
///
/// and all the arithmetic goes through `GEMM.multiply`. The product is laid out channel-major
/// (outC, samples, HW); one copy per (sample, channel) moves it to NCHW, adding the bias on the
/// way (and the activation that follows, when `Sequential` fuses it: `forward(_:training:then:)`).
///
/// A layer of one input channel and stride 1 (a network's first) has direct kernels instead,
/// which read the image itself: forward (`directForward`, the same bits as the multiply) and the
/// weight gradient (`directWeightGradient`). Its patches would be k·k copies of the image.
///
/// A large 3×3 layer of stride 1 goes through Winograd's F(2×2, 3×3) instead (`Winograd`,
/// `usesWinograd`): 16 matrix products on transformed 4×4 tiles, 2.25 times fewer
/// multiply-adds, the same values up to rounding.
///
/// `ReferenceConv2D` computes the same thing with plain loops, and the tests check they agree.
///
/// The batch is cut into `groups` fixed slices that run in parallel (`Parallel.forEach`); each
/// slice goes through its samples a chunk at a time, so that the chunk's patch matrix (about
/// half a megabyte) is still in cache when the multiply reads it. In training the patches are
/// kept for backward, chunk after chunk, when the whole batch's patch matrix holds at most
/// `keptPatchValues` values; otherwise (a large layer or batch) and after an inference forward,
/// backward builds each chunk's patches again, which costs a copy of the input but no memory
/// that grows with the batch (a one-channel layer's direct kernels need none). Each slice sums its own weight gradient, and the
/// slices' sums are added in order: the result does not depend on the thread count.
/// Every buffer is sized on the first batch and reused after.
public final class Conv2D: Layer {
    public let inChannels: Int
    public let outChannels: Int
    /// The side of the square kernel.
    public let kernelSize: Int
    public let stride: Int
    /// Zeros added on each side of the input, in pixels.
    public let padding: Int
    /// The kernels, `(outC, inC, k, k)` (PyTorch's layout).
    public let weight: Parameter
    /// The bias, `(outC)`, or nil.
    public let bias: Parameter?
    public var computesInputGradient = true

    /// The fixed slices of a batch that run in parallel.
    static let groups = 4
    /// About how many values a chunk's patch matrix holds: 128 Ki floats (512 KiB) unless set.
    /// It changes the speed, and the rounding of the weight gradient's sum, nothing else.
    public var chunkValues = 1 << 17
    /// The most patch values training keeps from forward for backward: none unless set (the
    /// patches are rebuilt in backward, a chunk at a time, in cache just before the multiply
    /// reads them, which measured no slower than reading kept patches back from memory:
    /// BENCHMARKS.md). A larger patch matrix is rebuilt. It changes the speed and the memory,
    /// not the results. A layer that uses its direct kernels (`usesDirectKernels`) keeps none:
    /// its backward reads no patches.
    public var keptPatchValues = 0
    /// Whether a layer of one input channel and stride 1 uses its direct kernels, which need no
    /// patches (`directForward`, `directWeightGradient`), rather than im2col and the multiply:
    /// on unless set, for tests and benchmarks that compare the two. The same forward bits; a
    /// weight gradient summed in another order.
    public var usesDirectKernels = true
    /// The direct forward's products with wider registers (`OneChannelProductsKernel`), or nil
    /// for the layer's own 8-lane loop: the default set at start-up
    /// (`Conv2D.defaultWideProducts`), changeable for tests and benchmarks. The same bits either way.
    public var wideProducts = Conv2D.defaultWideProducts
    /// The direct weight gradient's lane sums with wider registers (`OneChannelGradientKernel`),
    /// or nil: as `wideProducts`.
    public var wideGradientSums = Conv2D.defaultWideGradientSums
    /// Whether a 3×3 layer of stride 1 and padding at most 2 is computed with Winograd's
    /// F(2×2, 3×3) (`Winograd`) rather than im2col and the multiply: 2.25 times fewer
    /// multiply-adds, the same results up to rounding (not the same bits). nil (the default):
    /// where it measured faster (BENCHMARKS.md), layers of at least 32 input and 64 output
    /// channels on maps of at least 13 columns (seven 2×2 tiles a row, of a vector's eight
    /// lanes); on smaller layers its transforms cost more than the multiplies save. true: every
    /// such layer of more than one input channel; false: none.
    public var usesWinograd: Bool? = nil

    private var x: Tensor?                     // the last input, (B, inC, H, W)
    private var inH = 0, inW = 0, outH = 0, outW = 0, batch = 0
    private let y = Tensor(shape: [0])         // (B, outC, outH, outW)
    private let dx = Tensor(shape: [0])        // (B, inC, H, W)
    /// Per slice: a chunk's patches, (inC·k·k, chunk·HW), outside training.
    private let cols: [Tensor]
    /// In training, when they fit in `keptPatchValues`: every chunk's patches, chunk after chunk
    /// (inC·k·k · B·HW values), kept for backward.
    private let batchCols = Tensor(shape: [0])
    /// Whether `batchCols` holds the patches of the last input.
    private var colsKept = false
    /// Per slice: a chunk's product (outC, chunk·HW), and dz in backward.
    private let product: [Tensor]
    /// Per slice: a chunk's patch gradients, (inC·k·k, chunk·HW).
    private let dcols: [Tensor]
    /// Wᵀ, (inC·k·k, outC): the weights transposed once a backward, so that every chunk's
    /// input-gradient multiply reads them in place instead of packing them again.
    private let weightT = Tensor(shape: [0])
    /// Per slice, when a 2×2 pooling is fused: one output plane (outH·outW) before it is pooled,
    /// and in backward one pooled plane's dy·f'.
    private let planes: [Tensor]
    /// The kernels transformed for Winograd's forward, (16, outC, inC), and for its input
    /// gradient (16, inC, outC).
    private let winogradWeights = Tensor(shape: [0])
    private let winogradFlipped = Tensor(shape: [0])
    /// Per slice: its share of dWᵀ (inC·k·k, outC), or with Winograd of dUᵀ (16, inC, outC), and of db (outC).
    private let dWeight: [Tensor]
    private let dBias: [Tensor]
    /// Per slice, input planes inside their zero border (H + 2·padding, W + 2·padding): a
    /// chunk's images for `directWeightGradient`, one plane for im2col and col2im (stride 1).
    private let paddedImages: [Tensor]

    /// A convolution with weights drawn by `initializer` (fan-in inC·k·k) and bias by
    /// `biasInitializer`, in that order, from `rng`.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true,
                initializer: Initializer = .he, biasInitializer: Initializer = .zeros, rng: inout RandomSource) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
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
        let slices = 0..<Conv2D.groups
        cols = slices.map { _ in Tensor(shape: [0]) }
        product = slices.map { _ in Tensor(shape: [0]) }
        dcols = slices.map { _ in Tensor(shape: [0]) }
        planes = slices.map { _ in Tensor(shape: [0]) }
        dWeight = slices.map { _ in Tensor(shape: [inChannels * k2, outChannels]) }
        dBias = slices.map { _ in Tensor(shape: [outChannels]) }
        paddedImages = slices.map { _ in Tensor(shape: [0]) }
    }

    public var summary: String {
        var s = "Conv2D(\(inChannels) → \(outChannels), \(kernelSize)×\(kernelSize)"
        if stride != 1 { s += ", stride \(stride)" }
        if padding != 0 { s += ", padding \(padding)" }
        if bias == nil { s += ", no bias" }
        return s + ")"
    }

    public var spec: LayerSpec {
        .conv2d(inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize, stride: stride,
                padding: padding, bias: bias != nil)
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

    /// Samples per chunk: enough for about `chunkValues` patch values, at least one.
    private var chunkSamples: Int { max(1, chunkValues / max(patchSize * outH * outW, 1)) }

    /// Whether this layer's products go through `Winograd`.
    private var winograd: Bool {
        guard kernelSize == 3 && stride == 1 && padding <= 2 && inChannels > 1 else { return false }
        return usesWinograd ?? (inChannels >= 32 && outChannels >= 64 && outW >= 13)
    }

    /// Winograd's tiles of the output (forward, weight gradient) and of the input (input gradient).
    private var outputTiles: Winograd.Tiles { Winograd.Tiles(height: outH, width: outW) }
    private var inputTiles: Winograd.Tiles { Winograd.Tiles(height: inH, width: inW) }

    /// Samples per chunk with Winograd: enough for about `chunkValues` transformed values.
    private var winogradChunkSamples: Int {
        max(1, chunkValues / max(16 * max(inChannels, outChannels) * max(outputTiles.perSample, inputTiles.perSample), 1))
    }

    /// Sizes each slice's scratch for Winograd: its transformed inputs (`cols`) and products
    /// (`dcols`), 16 · channels · ld values, and a padded plane (`paddedImages`).
    private func reserveWinogradScratch() {
        let count = min(winogradChunkSamples, batch)
        let values = 16 * max(inChannels, outChannels) * max(outputTiles.ld(count: count), inputTiles.ld(count: count))
        for g in 0..<Conv2D.groups {
            cols[g].reshape(rows: 1, columns: values)
            dcols[g].reshape(rows: 1, columns: values)
            paddedImages[g].reshape(rows: 1, columns: max(outputTiles.paddedSize, inputTiles.paddedSize))
        }
    }

    /// Samples per chunk of the way this layer computes: Winograd's or im2col's.
    private var samplesPerChunk: Int { winograd ? winogradChunkSamples : chunkSamples }

    /// Runs `body(slice, first, count)` for every chunk of the batch, slices in parallel.
    private func forEachChunk(_ body: (_ slice: Int, _ first: Int, _ count: Int) -> Void) {
        let chunk = samplesPerChunk, batch = self.batch
        Parallel.forEach(Conv2D.groups) { g in
            let samples = Parallel.slice(g, of: Conv2D.groups, count: batch)
            var first = samples.lowerBound
            while first < samples.upperBound {
                let count = min(chunk, samples.upperBound - first)
                body(g, first, count)
                first += count
            }
        }
    }

    // x: (B, inC, H, W) -> y: (B, outC, outH, outW)
    public func forward(_ x: Tensor, training: Bool) -> Tensor { forward(x, training: training, then: nil) }

    // dy: (B, outC, outH, outW) -> dx: (B, inC, H, W); dW += dy · colsᵀ, db += Σ dy
    public func backward(_ dy: Tensor) -> Tensor? { backward(dy, through: nil) }

    // MARK: - Fused with the activation that follows

    /// y = f(conv(x) + b): the activation applied as each output plane is written. The same
    /// values as this layer's forward, then the activation layer's.
    ///
    /// With `pool` (a 2×2 max pooling, 2 apart: `MaxPool2D.fusesIntoConvolution`), each plane is
    /// pooled while it is still in cache, and only the pooled map and the pooling's notes are
    /// written (into `pool`'s buffers): the full map never goes to memory. The same values as
    /// this layer's forward, the activation layer's, then the pooling's.
    // x: (B, inC, H, W) -> y: (B, outC, outH, outW), or pooled: (B, outC, outH/2, outW/2)
    public func forward(_ x: Tensor, training: Bool, then activation: Activation?, pool: MaxPool2D? = nil) -> Tensor {
        precondition(x.shape.count == 4 && x.shape[1] == inChannels, "\(summary) got input of shape \(x.shape)")
        self.x = x
        batch = x.shape[0]; inH = x.shape[2]; inW = x.shape[3]
        outH = (inH + 2 * padding - kernelSize) / stride + 1
        outW = (inW + 2 * padding - kernelSize) / stride + 1
        let hw = outH * outW, kk = patchSize, outC = outChannels
        let pooled = pool?.fusedBuffers(inputShape: [batch, outC, outH, outW])
        if pooled == nil { y.reshape(batch: batch, channels: outC, height: outH, width: outW) }
        let winograd = self.winograd
        let most = min(samplesPerChunk, batch) * hw
        // A one-channel layer with its direct kernels reads no patches in backward: none kept.
        let oneChannel = usesDirectKernels && inChannels == 1 && stride == 1
        let keep = training && !oneChannel && !winograd && kk * batch * hw <= keptPatchValues
        // One input channel, stride 1: the direct kernel, which needs no patches, where it gives
        // the same bits as the multiply (see `directForward`).
        let direct = oneChannel && kk <= SIMDGEMM.kc && GEMM.kernel is SIMDGEMM
        if winograd { reserveWinogradScratch() }
        for g in 0..<Conv2D.groups {
            if !winograd {
                if !keep { cols[g].reshape(rows: kk, columns: most) }
                paddedImages[g].reshape(rows: 1, columns: paddedPlaneSize)
            }
            // The direct kernel's scratch (a padded image and its flat outputs) lives in the
            // product's buffer: at least as large as a chunk's product, which backward needs.
            product[g].reshape(rows: 1, columns: direct ? max(outC * most, directScratch) : outC * most)
            if pooled != nil { planes[g].reshape(rows: 1, columns: hw) }
        }
        colsKept = keep
        if keep { batchCols.reshape(rows: kk, columns: batch * hw) }
        let w = weight.value.data, biasData = bias?.value.data, yData = y.data, xData = x.data
        let kept = batchCols.data
        if winograd {
            winogradWeights.reshape(rows: 16, columns: outC * inChannels)
            Winograd.transformWeights(w, outChannels: outC, inChannels: inChannels, flipped: false, into: winogradWeights.data)
        }
        let u = UnsafePointer(winogradWeights.data), tiles = outputTiles
        let inC = inChannels, inPlane = inH * inW, inH = self.inH, inW = self.inW, padding = self.padding
        let pooledY = pooled?.y.data, pooledWhich = pooled?.which.data, pooledHW = (outH / 2) * (outW / 2)
        let outH = self.outH, outW = self.outW
        forEachChunk { g, first, count in
            let n = count * hw, p = product[g].data
            let poolInto = pooledY.flatMap { py in pooledWhich.map { (y: py, which: $0, plane: planes[g].data) } }
            if direct && !GEMMPlan.isSmall(m: outC, n: n, k: kk) {
                directForward(xData, first: first, count: count, scratch: p, into: yData, activation: activation,
                              pool: poolInto)
                return
            }
            if winograd {
                // product (outC, n) with Winograd's tiles, laid out as the multiply's.
                Winograd.convolve(xData + first * inC * inPlane, sampleStride: inC * inPlane, channelStride: inPlane,
                                  channels: inC, height: inH, width: inW, padding: padding, u: u, outChannels: outC,
                                  into: p, outSampleStride: hw, outChannelStride: n, tiles: tiles, count: count,
                                  v: cols[g].data, m: dcols[g].data, padded: paddedImages[g].data)
            } else {
                let c = keep ? kept + kk * first * hw : cols[g].data
                im2col(xData, first: first, count: count, into: c, scratch: paddedImages[g].data)
                // product (outC, n) = W (outC, kk) · cols (kk, n)
                GEMM.multiply(m: outC, n: n, k: kk, a: w, lda: kk, b: c, ldb: n, c: p, ldc: n, denseA: true)
            }
            // (outC, count, HW) -> (count, outC, HW), + bias, activation (and pooled, in place:
            // straight from the product when there is neither)
            for b in 0..<count {
                for o in 0..<outC {
                    let src = p + o * n + b * hw, plane = (first + b) * outC + o
                    guard let poolInto else {
                        Conv2D.finish(src, into: yData + plane * hw, hw, bias: biasData?[o] ?? 0, activation: activation)
                        continue
                    }
                    if biasData != nil || activation != nil {
                        Conv2D.finish(src, into: src, hw, bias: biasData?[o] ?? 0, activation: activation)
                    }
                    MaxPool2D.pool2x2(src, h: outH, w: outW, into: poolInto.y + plane * pooledHW,
                                      which: poolInto.which + plane * pooledHW)
                }
            }
        }
        return pooled?.y ?? y
    }

    /// dst[0 ..< count] = f(src + bias), eight values at a time (the activation's formula on
    /// eight values, the same as its plain loop's), the rest one at a time: src may be dst.
    @inline(__always)
    static func finish(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, _ count: Int,
                       bias: Float, activation: Activation?) {
        let add8 = SIMD8<Float>(repeating: bias)
        var i = 0
        while i + 8 <= count {
            var v = load8(src + i) + add8
            if let activation { v = activation(v) }
            store8(v, dst + i)
            i += 8
        }
        guard i < count else { return }
        for j in i..<count { dst[j] = src[j] + bias }
        activation?.forward(dst + i, dst + i, count - i)
    }

    /// The backward of `forward(_:training:then:pool:)`: dz = dy · f'(z), written from the output
    /// y, then this layer's backward with dz. With `pool`, dy is the pooled map's gradient: each
    /// window's goes to its noted maximum, times f' at that maximum (the pooled value), the
    /// others get 0, as the pooling's backward and the activation's would give them.
    // dy: (B, outC, outH, outW), or pooled (B, outC, outH/2, outW/2) -> dx: (B, inC, H, W);
    // dW += dz · colsᵀ, db += Σ dz
    public func backward(_ dy: Tensor, through activation: Activation?, pool: MaxPool2D? = nil) -> Tensor? {
        guard let x else { preconditionFailure("\(summary): backward before forward") }
        let hw = outH * outW, kk = patchSize, outC = outChannels
        let winograd = self.winograd
        let most = min(samplesPerChunk, batch) * hw
        let needDx = computesInputGradient, kept = colsKept ? batchCols.data : nil
        // One input channel, stride 1: the weight gradient without patches (`directWeightGradient`).
        let directGradient = usesDirectKernels && inChannels == 1 && stride == 1
        if winograd {
            reserveWinogradScratch()
            for g in 0..<Conv2D.groups { dWeight[g].reshape(rows: 16 * inChannels, columns: outC) }
        } else {
            if kept == nil && !directGradient {
                for g in 0..<Conv2D.groups { cols[g].reshape(rows: kk, columns: most) }
            }
            let padded = max(directGradient ? directGradientScratch : 0, paddedPlaneSize)
            for g in 0..<Conv2D.groups {
                paddedImages[g].reshape(rows: 1, columns: padded)
                dWeight[g].reshape(rows: kk, columns: outC)
            }
            if needDx {
                for g in 0..<Conv2D.groups { dcols[g].reshape(rows: kk, columns: most) }
            }
        }
        if needDx { dx.reshape(batch: batch, channels: inChannels, height: inH, width: inW) }
        let w = weight.value.data, yData = y.data, dyData = dy.data, xData = x.data, dxData = dx.data
        if needDx && winograd {
            winogradFlipped.reshape(rows: 16, columns: outC * inChannels)
            Winograd.transformWeights(w, outChannels: outC, inChannels: inChannels, flipped: true,
                                      into: winogradFlipped.data)
        } else if needDx {
            // Wᵀ (kk, outC) from W (outC, kk).
            weightT.reshape(rows: kk, columns: outC)
            let t = weightT.data
            for o in 0..<outC {
                for i in 0..<kk { t[i * outC + o] = w[o * kk + i] }
            }
        }
        let wT = UnsafePointer(weightT.data), flippedU = UnsafePointer(winogradFlipped.data)
        let inC = inChannels, inPlane = inH * inW, inH = self.inH, inW = self.inW, padding = self.padding
        let outTiles = outputTiles, inTiles = inputTiles
        let hasBias = bias != nil
        let pooled = pool?.fusedOutput, pooledHW = (outH / 2) * (outW / 2), outH = self.outH, outW = self.outW
        if pooled != nil {
            precondition(dy.count == batch * outC * pooledHW, "\(summary): pooled dy of shape \(dy.shape)")
            for g in 0..<Conv2D.groups { planes[g].reshape(rows: 1, columns: hw) }
        }
        let pooledY = pooled?.y.data, pooledWhich = pooled?.which.data
        for g in 0..<Conv2D.groups { dWeight[g].zero(); dBias[g].zero() }
        forEachChunk { g, first, count in
            let n = count * hw, dz = product[g].data
            // dz (outC, n) = dy · f'(y), moved to channel-major order.
            for b in 0..<count {
                for o in 0..<outC {
                    let off = ((first + b) * outC + o) * hw
                    let dst = dz + o * n + b * hw
                    if let pooledY, let pooledWhich {
                        // Through the fused pooling: f' at each window's maximum (its pooled
                        // value), then sent to where the maximum was; 0 elsewhere.
                        let at = ((first + b) * outC + o) * pooledHW
                        MaxPool2D.unpool2x2(which: pooledWhich + at, dy: dyData + at, through: activation,
                                            y: pooledY + at, scratch: planes[g].data, h: outH, w: outW, into: dst)
                    } else if let activation {
                        activation.backward(y: yData + off, dy: dyData + off, dx: dst, hw)
                    } else {
                        dst.update(from: dyData + off, count: hw)
                    }
                }
            }
            if hasBias {
                // db (outC) += Σ over this slice's positions of dz, channel by channel.
                VectorOps.addRowSums(dz, rows: outC, count: n, stride: n, into: dBias[g].data)
            }
            if winograd {
                // This slice's dUᵀ (16, inC, outC) += its share, from the input and dz.
                let v = cols[g].data, dM = dcols[g].data, padded = paddedImages[g].data
                Winograd.addWeightGradient(xData + first * inC * inPlane, sampleStride: inC * inPlane,
                                           channelStride: inPlane, channels: inC, height: inH, width: inW,
                                           padding: padding, dz: dz, dzSampleStride: hw, dzChannelStride: n,
                                           outChannels: outC, tiles: outTiles, count: count, into: dWeight[g].data,
                                           v: v, dM: dM, padded: padded)
                guard needDx else { return }
                // dx = dz (padded by 2 − padding) convolved with the kernels turned by 180°.
                Winograd.convolve(dz, sampleStride: hw, channelStride: n, channels: outC, height: outH, width: outW,
                                  padding: 2 - padding, u: flippedU, outChannels: inC,
                                  into: dxData + first * inC * inPlane, outSampleStride: inC * inPlane,
                                  outChannelStride: inPlane, tiles: inTiles, count: count, v: v, m: dM, padded: padded)
                return
            } else if directGradient {
                // One input channel, stride 1: dWᵀ from the image itself, no patches.
                directWeightGradient(xData, first: first, count: count, dz: dz, scratch: paddedImages[g].data,
                                     into: dWeight[g].data)
            } else {
                // This slice's dW (outC, kk) += dz (outC, n) · colsᵀ (n, kk), with the patches kept
                // from forward (or built again after an inference forward).
                let c: UnsafeMutablePointer<Float>
                if let kept {
                    c = kept + kk * first * hw
                } else {
                    c = cols[g].data
                    im2col(xData, first: first, count: count, into: c, scratch: paddedImages[g].data)
                }
                // Computed transposed, dWᵀ (kk, outC) += cols (kk, n) · dzᵀ (n, outC), so that the
                // channels, a multiple of 16 in most networks, fill the kernel's 16-wide tiles. The
                // patches of an image are mostly background zeros, which packing skips; deeper
                // layers' patches are dense, and the kernel finds that and reads them in place.
                GEMM.multiply(transB: true, m: kk, n: outC, k: n, a: c, lda: n, b: dz, ldb: n,
                              beta: 1, c: dWeight[g].data, ldc: outC)
            }
            guard needDx else { return }
            // dcols (kk, n) = Wᵀ (kk, outC) · dz (outC, n), then back into dx's samples.
            let dc = dcols[g].data
            GEMM.multiply(m: kk, n: n, k: outC, a: wT, lda: outC, b: dz, ldb: n, c: dc, ldc: n, denseA: true)
            col2im(dc, first: first, count: count, into: dxData, scratch: paddedImages[g].data)
        }
        // The slices' sums, added in order.
        let dW = weight.grad.data
        if winograd {
            let total = dWeight[0].data, count = dWeight[0].count
            for g in 1..<Conv2D.groups { VectorOps.add(dWeight[g].data, into: total, count) }
            Winograd.weightGradient(from: total, outChannels: outC, inChannels: inChannels, into: dW)
        } else {
            for g in 0..<Conv2D.groups {
                let part = dWeight[g].data
                for o in 0..<outC {
                    for i in 0..<kk { dW[o * kk + i] += part[i * outC + o] }
                }
            }
        }
        if let bias {
            for g in 0..<Conv2D.groups {
                for o in 0..<outC { bias.grad.data[o] += dBias[g].data[o] }
            }
        }
        return needDx ? dx : nil
    }

    // MARK: - The direct kernel of a one-channel layer

    /// Outputs computed a block at a time: 16 positions (two vectors) of six channels, twelve
    /// accumulators; with the two image vectors and a weight, fifteen of AVX2's sixteen registers
    /// (three vectors of four channels, also twelve, leave too few: one spills). Blocks of four
    /// and of one channel take the rest.
    private static let directBlock = 16

    /// The direct kernel's scratch, in values: a sample's padded image, (outH + k − 1) rows of
    /// Wp = outW + k − 1 (its zero border the padding, and zeros after it for the last block's
    /// reads), and its outputs at every padded position of the first outH rows, channel after
    /// channel.
    private var directScratch: Int {
        let wp = outW + kernelSize - 1, t = directPositions
        return outChannels * t + t + (kernelSize - 1) * wp + kernelSize
    }

    /// Padded positions computed a sample, outH·Wp rounded up to whole blocks.
    private var directPositions: Int {
        let wp = outW + kernelSize - 1, b = Conv2D.directBlock
        return (outH * wp + b - 1) / b * b
    }

    /// y[first ..< first+count] (count, outC, outH, outW) = f(W ⋆ x + bias) for one input channel
    /// and stride 1, without patches: output (oy, ox) of channel o is Σ over q = (ky, kx), in
    /// order, of W[o, q] · P[(oy + ky)·Wp + ox + kx], P the zero-padded image, Wp its width. Over
    /// the padded image's flat positions t = oy·Wp + ox each term is a run of P at offset
    /// ky·Wp + kx, so 16 positions of 4 channels are 8 vectors of multiply-adds (the columns
    /// ox ≥ outW are computed and dropped).
    ///
    /// The same bits as im2col and `GEMM.multiply`: each output is the same multiply-adds in the
    /// same order from zero (one k-block: k·k ≤ `SIMDGEMM.kc`), the padding the same +0s, and the
    /// bias and activation applied as forward applies them. Used only where `SIMDGEMM` would take
    /// its blocked path (its direct path for small products sums in another order).
    ///
    /// With `pool`, each finished plane goes to `pool.plane` and is pooled from there (as
    /// forward's copy does).
    private func directForward(_ x: UnsafePointer<Float>, first: Int, count: Int, scratch: UnsafeMutablePointer<Float>,
                               into y: UnsafeMutablePointer<Float>, activation: Activation?,
                               pool: (y: UnsafeMutablePointer<Float>, which: UnsafeMutablePointer<Float>,
                                      plane: UnsafeMutablePointer<Float>)?) {
        let k = kernelSize, outC = outChannels, outW = self.outW, outH = self.outH
        let inH = self.inH, inW = self.inW, hw = outH * outW
        let wp = outW + k - 1, positions = directPositions
        let z = scratch, image = scratch + outC * positions
        let imageSize = positions + (k - 1) * wp + k
        let w = UnsafePointer(weight.value.data), biasData = bias?.value.data
        image.update(repeating: 0, count: imageSize)
        for b in first..<(first + count) {
            // The sample inside its zero border.
            copyInsideBorder(x + b * inH * inW, into: image, width: wp)
            // z (outC, positions): every padded position's sums, with wider registers where given
            // (`OneChannelProductsKernel`; the same sums).
            if let wideProducts {
                wideProducts(image, wp, k, w, outC, positions, z)
            } else {
                Conv2D.directProducts(image, wp, k, w, outC, positions, z)
            }
            // The valid columns of each row, + bias, activation: as forward's copy does.
            for o in 0..<outC {
                let dst = pool?.plane ?? y + (b * outC + o) * hw, src = z + o * positions
                let add = biasData?[o] ?? 0
                for oy in 0..<outH {
                    Conv2D.finish(src + oy * wp, into: dst + oy * outW, outW, bias: add, activation: activation)
                }
                if let pool {
                    let pooledHW = (outH / 2) * (outW / 2), plane = b * outC + o
                    MaxPool2D.pool2x2(dst, h: outH, w: outW, into: pool.y + plane * pooledHW,
                                      which: pool.which + plane * pooledHW)
                }
            }
        }
    }

    /// The direct forward's sums, 16 positions (two vectors) of six channels at a time, then
    /// four, then one: z[o · positions + t] = Σ over q = (ky, kx), in order, of
    /// w[o, q] · image[t + ky·Wp + kx] (`OneChannelProductsKernel`'s contract, which wider loops
    /// also meet). Every output is the same chain of multiply-adds in a block of any size.
    // image: padded, rows Wp apart; w: (outC, k·k) -> z: (outC, positions)
    private static func directProducts(_ image: UnsafePointer<Float>, _ wp: Int, _ k: Int, _ w: UnsafePointer<Float>,
                                       _ outC: Int, _ positions: Int, _ z: UnsafeMutablePointer<Float>) {
        let kk = k * k, block = Conv2D.directBlock
        var t0 = 0
        while t0 < positions {
            let s = UnsafePointer(image + t0)
            var o = 0
            // Six channels while at least six are left, except eight (two blocks of four).
            while outC - o >= 6 && outC - o != 8 {
                let w0 = w + o * kk, w1 = w0 + kk, w2 = w1 + kk, w3 = w2 + kk, w4 = w3 + kk, w5 = w4 + kk
                var a00 = SIMD8<Float>(), a01 = SIMD8<Float>()
                var a10 = SIMD8<Float>(), a11 = SIMD8<Float>()
                var a20 = SIMD8<Float>(), a21 = SIMD8<Float>()
                var a30 = SIMD8<Float>(), a31 = SIMD8<Float>()
                var a40 = SIMD8<Float>(), a41 = SIMD8<Float>()
                var a50 = SIMD8<Float>(), a51 = SIMD8<Float>()
                var q = 0
                for ky in 0..<k {
                    for kx in 0..<k {
                        let at = s + (ky &* wp &+ kx)
                        let x0 = load8(at), x1 = load8(at + 8)
                        var c = SIMD8<Float>(repeating: w0[q])
                        a00 = madd(a00, c, x0); a01 = madd(a01, c, x1)
                        c = SIMD8<Float>(repeating: w1[q])
                        a10 = madd(a10, c, x0); a11 = madd(a11, c, x1)
                        c = SIMD8<Float>(repeating: w2[q])
                        a20 = madd(a20, c, x0); a21 = madd(a21, c, x1)
                        c = SIMD8<Float>(repeating: w3[q])
                        a30 = madd(a30, c, x0); a31 = madd(a31, c, x1)
                        c = SIMD8<Float>(repeating: w4[q])
                        a40 = madd(a40, c, x0); a41 = madd(a41, c, x1)
                        c = SIMD8<Float>(repeating: w5[q])
                        a50 = madd(a50, c, x0); a51 = madd(a51, c, x1)
                        q &+= 1
                    }
                }
                let z0 = z + o * positions + t0, z1 = z0 + positions, z2 = z1 + positions
                let z3 = z2 + positions, z4 = z3 + positions, z5 = z4 + positions
                store8(a00, z0); store8(a01, z0 + 8)
                store8(a10, z1); store8(a11, z1 + 8)
                store8(a20, z2); store8(a21, z2 + 8)
                store8(a30, z3); store8(a31, z3 + 8)
                store8(a40, z4); store8(a41, z4 + 8)
                store8(a50, z5); store8(a51, z5 + 8)
                o += 6
            }
            while o + 4 <= outC {
                let w0 = w + o * kk, w1 = w0 + kk, w2 = w1 + kk, w3 = w2 + kk
                var a00 = SIMD8<Float>(), a01 = SIMD8<Float>()
                var a10 = SIMD8<Float>(), a11 = SIMD8<Float>()
                var a20 = SIMD8<Float>(), a21 = SIMD8<Float>()
                var a30 = SIMD8<Float>(), a31 = SIMD8<Float>()
                var q = 0
                for ky in 0..<k {
                    for kx in 0..<k {
                        let at = s + (ky * wp + kx)
                        let x0 = load8(at), x1 = load8(at + 8)
                        var c = SIMD8<Float>(repeating: w0[q])
                        a00 = madd(a00, c, x0); a01 = madd(a01, c, x1)
                        c = SIMD8<Float>(repeating: w1[q])
                        a10 = madd(a10, c, x0); a11 = madd(a11, c, x1)
                        c = SIMD8<Float>(repeating: w2[q])
                        a20 = madd(a20, c, x0); a21 = madd(a21, c, x1)
                        c = SIMD8<Float>(repeating: w3[q])
                        a30 = madd(a30, c, x0); a31 = madd(a31, c, x1)
                        q += 1
                    }
                }
                let z0 = z + o * positions + t0, z1 = z0 + positions, z2 = z1 + positions, z3 = z2 + positions
                store8(a00, z0); store8(a01, z0 + 8)
                store8(a10, z1); store8(a11, z1 + 8)
                store8(a20, z2); store8(a21, z2 + 8)
                store8(a30, z3); store8(a31, z3 + 8)
                o += 4
            }
            while o < outC {
                let w0 = w + o * kk
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
                var q = 0
                for ky in 0..<k {
                    for kx in 0..<k {
                        let at = s + (ky * wp + kx)
                        let c = SIMD8<Float>(repeating: w0[q])
                        a0 = madd(a0, c, load8(at)); a1 = madd(a1, c, load8(at + 8))
                        q += 1
                    }
                }
                let z0 = z + o * positions + t0
                store8(a0, z0); store8(a1, z0 + 8)
                o += 1
            }
            t0 += block
        }
    }

    /// One input plane (inH, inW) into `image`, rows `width` apart, inside a border of `padding`
    /// values that the caller has zeroed: the padded image the direct kernels read.
    @inline(__always)
    private func copyInsideBorder(_ plane: UnsafePointer<Float>, into image: UnsafeMutablePointer<Float>, width: Int) {
        VectorOps.copyRows(plane, stride: inW, into: image + padding * width + padding, stride: width, rows: inH, width: inW)
    }

    // MARK: - The direct weight gradient of a one-channel layer

    /// The scratch of `directWeightGradient`, in values: a chunk's padded images, when there is
    /// padding (without, it reads the input in place).
    private var directGradientScratch: Int {
        padding == 0 ? 0 : min(chunkSamples, batch) * (inH + 2 * padding) * (inW + 2 * padding)
    }

    /// dWᵀ (k·k, outC) += the weight gradient of samples first ..< first+count, for one input
    /// channel and stride 1, without patches:
    ///
    ///     dW[o, ky, kx] = Σ over samples and outputs (oy, ox) of dz[o, oy, ox] · P[oy + ky, ox + kx]
    ///
    /// P the zero-padded image. For two channels, one kernel column and up to five kernel rows at
    /// a time, eight adjacent outputs ox are multiplied at once into ten vectors of sums that run
    /// over the whole chunk, then are added across their lanes. A row's columns past the last
    /// multiple of 8 (`tail` of them) are one more vector, the row's last eight columns, with
    /// the dz of the columns already done read as 0 (a map narrower than 8, one at a time
    /// after the vectors' sums). The image is read a row apart (ky) in a pass, not
    /// a column apart: loads one value apart would overlap, and the compiler turns them into
    /// shuffles. (Laying dz out with P's row width, to run over a sample in one loop rather than
    /// a loop a row, measured slower: the copy and the zero columns cost more than the loops.)
    ///
    /// Another order of the same sums than im2col and the multiply (`ConvParallelTests` checks
    /// them close), fixed for any thread count, as the chunks are.
    // x: (B, 1, H, W), dz: (outC, count·outH·outW) -> dWT: (k·k, outC), added to
    private func directWeightGradient(_ x: UnsafePointer<Float>, first: Int, count: Int, dz: UnsafePointer<Float>,
                                      scratch: UnsafeMutablePointer<Float>, into dWT: UnsafeMutablePointer<Float>) {
        let k = kernelSize, p = padding, outC = outChannels, outW = self.outW, outH = self.outH
        let inH = self.inH, inW = self.inW, hw = outH * outW, n = count * hw
        let wp = inW + 2 * p, hp = inH + 2 * p
        // The chunk's images: in place without padding, else copied inside a zero border.
        let images: UnsafePointer<Float>
        if p == 0 {
            images = x + first * inH * inW
        } else {
            scratch.update(repeating: 0, count: count * hp * wp)
            for b in 0..<count {
                copyInsideBorder(x + (first + b) * inH * inW, into: scratch + b * hp * wp, width: wp)
            }
            images = UnsafePointer(scratch)
        }
        let vectorW = outW / 8 * 8
        // The columns past vectorW done as one more vector, at tailAt, and the lanes of that
        // vector whose dz is read as 0 (columns before vectorW, already done).
        let tail = outW >= 8 ? outW - vectorW : 0, tailAt = vectorW + tail - 8
        let done = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) .< SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: 8 - tail))
        // Sums of channels o and o2 (the same channel when o is the last of an odd count) for kernel
        // column kx and rows ky0 ..< ky0 + height (height ≤ 5, a constant where it is inlined).
        @inline(__always) func sums(_ o: Int, _ o2: Int, _ kx: Int, _ ky0: Int, _ height: Int) {
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>(), a4 = SIMD8<Float>()
            var b0 = SIMD8<Float>(), b1 = SIMD8<Float>(), b2 = SIMD8<Float>(), b3 = SIMD8<Float>(), b4 = SIMD8<Float>()
            let w1 = wp, w2 = 2 * wp, w3 = 3 * wp, w4 = 4 * wp
            for b in 0..<count {
                let image = images + b * hp * wp + ky0 * wp + kx
                let da = dz + o * n + b * hw, db = dz + o2 * n + b * hw
                for oy in 0..<outH {
                    let row = image + oy * wp, ra = da + oy * outW, rb = db + oy * outW
                    // Eight columns from ox, dz ga and gb: every kernel row's sums.
                    @inline(__always) func columns(_ ox: Int, _ ga: SIMD8<Float>, _ gb: SIMD8<Float>) {
                        let s = row + ox
                        var v = load8(s); a0 = madd(a0, ga, v); b0 = madd(b0, gb, v)
                        if height > 1 { v = load8(s + w1); a1 = madd(a1, ga, v); b1 = madd(b1, gb, v) }
                        if height > 2 { v = load8(s + w2); a2 = madd(a2, ga, v); b2 = madd(b2, gb, v) }
                        if height > 3 { v = load8(s + w3); a3 = madd(a3, ga, v); b3 = madd(b3, gb, v) }
                        if height > 4 { v = load8(s + w4); a4 = madd(a4, ga, v); b4 = madd(b4, gb, v) }
                    }
                    var ox = 0
                    while ox < vectorW {
                        columns(ox, load8(ra + ox), load8(rb + ox))
                        ox += 8
                    }
                    if tail > 0 {
                        columns(tailAt, load8(ra + tailAt).replacing(with: 0, where: done),
                                load8(rb + tailAt).replacing(with: 0, where: done))
                    }
                }
            }
            @inline(__always) func add(_ i: Int, _ sa: Float, _ sb: Float) {
                guard i < height else { return }
                let q = (ky0 + i) * k + kx
                dWT[q * outC + o] += sa
                if o2 != o { dWT[q * outC + o2] += sb }
            }
            add(0, a0.sum(), b0.sum())
            add(1, a1.sum(), b1.sum())
            add(2, a2.sum(), b2.sum())
            add(3, a3.sum(), b3.sum())
            add(4, a4.sum(), b4.sum())
        }
        // A map narrower than 8: its columns a value at a time, after the (empty) vectors' sums.
        func tailSums(_ o: Int) {
            for ky in 0..<k {
                for kx in 0..<k {
                    var sum: Float = 0
                    for b in 0..<count {
                        let image = images + b * hp * wp + ky * wp + kx, d = dz + o * n + b * hw
                        for oy in 0..<outH {
                            for ox in vectorW..<outW { sum = madd(sum, d[oy * outW + ox], image[oy * wp + ox]) }
                        }
                    }
                    dWT[(ky * k + kx) * outC + o] += sum
                }
            }
        }
        if let wide = wideGradientSums {
            // Four channels at a time with wider registers (`OneChannelGradientKernel`): the same
            // lanes, added across and into dWᵀ as above. Channel c of a group is o + c, the last
            // channel repeated past the end (and added once).
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * 5 * 8) { buffer in
                let sums = buffer.baseAddress!
                var o = 0
                while o < outC {
                    @inline(__always) func channel(_ c: Int) -> Int { min(o + c, outC - 1) }
                    let pairs = outC - o > 2 ? 2 : 1, last = min(o + 2 * pairs, outC)
                    for kx in 0..<k {
                        var ky0 = 0
                        while ky0 < k {
                            let height = min(5, k - ky0)
                            wide(images + ky0 * wp + kx, hp * wp, wp,
                                 dz + channel(0) * n, dz + channel(1) * n, dz + channel(2) * n, dz + channel(3) * n,
                                 pairs, count, hw, outH, outW, vectorW, tail, height, sums)
                            for c in 0..<(last - o) {
                                for i in 0..<height {
                                    dWT[((ky0 + i) * k + kx) * outC + o + c] += load8(sums + (c * 5 + i) * 8).sum()
                                }
                            }
                            ky0 += 5
                        }
                    }
                    if vectorW + tail < outW {
                        for c in o..<last { tailSums(c) }
                    }
                    o = last
                }
            }
            return
        }
        var o = 0
        while o < outC {
            let o2 = min(o + 1, outC - 1)
            for kx in 0..<k {
                var ky0 = 0
                while ky0 < k {
                    switch min(5, k - ky0) {
                    case 5: sums(o, o2, kx, ky0, 5)
                    case 4: sums(o, o2, kx, ky0, 4)
                    case 3: sums(o, o2, kx, ky0, 3)
                    case 2: sums(o, o2, kx, ky0, 2)
                    default: sums(o, o2, kx, ky0, 1)
                    }
                    ky0 += 5
                }
            }
            if vectorW + tail < outW {
                tailSums(o)
                if o2 != o { tailSums(o2) }
            }
            o += 2
        }
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

    /// Where kernel value q = ky·k + kx reads in a plane whose rows are `rowWidth` apart.
    @inline(__always)
    private func kernelOffset(_ q: Int, rowWidth: Int) -> Int {
        (q / kernelSize) * rowWidth + q % kernelSize
    }

    /// Values of one padded plane for im2col and col2im: an input plane inside its zero border, with stride 1 and
    /// padding (else none).
    private var paddedPlaneSize: Int {
        stride == 1 && padding > 0 ? (inH + 2 * padding) * (inW + 2 * padding) : 0
    }

    /// x[first ..< first+count] (count, inC, H, W) -> cols (inC·k·k, count·outH·outW); zeros where
    /// a patch overhangs the padding.
    ///
    /// Row (c, ky, kx) of cols holds, for each sample and output pixel (oy, ox), the input pixel
    /// (oy·s − p + ky, ox·s − p + kx) of channel c. With stride 1 the patches are built a plane
    /// at a time (the plane stays in L1 while its k·k rows are written), every output row a run
    /// of an input row; with padding, of a row of the plane copied inside a zero border first
    /// (`scratch`, `paddedPlaneSize` values): no test for the border in the copies.
    private func im2col(_ x: UnsafePointer<Float>, first: Int, count: Int, into cols: UnsafeMutablePointer<Float>,
                        scratch: UnsafeMutablePointer<Float>) {
        let k = kernelSize, s = stride, p = padding, hw = outH * outW, n = count * hw, planeSize = inH * inW
        let outW = self.outW, outH = self.outH, inW = self.inW
        let x = x + first * inChannels * planeSize
        if s == 1 {
            // Plane after plane: each (ky, kx) row of its patches a run of a row of the plane,
            // read from L1 (inside its border, when there is padding).
            let wp = inW + 2 * p
            if p > 0 { scratch.update(repeating: 0, count: paddedPlaneSize) }
            for c in 0..<inChannels {
                for b in 0..<count {
                    let plane = x + (b * inChannels + c) * planeSize
                    if p > 0 { copyInsideBorder(plane, into: scratch, width: wp) }
                    let source = p > 0 ? UnsafePointer(scratch) : plane
                    for q in 0..<(k * k) {
                        var src = source + kernelOffset(q, rowWidth: wp)
                        var dst = cols + (c * k * k + q) * n + b * hw
                        for _ in 0..<outH {
                            VectorOps.copy(src, dst, outW)
                            src += wp
                            dst += outW
                        }
                    }
                }
            }
            return
        }
        // Stride 2 or more: each output column reads every s-th value of an input row, and
        // zeros where the patch overhangs the padding.
        for c in 0..<inChannels {
            for ky in 0..<k {
                let oys = validRange(kernelOffset: ky, inSize: inH, outSize: outH)
                for kx in 0..<k {
                    let row = cols + ((c * k + ky) * k + kx) * n
                    let oxs = validRange(kernelOffset: kx, inSize: inW, outSize: outW)
                    let lo = oxs.lowerBound, hi = oxs.upperBound
                    for b in 0..<count {
                        let plane = x + (b * inChannels + c) * planeSize
                        let out = row + b * hw
                        out.update(repeating: 0, count: oys.lowerBound * outW)
                        var dst = out + oys.lowerBound * outW
                        // The input row of output row oy, shifted so that column ox reads src[ox·s].
                        var src = plane + (oys.lowerBound * s - p + ky) * inW - p + kx
                        for _ in oys {
                            for ox in 0..<lo { dst[ox] = 0 }
                            for ox in lo..<hi { dst[ox] = src[ox * s] }
                            for ox in hi..<outW { dst[ox] = 0 }
                            dst += outW
                            src += s * inW
                        }
                        (out + oys.upperBound * outW).update(repeating: 0, count: (outH - oys.upperBound) * outW)
                    }
                }
            }
        }
    }

    /// dcols (inC·k·k, count·outH·outW) -> dx[first ..< first+count] (count, inC, H, W), every
    /// patch's share added, (ky, kx) in order, into each input pixel from zero. With stride 1,
    /// a plane at a time (it stays in L1 while its k·k rows are added in), each row of shares
    /// added into a run of the plane; with padding, into `scratch`, the plane inside its border,
    /// whose inside is then copied to dx: the same additions in the same order, none tested for
    /// the border.
    private func col2im(_ dcols: UnsafePointer<Float>, first: Int, count: Int, into dx: UnsafeMutablePointer<Float>,
                        scratch: UnsafeMutablePointer<Float>) {
        let k = kernelSize, s = stride, p = padding, hw = outH * outW, n = count * hw, planeSize = inH * inW
        let outW = self.outW, outH = self.outH, inW = self.inW, inH = self.inH
        let dx = dx + first * inChannels * planeSize
        if s == 1 {
            // Plane after plane: its shares added in L1 (inside its border, when there is
            // padding, and the inside copied out).
            let wp = inW + 2 * p
            for c in 0..<inChannels {
                for b in 0..<count {
                    let plane = dx + (b * inChannels + c) * planeSize
                    let target = p > 0 ? scratch : plane
                    target.update(repeating: 0, count: p > 0 ? paddedPlaneSize : planeSize)
                    for q in 0..<(k * k) {
                        var from = dcols + (c * k * k + q) * n + b * hw
                        var to = target + kernelOffset(q, rowWidth: wp)
                        for _ in 0..<outH {
                            VectorOps.add(from, into: to, outW)
                            from += outW
                            to += wp
                        }
                    }
                    if p > 0 {
                        VectorOps.copyRows(scratch + p * wp + p, stride: wp, into: plane, stride: inW, rows: inH, width: inW)
                    }
                }
            }
            return
        }
        // Stride 2 or more: each share added to every s-th value of an input row, none where the
        // patch overhangs the padding.
        dx.update(repeating: 0, count: count * inChannels * planeSize)
        for c in 0..<inChannels {
            for ky in 0..<k {
                let oys = validRange(kernelOffset: ky, inSize: inH, outSize: outH)
                for kx in 0..<k {
                    let row = dcols + ((c * k + ky) * k + kx) * n
                    let oxs = validRange(kernelOffset: kx, inSize: inW, outSize: outW)
                    let lo = oxs.lowerBound, hi = oxs.upperBound
                    guard lo < hi else { continue }
                    for b in 0..<count {
                        let plane = dx + (b * inChannels + c) * planeSize
                        var from = row + b * hw + oys.lowerBound * outW
                        var to = plane + (oys.lowerBound * s - p + ky) * inW - p + kx
                        for _ in oys {
                            for ox in lo..<hi { to[ox * s] += from[ox] }
                            from += outW
                            to += s * inW
                        }
                    }
                }
            }
        }
    }
}
