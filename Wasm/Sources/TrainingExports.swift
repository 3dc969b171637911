// Training in the page: datasets of byte samples, and a trainer that takes its steps a few at
// a time so that the page can draw its charts between them. A step is `Trainer.train`'s step,
// drawn from the same random sources as `digits train` with the same seed.

// MARK: - Datasets

/// A dataset of `count` samples of shape (d0[, d1[, d2]]) (zeros end the shape): the bytes at
/// `pixels`, one label byte each at `labels`, labels below `classes`. Copied into the module.
@_cdecl("digits_dataset_create")
public func digits_dataset_create(_ pixels: UnsafePointer<UInt8>?, _ labels: UnsafePointer<UInt8>?, _ count: Int32,
                                  _ d0: Int32, _ d1: Int32, _ d2: Int32, _ classes: Int32) -> Int32 {
    guard let pixels, let labels, count >= 1, classes >= 1, classes <= 1 << 16 else { return fail("dataset: bad arguments") }
    var shape: [Int] = []
    for d in [d0, d1, d2] {
        if d == 0 { break }
        guard d > 0, d <= 1 << 16 else { return fail("dataset: dimension \(d) out of range") }
        shape.append(Int(d))
    }
    let size = shape.reduce(1, *)
    guard !shape.isEmpty, size <= 1 << 20, Int(count) <= Int(Int32.max) / size else { return fail("dataset: too large") }
    var labelArray = [Int32](repeating: 0, count: Int(count))
    for i in 0..<Int(count) {
        guard Int32(labels[i]) < classes else { return fail("dataset: label \(labels[i]) of sample \(i) is not below \(classes)") }
        labelArray[i] = Int32(labels[i])
    }
    let features = Array(UnsafeBufferPointer(start: pixels, count: Int(count) * size))
    return datasets.insert(DatasetBox(Dataset(sampleShape: shape, features: features, labels: labelArray, classes: Int(classes))))
}

@_cdecl("digits_dataset_free")
public func digits_dataset_free(_ handle: Int32) { datasets.remove(handle) }

// MARK: - Codes

/// Loss codes: 0 softmax cross-entropy, 1 squared error, 2 binary cross-entropy.
func lossFunction(_ code: Int32) -> (any Loss)? {
    switch code {
    case 0: return SoftmaxCrossEntropy()
    case 1: return MeanSquaredError()
    case 2: return BinaryCrossEntropy()
    default: return nil
    }
}

// MARK: - Evaluating

nonisolated(unsafe) var lastEvaluationLoss = 0.0

/// Accuracy (0…1) of the model on the dataset, with loss `lossCode`; the mean loss is then
/// `digits_evaluate_loss`. When `predictions` is not null, each sample's predicted class is
/// written there (one byte each). Negative on failure.
@_cdecl("digits_evaluate")
public func digits_evaluate(_ model: Int32, _ dataset: Int32, _ lossCode: Int32, _ predictions: UnsafeMutablePointer<UInt8>?) -> Double {
    guard let box = models[model], let data = datasets[dataset]?.data else { return Double(fail("evaluate: no such model or dataset", -1)) }
    guard let loss = lossFunction(lossCode) else { return Double(fail("unknown loss \(lossCode)", -1)) }
    guard data.sampleShape == box.model.inputShape else { return Double(fail("evaluate: the samples do not fit the model's input", -1)) }
    let e = Evaluator.evaluate(box.model, loss: loss, on: data, transform: box.transform)
    if let predictions {
        for i in 0..<e.predictions.count { predictions[i] = UInt8(truncatingIfNeeded: e.predictions[i]) }
    }
    lastEvaluationLoss = e.loss
    return e.accuracy
}

@_cdecl("digits_evaluate_loss")
public func digits_evaluate_loss() -> Double { lastEvaluationLoss }

// MARK: - Training

/// A training run in progress: `Trainer.train`'s loop, a few steps per call. Each step is the
/// core's own `Trainer.trainStep` (zero the gradients → forward → loss → backward → optimiser
/// step); the batches and the learning rate are drawn as `train` draws them.
final class TrainerBox {
    let trainer: Trainer
    let data: Dataset
    let totalSteps: Int
    var sampler: BatchSampler
    let indices: UnsafeMutablePointer<Int>
    // The last `run`'s figures.
    var meanLoss = 0.0, accuracy = 0.0, learningRate: Float = 0
    var failure: TrainingError?

    init(trainer: Trainer, data: Dataset, totalSteps: Int, rng: RandomSource) {
        self.trainer = trainer
        self.data = data
        self.totalSteps = totalSteps
        // As `Trainer.train`: the sampler's generator is forked first, then augmentation's.
        var rng = rng
        self.sampler = BatchSampler(count: data.count, batchSize: trainer.plan.batchSize, batching: trainer.plan.batching,
                                    rng: rng.fork())
        trainer.augmentationRNG = trainer.plan.augmentation == nil ? rng : rng.fork()
        indices = .allocate(capacity: sampler.batchSize)
    }

    deinit { indices.deallocate() }

    /// Takes up to `steps` steps; returns how many, or -1 when the loss stopped being finite.
    func run(_ steps: Int) -> Int {
        let plan = trainer.plan
        var metrics = Metrics(), done = 0
        while done < steps && trainer.step < totalSteps {
            let b = sampler.next(into: indices)
            learningRate = plan.schedule.rate(base: plan.learningRate, step: trainer.step, totalSteps: totalSteps)
            do {
                try trainer.trainStep(UnsafeBufferPointer(start: indices, count: b), of: data, learningRate: learningRate,
                                      metrics: &metrics)
            } catch {
                failure = error
                return -1
            }
            done += 1
        }
        meanLoss = metrics.meanLoss
        accuracy = metrics.accuracy
        return done
    }
}

/// A training run of the model on the dataset, `totalSteps` steps long (the schedule's length).
/// - Parameters:
///   - optimizer: 0 SGD, 1 momentum(a, nesterov: b ≠ 0), 2 Adam(a, b, c), 3 AdamW(a, b, c, weight decay d).
///   - schedule: 0 constant, 1 step(every s1, ×s2), 2 cosine(to ×s1), 3 one-cycle(warm-up s1, div s2, final div s3).
///   - batching: 0 shuffled, 1 in order, 2 with replacement. reduction: 0 mean, 1 sum.
///   - seed: the recipe's seed; batches are drawn as `digits train` draws them for it.
@_cdecl("digits_trainer_create")
public func digits_trainer_create(_ model: Int32, _ dataset: Int32, _ lossCode: Int32,
                                  _ optimizerCode: Int32, _ a: Float, _ b: Float, _ c: Float, _ d: Float,
                                  _ learningRate: Float, _ scheduleCode: Int32, _ s1: Float, _ s2: Float, _ s3: Float,
                                  _ batchSize: Int32, _ batchingCode: Int32, _ reductionCode: Int32, _ l2: Float,
                                  _ totalSteps: Int32, _ seedLow: UInt32, _ seedHigh: UInt32) -> Int32 {
    guard let box = models[model], let data = datasets[dataset]?.data else { return fail("train: no such model or dataset") }
    guard data.sampleShape == box.model.inputShape else { return fail("train: the samples do not fit the model's input") }
    guard let loss = lossFunction(lossCode) else { return fail("unknown loss \(lossCode)") }
    let optimizer: OptimizerKind
    switch optimizerCode {
    case 0: optimizer = .sgd
    case 1: optimizer = .momentum(a, nesterov: b != 0)
    case 2: optimizer = .adam(beta1: a, beta2: b, epsilon: c)
    case 3: optimizer = .adamW(beta1: a, beta2: b, epsilon: c, weightDecay: d)
    default: return fail("unknown optimiser \(optimizerCode)")
    }
    let schedule: LearningRateSchedule
    switch scheduleCode {
    case 0: schedule = .constant
    case 1: schedule = .step(every: Int(s1), gamma: s2)
    case 2: schedule = .cosine(minFactor: s1)
    case 3: schedule = .oneCycle(warmup: s1, divFactor: s2, finalDivFactor: s3)
    default: return fail("unknown schedule \(scheduleCode)")
    }
    let batching: Batching
    switch batchingCode {
    case 0: batching = .shuffled
    case 1: batching = .inOrder
    case 2: batching = .withReplacement
    default: return fail("unknown batching \(batchingCode)")
    }
    guard batchSize >= 1, totalSteps >= 1 else { return fail("batch size and steps must be at least 1") }
    guard learningRate.isFinite, learningRate > 0, l2.isFinite, l2 >= 0 else { return fail("learning rate must be positive, l2 zero or more") }
    let plan = TrainingPlan(batchSize: Int(batchSize), batching: batching, length: .steps(Int(totalSteps), reportEvery: Int(totalSteps)),
                            optimizer: optimizer, learningRate: learningRate, schedule: schedule, l2: l2,
                            reduction: reductionCode == 1 ? .sum : .mean)
    // `Recipe.trainingRandomSource`: the seed moved by 0x5EED, apart from the weights' generator.
    let seed = UInt64(seedHigh) << 32 | UInt64(seedLow)
    let rng = RandomSource(seed: seed &+ 0x5EED)
    do {
        let trainer = try Trainer(model: box.model, loss: loss, plan: plan, transform: box.transform, rng: rng)
        return trainers.insert(TrainerBox(trainer: trainer, data: data, totalSteps: Int(totalSteps), rng: rng))
    } catch {
        return fail(error.description)
    }
}

/// Takes up to `steps` steps; returns how many were taken (0 once the run is over), or -1 when
/// the loss stopped being finite. The figures of those steps: `digits_trainer_loss`,
/// `digits_trainer_accuracy`, `digits_trainer_learning_rate`.
@_cdecl("digits_trainer_run")
public func digits_trainer_run(_ handle: Int32, _ steps: Int32) -> Int32 {
    guard let t = trainers[handle] else { return fail("no trainer \(handle)") }
    let done = t.run(Int(max(steps, 0)))
    return done < 0 ? fail(t.failure?.description ?? "training failed") : Int32(done)
}

@_cdecl("digits_trainer_loss")
public func digits_trainer_loss(_ handle: Int32) -> Double { trainers[handle]?.meanLoss ?? .nan }

@_cdecl("digits_trainer_accuracy")
public func digits_trainer_accuracy(_ handle: Int32) -> Double { trainers[handle]?.accuracy ?? .nan }

@_cdecl("digits_trainer_learning_rate")
public func digits_trainer_learning_rate(_ handle: Int32) -> Float { trainers[handle]?.learningRate ?? .nan }

/// Steps taken so far.
@_cdecl("digits_trainer_step")
public func digits_trainer_step(_ handle: Int32) -> Int32 { Int32(trainers[handle]?.trainer.step ?? -1) }

@_cdecl("digits_trainer_free")
public func digits_trainer_free(_ handle: Int32) { trainers.remove(handle) }
