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

    public init(epoch: Int, step: Int, trainLoss: Double, trainAccuracy: Double,
                validationLoss: Double? = nil, validationAccuracy: Double? = nil,
                testLoss: Double? = nil, testAccuracy: Double? = nil, seconds: Double, learningRate: Float) {
        self.epoch = epoch; self.step = step
        self.trainLoss = trainLoss; self.trainAccuracy = trainAccuracy
        self.validationLoss = validationLoss; self.validationAccuracy = validationAccuracy
        self.testLoss = testLoss; self.testAccuracy = testAccuracy
        self.seconds = seconds; self.learningRate = learningRate
    }
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
    /// The loss became NaN or infinite at `step` (1-based), taken with `learningRate`: the
    /// learning rate is probably too high.
    case diverged(step: Int, learningRate: Float)
    case invalidPlan(String)
    /// A saved state that does not fit this trainer, its network or its data.
    case invalidState(String)

    public var description: String {
        switch self {
        case let .diverged(s, lr):
            "training diverged at step \(s) (learning rate \(FloatText.shortest(lr))): the loss is not finite (try a lower learning rate)"
        case .invalidPlan(let why): "invalid training plan: \(why)"
        case .invalidState(let why): "cannot resume training: \(why)"
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
/// What a checkpoint needs to resume is `state` (the steps, the sampler's order and position,
/// every random generator, the optimiser's buffers, the reports so far) with the model's
/// parameters; `train(on:resumingFrom:)` continues from it.
public final class Trainer {
    public let model: Sequential
    public let loss: any Loss
    public let plan: TrainingPlan
    public let transform: InputTransform
    public let optimizer: any Optimizer
    /// Optimiser steps taken so far.
    public private(set) var step = 0
    /// Whether a step whose batch is one chunk updates each layer during back-propagation, as
    /// soon as it is done with it (when the optimiser can, `Optimizer.updatesInParts`), rather
    /// than all of them after it. The same weights either way; false for the textbook order.
    public var updatesDuringBackward = true
    /// The batch sampler of the current `train` run (nil before the first).
    public private(set) var sampler: BatchSampler?
    /// The generator the augmentation draws from in `trainStep`.
    public var augmentationRNG: RandomSource
    private var rng: RandomSource
    /// The augmentation `trainStep` applies: the plan's, or its annealing's in the last epochs.
    private var augmentation: Augmentation?
    /// The running average of the weights, when the plan averages them (`plan.averaging`).
    public let average: WeightAverage?

    /// The largest number of samples that go through the network at once.
    private let chunk: Int
    /// Samples per forward when evaluating between intervals: the training chunk, at least 128.
    /// The layers' buffers grow to the largest batch they see, so evaluating in chunks no larger
    /// than training's keeps a network's memory at what training needs (a convolutional network
    /// evaluated 1,000 images at a time held several hundred megabytes more).
    private var evaluationChunk: Int { max(chunk, 128) }
    private let x = Tensor(shape: [0])                      // (chunk, sample…): a gathered chunk
    private let labels: UnsafeMutablePointer<Int32>        // chunk labels
    private let losses: UnsafeMutablePointer<Float>         // chunk per-sample losses
    /// The dense layer each of the model's dense parameters belongs to (for `zeroGradients`).
    private let denseOwners: [ObjectIdentifier: Dense]

    /// A trainer whose shuffling and augmentation draw from `rng`.
    public init(model: Sequential, loss: any Loss, plan: TrainingPlan, transform: InputTransform,
                rng: RandomSource) throws(TrainingError) {
        guard plan.batchSize >= 1 else { throw .invalidPlan("batch size must be at least 1") }
        guard plan.maxChunk >= 1 else { throw .invalidPlan("chunk size must be at least 1") }
        guard plan.learningRate.isFinite, plan.learningRate > 0 else { throw .invalidPlan("learning rate must be positive") }
        switch plan.optimizer {
        case let .adam(_, _, epsilon), let .adamW(_, _, epsilon, _):
            guard epsilon.isFinite, epsilon > 0 else { throw .invalidPlan("Adam's epsilon must be a positive number, got \(epsilon)") }
        default: break
        }
        switch plan.length {
        case .epochs(let e) where e < 1: throw .invalidPlan("epochs must be at least 1")
        case .steps(let s, let r) where s < 1 || r < 1: throw .invalidPlan("steps must be at least 1")
        default: break
        }
        if let annealing = plan.annealing, annealing.epochs < 1 {
            throw .invalidPlan("augmentation annealing needs at least 1 epoch")
        }
        if let averaging = plan.averaging {
            guard averaging.decay >= 0, averaging.decay <= 1 else { throw .invalidPlan("the weight average's decay must be from 0 to 1") }
            if let e = averaging.epochs, e < 1 { throw .invalidPlan("weight averaging needs at least 1 epoch") }
        }
        self.model = model
        self.loss = loss
        self.plan = plan
        self.transform = transform
        self.optimizer = plan.optimizer.make(l2: plan.l2)
        self.rng = rng
        self.augmentationRNG = rng
        self.augmentation = plan.augmentation
        self.average = plan.averaging.map { WeightAverage(averaging: $0, parameters: model.parameters) }
        self.chunk = min(plan.maxChunk, plan.batchSize)
        self.labels = .allocate(capacity: chunk)
        self.losses = .allocate(capacity: chunk)
        var owners: [ObjectIdentifier: Dense] = [:]
        for case let dense as Dense in model.layers {
            for p in dense.parameters { owners[ObjectIdentifier(p)] = dense }
        }
        self.denseOwners = owners
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
    /// finite. A batch in one chunk is updated layer by layer during backward instead
    /// (`updatesDuringBackward`): the same weights.
    public func trainStep(_ batch: UnsafeBufferPointer<Int>, of data: Dataset, learningRate: Float,
                          metrics: inout Metrics) throws(TrainingError) {
        zeroGradients(overwriting: batch.count > 0)
        // A step that stops early (a loss not finite, before backward) leaves no layer told to
        // overwrite, and its gradients zeroed, as every other parameter's.
        defer {
            for case let dense as Dense in model.layers where dense.overwritesGradients {
                dense.overwritesGradients = false
                for p in dense.parameters { p.grad.data.update(repeating: 0, count: p.grad.count) }
            }
        }
        let scale: Float = plan.reduction == .mean ? 1 / Float(batch.count) : 1
        // A batch in one chunk (the usual case): the loss is checked before backward, and the
        // optimiser updates each layer as soon as back-propagation is done with it, while its
        // gradient is still in cache. The same values as updating them all after backward.
        let inParts = updatesDuringBackward && optimizer.updatesInParts && batch.count >= 1 && batch.count <= chunk
        var start = 0
        while start < batch.count {
            let n = min(chunk, batch.count - start)
            gather(UnsafeBufferPointer(rebasing: batch[start ..< start + n]), of: data)
            let output = model.forward(x, training: true)
            let dOutput = loss.forwardBackward(output: output, labels: labels, perSample: losses, gradientScale: scale)
            metrics.add(output: output, labels: labels, losses: losses)
            if inParts {
                guard metrics.lossSum.isFinite else { throw .diverged(step: step + 1, learningRate: learningRate) }
                optimizer.beginStep()
                model.backward(dOutput) { optimizer.update($0, lr: learningRate) }
            } else {
                model.backward(dOutput)
            }
            start += n
        }
        if !inParts {
            guard metrics.lossSum.isFinite else { throw .diverged(step: step + 1, learningRate: learningRate) }
            optimizer.step(model.parameters, lr: learningRate)
        }
        step += 1
    }

    /// `model.zeroGradients()`, a large gradient zeroed one slice a thread, in order, as the
    /// optimiser then updates it: each thread's slice stays in its own core's cache.
    ///
    /// With `overwriting`, a dense layer that back-propagation reaches (no layer after it stops
    /// it) is told to write its gradients rather than add to them (`Dense.overwritesGradients`),
    /// and they are not zeroed: the same values, one pass over memory fewer.
    private func zeroGradients(overwriting: Bool) {
        var reached = overwriting
        for layer in model.layers.reversed() {
            if let dense = layer as? Dense { dense.overwritesGradients = reached }
            reached = reached && layer.computesInputGradient
        }
        for p in model.parameters {
            if let dense = denseOwners[ObjectIdentifier(p)], dense.overwritesGradients { continue }
            let g = p.grad.data
            Parallel.forEachSlice(p.grad.count, minimumSlice: 1 << 15, maximumParts: Parallel.threads) { r in
                (g + r.lowerBound).update(repeating: 0, count: r.count)
            }
        }
    }

    /// The samples `picked` of `data` into `x` and `labels`, augmented when the plan says so.
    private func gather(_ picked: UnsafeBufferPointer<Int>, of data: Dataset) {
        if let augmentation {
            augmentation.gather(from: data, picked, transform: transform, into: x, labels: labels, rng: &augmentationRNG)
        } else {
            data.gather(picked, transform: transform, into: x, labels: labels)
        }
    }

    // MARK: - The loop

    /// What `train`'s `afterStep` answers: go on, or stop after this step (the trainer's
    /// `state` then holds everything needed to resume).
    public enum Control: Sendable { case proceed, stop }

    /// Steps taken in the current (or last) `train` run, counting those before a resume.
    public private(set) var completedSteps = 0
    /// Steps the current (or last) `train` run takes in all.
    public private(set) var totalSteps = 0
    /// The reports of the current (or last) `train` run so far, those before a resume included.
    public private(set) var reports: [TrainingReport] = []
    // The interval under way: its metrics, its clock, and its seconds before a resume.
    private var metrics = Metrics()
    private var intervalStart = Stopwatch()
    private var intervalSecondsBefore = 0.0

    /// Trains for the plan's length, calling `onProgress` after every step, `onReport` at the
    /// end of every epoch (or interval), with validation and test figures when those sets are
    /// given, and then `afterStep`, which may stop training early.
    ///
    /// When the plan averages weights, each step from the averaging's first on adds to the
    /// average; reports from then on give the averaged network's validation and test figures
    /// (the training figures are the steps' own), and a run that reaches its last step ends
    /// with the model holding the averaged weights. A run stopped early keeps the last step's
    /// (the average is in `state`).
    ///
    /// With `saved` (a `state` taken from a trainer with the same plan, network and data, whose
    /// parameters have been copied into this one's model), training continues from there and
    /// takes bit for bit the steps the saved run would have taken. Returns every report, those
    /// before a resume included.
    @discardableResult
    public func train(on data: Dataset, validation: Dataset? = nil, test: Dataset? = nil,
                      resumingFrom saved: State? = nil,
                      onProgress: (TrainingProgress) -> Void = { _ in },
                      onReport: (TrainingReport) -> Void = { _ in },
                      afterStep: () -> Control = { .proceed }) throws(TrainingError) -> [TrainingReport] {
        guard data.count > 0 else { throw .invalidPlan("the training set is empty") }
        let stepsPerEpoch = (data.count + min(plan.batchSize, data.count) - 1) / min(plan.batchSize, data.count)
        let (total, interval): (Int, Int) = switch plan.length {
        case .epochs(let e): (e * stepsPerEpoch, stepsPerEpoch)
        case .steps(let s, let every): (s, every)
        }
        // Steps from `averageFrom` on add to the weight average (a function of the step).
        let averageFrom = plan.averaging.map { $0.firstStep(totalSteps: total, stepsPerEpoch: stepsPerEpoch) } ?? total
        if let saved {
            try restore(saved, samples: data.count, totalSteps: total, averageFrom: averageFrom)
        } else {
            sampler = BatchSampler(count: data.count, batchSize: plan.batchSize, batching: plan.batching, rng: rng.fork())
            // Drawn after the sampler's, so that turning augmentation on leaves the batch order alone.
            augmentationRNG = plan.augmentation == nil && plan.annealing?.augmentation == nil ? rng : rng.fork()
            completedSteps = 0
            reports = []
            metrics = Metrics()
            intervalSecondsBefore = 0
        }
        totalSteps = total
        // Steps from `lightFrom` on use the annealing's augmentation (a function of the step
        // alone, so a resumed run switches where an uninterrupted one does).
        let lightFrom = plan.annealing.map { $0.firstStep(totalSteps: total, stepsPerEpoch: stepsPerEpoch) } ?? total
        intervalStart = Stopwatch()
        let indices = UnsafeMutablePointer<Int>.allocate(capacity: min(plan.batchSize, data.count))
        defer { indices.deallocate() }

        var lr = plan.learningRate
        for s in completedSteps..<total {
            let b = sampler?.next(into: indices) ?? 0
            lr = plan.schedule.rate(base: plan.learningRate, step: s, totalSteps: total)
            augmentation = s < lightFrom ? plan.augmentation : plan.annealing?.augmentation
            try trainStep(UnsafeBufferPointer(start: indices, count: b), of: data, learningRate: lr, metrics: &metrics)
            if s >= averageFrom { average?.update(from: model.parameters) }
            completedSteps = s + 1

            let stepInInterval = s % interval + 1
            onProgress(TrainingProgress(epoch: s / interval + 1, stepInInterval: stepInInterval, stepsInInterval: interval,
                                        samplesInInterval: metrics.count, seconds: intervalSeconds))
            if stepInInterval == interval || s == total - 1 {
                var r = TrainingReport(epoch: s / interval + 1, step: s + 1,
                                       trainLoss: metrics.meanLoss, trainAccuracy: metrics.accuracy,
                                       seconds: intervalSeconds, learningRate: lr)
                // The averaged network's figures, once there is an average (swapped in and back out).
                let averaged = average.flatMap { $0.count > 0 ? $0 : nil }
                averaged?.swap(with: model.parameters)
                if let validation {
                    let e = Evaluator.evaluate(model, loss: loss, on: validation, transform: transform, chunk: evaluationChunk)
                    r.validationLoss = e.loss; r.validationAccuracy = e.accuracy
                }
                if let test {
                    let e = Evaluator.evaluate(model, loss: loss, on: test, transform: transform, chunk: evaluationChunk)
                    r.testLoss = e.loss; r.testAccuracy = e.accuracy
                }
                averaged?.swap(with: model.parameters)
                reports.append(r)
                onReport(r)
                metrics = Metrics(); intervalStart = Stopwatch(); intervalSecondsBefore = 0
            }
            if afterStep() == .stop { break }
        }
        // A finished run ends with the averaged weights.
        if completedSteps == total, let average, average.count > 0 { average.copy(into: model.parameters) }
        return reports
    }

    /// Seconds of training in the interval under way.
    private var intervalSeconds: Double { intervalSecondsBefore + intervalStart.elapsedSeconds }

    // MARK: - State (for checkpoints)

    /// Everything a `train` run needs to continue, except the model's parameters (which are
    /// the model's own: weights, biases, BatchNorm's running statistics): the steps taken, the
    /// sampler's order and position, every random generator, the optimiser's buffers, the
    /// interval under way and the reports so far. The learning-rate schedule's position is
    /// the step.
    public struct State {
        /// Steps taken of the run.
        public var step: Int
        public var sampler: BatchSampler.State
        /// The augmentation's generator (a copy of the trainer's when the plan has none).
        public var augmentationRNG: RandomSource
        /// The generator of each `Dropout` layer of the model, in order.
        public var dropoutRNGs: [RandomSource]
        public var optimizer: OptimizerState
        /// The sums of the interval under way.
        public var metrics: Metrics
        /// Seconds of training in the interval under way.
        public var intervalSeconds: Double
        /// The reports so far.
        public var reports: [TrainingReport]
        /// The weight average so far, when the plan averages weights.
        public var average: WeightAverage.State?

        public init(step: Int, sampler: BatchSampler.State, augmentationRNG: RandomSource, dropoutRNGs: [RandomSource],
                    optimizer: OptimizerState, metrics: Metrics, intervalSeconds: Double, reports: [TrainingReport],
                    average: WeightAverage.State? = nil) {
            self.step = step
            self.sampler = sampler
            self.augmentationRNG = augmentationRNG
            self.dropoutRNGs = dropoutRNGs
            self.optimizer = optimizer
            self.metrics = metrics
            self.intervalSeconds = intervalSeconds
            self.reports = reports
            self.average = average
        }
    }

    /// The model's dropout layers, whose generators are part of the state.
    private var dropouts: [Dropout] { model.layers.compactMap { $0 as? Dropout } }

    /// Where training is, between two steps of `train` (from `afterStep`) or after it
    /// returns; nil before the first `train`. Copies every buffer, so it allocates: take it
    /// for a checkpoint, not every step.
    public var state: State? {
        guard let sampler else { return nil }
        return State(step: completedSteps, sampler: sampler.state, augmentationRNG: augmentationRNG,
                     dropoutRNGs: dropouts.map { $0.rng }, optimizer: optimizer.state(for: model.parameters),
                     metrics: metrics, intervalSeconds: intervalSeconds, reports: reports, average: average?.state)
    }

    /// Checks `saved` against this trainer and its data, then continues from it. A weight average
    /// must have counted exactly the steps from `averageFrom` to the saved step.
    private func restore(_ saved: State, samples: Int, totalSteps: Int, averageFrom: Int) throws(TrainingError) {
        guard (0...totalSteps).contains(saved.step) else {
            throw .invalidState("step \(saved.step) is outside the run's \(totalSteps) steps")
        }
        guard let restored = BatchSampler(count: samples, batchSize: plan.batchSize, batching: plan.batching, state: saved.sampler) else {
            throw .invalidState("the sampler's order is not one of the \(samples) training samples")
        }
        let layers = dropouts
        guard layers.count == saved.dropoutRNGs.count else {
            throw .invalidState("\(saved.dropoutRNGs.count) dropout generators for \(layers.count) dropout layers")
        }
        let m = saved.metrics
        guard m.count >= 0, (0...m.count).contains(m.correct), saved.intervalSeconds >= 0 else {
            throw .invalidState("the interval's sums are impossible")
        }
        if let savedAverage = saved.average, savedAverage.count != max(0, saved.step - averageFrom) {
            throw .invalidState("the weight average counts \(savedAverage.count) steps, but \(max(0, saved.step - averageFrom)) of the saved run's steps are averaged")
        }
        switch (average, saved.average) {
        case let (average?, savedAverage?): try average.restore(savedAverage)
        case (nil, nil): break
        case (_?, nil): throw .invalidState("the plan averages weights, the saved run has no average")
        case (nil, _?): throw .invalidState("the saved run has a weight average, the plan averages no weights")
        }
        do { try optimizer.restore(saved.optimizer, for: model.parameters) } catch { throw .invalidState(error.description) }
        sampler = restored
        augmentationRNG = saved.augmentationRNG
        for (layer, rng) in zip(layers, saved.dropoutRNGs) { layer.rng = rng }
        step = saved.step
        completedSteps = saved.step
        metrics = m
        intervalSecondsBefore = saved.intervalSeconds
        reports = saved.reports
    }
}
