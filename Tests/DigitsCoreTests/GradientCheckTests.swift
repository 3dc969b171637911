import DigitsCore
import Foundation
import Testing

/// Finite-difference checks of every layer's backward pass.
@Suite struct GradientCheckTests {
    static let activations: [Activation?] = [nil, .sigmoid, .tanh, .relu, .leakyReLU(alpha: 0.2)]

    /// A dense layer and input whose pre-activations all stay at least `margin` from 0, so that
    /// perturbations of ±epsilon never cross the kink of ReLU or LeakyReLU.
    /// The activation is fused into the dense layer, as `Sequential` runs them (`FusedDense`).
    static func denseAwayFromKinks(inputs: Int, outputs: Int, batch: Int, bias: Bool,
                                   activation: Activation?) -> (FusedDense, Tensor) {
        for seed in UInt64(1)...500 {
            var rng = RandomSource(seed: seed)
            let dense = Dense(inputs, outputs, bias: bias,
                              initializer: .xavier, biasInitializer: .uniform(low: -0.5, high: 0.5), rng: &rng)
            let x = randomTensor([batch, inputs], &rng)
            if affine(x, dense).allSatisfy({ abs($0) > 0.1 }) { return (FusedDense(dense, activation), x) }
        }
        fatalError("no seed gives pre-activations away from zero")
    }

    @Test("Dense (with the activation after it fused): weight, bias and input gradients", arguments: activations, [true, false])
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

    @Test("Dense.overwritesGradients: backward writes the gradients over stale values, once; then they add up again",
          arguments: [(3, 2, 2), (64, 40, 16)])
    func denseOverwrites(shape: (inputs: Int, outputs: Int, batch: Int)) {
        var rng = RandomSource(seed: 5)
        let dense = Dense(shape.inputs, shape.outputs, bias: true, biasInitializer: .uniform(low: -0.5, high: 0.5), rng: &rng)
        let x = randomTensor([shape.batch, shape.inputs], &rng), dy = randomTensor([shape.batch, shape.outputs], &rng)
        _ = dense.forward(x, training: true)
        _ = dense.backward(dy)
        let fresh = dense.parameters.map(\.grad.array)   // added into zeros: the reference
        for p in dense.parameters { p.grad.fill(7) }
        dense.overwritesGradients = true
        _ = dense.forward(x, training: true)
        _ = dense.backward(dy)
        #expect(dense.parameters.map { $0.grad.array.map(\.bitPattern) } == fresh.map { $0.map(\.bitPattern) })
        #expect(!dense.overwritesGradients, "it turns itself off")
        _ = dense.forward(x, training: true)
        _ = dense.backward(dy)
        for (p, g) in zip(dense.parameters, fresh) {
            expectClose(p.grad.array, g.map { 2 * $0 }, relative: 1e-5, absolute: 1e-6, "added \(p.name)")
        }
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

    @Test("Softmax: input gradient (the full Jacobian)")
    func softmaxJacobian() {
        var rng = RandomSource(seed: 3)
        let x = randomTensor([3, 4], &rng, in: -2...2)
        let layer = Softmax()
        checkLayerGradients(layer, input: x)
        let y = layer(x)
        for b in 0..<3 {
            #expect(isApproximatelyEqual((0..<4).reduce(Float(0)) { $0 + y[b, $1] }, 1, relative: 1e-6))
        }
    }
}
