import DigitsCore
import DigitsModelFile
import Foundation
import Testing

/// The convolutional layers: forward against plain loops, backward against finite differences.
@Suite struct ConvLayerTests {
    /// y[b, o, i, j] = bias[o] + Σ_c,ky,kx W[o, c, ky, kx] · x[b, c, i·s − p + ky, j·s − p + kx], in Double.
    static func directConvolution(_ x: Tensor, _ conv: Conv2D) -> [Double] {
        ReferenceConv2D.forward(ReferenceConv2D.Shape(conv), x: x, weight: conv.weight.value, bias: conv.bias?.value)
    }

    static let convShapes: [(k: Int, stride: Int, padding: Int)] = [(3, 1, 0), (3, 1, 1), (3, 2, 1), (2, 2, 0), (5, 1, 2)]

    @Test("Conv2D forward matches a direct convolution", arguments: 0..<5)
    func convForward(shape: Int) {
        let (k, s, p) = Self.convShapes[shape]
        var rng = RandomSource(seed: 7)
        let conv = Conv2D(2, 3, kernelSize: k, stride: s, padding: p, initializer: .xavier,
                          biasInitializer: .uniform(low: -0.5, high: 0.5), rng: &rng)
        let x = randomTensor([2, 2, 7, 6], &rng)
        let y = conv.forward(x, training: false)
        let expected = Self.directConvolution(x, conv)
        #expect(y.shape == [2] + (try! conv.outputShape(for: [2, 7, 6])))
        expectClose(y.array, expected.map { Float($0) }, relative: 1e-5, absolute: 1e-5, "conv forward")
    }

    @Test("Conv2D: weight, bias and input gradients", arguments: 0..<5, [true, false])
    func convGradients(shape: Int, bias: Bool) {
        let (k, s, p) = Self.convShapes[shape]
        var rng = RandomSource(seed: 11)
        let conv = Conv2D(2, 3, kernelSize: k, stride: s, padding: p, bias: bias, initializer: .xavier,
                          biasInitializer: .uniform(low: -0.5, high: 0.5), rng: &rng)
        let x = randomTensor([2, 2, 6, 5], &rng)
        checkLayerGradients(conv, input: x)
    }

    @Test("Conv2D with a fused ReLU: gradients away from the kink")
    func convReLUGradients() {
        // Find a seed whose pre-activations all stay away from 0.
        for seed in UInt64(1)...500 {
            var rng = RandomSource(seed: seed)
            let conv = Conv2D(1, 2, kernelSize: 3, padding: 1, initializer: .xavier,
                              biasInitializer: .uniform(low: -0.5, high: 0.5), rng: &rng)
            let x = randomTensor([1, 1, 4, 4], &rng)
            if Self.directConvolution(x, conv).allSatisfy({ abs($0) > 0.05 }) {
                checkLayerGradients(FusedConv2D(conv, .relu), input: x, epsilon: 1e-2)
                return
            }
        }
        Issue.record("no seed gives pre-activations away from zero")
    }

    @Test("Conv2D accumulates its weight gradient over two backward passes")
    func convAccumulates() {
        var rng = RandomSource(seed: 3)
        let conv = Conv2D(1, 2, kernelSize: 3, rng: &rng)
        let x = randomTensor([2, 1, 5, 5], &rng)
        let dy = randomTensor([2, 2, 3, 3], &rng)
        _ = conv.forward(x, training: true); _ = conv.backward(dy)
        let once = conv.weight.grad.array
        _ = conv.forward(x, training: true); _ = conv.backward(dy)
        expectClose(conv.weight.grad.array, once.map { 2 * $0 }, relative: 1e-5, absolute: 1e-6, "twice")
    }

    @Test("MaxPool2D: forward picks each window's maximum; gradients", arguments: [(2, 2), (3, 2), (2, 1)])
    func maxPool(kernel: Int, stride: Int) {
        // Distinct values 0.05 apart, so a perturbation of ±0.01 never changes which one is largest.
        var rng = RandomSource(seed: 5)
        var order = Array(0..<(2 * 2 * 5 * 5))
        rng.shuffle(&order)
        let x = Tensor(shape: [2, 2, 5, 5], values: order.map { Float($0) * 0.05 - 2.5 })
        let pool = MaxPool2D(kernelSize: kernel, stride: stride)
        let y = pool.forward(x, training: true)
        let oh = (5 - kernel) / stride + 1
        #expect(y.shape == [2, 2, oh, oh])
        for b in 0..<2 { for c in 0..<2 { for i in 0..<oh { for j in 0..<oh {
            var m = -Float.infinity
            for ky in 0..<kernel { for kx in 0..<kernel { m = max(m, x[b, c, i * stride + ky, j * stride + kx]) } }
            #expect(y[b, c, i, j] == m)
        } } } }
        checkLayerGradients(pool, input: x)
    }

    @Test("GlobalAveragePool: forward and gradients")
    func globalAveragePool() {
        var rng = RandomSource(seed: 6)
        let x = randomTensor([2, 3, 4, 4], &rng)
        let pool = GlobalAveragePool()
        let y = pool.forward(x, training: true)
        #expect(y.shape == [2, 3])
        var s: Float = 0
        for i in 0..<4 { for j in 0..<4 { s += x[1, 2, i, j] } }
        #expect(isApproximatelyEqual(y[1, 2], s / 16, relative: 1e-5))
        checkLayerGradients(pool, input: x)
    }

    @Test("Flatten: values unchanged, gradients")
    func flatten() {
        var rng = RandomSource(seed: 8)
        let x = randomTensor([2, 3, 2, 2], &rng)
        let f = Flatten()
        let y = f.forward(x, training: true)
        #expect(y.shape == [2, 12])
        #expect(y.array == x.array)
        checkLayerGradients(f, input: x)
    }

    @Test("Dropout: a fixed mask's gradients; identity at inference; the rate is about right")
    func dropout() {
        var rng = RandomSource(seed: 9)
        let x = awayFromZeroTensor([4, 50], &rng)
        let d = Dropout(rate: 0.3, rng: RandomSource(seed: 1))
        #expect(d.forward(x, training: false).array == x.array)
        let y = d.forward(x, training: true).array
        let dropped = y.filter { $0 == 0 }.count
        #expect(dropped > 30 && dropped < 90, "dropped \(dropped) of 200 at rate 0.3")
        for (a, b) in zip(y, x.array) where a != 0 { #expect(isApproximatelyEqual(a, b / 0.7, relative: 1e-6)) }
        d.freezesMask = true
        checkLayerGradients(d, input: x)
        // The same seed draws the same mask.
        let again = Dropout(rate: 0.3, rng: RandomSource(seed: 1))
        _ = again.forward(x, training: false)
        #expect(again.forward(x, training: true).array == y)
    }

    @Test("BatchNorm in training mode: gradients for (B, C, H, W) and (B, C), small planes (gathered) and large",
          arguments: [[3, 2, 3, 3], [5, 4], [2, 2, 17, 17]])
    func batchNormGradients(shape: [Int]) {
        var rng = RandomSource(seed: 12)
        let bn = BatchNorm(channels: shape[1])
        for i in 0..<shape[1] {
            bn.scale.value.data[i] = rng.uniform(0.5, 1.5)
            bn.shift.value.data[i] = rng.uniform(-0.5, 0.5)
        }
        let x = randomTensor(shape, &rng, in: -2...2)
        checkLayerGradients(bn, input: x, epsilon: 1e-2, relative: 2e-2, absolute: 2e-3)
    }

    @Test("BatchNorm: training normalises; running statistics move; inference uses them")
    func batchNormStatistics() {
        var rng = RandomSource(seed: 13)
        let bn = BatchNorm(channels: 2, momentum: 0.5)
        let x = randomTensor([4, 2, 3, 3], &rng, in: 1...5)
        let y = bn.forward(x, training: true)
        for c in 0..<2 {
            var values: [Float] = []
            for b in 0..<4 { for i in 0..<3 { for j in 0..<3 { values.append(y[b, c, i, j]) } } }
            let mean = values.reduce(0, +) / Float(values.count)
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(values.count)
            #expect(abs(mean) < 1e-5)
            #expect(abs(variance - 1) < 1e-3)
        }
        #expect(bn.runningMean.value.array.allSatisfy { $0 > 1 })   // half-way to a batch mean of about 3
        #expect(!bn.runningMean.trainable && !bn.runningVariance.trainable)
        // Inference: (x − running mean) / √(running var + ε).
        let one = Tensor(shape: [1, 2, 1, 1], values: [2, 4])
        let z = bn.forward(one, training: false)
        for c in 0..<2 {
            let expected = (one.data[c] - bn.runningMean.value.data[c]) / (bn.runningVariance.value.data[c] + bn.epsilon).squareRoot()
            #expect(isApproximatelyEqual(z.data[c], expected, relative: 1e-5))
        }
    }

    @Test("Optimisers leave non-trainable parameters alone")
    func optimisersSkipRunningStatistics() {
        for kind in [OptimizerKind.sgd, .momentum(0.9, nesterov: true), .adam,
                     .adamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1)] {
            let bn = BatchNorm(channels: 2)
            bn.runningMean.grad.fill(1)
            bn.scale.grad.fill(1)
            kind.make(l2: 0.1).step(bn.parameters, lr: 0.1)
            #expect(bn.runningMean.value.array == [0, 0])
            #expect(bn.runningVariance.value.array == [1, 1])
            #expect(bn.scale.value.array != [1, 1])
        }
    }

    static let cnnSpecs: [LayerSpec] = [
        .conv2d(inChannels: 1, outChannels: 4, kernelSize: 3, stride: 1, padding: 1, bias: false),
        .batchNorm(channels: 4, momentum: 0.1, epsilon: 1e-5),
        .activation(.relu),
        .maxPool2d(kernelSize: 2, stride: 2),
        .conv2d(inChannels: 4, outChannels: 6, kernelSize: 3, stride: 1, padding: 0, bias: true), .activation(.relu),
        .globalAveragePool,
        .dropout(rate: 0.25),
        .dense(inputs: 6, outputs: 3, bias: true),
    ]

    @Test("A small CNN saves and loads with its running statistics, giving the same outputs")
    func safetensorsRoundTrip() throws {
        var rng = RandomSource(seed: 21)
        let model = try Sequential(inputShape: [1, 8, 8], specs: Self.cnnSpecs, rng: &rng)
        let x = randomTensor([3, 1, 8, 8], &rng)
        _ = model.forward(x, training: true)   // moves the running statistics
        let before = model(x).array
        let data = Safetensors.encode(model, inputTransform: .unit)
        let loaded = try Safetensors.decode(data, path: "memory").model
        #expect(loaded.specs == model.specs)
        #expect(loaded.parameters.map(\.name).contains("layers.1.running_mean"))
        #expect(parameterBits(loaded) == parameterBits(model))
        #expect(loaded(x).array == before)
    }

    @Test("A small CNN learns a toy problem")
    func trainsAndFlattens() throws {
        // Class 0: a bright left half; class 1: a bright right half.
        var rng = RandomSource(seed: 4)
        var features: [UInt8] = [], labels: [Int32] = []
        for i in 0..<200 {
            let label = Int32(i % 2)
            for _ in 0..<8 { for c in 0..<8 {
                let bright = (c < 4) == (label == 0)
                features.append(UInt8(bright ? rng.uniform(150, 255) : rng.uniform(0, 100)))
            } }
            labels.append(label)
        }
        let data = Dataset(sampleShape: [1, 8, 8], features: features, labels: labels, classes: 2)
        let specs: [LayerSpec] = [
            .conv2d(inChannels: 1, outChannels: 4, kernelSize: 3, stride: 1, padding: 0, bias: true), .activation(.relu),
            .maxPool2d(kernelSize: 2, stride: 2),
            .flatten,
            .dense(inputs: 36, outputs: 2, bias: true),
        ]
        let model = try Sequential(inputShape: [1, 8, 8], specs: specs, rng: &rng)
        let trainer = try Trainer(model: model, loss: SoftmaxCrossEntropy(),
                                  plan: TrainingPlan(batchSize: 20, length: .epochs(5), optimizer: .adam, learningRate: 0.01),
                                  transform: .unit, rng: RandomSource(seed: 2))
        let reports = try trainer.train(on: data, test: data)
        #expect((reports.last?.testAccuracy ?? 0) > 0.95)
    }

    // MARK: - Augmentation

    static func tinyImages() -> Dataset {
        var rng = RandomSource(seed: 30)
        let features = (0..<(3 * 8 * 8)).map { _ in UInt8(rng.index(below: 256)) }
        return Dataset(sampleShape: [1, 8, 8], features: features, labels: [0, 1, 2], classes: 3)
    }

    @Test("Augmentation with no distortion gathers exactly what Dataset.gather does")
    func augmentationIdentity() {
        let data = Self.tinyImages()
        let plain = Tensor(shape: [0]), warped = Tensor(shape: [0])
        var l1 = [Int32](repeating: -1, count: 3), l2 = [Int32](repeating: -1, count: 3)
        let idx = [2, 0, 1]
        var rng = RandomSource(seed: 1)
        idx.withUnsafeBufferPointer { i in
            data.gather(i, transform: .unit, into: plain, labels: &l1)
            Augmentation(maxShift: 0, maxRotation: 0, maxScale: 0)
                .gather(from: data, i, transform: .unit, into: warped, labels: &l2, rng: &rng)
        }
        #expect(l1 == l2)
        expectClose(warped.array, plain.array, relative: 1e-6, absolute: 1e-6, "identity warp")
    }

    @Test("Augmentation is seeded: the same seed gives the same batch, another seed another")
    func augmentationSeeded() {
        let data = Self.tinyImages()
        func batch(_ seed: UInt64) -> [Float] {
            let x = Tensor(shape: [0])
            var labels = [Int32](repeating: 0, count: 3)
            var rng = RandomSource(seed: seed)
            [0, 1, 2].withUnsafeBufferPointer { i in
                Augmentation().gather(from: data, i, transform: .unit, into: x, labels: &labels, rng: &rng)
            }
            return x.array
        }
        #expect(batch(5) == batch(5))
        #expect(batch(5) != batch(6))
        #expect(batch(5).allSatisfy { $0 >= 0 && $0 <= 1 })
    }
}
