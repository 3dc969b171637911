import DigitsCore
import Foundation
import Testing

/// Finite-difference checks of every layer's backward pass.
@Suite struct GradientCheckTests {
    static let activations: [Activation?] = [nil, .sigmoid, .tanh, .relu, .leakyReLU(alpha: 0.2)]

    /// A dense layer and input whose pre-activations all stay at least `margin` from 0, so that
    /// perturbations of ±epsilon never cross the kink of ReLU or LeakyReLU.
    static func denseAwayFromKinks(inputs: Int, outputs: Int, batch: Int, bias: Bool, activation: Activation?,
                                   biasGradient: Dense.BiasGradient = .perUnit) -> (Dense, Tensor) {
        for seed in UInt64(1)...500 {
            var rng = RandomSource(seed: seed)
            let dense = Dense(inputs, outputs, bias: bias, activation: activation, biasGradient: biasGradient,
                              initializer: .xavier, biasInitializer: .uniform(low: -0.5, high: 0.5), rng: &rng)
            let x = randomTensor([batch, inputs], &rng)
            if affine(x, dense).allSatisfy({ abs($0) > 0.1 }) { return (dense, x) }
        }
        fatalError("no seed gives pre-activations away from zero")
    }

    @Test("Dense: weight, bias and input gradients", arguments: activations, [true, false])
    func dense(activation: Activation?, bias: Bool) {
        let (dense, x) = Self.denseAwayFromKinks(inputs: 4, outputs: 3, batch: 3, bias: bias, activation: activation)
        #expect(dense.parameters.count == (bias ? 2 : 1))
        checkLayerGradients(dense, input: x)
    }

    @Test("Dense: gradients accumulate over two backward passes")
    func denseAccumulates() {
        let (dense, x) = Self.denseAwayFromKinks(inputs: 3, outputs: 2, batch: 2, bias: true, activation: .tanh)
        let r = Tensor(shape: [2, 2], values: [0.5, -1, 0.25, 2])
        _ = dense.forward(x, training: true)
        _ = dense.backward(r)
        let once = dense.parameters.map(\.grad.array)
        _ = dense.forward(x, training: true)
        _ = dense.backward(r)
        for (p, g) in zip(dense.parameters, once) {
            expectClose(p.grad.array, g.map { 2 * $0 }, relative: 1e-5, absolute: 0, "twice \(p.name)")
        }
    }

    @Test("Dense with biasGradient .scalarMean: every bias gets the mean of all of dz", arguments: [nil, Activation.sigmoid])
    func denseScalarMeanBias(activation: Activation?) {
        let (quirk, x) = Self.denseAwayFromKinks(inputs: 4, outputs: 3, batch: 5, bias: true, activation: activation,
                                                  biasGradient: .scalarMean)
        var rng = RandomSource(seed: 5)
        let dy = randomTensor([5, 3], &rng)
        let y = quirk.forward(x, training: true).array
        _ = quirk.backward(dy)
        // dz = dy · f'(z), with f' from the output.
        let dz: [Float] = (0..<dy.count).map { i in
            switch activation {
            case .sigmoid: dy.data[i] * y[i] * (1 - y[i])
            default: dy.data[i]
            }
        }
        let mean = dz.reduce(0, +) / Float(dz.count)
        let perUnit = (0..<3).map { j in (0..<5).reduce(Float(0)) { $0 + dz[$1 * 3 + j] } }
        #expect(!isApproximatelyEqual(perUnit[0], mean, relative: 1e-2), "test is degenerate")
        expectClose(quirk.bias!.grad.array, [mean, mean, mean], relative: 1e-5, absolute: 1e-7, "scalar-mean bias")

        // The weight gradient is the true one, as with .perUnit.
        let (plain, _) = Self.denseAwayFromKinks(inputs: 4, outputs: 3, batch: 5, bias: true, activation: activation)
        plain.weight.value.copy(from: quirk.weight.value)
        plain.bias!.value.copy(from: quirk.bias!.value)
        _ = plain.forward(x, training: true)
        _ = plain.backward(dy)
        expectClose(quirk.weight.grad.array, plain.weight.grad.array, relative: 1e-6, absolute: 0, "weight")
        expectClose(plain.bias!.grad.array, perUnit, relative: 1e-5, absolute: 1e-6, "per-unit bias")
    }

    @Test("ActivationLayer: input gradient",
          arguments: [Activation.sigmoid, .tanh, .relu, .leakyReLU(alpha: 0.2)])
    func activationLayer(activation: Activation) {
        var rng = RandomSource(seed: 11)
        let x = awayFromZeroTensor([3, 5], &rng, magnitude: 0.1...2)
        let layer = ActivationLayer(activation)
        #expect(layer.parameters.isEmpty)
        checkLayerGradients(layer, input: x)
    }

    @Test("Activation forward values")
    func activationValues() {
        let x: [Float] = [-2, -0.5, 0, 0.5, 2]
        func apply(_ a: Activation) -> [Float] { ActivationLayer(a)(Tensor(shape: [1, 5], values: x)).array }
        expectClose(apply(.relu), [0, 0, 0, 0.5, 2], relative: 0, absolute: 0, "relu")
        expectClose(apply(.leakyReLU(alpha: 0.2)), [-0.4, -0.1, 0, 0.5, 2], relative: 1e-6, absolute: 0, "leaky")
        expectClose(apply(.sigmoid), x.map { Float(1 / (1 + Foundation.exp(-Double($0)))) }, relative: 1e-6, absolute: 0, "sigmoid")
        expectClose(apply(.tanh), x.map { Float(Foundation.tanh(Double($0))) }, relative: 1e-6, absolute: 0, "tanh")
    }

    @Test("Softmax (.jacobian): input gradient")
    func softmaxJacobian() {
        var rng = RandomSource(seed: 3)
        let x = randomTensor([3, 4], &rng, in: -2...2)
        let layer = Softmax(gradient: .jacobian)
        checkLayerGradients(layer, input: x)
        let y = layer(x)
        for b in 0..<3 {
            #expect(isApproximatelyEqual((0..<4).reduce(Float(0)) { $0 + y[b, $1] }, 1, relative: 1e-6))
        }
    }

    @Test("Softmax (.diagonal): dx = dy ⊙ y ⊙ (1 − y), which differs from the true gradient")
    func softmaxDiagonal() {
        var rng = RandomSource(seed: 4)
        let x = randomTensor([2, 5], &rng, in: -2...2)
        let dy = randomTensor([2, 5], &rng)
        let diagonal = Softmax(gradient: .diagonal), jacobian = Softmax(gradient: .jacobian)
        let y = diagonal.forward(x, training: true).array
        let dx = diagonal.backward(dy).array
        expectClose(dx, (0..<10).map { dy.data[$0] * y[$0] * (1 - y[$0]) }, relative: 1e-6, absolute: 0, "diagonal")
        _ = jacobian.forward(x, training: true)
        let trueDx = jacobian.backward(dy).array
        #expect(zip(dx, trueDx).contains { abs($0 - $1) > 1e-3 }, "the diagonal gradient should not be the Jacobian's")
    }

    @Test("Softmax (.diagonal) then BCE gives exactly p − onehot")
    func diagonalSoftmaxWithBCE() {
        var rng = RandomSource(seed: 6)
        let x = randomTensor([3, 4], &rng, in: -2...2)
        let labels: [Int32] = [0, 3, 2]
        let softmax = Softmax(gradient: .diagonal), bce = BinaryCrossEntropy()
        let p = softmax.forward(x, training: true)
        let probabilities = p.array
        var perSample = [Float](repeating: 0, count: 3)
        let dp = bce.forwardBackward(output: p, labels: labels, perSample: &perSample, gradientScale: 0.5)
        let dx = softmax.backward(dp).array
        let expected: [Float] = (0..<12).map { i in
            let target: Float = Int32(i % 4) == labels[i / 4] ? 1 : 0
            return 0.5 * (probabilities[i] - target)
        }
        expectClose(dx, expected, relative: 1e-4, absolute: 1e-6, "p − onehot")
    }
}

