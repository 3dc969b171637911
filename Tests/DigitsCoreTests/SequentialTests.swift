import DigitsCore
import Foundation
import Testing

@Suite struct SequentialTests {
    /// A small network ending in what `kind` expects: logits, anything, or probabilities.
    static func model(for kind: LossKind, rng: inout RandomSource) throws -> Sequential {
        var specs: [LayerSpec] = [
            .dense(inputs: 4, outputs: 5, bias: true), .activation(.tanh),
            .activation(.sigmoid),
            .dense(inputs: 5, outputs: 6, bias: false),
            .activation(.tanh),
            .dense(inputs: 6, outputs: 3, bias: true),
        ]
        if kind == .meanSquaredError { specs.append(.activation(.sigmoid)) }
        if kind == .binaryCrossEntropy { specs.append(.softmax) }
        return try Sequential(inputShape: [4], specs: specs, initializer: .xavier,
                              biasInitializer: .uniform(low: -0.5, high: 0.5), rng: &rng)
    }

    @Test("Whole-network gradient check: every parameter, through the loss", arguments: LossKind.allCases)
    func gradientCheck(kind: LossKind) throws {
        var rng = RandomSource(seed: 31)
        let model = try Self.model(for: kind, rng: &rng)
        let loss = kind.make()
        let x = randomTensor([4, 4], &rng, in: -2...2)
        let labels: [Int32] = [0, 2, 1, 2]
        let scale: Float = 1 / 4
        var ps = [Float](repeating: 0, count: 4)

        #expect(model.layers[0].computesInputGradient == false, "Sequential skips the data's gradient")
        #expect(model.layers[1].computesInputGradient == true)

        model.zeroGradients()
        let out = model.forward(x, training: true)
        model.backward(loss.forwardBackward(output: out, labels: labels, perSample: &ps, gradientScale: scale))
        let grads = model.parameters.map(\.grad.array)

        let f: () -> Double = {
            let out = model.forward(x, training: true)
            loss.forward(output: out, labels: labels, perSample: &ps)
            return ps.reduce(0.0) { $0 + Double($1) } * Double(scale)
        }
        let factor = kind.gradientFactor(classes: 3)
        #expect(model.parameters.count == 5)
        for (p, g) in zip(model.parameters, grads) {
            let numeric = numericalGradient(of: p.value, epsilon: 1e-2, f).map { $0 * factor }
            #expect(numeric.contains { abs($0) > 1e-3 }, "degenerate check for \(p.name)")
            expectClose(g, numeric, relative: 2e-2, absolute: 1e-3, "\(kind) \(p.name)")
        }
    }

    @Test("Parameters are named by layer index; shapes are checked; specs rebuild the network")
    func construction() throws {
        var rng = RandomSource(seed: 1)
        let specs: [LayerSpec] = [
            .dense(inputs: 6, outputs: 4, bias: true), .activation(.leakyReLU(alpha: 0.1)),
            .activation(.relu),
            .dense(inputs: 4, outputs: 3, bias: false),
            .softmax,
        ]
        let model = try Sequential(inputShape: [2, 3], specs: specs, rng: &rng)
        #expect(model.parameters.map(\.name) == ["layers.0.weight", "layers.0.bias", "layers.3.weight"])
        #expect(model.parameters.map(\.decays) == [true, false, true])
        #expect(model.parameterCount == 6 * 4 + 4 + 4 * 3)
        #expect(model.outputShape == [3])
        #expect(model.specs == specs)
        let y = model(Tensor(shape: [5, 2, 3], repeating: 0.5))
        #expect(y.shape == [5, 3])
    }

    @Test("A custom layer needs a maker; without one it is rejected")
    func customLayer() throws {
        var rng = RandomSource(seed: 1)
        let spec = LayerSpec.custom(name: "twice", sizes: [3])
        #expect(throws: ModelError.self) { try Sequential(inputShape: [3], specs: [spec], rng: &rng) }
        let model = try Sequential(inputShape: [3], specs: [spec], custom: { name, sizes, _, _ throws(ModelError) in
            guard name == "twice" else { throw .invalidArchitecture("unknown \(name)") }
            return ActivationLayer(.relu)
        }, rng: &rng)
        #expect(model.layers.count == 1)
    }

    @Test("Fusing an activation into the layer before it changes no bit, forward or backward")
    func fusionIsExact() throws {
        let specs: [LayerSpec] = [
            .conv2d(inChannels: 1, outChannels: 4, kernelSize: 3, stride: 1, padding: 1, bias: true), .activation(.relu),
            .maxPool2d(kernelSize: 2, stride: 2), .flatten,
            .dense(inputs: 4 * 16, outputs: 20, bias: true), .activation(.leakyReLU(alpha: 0.2)),
            .dense(inputs: 20, outputs: 20, bias: true), .activation(.sigmoid),
            .dense(inputs: 20, outputs: 20, bias: false), .activation(.tanh),
            .dense(inputs: 20, outputs: 3, bias: true),
        ]
        func run(fusing: Bool) throws -> (out: [Float], grads: [[Float]]) {
            var rng = RandomSource(seed: 4)
            var layers: [any Layer] = []
            for spec in specs { layers.append(try spec.makeLayer(initializer: .xavier, rng: &rng)) }
            let model = try Sequential(inputShape: [1, 8, 8], layers: layers, fusing: fusing)
            let x = randomTensor([5, 1, 8, 8], &rng)
            let out = model.forward(x, training: true).array
            model.zeroGradients()
            model.backward(randomTensor([5, 3], &rng))
            return (out, model.parameters.map(\.grad.array))
        }
        let fused = try run(fusing: true), plain = try run(fusing: false)
        #expect(fused.out.map(\.bitPattern) == plain.out.map(\.bitPattern))
        #expect(fused.grads.map { $0.map(\.bitPattern) } == plain.grads.map { $0.map(\.bitPattern) })
    }

    /// Convolutions followed by a 2×2 pooling (with or without an activation between): the
    /// direct one-channel kernel (16 channels on 24×24) and the multiply (a 2×2 layer on odd
    /// 11×11 maps, whose last row and column are in no window, with and without bias: with
    /// neither bias nor activation it is pooled straight from the product), every activation.
    @Test("Fusing a 2×2 pooling into the convolution before it changes no bit, forward or backward",
          arguments: [Activation.relu, .leakyReLU(alpha: 0.1), .sigmoid, .tanh, nil], [true, false])
    func poolFusionIsExact(activation: Activation?, bias: Bool) throws {
        let act: [LayerSpec] = activation.map { [.activation($0)] } ?? []
        let specs: [LayerSpec] = [.conv2d(inChannels: 1, outChannels: 16, kernelSize: 5, stride: 1, padding: 0, bias: true)]
            + act + [.maxPool2d(kernelSize: 2, stride: 2)]                                    // (16, 12, 12)
            + [.conv2d(inChannels: 16, outChannels: 8, kernelSize: 2, stride: 1, padding: 0, bias: bias)]
            + act + [.maxPool2d(kernelSize: 2, stride: 2)]                                    // (8, 11, 11) -> (8, 5, 5)
            + [.flatten, .dense(inputs: 8 * 25, outputs: 3, bias: true)]
        func run(fusing: Bool) throws -> (out: [Float], grads: [[Float]], steps: [Range<Int>]) {
            var rng = RandomSource(seed: 9)
            var layers: [any Layer] = []
            for spec in specs { layers.append(try spec.makeLayer(initializer: .he, rng: &rng)) }
            let model = try Sequential(inputShape: [1, 28, 28], layers: layers, fusing: fusing)
            let x = randomTensor([40, 1, 28, 28], &rng, in: 0...1)
            var out: [Float] = [], grads: [[Float]] = []
            for training in [true, false] {
                out += model.forward(x, training: training).array
                model.zeroGradients()
                model.backward(randomTensor([40, 3], &rng))
                grads += model.parameters.map(\.grad.array)
            }
            return (out, grads, model.stepRanges)
        }
        let fused = try run(fusing: true), plain = try run(fusing: false)
        let a = activation == nil ? 0 : 1
        #expect(fused.steps == [0..<(2 + a), (2 + a)..<(4 + 2 * a), (4 + 2 * a)..<(5 + 2 * a), (5 + 2 * a)..<(6 + 2 * a)])
        #expect(plain.steps.count == specs.count)
        let sameOutputs = fused.out.map(\.bitPattern) == plain.out.map(\.bitPattern)
        let sameGradients = fused.grads.map { $0.map(\.bitPattern) } == plain.grads.map { $0.map(\.bitPattern) }
        #expect(sameOutputs)
        #expect(sameGradients)
    }

    /// BatchNorm followed by an activation and a 2×2 pooling (odd 9×9 and 17×17 maps, whose last row and
    /// column are in no window), by a pooling alone, and by an activation alone after a dense
    /// layer: training and inference forward, backward, the running statistics, on 1, 2 and 3
    /// threads.
    @Test("Fusing an activation and a pooling into the BatchNorm before them changes no bit, on any thread count",
          arguments: [Activation.relu, .leakyReLU(alpha: 0.1), .sigmoid, .tanh], [9, 17])
    func batchNormFusionIsExact(activation: Activation, side: Int) throws {
        // Side 9: every BatchNorm's planes are gathered (under 256 values); side 17: the first
        // BatchNorm's 17×17 planes take the per-plane path.
        let pooled = side / 2 / 2
        let specs: [LayerSpec] = [
            .conv2d(inChannels: 1, outChannels: 6, kernelSize: 3, stride: 1, padding: 1, bias: false),
            .batchNorm(channels: 6, momentum: 0.1, epsilon: 1e-5), .activation(activation),     // (6, side, side)
            .maxPool2d(kernelSize: 2, stride: 2),                                               // (6, side/2, side/2)
            .conv2d(inChannels: 6, outChannels: 4, kernelSize: 3, stride: 1, padding: 1, bias: false),
            .batchNorm(channels: 4, momentum: 0.1, epsilon: 1e-5),
            .maxPool2d(kernelSize: 2, stride: 2), .flatten,                                     // (4·pooled²)
            .dense(inputs: 4 * pooled * pooled, outputs: 12, bias: true),
            .batchNorm(channels: 12, momentum: 0.1, epsilon: 1e-5), .activation(activation),    // (12)
            .dense(inputs: 12, outputs: 3, bias: true),
        ]
        func run(fusing: Bool, threads: Int) throws -> (values: [[UInt32]], steps: [Range<Int>]) {
            try Parallel.$threadCount.withValue(threads) {
                var rng = RandomSource(seed: 21)
                var layers: [any Layer] = []
                for spec in specs { layers.append(try spec.makeLayer(initializer: .he, rng: &rng)) }
                let model = try Sequential(inputShape: [1, side, side], layers: layers, fusing: fusing)
                let x = randomTensor([9, 1, side, side], &rng, in: 0...1)
                var values: [[UInt32]] = []
                for training in [true, false] {
                    values.append(model.forward(x, training: training).array.map(\.bitPattern))
                    model.zeroGradients()
                    model.backward(randomTensor([9, 3], &rng))
                    values += model.parameters.map { $0.grad.array.map(\.bitPattern) }
                    values += model.parameters.map { $0.value.array.map(\.bitPattern) }
                }
                return (values, model.stepRanges)
            }
        }
        let plain = try run(fusing: false, threads: 1)
        for threads in [1, 2, 3] {
            let fused = try run(fusing: true, threads: threads)
            #expect(fused.steps == [0..<1, 1..<4, 4..<5, 5..<7, 7..<8, 8..<9, 9..<11, 11..<12], "BatchNorm runs with what follows it")
            let same = fused.values == plain.values
            #expect(same, "\(threads) threads")
        }
    }

    @Test("A fused activation or pooling whose input gradient is turned off stops back-propagation there, as unfused")
    func fusedStepsHonourStoppedGradient() throws {
        let specs: [LayerSpec] = [
            .conv2d(inChannels: 1, outChannels: 4, kernelSize: 3, stride: 1, padding: 0, bias: true), .activation(.relu),
            .conv2d(inChannels: 4, outChannels: 6, kernelSize: 3, stride: 1, padding: 0, bias: true), .activation(.relu),
            .maxPool2d(kernelSize: 2, stride: 2),                                                      // (6, 5, 5)
            .flatten, .dense(inputs: 6 * 25, outputs: 3, bias: true),
        ]
        for stopped in [3, 4] {   // the ReLU of the fused conv-ReLU-pool step, or its pooling
            func run(fusing: Bool) throws -> [[UInt32]] {
                var rng = RandomSource(seed: 5)
                var layers: [any Layer] = []
                for spec in specs { layers.append(try spec.makeLayer(initializer: .he, rng: &rng)) }
                let model = try Sequential(inputShape: [1, 14, 14], layers: layers, fusing: fusing)
                model.layers[stopped].computesInputGradient = false
                let y = model.forward(randomTensor([5, 1, 14, 14], &rng, in: 0...1), training: true)
                model.zeroGradients()
                model.backward(randomTensor(y.shape, &rng))
                return model.parameters.map { $0.grad.array.map(\.bitPattern) }
            }
            let fused = try run(fusing: true), plain = try run(fusing: false)
            let same = fused == plain
            #expect(same, "layer \(stopped)")
            // The convolutions under the stopped layer got no gradient.
            #expect(fused[2].allSatisfy { $0 == 0 } && fused[0].allSatisfy { $0 == 0 }, "layer \(stopped)")
        }
    }

    @Test("Layers that do not fit together are rejected")
    func mismatch() {
        var rng = RandomSource(seed: 1)
        #expect(throws: ModelError.self) {
            try Sequential(inputShape: [4], specs: [
                .dense(inputs: 4, outputs: 3, bias: true),
                .dense(inputs: 5, outputs: 2, bias: true),
            ], rng: &rng)
        }
        #expect(throws: ModelError.self) { try Sequential(inputShape: [4], layers: []) }
        #expect(throws: ModelError.self) {
            try Sequential(inputShape: [4], specs: [.dense(inputs: 4, outputs: 0, bias: true)],
                           rng: &rng)
        }
    }

    @Test("LeakyReLU alpha outside (0, 1) is rejected", arguments: [Float(0), -0.1, 1, 1.5])
    func leakyAlpha(alpha: Float) {
        var rng = RandomSource(seed: 1)
        #expect(throws: ModelError.self) {
            try LayerSpec.activation(.leakyReLU(alpha: alpha)).makeLayer(rng: &rng)
        }
    }

    @Test("LeakyReLU alpha inside (0, 1) is accepted")
    func leakyAlphaValid() throws {
        var rng = RandomSource(seed: 1)
        _ = try LayerSpec.activation(.leakyReLU(alpha: 0.01)).makeLayer(rng: &rng)
        _ = try LayerSpec.activation(.leakyReLU(alpha: 0.99)).makeLayer(rng: &rng)
    }
}
