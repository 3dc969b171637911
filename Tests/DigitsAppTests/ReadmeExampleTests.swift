import DigitsCore
import Testing

/// The library example in README.md, kept compiling and working.
@Test("README's library example trains a network")
func readmeExample() throws {
    // Two small synthetic sets stand in for MNIST: class k lights up feature k.
    func set(_ n: Int) -> Dataset {
        var features = [UInt8](repeating: 0, count: n * 784), labels = [Int32](repeating: 0, count: n)
        for i in 0..<n { labels[i] = Int32(i % 10); features[i * 784 + (i % 10) * 7] = 255 }
        return Dataset(sampleShape: [784], features: features, labels: labels, classes: 10)
    }
    let (trainingSet, testSet) = (set(500), set(100))

    var rng = RandomSource(seed: 1)
    let model = try Sequential(inputShape: [784], layers: [
        Dense(784, 256, rng: &rng), ReLU(),
        Dense(256, 128, rng: &rng), ReLU(),
        Dense(128, 10, rng: &rng),
    ])
    let trainer = try Trainer(model: model, loss: SoftmaxCrossEntropy(),
                              plan: TrainingPlan(batchSize: 64, length: .epochs(10),
                                                 optimizer: .momentum(0.9, nesterov: true), learningRate: 0.05),
                              transform: .unit, rng: RandomSource(seed: 2))
    var reports: [TrainingReport] = []
    try trainer.train(on: trainingSet, test: testSet, onReport: { report in reports.append(report) })
    #expect(reports.count == 10)
    #expect(reports.last?.testAccuracy == 1)
}
