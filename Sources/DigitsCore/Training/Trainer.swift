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
/// Each step: draw a batch, gather it as `Float`, forward, loss and its gradient, backward,
/// optimiser update. All buffers are allocated before the first step.
public final class Trainer {
    public let model: Sequential
    public let loss: any Loss
    public let plan: TrainingPlan
    public let transform: InputTransform
    public let optimizer: any Optimizer
    private var rng: RandomSource

    /// A trainer whose shuffling draws from `rng`.
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
    }

    /// Trains, calling `onProgress` after every step and `onReport` at the end of every epoch
    /// (or interval), with validation and test figures when those sets are given.
    @discardableResult
    public func train(on data: Dataset, validation: Dataset? = nil, test: Dataset? = nil,
                      onProgress: (TrainingProgress) -> Void = { _ in },
                      onReport: (TrainingReport) -> Void = { _ in }) throws(TrainingError) -> [TrainingReport] {
        guard data.count > 0 else { throw .invalidPlan("the training set is empty") }
        var sampler = BatchSampler(count: data.count, batchSize: plan.batchSize, batching: plan.batching, rng: rng.fork())
        // Drawn after the sampler's, so that turning augmentation on leaves the batch order alone.
        var augmentationRNG = plan.augmentation == nil ? rng : rng.fork()
        let batch = sampler.batchSize, chunk = min(plan.maxChunk, batch)
        let stepsPerEpoch = sampler.stepsPerEpoch
        let (totalSteps, interval): (Int, Int) = switch plan.length {
        case .epochs(let e): (e * stepsPerEpoch, stepsPerEpoch)
        case .steps(let s, let every): (s, every)
        }

        // Everything a step touches, allocated once.
        let indices = UnsafeMutablePointer<Int>.allocate(capacity: batch)
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: chunk)
        let perSample = UnsafeMutablePointer<Float>.allocate(capacity: chunk)
        defer { indices.deallocate(); labels.deallocate(); perSample.deallocate() }
        let x = Tensor(shape: [chunk] + data.sampleShape)
        let parameters = model.parameters
        model.zeroGradients()

        var reports: [TrainingReport] = []
        var lossSum = 0.0, correct = 0, seen = 0, intervalStart = Stopwatch()
        var lr = plan.learningRate
        for step in 0..<totalSteps {
            let b = sampler.next(into: indices)
            let scale: Float = plan.reduction == .mean ? 1 / Float(b) : 1
            var start = 0
            while start < b {
                let n = min(chunk, b - start)
                let picked = UnsafeBufferPointer(start: indices + start, count: n)
                if let augmentation = plan.augmentation {
                    augmentation.gather(from: data, picked, transform: transform, into: x, labels: labels, rng: &augmentationRNG)
                } else {
                    data.gather(picked, transform: transform, into: x, labels: labels)
                }
                let out = model.forward(x, training: true)
                let grad = loss.forwardBackward(output: out, labels: labels, perSample: perSample, gradientScale: scale)
                let k = out.columns
                for i in 0..<n {
                    lossSum += Double(perSample[i])
                    if argmax(out.data + i * k, k) == Int(labels[i]) { correct += 1 }
                }
                model.backward(grad)
                start += n
            }
            seen += b
            guard lossSum.isFinite else { throw .diverged(step: step + 1) }
            lr = plan.schedule.rate(base: plan.learningRate, step: step, totalSteps: totalSteps)
            optimizer.step(parameters, lr: lr)

            let stepInInterval = step % interval + 1
            onProgress(TrainingProgress(epoch: step / interval + 1, stepInInterval: stepInInterval, stepsInInterval: interval,
                                        samplesInInterval: seen, seconds: intervalStart.elapsedSeconds))
            if stepInInterval == interval || step == totalSteps - 1 {
                var r = TrainingReport(epoch: step / interval + 1, step: step + 1,
                                       trainLoss: lossSum / Double(seen), trainAccuracy: Double(correct) / Double(seen),
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
                lossSum = 0; correct = 0; seen = 0; intervalStart = Stopwatch()
            }
        }
        return reports
    }
}
