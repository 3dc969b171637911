import DigitsCore
import Foundation
import Testing

@Suite struct EvaluatorTests {
    /// A model whose scores are its two input features: it predicts the larger one.
    static func identityModel() throws -> Sequential {
        var rng = RandomSource(seed: 0)
        let dense = Dense(2, 2, bias: false, initializer: .zeros, rng: &rng)
        dense.weight.value[0, 0] = 1
        dense.weight.value[1, 1] = 1
        return try Sequential(inputShape: [2], layers: [dense])
    }

    static let data = Dataset(sampleShape: [2], features: [10, 0, 0, 10, 5, 1, 1, 5, 7, 3], labels: [0, 1, 1, 1, 0], classes: 2)

    @Test("Accuracy, predictions, loss and confusion matrix of a known model", arguments: [1000, 2, 1])
    func evaluate(chunk: Int) throws {
        let e = Evaluator.evaluate(try Self.identityModel(), loss: SoftmaxCrossEntropy(), on: Self.data, transform: .raw, chunk: chunk)
        #expect(e.count == 5)
        #expect(e.predictions == [0, 1, 0, 1, 0])
        #expect(e.accuracy == 0.8)
        #expect(e.confusionMatrix(labels: Self.data.labels, classes: 2) == [[2, 0], [1, 2]])
        // Mean of log(1 + e^(other − own)).
        let margins: [Double] = [-10, -10, 4, -4, -4]
        let expected = margins.reduce(0) { $0 + Foundation.log(1 + Foundation.exp($1)) } / 5
        #expect(isApproximatelyEqual(e.loss, expected, relative: 1e-5))
    }

    @Test("argmax picks the first of equal maxima")
    func argmaxTies() {
        let v: [Float] = [1, 3, 3, 2]
        #expect(v.withUnsafeBufferPointer { argmax($0.baseAddress!, 4) } == 1)
        #expect([Float(5)].withUnsafeBufferPointer { argmax($0.baseAddress!, 1) } == 0)
    }
}
