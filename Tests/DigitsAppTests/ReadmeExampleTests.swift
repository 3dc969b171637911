import DigitsCore
import DigitsData
import Testing

/// The library example in README.md ("How it is built"), word for word, kept compiling and
/// working: one epoch on the bundled MNIST.
@Test("README's library example trains a network")
func readmeExample() throws {
    // From README.md:
    let mnist = try MNIST.loadBundled()
    func dataset(_ set: ImageSet) -> Dataset {
        Dataset(sampleShape: [784], features: set.pixels, labels: set.labels.map { Int32($0) }, classes: 10)
    }
    let (trainingSet, testSet) = (dataset(mnist.train), dataset(mnist.test))

    var rng = RandomSource(seed: 1)
    let model = try Sequential(inputShape: [784], layers: [
        Dense(784, 256, rng: &rng), ReLU(),
        Dense(256, 128, rng: &rng), ReLU(),
        Dense(128, 10, rng: &rng),
    ])
    let trainer = try Trainer(model: model, loss: SoftmaxCrossEntropy(),
                              plan: TrainingPlan(batchSize: 64, length: .epochs(1),
                                                 optimizer: .momentum(0.9, nesterov: true), learningRate: 0.05),
                              transform: .unit, rng: RandomSource(seed: 2))
    try trainer.train(on: trainingSet, test: testSet, onReport: { report in print(report) })
    // End of the README's code.

    #expect(trainer.step == 938)
    #expect(Evaluator.evaluate(model, loss: SoftmaxCrossEntropy(), on: testSet, transform: .unit).accuracy > 0.95)
}
