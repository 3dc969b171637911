import DigitsCore
import Testing

@Suite struct TrainerTests {
    static let train = blobs(count: 200, seed: 1)
    static let test = blobs(count: 100, seed: 2)

    static func model(seed: UInt64) throws -> Sequential {
        var rng = RandomSource(seed: seed)
        return try Sequential(inputShape: [2], specs: [
            .dense(inputs: 2, outputs: 8, bias: true), .activation(.relu),
            .dense(inputs: 8, outputs: 2, bias: true),
        ], rng: &rng)
    }

    static func plan(_ optimizer: OptimizerKind = .momentum(0.9, nesterov: false), lr: Float = 0.1, epochs: Int = 10,
                     batching: Batching = .shuffled) -> TrainingPlan {
        TrainingPlan(batchSize: 16, batching: batching, length: .epochs(epochs), optimizer: optimizer, learningRate: lr)
    }

    /// A report with the wall-clock time, which no two runs share, removed.
    static func timeless(_ r: TrainingReport) -> TrainingReport {
        var r = r
        r.seconds = 0
        return r
    }

    @Test("Learns two separable blobs", arguments: [
        (OptimizerKind.sgd, Float(0.5), Batching.shuffled),
        (.momentum(0.9, nesterov: true), 0.1, .withReplacement),
        (.adam, 0.02, .inOrder),
    ])
    func learns(optimizer: OptimizerKind, lr: Float, batching: Batching) throws {
        let model = try Self.model(seed: 3)
        let trainer = try Trainer(model: model, loss: SoftmaxCrossEntropy(), plan: Self.plan(optimizer, lr: lr, batching: batching),
                                  transform: .unit, rng: RandomSource(seed: 4))
        let before = Evaluator.evaluate(model, loss: SoftmaxCrossEntropy(), on: Self.test, transform: .unit)
        var reported = 0
        let reports = try trainer.train(on: Self.train, test: Self.test, onReport: { _ in reported += 1 })
        #expect(reports.count == 10 && reported == 10)
        #expect(reports.last!.step == 10 * 13, "13 steps an epoch for 200 samples in batches of 16")
        let after = Evaluator.evaluate(model, loss: SoftmaxCrossEntropy(), on: Self.test, transform: .unit)
        #expect(after.accuracy >= 0.97, "accuracy \(after.accuracy)")
        #expect(after.loss < before.loss / 2)
        #expect(reports.last!.testAccuracy == after.accuracy)
        #expect(reports.last!.trainAccuracy > 0.9)
        #expect(reports.last!.trainLoss < reports.first!.trainLoss)
    }

    @Test("The same seed gives bit-identical weights and reports, twice")
    func determinism() throws {
        func run(_ seed: UInt64) throws -> ([[UInt32]], [TrainingReport]) {
            let model = try Self.model(seed: seed)
            let trainer = try Trainer(model: model, loss: SoftmaxCrossEntropy(), plan: Self.plan(epochs: 3),
                                      transform: .unit, rng: RandomSource(seed: seed))
            let reports = try trainer.train(on: Self.train, validation: Self.test)
            return (parameterBits(model), reports.map(Self.timeless))
        }
        let a = try run(7), b = try run(7), c = try run(8)
        #expect(a.0 == b.0)
        #expect(a.1 == b.1)
        #expect(a.1.allSatisfy { $0.validationAccuracy != nil && $0.testAccuracy == nil })
        #expect(a.0 != c.0, "another seed gives other weights")
    }

    /// Full-batch gradient descent for 3 steps, with the batch sent through in chunks of `maxChunk`.
    static func fullBatch(maxChunk: Int, reduction: Reduction = .mean, lr: Float = 0.5) throws -> (Sequential, [TrainingReport]) {
        let model = try Self.model(seed: 5)
        let plan = TrainingPlan(batchSize: 200, batching: .inOrder, length: .steps(3, reportEvery: 1), optimizer: .sgd,
                                learningRate: lr, reduction: reduction, maxChunk: maxChunk)
        let trainer = try Trainer(model: model, loss: SoftmaxCrossEntropy(), plan: plan, transform: .unit, rng: RandomSource(seed: 6))
        return (model, try trainer.train(on: Self.train))
    }

    @Test("Full batch in chunks gives the same update as in one piece")
    func chunked() throws {
        let (whole, wholeReports) = try Self.fullBatch(maxChunk: 1024)
        let (chunked, chunkedReports) = try Self.fullBatch(maxChunk: 7)
        let initial = try Self.model(seed: 5)
        #expect(parameterBits(whole) != parameterBits(initial), "training moved the weights")
        for (p, q) in zip(whole.parameters, chunked.parameters) {
            expectClose(q.value.array, p.value.array, relative: 1e-5, absolute: 1e-6, p.name)
        }
        #expect(wholeReports.count == 3 && chunkedReports.count == 3)
        for (r, s) in zip(wholeReports, chunkedReports) {
            #expect(isApproximatelyEqual(r.trainLoss, s.trainLoss, relative: 1e-5))
            #expect(r.trainAccuracy == s.trainAccuracy)
        }
    }

    @Test("Summed gradients with lr/B equal averaged gradients with lr")
    func sumReduction() throws {
        let (mean, _) = try Self.fullBatch(maxChunk: 64, reduction: .mean, lr: 0.5)
        let (sum, _) = try Self.fullBatch(maxChunk: 64, reduction: .sum, lr: 0.5 / 200)
        for (p, q) in zip(mean.parameters, sum.parameters) {
            expectClose(q.value.array, p.value.array, relative: 1e-4, absolute: 1e-6, p.name)
        }
    }

    @Test("Step-based training reports every K steps and at the end, with the schedule's rate")
    func stepReports() throws {
        let plan = TrainingPlan(batchSize: 10, length: .steps(10, reportEvery: 4), optimizer: .sgd, learningRate: 0.1,
                                schedule: .step(every: 5, gamma: 0.5))
        let trainer = try Trainer(model: try Self.model(seed: 1), loss: SoftmaxCrossEntropy(), plan: plan,
                                  transform: .unit, rng: RandomSource(seed: 1))
        var progress = 0
        let reports = try trainer.train(on: Self.train, onProgress: { _ in progress += 1 })
        #expect(reports.map(\.step) == [4, 8, 10])
        #expect(reports.map(\.epoch) == [1, 2, 3])
        #expect(reports.map(\.learningRate) == [0.1, 0.05, 0.05])
        #expect(progress == 10)
    }

    @Test("A huge learning rate diverges with a typed error")
    func diverges() throws {
        var rng = RandomSource(seed: 1)
        let model = try Sequential(inputShape: [2], specs: [
            .dense(inputs: 2, outputs: 2, bias: true),
        ], rng: &rng)
        let plan = TrainingPlan(batchSize: 16, length: .epochs(20), optimizer: .sgd, learningRate: 10)
        let trainer = try Trainer(model: model, loss: MeanSquaredError(), plan: plan, transform: .raw, rng: RandomSource(seed: 1))
        let error = #expect(throws: TrainingError.self) { try trainer.train(on: Self.train) }
        guard case .diverged(let step)? = error else {
            Issue.record("expected .diverged, got \(String(describing: error))")
            return
        }
        #expect(step >= 1 && step < 20 * 13)
    }

    @Test("Invalid plans are rejected", arguments: [
        TrainingPlan(batchSize: 0, length: .epochs(1), optimizer: .sgd, learningRate: 0.1),
        TrainingPlan(batchSize: 8, length: .epochs(0), optimizer: .sgd, learningRate: 0.1),
        TrainingPlan(batchSize: 8, length: .steps(0, reportEvery: 1), optimizer: .sgd, learningRate: 0.1),
        TrainingPlan(batchSize: 8, length: .steps(10, reportEvery: 0), optimizer: .sgd, learningRate: 0.1),
        TrainingPlan(batchSize: 8, length: .epochs(1), optimizer: .sgd, learningRate: 0),
        TrainingPlan(batchSize: 8, length: .epochs(1), optimizer: .sgd, learningRate: -1),
        TrainingPlan(batchSize: 8, length: .epochs(1), optimizer: .sgd, learningRate: .nan),
        TrainingPlan(batchSize: 8, length: .epochs(1), optimizer: .sgd, learningRate: .infinity),
        TrainingPlan(batchSize: 8, length: .epochs(1), optimizer: .sgd, learningRate: 0.1, maxChunk: 0),
    ])
    func invalidPlan(plan: TrainingPlan) throws {
        let model = try Self.model(seed: 1)
        let error = #expect(throws: TrainingError.self) {
            try Trainer(model: model, loss: SoftmaxCrossEntropy(), plan: plan, transform: .unit, rng: RandomSource(seed: 1))
        }
        if case .invalidPlan(let why)? = error { #expect(!why.isEmpty) } else { Issue.record("got \(String(describing: error))") }
    }

    @Test("An empty training set is an error, not a crash")
    func emptyData() throws {
        let empty = Dataset(sampleShape: [2], features: [], labels: [], classes: 2)
        let trainer = try Trainer(model: try Self.model(seed: 1), loss: SoftmaxCrossEntropy(), plan: Self.plan(),
                                  transform: .unit, rng: RandomSource(seed: 1))
        #expect(throws: TrainingError.self) { try trainer.train(on: empty) }
    }

    @Test("A training step zeroes the gradients first, and a chunked batch gives the same step as a whole one")
    func trainStep() throws {
        func step(maxChunk: Int, staleGradients: Bool) throws -> (weights: [[Float]], metrics: Metrics, step: Int) {
            let model = try Self.model(seed: 3)
            var plan = Self.plan(.momentum(0.9, nesterov: true))
            plan.maxChunk = maxChunk
            let trainer = try Trainer(model: model, loss: SoftmaxCrossEntropy(), plan: plan, transform: .unit,
                                      rng: RandomSource(seed: 4))
            if staleGradients { for p in model.parameters { p.grad.fill(7) } }
            var metrics = Metrics()
            let batch = Array(0..<16)
            try batch.withUnsafeBufferPointer { b throws(TrainingError) in
                try trainer.trainStep(b, of: Self.train, learningRate: 0.1, metrics: &metrics)
            }
            return (model.parameters.map(\.value.array), metrics, trainer.step)
        }
        let clean = try step(maxChunk: 16, staleGradients: false)
        let stale = try step(maxChunk: 16, staleGradients: true)
        #expect(stale.weights == clean.weights)
        #expect(clean.metrics.count == 16 && clean.step == 1)
        #expect(stale.metrics.lossSum == clean.metrics.lossSum && stale.metrics.correct == clean.metrics.correct)
        let chunked = try step(maxChunk: 5, staleGradients: false)
        for (a, b) in zip(chunked.weights, clean.weights) { expectClose(a, b, relative: 1e-5, absolute: 1e-6, "chunked") }
        #expect(isApproximatelyEqual(chunked.metrics.lossSum, clean.metrics.lossSum, relative: 1e-6))
    }

    @Test("Metrics count each sample once: mean loss, accuracy, predictions")
    func metrics() {
        var m = Metrics()
        let output = Tensor(shape: [3, 2], values: [0.1, 0.9, 0.8, 0.2, 0.4, 0.6])
        let labels: [Int32] = [1, 1, 1], losses: [Float] = [0.5, 1.5, 1]
        var predictions = [Int32](repeating: -1, count: 3)
        m.add(output: output, labels: labels, losses: losses, predictions: &predictions)
        #expect(m.count == 3 && m.correct == 2)
        #expect(m.meanLoss == 1)
        #expect(isApproximatelyEqual(m.accuracy, 2.0 / 3.0))
        #expect(predictions == [1, 0, 1])
        #expect(Metrics().accuracy == 0 && Metrics().meanLoss == 0)
    }
}
