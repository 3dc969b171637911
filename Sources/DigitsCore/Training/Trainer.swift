/// One line of a training log: the state after an epoch (or after `reportEvery` steps).
public struct TrainingReport: Sendable, Equatable {
    /// The epoch (1-based), or for a step-based run the report's number.
    public var epoch: Int
    /// Optimiser steps taken so far.
    public var step: Int
    /// The mean loss and accuracy over the batches trained since the last report (measured
    /// during training, as the weights changed).
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    public var testLoss: Double?
    public var testAccuracy: Double?
    /// Seconds of training (not evaluation) since the last report.
    public var seconds: Double
    /// The learning rate of the last step.
    public var learningRate: Float
}

/// Where training is within the current epoch or report interval.
public struct TrainingProgress: Sendable {
    public var epoch: Int
    public var stepInInterval: Int
    public var stepsInInterval: Int
    public var samplesInInterval: Int
    /// Seconds since the interval started.
    public var seconds: Double
}

/// What can stop training.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    /// The loss became NaN or infinite: the learning rate is probably too high.
    case diverged(step: Int)
    case invalidPlan(String)

    public var description: String {
        switch self {
        case .diverged(let s): "training diverged at step \(s): the loss is not finite (try a lower learning rate)"
        case .invalidPlan(let why): "invalid training plan: \(why)"
        }
    }
}

/// Trains a `Sequential` network on a `Dataset` by gradient descent.
///
/// `trainStep` is one step, written out in order as in tinygrad's `beautiful_mnist`:
/// zero the gradients, forward, loss, backward, optimiser step. `train` draws the batches,
/// sets the learning rate and calls it, reporting as it goes. Every buffer a step touches is
/// allocated before the first one.
///
/// What a checkpoint would need to resume is here to read: the model's parameters, the
/// optimiser's state, the step count, the batch sampler (its order and position) and the
/// augmentation's random generator.
public final class Trainer {
    public let model: Sequential
    public let loss: any Loss
    public let plan: TrainingPlan
    public let transform: InputTransform
    public let optimizer: any Optimizer
    /// Optimiser steps taken so far.
    public private(set) var step = 0
    /// The batch sampler of the current `train` run (nil before the first).
    public private(set) var sampler: BatchSampler?
    /// The generator the augmentation draws from in `trainStep`.
    public var augmentationRNG: RandomSource
    private var rng: RandomSource

    /// The largest number of samples that go through the network at once.
    private let chunk: Int
    private let x = Tensor(shape: [0])                      // (chunk, sample…): a gathered chunk
    private let labels: UnsafeMutablePointer<Int32>        // chunk labels
    private let losses: UnsafeMutablePointer<Float>         // chunk per-sample losses

    /// A trainer whose shuffling and augmentation draw from `rng`.
    public init(model: Sequential, loss: any Loss, plan: TrainingPlan, transform: InputTransform,
                rng: RandomSource) throws(TrainingError) {
        guard plan.batchSize >= 1 else { throw .invalidPlan("batch size must be at least 1") }
        guard plan.maxChunk >= 1 else { throw .invalidPlan("chunk size must be at least 1") }
        guard plan.learningRate.isFinite, plan.learningRate > 0 else { throw .invalidPlan("learning rate must be positive") }
        switch plan.length {
        case .epochs(let e) where e < 1: throw .invalidPlan("epochs must be at least 1")
        case .steps(let s, let r) where s < 1 || r < 1: throw .invalidPlan("steps must be at least 1")
        default: break
        }
        self.model = model
        self.loss = loss
        self.plan = plan
        self.transform = transform
        self.optimizer = plan.optimizer.make(l2: plan.l2)
        self.rng = rng
        self.augmentationRNG = rng
        self.chunk = min(plan.maxChunk, plan.batchSize)
        self.labels = .allocate(capacity: chunk)
        self.losses = .allocate(capacity: chunk)
    }

    deinit {
        labels.deallocate()
        losses.deallocate()
    }

    // MARK: - One step

    /// One step of gradient descent on the samples `batch` of `data`, with learning rate
    /// `learningRate`:
    ///
    ///     zero the gradients → forward → loss → backward → optimiser step
    ///
    /// A batch larger than `plan.maxChunk` goes through forward, loss and backward a chunk at a
    /// time, and the chunks' gradients add up. Each sample's loss and prediction are added to
    /// `metrics`. Throws `.diverged`, leaving the weights as they were, when the loss is not
    /// finite.
    public func trainStep(_ batch: UnsafeBufferPointer<Int>, of data: Dataset, learningRate: Float,
                          metrics: inout Metrics) throws(TrainingError) {
        model.zeroGradients()
        let scale: Float = plan.reduction == .mean ? 1 / Float(batch.count) : 1
        var start = 0
        while start < batch.count {
            let n = min(chunk, batch.count - start)
            gather(UnsafeBufferPointer(rebasing: batch[start ..< start + n]), of: data)
            let output = model.forward(x, training: true)
            let dOutput = loss.forwardBackward(output: output, labels: labels, perSample: losses, gradientScale: scale)
            metrics.add(output: output, labels: labels, losses: losses)
            model.backward(dOutput)
            start += n
        }
        guard metrics.lossSum.isFinite else { throw .diverged(step: step + 1) }
        optimizer.step(model.parameters, lr: learningRate)
        step += 1
    }

    /// The samples `picked` of `data` into `x` and `labels`, augmented when the plan says so.
    private func gather(_ picked: UnsafeBufferPointer<Int>, of data: Dataset) {
        if let augmentation = plan.augmentation {
            augmentation.gather(from: data, picked, transform: transform, into: x, labels: labels, rng: &augmentationRNG)
        } else {
            data.gather(picked, transform: transform, into: x, labels: labels)
        }
    }

    // MARK: - The loop

    /// Trains for the plan's length, calling `onProgress` after every step and `onReport` at
    /// the end of every epoch (or interval), with validation and test figures when those sets
    /// are given.
    @discardableResult
    public func train(on data: Dataset, validation: Dataset? = nil, test: Dataset? = nil,
                      onProgress: (TrainingProgress) -> Void = { _ in },
                      onReport: (TrainingReport) -> Void = { _ in }) throws(TrainingError) -> [TrainingReport] {
        guard data.count > 0 else { throw .invalidPlan("the training set is empty") }
        var sampler = BatchSampler(count: data.count, batchSize: plan.batchSize, batching: plan.batching, rng: rng.fork())
        // Drawn after the sampler's, so that turning augmentation on leaves the batch order alone.
        augmentationRNG = plan.augmentation == nil ? rng : rng.fork()
        let stepsPerEpoch = sampler.stepsPerEpoch
        let (totalSteps, interval): (Int, Int) = switch plan.length {
        case .epochs(let e): (e * stepsPerEpoch, stepsPerEpoch)
        case .steps(let s, let every): (s, every)
        }
        let indices = UnsafeMutablePointer<Int>.allocate(capacity: sampler.batchSize)
        defer { indices.deallocate(); self.sampler = sampler }

        var reports: [TrainingReport] = []
        var metrics = Metrics(), intervalStart = Stopwatch()
        var lr = plan.learningRate
        for s in 0..<totalSteps {
            let b = sampler.next(into: indices)
            lr = plan.schedule.rate(base: plan.learningRate, step: s, totalSteps: totalSteps)
            try trainStep(UnsafeBufferPointer(start: indices, count: b), of: data, learningRate: lr, metrics: &metrics)

            let stepInInterval = s % interval + 1
            onProgress(TrainingProgress(epoch: s / interval + 1, stepInInterval: stepInInterval, stepsInInterval: interval,
                                        samplesInInterval: metrics.count, seconds: intervalStart.elapsedSeconds))
            if stepInInterval == interval || s == totalSteps - 1 {
                var r = TrainingReport(epoch: s / interval + 1, step: s + 1,
                                       trainLoss: metrics.meanLoss, trainAccuracy: metrics.accuracy,
                                       seconds: intervalStart.elapsedSeconds, learningRate: lr)
                if let validation {
                    let e = Evaluator.evaluate(model, loss: loss, on: validation, transform: transform)
                    r.validationLoss = e.loss; r.validationAccuracy = e.accuracy
                }
                if let test {
                    let e = Evaluator.evaluate(model, loss: loss, on: test, transform: transform)
                    r.testLoss = e.loss; r.testAccuracy = e.accuracy
                }
                reports.append(r)
                onReport(r)
                metrics = Metrics(); intervalStart = Stopwatch()
            }
        }
        return reports
    }
}
