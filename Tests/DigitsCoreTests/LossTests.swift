import DigitsCore
import Foundation
import Testing

enum LossKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case softmaxCrossEntropy, meanSquaredError, binaryCrossEntropy

    func make() -> any Loss {
        switch self {
        case .softmaxCrossEntropy: SoftmaxCrossEntropy()
        case .meanSquaredError: MeanSquaredError()
        case .binaryCrossEntropy: BinaryCrossEntropy()
        }
    }

    /// Outputs the loss is meant for: logits, anything, or probabilities away from the clip.
    var outputRange: ClosedRange<Float> {
        switch self {
        case .softmaxCrossEntropy: -3...3
        case .meanSquaredError: -1...2
        case .binaryCrossEntropy: 0.05...0.95
        }
    }

    /// The returned gradient is this times the true gradient of the loss: BCE's gradient is taken
    /// per output, without the 1/K of its mean over the K outputs (the tutorial's quirk).
    func gradientFactor(classes k: Int) -> Float { self == .binaryCrossEntropy ? Float(k) : 1 }

    var testDescription: String { rawValue }
}

@Suite struct LossTests {
    static func perSample(_ loss: any Loss, _ output: Tensor, _ labels: [Int32]) -> [Float] {
        var out = [Float](repeating: .nan, count: labels.count)
        loss.forward(output: output, labels: labels, perSample: &out)
        return out
    }

    @Test("Finite-difference check of the loss gradient", arguments: LossKind.allCases)
    func gradientCheck(kind: LossKind) {
        let loss = kind.make()
        var rng = RandomSource(seed: 21)
        let batch = 3, k = 4
        let y = randomTensor([batch, k], &rng, in: kind.outputRange)
        let labels: [Int32] = [2, 0, 3]
        let scale = 1 / Float(batch)
        var ps = [Float](repeating: 0, count: batch)
        let grad = loss.forwardBackward(output: y, labels: labels, perSample: &ps, gradientScale: scale).array
        let numeric = numericalGradient(of: y, epsilon: 1e-2) {
            Self.perSample(loss, y, labels).reduce(0.0) { $0 + Double($1) } * Double(scale)
        }
        let factor = kind.gradientFactor(classes: k)
        expectClose(grad, numeric.map { $0 * factor }, relative: 1e-2, absolute: 1e-3, "\(kind) gradient")
    }

    @Test("forwardBackward's per-sample loss equals forward's; the gradient scales linearly", arguments: LossKind.allCases)
    func scaleAndConsistency(kind: LossKind) {
        let loss = kind.make()
        var rng = RandomSource(seed: 22)
        let y = randomTensor([4, 3], &rng, in: kind.outputRange)
        let labels: [Int32] = [0, 1, 2, 1]
        var ps1 = [Float](repeating: 0, count: 4), ps2 = ps1
        let g1 = loss.forwardBackward(output: y, labels: labels, perSample: &ps1, gradientScale: 1).array
        let g4 = loss.forwardBackward(output: y, labels: labels, perSample: &ps2, gradientScale: 0.25).array
        #expect(ps1 == ps2, "the scale must not change the loss")
        expectClose(ps1, Self.perSample(loss, y, labels), relative: 1e-6, absolute: 0, "forward vs forwardBackward")
        expectClose(g4, g1.map { $0 * 0.25 }, relative: 1e-6, absolute: 0, "gradient × 0.25")
        #expect(g1.contains { $0 != 0 })
    }

    @Test("Softmax cross-entropy of uniform logits is log K", arguments: [2, 10, 100])
    func uniformLogits(k: Int) {
        let z = Tensor(shape: [2, k], repeating: 3.5)
        let ps = Self.perSample(SoftmaxCrossEntropy(), z, [0, Int32(k - 1)])
        for l in ps { #expect(isApproximatelyEqual(l, Float(Foundation.log(Double(k))), relative: 1e-5)) }
    }

    @Test("Softmax cross-entropy known value")
    func crossEntropyKnownValue() {
        let z = Tensor(shape: [1, 3], values: [1, 2, 3])
        let expected = Foundation.log(Foundation.exp(1.0) + Foundation.exp(2.0) + Foundation.exp(3.0)) - 1
        #expect(isApproximatelyEqual(Self.perSample(SoftmaxCrossEntropy(), z, [0])[0], Float(expected), relative: 1e-6))
    }

    @Test("Softmax cross-entropy is stable for logits of ±1000")
    func crossEntropyStable() {
        let z = Tensor(shape: [2, 3], values: [1000, -1000, 0, -1000, 1000, 999])
        var ps = [Float](repeating: 0, count: 2)
        let g = SoftmaxCrossEntropy().forwardBackward(output: z, labels: [0, 0], perSample: &ps, gradientScale: 1).array
        #expect(ps.allSatisfy { $0.isFinite } && g.allSatisfy { $0.isFinite }, "loss \(ps), gradient \(g)")
        #expect(isApproximatelyEqual(ps[0], 0, absolute: 1e-6))
        // logsumexp(−1000, 1000, 999) − (−1000) = 2000 + log(1 + e^−1)
        #expect(isApproximatelyEqual(ps[1], 2000 + Float(Foundation.log(1 + Foundation.exp(-1.0))), relative: 1e-6))
        expectClose(g, [0, 0, 0, -1, 1 / (1 + Float(Foundation.exp(-1.0))), 1 / (1 + Float(Foundation.exp(1.0)))],
                    relative: 1e-5, absolute: 1e-6, "gradient")
    }

    @Test("Mean squared error: ½ Σ (y − onehot)², gradient y − onehot")
    func meanSquaredErrorKnownValue() {
        let y = Tensor(shape: [2, 3], values: [0.5, 0.5, 0, 0.2, 0.3, 2])
        var ps = [Float](repeating: 0, count: 2)
        let g = MeanSquaredError().forwardBackward(output: y, labels: [0, 2], perSample: &ps, gradientScale: 1).array
        #expect(isApproximatelyEqual(ps[0], 0.25, relative: 1e-6))
        #expect(isApproximatelyEqual(ps[1], 0.5 * (0.04 + 0.09 + 1), relative: 1e-6))
        expectClose(g, [-0.5, 0.5, 0, 0.2, 0.3, 1], relative: 1e-6, absolute: 0, "gradient")
    }

    @Test("Binary cross-entropy: the mean over outputs of −t log y − (1 − t) log(1 − y)")
    func binaryCrossEntropyKnownValue() {
        let y = Tensor(shape: [1, 3], values: [0.8, 0.2, 0.5])
        var ps = [Float](repeating: 0, count: 1)
        let g = BinaryCrossEntropy().forwardBackward(output: y, labels: [0], perSample: &ps, gradientScale: 1).array
        let expected = -(Foundation.log(0.8) + Foundation.log(0.8) + Foundation.log(0.5)) / 3
        #expect(isApproximatelyEqual(ps[0], Float(expected), relative: 1e-6))
        expectClose(g, [-1 / 0.8, 1 / 0.8, 2], relative: 1e-5, absolute: 0, "gradient")
    }

    @Test("Binary cross-entropy clips outputs of exactly 0 and 1")
    func binaryCrossEntropyClips() {
        let y = Tensor(shape: [2, 2], values: [0, 1, 1, 0])
        var ps = [Float](repeating: 0, count: 2)
        let g = BinaryCrossEntropy().forwardBackward(output: y, labels: [0, 0], perSample: &ps, gradientScale: 1).array
        #expect(ps.allSatisfy { $0.isFinite } && g.allSatisfy { $0.isFinite }, "loss \(ps), gradient \(g)")
        #expect(ps[0] > 10, "a confident wrong answer costs a lot")
        #expect(ps[1] < 1e-5, "a confident right answer costs ~nothing")
    }
}
