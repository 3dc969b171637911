import DigitsCore
import Testing

/// The batch-parallel paths of the convolutional layers: several chunks per slice, the no-padding
/// fast path, the vectorised 2×2 pooling, and the same bits on any number of threads.
@Suite struct ConvParallelTests {
    /// dW[o, c, ky, kx] = Σ dy[b, o, i, j] · x[b, c, i·s − p + ky, j·s − p + kx], and dx likewise, in Double.
    static func directBackward(_ x: Tensor, _ dy: Tensor, _ conv: Conv2D) -> (dW: [Double], dx: [Double]) {
        let r = ReferenceConv2D.backward(ReferenceConv2D.Shape(conv), x: x, weight: conv.weight.value, dy: dy)
        return (r.dWeight, r.dx)
    }

    @Test("Conv2D on a batch of several chunks per slice matches direct loops, forward and backward",
          arguments: [(3, 1, 1), (5, 1, 0), (3, 2, 1)])
    func largeBatch(shape: (k: Int, stride: Int, padding: Int)) {
        var rng = RandomSource(seed: 21)
        let conv = Conv2D(2, 16, kernelSize: shape.k, stride: shape.stride, padding: shape.padding,
                          initializer: .xavier, biasInitializer: .uniform(low: -0.5, high: 0.5), rng: &rng)
        // Chunks of 2 samples (8 for stride 2), 11 samples in 4 slices of 2 or 3: up to two chunks a slice.
        conv.chunkValues = 4_000
        let x = randomTensor([11, 2, 10, 10], &rng)
        let y = conv.forward(x, training: true)
        expectClose(y.array, ConvLayerTests.directConvolution(x, conv).map { Float($0) },
                    relative: 1e-4, absolute: 1e-4, "forward")
        let dy = randomTensor(y.shape, &rng)
        let dx = conv.backward(dy)
        let expected = Self.directBackward(x, dy, conv)
        expectClose(conv.weight.grad.array, expected.dW.map { Float($0) }, relative: 1e-4, absolute: 1e-3, "dW")
        expectClose(dx?.array ?? [], expected.dx.map { Float($0) }, relative: 1e-4, absolute: 1e-4, "dx")
        var db = [Float](repeating: 0, count: 16)
        for n in 0..<11 { for o in 0..<16 { for i in 0..<y.shape[2] { for j in 0..<y.shape[3] { db[o] += dy[n, o, i, j] } } } }
        expectClose(conv.bias!.grad.array, db, relative: 1e-4, absolute: 1e-3, "db")
    }

    @Test("Conv2D backward after an inference forward builds the patches again, with the same result")
    func backwardAfterInference() {
        var rng = RandomSource(seed: 4)
        let conv = Conv2D(2, 4, kernelSize: 3, padding: 1, rng: &rng)
        let x = randomTensor([9, 2, 12, 12], &rng), dy = randomTensor([9, 4, 12, 12], &rng)
        _ = conv.forward(x, training: true)
        let dxTraining = conv.backward(dy)?.array, dWTraining = conv.weight.grad.array
        conv.weight.grad.zero()
        _ = conv.forward(x, training: false)
        #expect(conv.backward(dy)?.array == dxTraining)
        #expect(conv.weight.grad.array == dWTraining)
    }

    @Test("Conv2D training that rebuilds its patches in backward (past keptPatchValues) gives the same bits as keeping them",
          arguments: [(3, 1, 1), (5, 1, 0), (3, 2, 1)])
    func patchesRebuiltInTraining(shape: (k: Int, stride: Int, padding: Int)) {
        var rng = RandomSource(seed: 8)
        let x = randomTensor([11, 3, 10, 10], &rng)
        var results: [(y: [Float], dx: [Float], dW: [Float], db: [Float])] = []
        for kept in [Int.max, 0] {
            var init_ = RandomSource(seed: 5)
            let conv = Conv2D(3, 8, kernelSize: shape.k, stride: shape.stride, padding: shape.padding,
                              biasInitializer: .uniform(low: -0.5, high: 0.5), rng: &init_)
            conv.chunkValues = 2_000                    // several chunks a slice
            conv.keptPatchValues = kept
            var dyRNG = RandomSource(seed: 9)
            // Two steps, so that a second batch reuses the buffers the first one sized.
            var last: (y: [Float], dx: [Float], dW: [Float], db: [Float]) = ([], [], [], [])
            for _ in 0..<2 {
                let y = conv.forward(x, training: true)
                let dy = randomTensor(y.shape, &dyRNG)
                let dx = conv.backward(dy)
                last = (y.array, dx?.array ?? [], conv.weight.grad.array, conv.bias!.grad.array)
            }
            results.append(last)
        }
        #expect(results[0].y == results[1].y)
        #expect(results[0].dx == results[1].dx)
        #expect(results[0].dW == results[1].dW)
        #expect(results[0].db == results[1].db)
        #expect(!results[0].dW.allSatisfy { $0 == 0 })
    }

    @Test("Conv2D's direct kernels for one input channel: forward the same bits as im2col and the multiply, dW right",
          arguments: [(5, 0, 16, true), (5, 2, 7, false), (3, 1, 13, true), (7, 3, 5, true), (4, 0, 3, false),
                      (7, 0, 4, true)])
    func directOneChannel(shape: (k: Int, padding: Int, outC: Int, bias: Bool)) {
        var rng = RandomSource(seed: 12)
        let x = randomTensor([9, 1, 12, 12], &rng)
        // `usesDirectKernels` off: im2col and the multiply, with the patches kept for backward or
        // built again; on, keeping patches changes nothing (the direct kernels read none).
        var results: [(y: [Float], dx: [Float], dW: [Float])] = []
        for (kept, direct) in [(0, true), (Int.max, true), (0, false), (Int.max, false)] {
            var init_ = RandomSource(seed: 6)
            let conv = Conv2D(1, shape.outC, kernelSize: shape.k, padding: shape.padding, bias: shape.bias,
                              biasInitializer: .uniform(low: -0.5, high: 0.5), rng: &init_)
            conv.keptPatchValues = kept
            conv.usesDirectKernels = direct
            conv.chunkValues = 2_000                    // several chunks a slice
            var dyRNG = RandomSource(seed: 3)
            let y = conv.forward(x, training: true, then: .relu)
            let yValues = y.array
            let dy = randomTensor(y.shape, &dyRNG)
            let dx = conv.backward(dy, through: .relu)
            results.append((yValues, dx?.array ?? [], conv.weight.grad.array))
            if kept == 0 && direct {
                // And right, not only the same: the plain loops, then ReLU.
                var expected = ConvLayerTests.directConvolution(x, conv).map { Float($0) }
                for i in expected.indices { expected[i] = max(expected[i], 0) }
                expectClose(yValues, expected, relative: 1e-4, absolute: 1e-4, "forward")
                // The weight gradient (the direct one, without patches, on either path): the plain
                // loops' with dz = dy · ReLU'.
                let dz = Tensor(shape: y.shape, values: zip(yValues, dy.array).map { $0 > 0 ? $1 : 0 })
                let dW = Self.directBackward(x, dz, conv).dW.map { Float($0) }
                expectClose(conv.weight.grad.array, dW, relative: 1e-4, absolute: 1e-4, "dW")
            }
        }
        for r in results.dropFirst() {
            #expect(r.y == results[0].y)
            #expect(r.dx == results[0].dx)
        }
        #expect(results[0].dW == results[1].dW)
        #expect(results[2].dW == results[3].dW)
        // Im2col and the multiply sum the weight gradient in another order.
        expectClose(results[2].dW, results[0].dW, relative: 1e-4, absolute: 1e-4, "dW, im2col against direct")
        #expect(!results[0].y.allSatisfy { $0 == 0 })
    }

    /// The first of the window's values, in reading order, that equals its maximum.
    static func referencePool(_ x: Tensor, _ dy: Tensor) -> (y: [Float], dx: [Float]) {
        let b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3], oh = h / 2, ow = w / 2
        var y = [Float](repeating: 0, count: b * c * oh * ow), dx = [Float](repeating: 0, count: x.count)
        for n in 0..<b { for ch in 0..<c { for i in 0..<oh { for j in 0..<ow {
            var best = (2 * i, 2 * j)
            for (dy_, dx_) in [(0, 1), (1, 0), (1, 1)] where x[n, ch, 2 * i + dy_, 2 * j + dx_] > x[n, ch, best.0, best.1] {
                best = (2 * i + dy_, 2 * j + dx_)
            }
            let out = ((n * c + ch) * oh + i) * ow + j
            y[out] = x[n, ch, best.0, best.1]
            dx[((n * c + ch) * h + best.0) * w + best.1] += dy[n, ch, i, j]
        } } } }
        return (y, dx)
    }

    @Test("MaxPool2D 2×2: eight, four and one window at a time, ties to the first maximum, odd edges",
          arguments: [[3, 2, 26, 26], [2, 3, 9, 27], [1, 1, 4, 16]])
    func pool2x2(shape: [Int]) {
        var rng = RandomSource(seed: 8)
        // Values from {0, 1, 2}: many ties, as after a ReLU.
        let x = Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in Float(rng.next() % 3) })
        let pool = MaxPool2D(kernelSize: 2)
        let y = pool.forward(x, training: true)
        let dy = randomTensor(y.shape, &rng)
        let expected = Self.referencePool(x, dy)
        #expect(y.array == expected.y)
        #expect(pool.backward(dy)?.array == expected.dx)
    }

    @Test("Conv2D, BatchNorm, ReLU and MaxPool (also a pooling fused into its convolution) give the same bits on 1, 2 and 3 threads")
    func sameBitsAnyThreads() throws {
        func run(threads: Int) throws -> [[Float]] {
            try Parallel.$threadCount.withValue(threads) {
                var rng = RandomSource(seed: 12)
                let model = try Sequential(inputShape: [1, 20, 20], specs: [
                    // Padded: the direct one-channel kernels' padded images; 20×20 maps: BatchNorm's
                    // per-plane path (its small planes are gathered, SequentialTests).
                    .conv2d(inChannels: 1, outChannels: 8, kernelSize: 5, stride: 1, padding: 2, bias: false),
                    .batchNorm(channels: 8, momentum: 0.1, epsilon: 1e-5), .maxPool2d(kernelSize: 2, stride: 2),
                    .activation(.relu),
                    .conv2d(inChannels: 8, outChannels: 16, kernelSize: 3, stride: 1, padding: 1, bias: true), .activation(.relu),
                    .maxPool2d(kernelSize: 2, stride: 2),                                     // fused: (16, 5, 5)
                    .flatten, .dense(inputs: 16 * 25, outputs: 10, bias: true),
                ], initializer: .he, rng: &rng)
                #expect(model.stepRanges.contains(4..<7), "the second convolution, its ReLU and its pooling run as one step")
                let x = randomTensor([37, 1, 20, 20], &rng)
                let y = model.forward(x, training: true)
                model.backward(randomTensor(y.shape, &rng))
                return [y.array] + model.parameters.map(\.grad.array)
            }
        }
        let one = try run(threads: 1)
        #expect(try run(threads: 2) == one)
        #expect(try run(threads: 3) == one)
    }

    /// x (B, C, H, W) inside a zero border of `p` pixels: (B, C, H + 2p, W + 2p).
    static func padded(_ x: Tensor, _ p: Int) -> Tensor {
        let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let out = Tensor(shape: [b, c, h + 2 * p, w + 2 * p])
        for n in 0..<b { for ch in 0..<c { for i in 0..<h { for j in 0..<w { out[n, ch, i + p, j + p] = x[n, ch, i, j] } } } }
        return out
    }

    @Test("a stride-1 Conv2D with padding gives the same bits as without, on the input padded by hand (y, dW, the inside of dx)",
          arguments: [(3, 5, 3, 1, 9), (2, 4, 5, 2, 12), (4, 3, 3, 2, 7), (1, 6, 5, 2, 11), (3, 2, 7, 3, 8)])
    func paddingAsABorder(shape: (inC: Int, outC: Int, k: Int, padding: Int, size: Int)) {
        var rng = RandomSource(seed: 12)
        let x = randomTensor([7, shape.inC, shape.size, shape.size], &rng)
        let dy = randomTensor([7, shape.outC, shape.size + 2 * shape.padding - shape.k + 1,
                               shape.size + 2 * shape.padding - shape.k + 1], &rng)
        var results: [(y: [Float], dW: [Float], dx: Tensor)] = []
        for (input, padding) in [(x, shape.padding), (Self.padded(x, shape.padding), 0)] {
            var init_ = RandomSource(seed: 3)
            let conv = Conv2D(shape.inC, shape.outC, kernelSize: shape.k, padding: padding, bias: false, rng: &init_)
            conv.usesDirectKernels = false              // im2col and col2im for one channel too
            conv.chunkValues = 1_500                    // several chunks a slice
            let y = conv.forward(input, training: true).array
            let dx = conv.backward(dy)!
            results.append((y, conv.weight.grad.array, Tensor(shape: dx.shape, values: dx.array)))
        }
        #expect(results[0].y.map(\.bitPattern) == results[1].y.map(\.bitPattern))
        #expect(results[0].dW.map(\.bitPattern) == results[1].dW.map(\.bitPattern))
        let p = shape.padding, inside = results[1].dx
        var same = true
        for n in 0..<7 { for c in 0..<shape.inC { for i in 0..<shape.size { for j in 0..<shape.size {
            same = same && results[0].dx[n, c, i, j].bitPattern == inside[n, c, i + p, j + p].bitPattern
        } } } }
        #expect(same, "dx differs from the padded input's dx inside the border")
        #expect(!results[0].dW.allSatisfy { $0 == 0 })
    }
}
