import DigitsApp
import DigitsCore
import Foundation

/// Teaches a trained model a person's handwriting: a short run of Adam on their examples mixed
/// with MNIST training images, so that it learns their digits without forgetting everyone else's.
///
/// Each batch is drawn (with replacement, seeded) from 6,000 MNIST images (every tenth of the
/// training set) and the person's examples repeated so that they make up about a quarter of
/// the mix.
public enum FineTuning {
    /// The settings of a fine-tuning run.
    public struct Settings: Sendable, Equatable {
        /// Optimiser steps.
        public var steps: Int = 300
        public var batchSize: Int = 32
        public var learningRate: Float = 2e-4
        public var seed: UInt64 = 1
        public init(steps: Int = 300, batchSize: Int = 32, learningRate: Float = 2e-4, seed: UInt64 = 1) {
            self.steps = steps
            self.batchSize = batchSize
            self.learningRate = learningRate
            self.seed = seed
        }
    }

    /// What a run did: the readings of the person's examples before and after.
    public struct Result {
        public var model: TrainedModel
        public var labels: [Int]
        public var before: [Prediction]
        public var after: [Prediction]
        public var seconds: Double
        public var beforeCorrect: Int { zip(before, labels).filter { $0.digit == $1 }.count }
        public var afterCorrect: Int { zip(after, labels).filter { $0.digit == $1 }.count }
    }

    /// Fine-tunes `model` in place on `examples` (784 bytes each) mixed with `mnist`.
    public static func run(_ model: TrainedModel, examples: (pixels: [UInt8], labels: [UInt8]), mnist: Dataset,
                           settings: Settings = Settings(), stop: StopFlag = StopFlag()) throws(AppError) -> Result {
        let n = examples.labels.count
        guard n > 0 else { throw AppError("there are no examples to learn from yet: correct a reading first") }
        guard model.model.inputShape.reduce(1, *) == 784, mnist.sampleSize == 784 else {
            throw AppError("fine-tuning needs a model that reads 28×28 images")
        }
        guard (1...100_000).contains(settings.steps) else { throw AppError("steps must be between 1 and 100000") }
        let sample = { (i: Int) in Array(examples.pixels[(i * 784)..<((i + 1) * 784)]) }
        let labels = examples.labels.map(Int.init)
        let before = (0..<n).map { model.predict(sample($0)) }

        // The mix: every tenth MNIST image, and the examples repeated to about a quarter of it.
        var features: [UInt8] = [], mixLabels: [Int32] = []
        var i = 0
        while i < mnist.count {
            features.append(contentsOf: mnist.features[(i * 784)..<((i + 1) * 784)])
            mixLabels.append(mnist.labels[i])
            i += 10
        }
        let repeats = max(1, (mixLabels.count / 3) / n)
        for _ in 0..<repeats {
            features.append(contentsOf: examples.pixels)
            mixLabels.append(contentsOf: examples.labels.map(Int32.init))
        }
        let mix = Dataset(sampleShape: model.model.inputShape, features: features, labels: mixLabels, classes: 10)

        let plan = TrainingPlan(batchSize: settings.batchSize, batching: .withReplacement,
                                length: .steps(settings.steps, reportEvery: settings.steps),
                                optimizer: .adam, learningRate: settings.learningRate)
        let start = ContinuousClock.now
        do {
            let trainer = try Trainer(model: model.model, loss: StoppableLoss(model.loss.make(), flag: stop), plan: plan,
                                      transform: model.inputTransform, rng: RandomSource(seed: settings.seed))
            try trainer.train(on: mix)
        } catch {
            if !stop.isStopped { throw AppError("fine-tuning failed: \(error.description)") }
        }
        let seconds = Double((ContinuousClock.now - start).components.seconds)
            + Double((ContinuousClock.now - start).components.attoseconds) * 1e-18
        let after = (0..<n).map { model.predict(sample($0)) }
        var tuned = model
        // A flag threshold was tuned on the certainties of the network before fine-tuning: dropped
        // (readings are then flagged below `Prediction.lowConfidence` until `digits calibrate --flag`).
        tuned.metadata[TrainedModel.flagBelowKey] = nil
        tuned.metadata[TrainedModel.flagDisagreementKey] = nil
        tuned.metadata["fine_tuned_examples"] = String(n)
        tuned.metadata["fine_tuned_steps"] = String(settings.steps)
        return Result(model: tuned, labels: labels, before: before, after: after, seconds: seconds)
    }
}
