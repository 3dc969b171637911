import DigitsCore
import Testing

/// Re-estimated BatchNorm statistics are the mean over the batches of each batch's mean and
/// (unbiased) variance, as computed by hand.
@Suite struct BatchNormStatisticsTests {
    @Test("Two batches of two samples: the mean of the batch means and of the unbiased batch variances")
    func byHand() throws {
        let bn = BatchNorm(channels: 2)
        let model = try Sequential(inputShape: [2], layers: [bn])
        bn.runningMean.value.data[0] = 99   // what training left: replaced
        // Samples (x0, x1): (0, 10), (2, 10) | (4, 20), (8, 40).
        let data = Dataset(sampleShape: [2], features: [0, 10, 2, 10, 4, 20, 8, 40], labels: [0, 0, 0, 0], classes: 1)
        let read = BatchNormStatistics.recompute(model, on: data, transform: .raw, batchSize: 2)
        #expect(read == 2)
        // Means (1, 10) and (6, 30); unbiased variances (2, 0) and (8, 200).
        #expect(isApproximatelyEqual(bn.runningMean.value.data[0], 3.5, relative: 1e-5))
        #expect(isApproximatelyEqual(bn.runningMean.value.data[1], 20, relative: 1e-5))
        #expect(isApproximatelyEqual(bn.runningVariance.value.data[0], 5, relative: 1e-5))
        #expect(isApproximatelyEqual(bn.runningVariance.value.data[1], 100, relative: 1e-5))
        // At most one batch: the first batch's statistics alone.
        BatchNormStatistics.recompute(model, on: data, transform: .raw, batchSize: 2, batches: 1)
        #expect(isApproximatelyEqual(bn.runningMean.value.data[0], 1, relative: 1e-5))
        #expect(isApproximatelyEqual(bn.runningVariance.value.data[1], 0, absolute: 1e-6))
        // No batch: nothing changes.
        #expect(BatchNormStatistics.recompute(model, on: data, transform: .raw, batches: 0) == 0)
        #expect(isApproximatelyEqual(bn.runningMean.value.data[0], 1, relative: 1e-5))
    }

    @Test("A convolutional network: deterministic, and the second layer sees the first layer's batch-normalised output")
    func convolutional() throws {
        func model() throws -> Sequential {
            var rng = RandomSource(seed: 2)
            return try Sequential(inputShape: [1, 8, 8], specs: [
                .conv2d(inChannels: 1, outChannels: 3, kernelSize: 3, stride: 1, padding: 1, bias: false),
                .batchNorm(channels: 3, momentum: 0.1, epsilon: 1e-5), .activation(.relu),
                .conv2d(inChannels: 3, outChannels: 2, kernelSize: 3, stride: 1, padding: 1, bias: false),
                .batchNorm(channels: 2, momentum: 0.1, epsilon: 1e-5),
            ], rng: &rng)
        }
        var rng = RandomSource(seed: 4)
        let data = Dataset(sampleShape: [1, 8, 8], features: (0..<(10 * 64)).map { _ in UInt8(rng.index(below: 256)) },
                           labels: [Int32](repeating: 0, count: 10), classes: 1)
        let a = try model(), b = try model()
        BatchNormStatistics.recompute(a, on: data, transform: .unit, batchSize: 4)
        BatchNormStatistics.recompute(b, on: data, transform: .unit, batchSize: 4)
        #expect(parameterBits(a) == parameterBits(b))
        // The first layer's statistics by hand: the convolution's outputs of each batch (4, 4, 2 samples).
        let conv = a.layers[0]
        let bn = try #require(a.layers[1] as? BatchNorm)
        var meanSum = [Double](repeating: 0, count: 3)
        for (start, n) in [(0, 4), (4, 4), (8, 2)] {
            let x = Tensor(shape: [n, 1, 8, 8], values: (0..<(n * 64)).map { Float(data.features[start * 64 + $0]) / 255 })
            let y = conv.forward(x, training: false)
            for c in 0..<3 {
                var s = 0.0
                for i in 0..<n { for p in 0..<64 { s += Double(y.data[(i * 3 + c) * 64 + p]) } }
                meanSum[c] += s / Double(n * 64)
            }
        }
        for c in 0..<3 { #expect(isApproximatelyEqual(Double(bn.runningMean.value.data[c]), meanSum[c] / 3, relative: 1e-4, absolute: 1e-6)) }
    }
}
