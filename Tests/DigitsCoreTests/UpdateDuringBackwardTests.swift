import DigitsCore
import Testing

/// Updating each layer during back-propagation (`Trainer.updatesDuringBackward`) gives the
/// weights, optimiser state and reports of updating them all after it, bit for bit.
@Suite struct UpdateDuringBackwardTests {
    typealias Fixture = TrainerResumeTests

    static let optimizers: [OptimizerKind] = [
        .sgd, .momentum(0.9, nesterov: false), .momentum(0.9, nesterov: true), .adam,
        .adamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01),
    ]

    /// Trains `model` by `plan`, layer by layer during backward or all after it.
    static func train(_ model: Sequential, _ plan: TrainingPlan, duringBackward: Bool) throws -> (Trainer, [TrainingReport]) {
        let trainer = try Trainer(model: model, loss: SoftmaxCrossEntropy(), plan: plan, transform: .unit, rng: RandomSource(seed: 7))
        trainer.updatesDuringBackward = duringBackward
        let reports = try trainer.train(on: Fixture.images)
        return (trainer, reports)
    }

    @Test("conv → BatchNorm → pool → dropout → dense: the same weights, state and reports", arguments: optimizers)
    func convolutional(optimizer: OptimizerKind) throws {
        let plan = Fixture.plan(optimizer, .shuffled)
        let during = try Self.train(try Fixture.model(), plan, duringBackward: true)
        let after = try Fixture.model()
        let (afterTrainer, afterReports) = try Self.train(after, plan, duringBackward: false)
        #expect(parameterBits(during.0.model) == parameterBits(after))
        #expect(during.1.map(TrainerTests.timeless) == afterReports.map(TrainerTests.timeless))
        let s1 = during.0.optimizer.state(for: during.0.model.parameters)
        let s2 = afterTrainer.optimizer.state(for: after.parameters)
        #expect(s1.steps == s2.steps && s1.steps == 21, "one step counted a batch")
        #expect(s1.tensors.keys.sorted() == s2.tensors.keys.sorted())
        for (name, t) in s1.tensors { #expect(t.array.map(\.bitPattern) == s2.tensors[name]?.array.map(\.bitPattern), "\(name)") }
        #expect(parameterBits(after) != parameterBits(try Fixture.model()), "training moved the weights")
    }

    /// An MLP whose middle layer computes no input gradient: back-propagation stops there, and
    /// the layers below it are still updated (momentum moves them with zero gradients).
    @Test("back-propagation stopped early: the layers below are still updated", arguments: optimizers)
    func stoppedEarly(optimizer: OptimizerKind) throws {
        func model() throws -> Sequential {
            var rng = RandomSource(seed: 3)
            let m = try Sequential(inputShape: [64], specs: [
                .dense(inputs: 64, outputs: 12, bias: true), .activation(.relu),
                .dense(inputs: 12, outputs: 8, bias: true), .activation(.tanh),
                .dense(inputs: 8, outputs: 4, bias: true),
            ], rng: &rng)
            m.layers[2].computesInputGradient = false
            return m
        }
        var data = Fixture.images
        data.sampleShape = [64]
        let plan = TrainingPlan(batchSize: 16, batching: .shuffled, length: .epochs(2), optimizer: optimizer,
                                learningRate: 0.05, l2: 1e-4)
        let during = try model(), after = try model(), start = try model()
        for (m, flag) in [(during, true), (after, false)] {
            let trainer = try Trainer(model: m, loss: SoftmaxCrossEntropy(), plan: plan, transform: .unit, rng: RandomSource(seed: 7))
            trainer.updatesDuringBackward = flag
            try trainer.train(on: data)
        }
        #expect(parameterBits(during) == parameterBits(after))
        #expect(parameterBits(during) != parameterBits(start))
    }

    /// Dense layers that back-propagation reaches write their gradients instead of having them
    /// zeroed (`Dense.overwritesGradients`); one it no longer reaches must still be zeroed.
    @Test("a dense layer back-propagation stops reaching has its gradients zeroed")
    func unreachedZeroed() throws {
        var rng = RandomSource(seed: 3)
        let model = try Sequential(inputShape: [64], specs: [
            .dense(inputs: 64, outputs: 12, bias: true), .activation(.relu),
            .dense(inputs: 12, outputs: 4, bias: true),
        ], rng: &rng)
        var data = Fixture.images
        data.sampleShape = [64]
        let plan = TrainingPlan(batchSize: 16, batching: .inOrder, length: .epochs(1), optimizer: .sgd, learningRate: 0.05)
        let trainer = try Trainer(model: model, loss: SoftmaxCrossEntropy(), plan: plan, transform: .unit, rng: RandomSource(seed: 7))
        var metrics = Metrics()
        let batch = Array(0..<16)
        func step() throws { try batch.withUnsafeBufferPointer { try trainer.trainStep($0, of: data, learningRate: 0.05, metrics: &metrics) } }
        let first = model.layers[0].parameters
        try step()
        #expect(first.contains { $0.grad.array.contains { $0 != 0 } }, "the first layer got a gradient")
        model.layers[2].computesInputGradient = false
        try step()
        #expect(first.allSatisfy { $0.grad.array.allSatisfy { $0 == 0 } }, "the first layer's gradient was zeroed")
    }

    @Test("a diverging step throws before changing the weights or the optimiser's state")
    func diverged() throws {
        let model = try Fixture.model()
        var plan = Fixture.plan(.momentum(0.9, nesterov: false), .shuffled)
        plan.learningRate = 1e30
        plan.schedule = .constant
        let trainer = try Trainer(model: model, loss: SoftmaxCrossEntropy(), plan: plan, transform: .unit, rng: RandomSource(seed: 7))
        // The trained values (BatchNorm's running statistics move in forward, as they always did).
        func weightBits() -> [[UInt32]] { model.parameters.filter(\.trainable).map { $0.value.array.map(\.bitPattern) } }
        var before: [[UInt32]] = []
        var stateBefore: [String: [UInt32]] = [:]
        #expect(throws: TrainingError.self) {
            try trainer.train(on: Fixture.images, afterStep: {
                before = weightBits()
                stateBefore = trainer.optimizer.state(for: model.parameters).tensors.mapValues { $0.array.map(\.bitPattern) }
                return .proceed
            })
        }
        #expect(!before.isEmpty, "at least one step was taken before the loss diverged")
        #expect(weightBits() == before)
        #expect(trainer.optimizer.state(for: model.parameters).tensors.mapValues { $0.array.map(\.bitPattern) } == stateBefore)
        // Nor does it leave a dense layer told to overwrite its gradients: a backward run after it
        // (outside the trainer) adds to them, as a layer's backward does.
        let denses = model.layers.compactMap { $0 as? Dense }
        #expect(!denses.isEmpty)
        #expect(denses.allSatisfy { !$0.overwritesGradients })
        // And its gradients are zeroed, as every parameter's at the start of a step.
        #expect(denses.allSatisfy { $0.parameters.allSatisfy { $0.grad.array.allSatisfy { $0 == 0 } } })
    }

    /// A first layer of 75,264 weights: its update and its gradient's zeroing are split into
    /// slices, one a thread.
    @Test("the same weights with the update's slices on 1, 2 and 3 threads", arguments: [OptimizerKind.momentum(0.9, nesterov: false), .adam])
    func sameBitsAnyThreads(optimizer: OptimizerKind) throws {
        var rng = RandomSource(seed: 21)
        var features: [UInt8] = [], labels: [Int32] = []
        for i in 0..<48 {
            labels.append(Int32(i % 10))
            for _ in 0..<784 { features.append(rng.index(below: 4) == 0 ? UInt8(rng.index(below: 256)) : 0) }
        }
        let data = Dataset(sampleShape: [784], features: features, labels: labels, classes: 10)
        let plan = TrainingPlan(batchSize: 16, batching: .shuffled, length: .epochs(2), optimizer: optimizer, learningRate: 0.01)
        func run(threads: Int) throws -> [[UInt32]] {
            try Parallel.$threadCount.withValue(threads) {
                var rng = RandomSource(seed: 4)
                let model = try Sequential(inputShape: [784], specs: [
                    .dense(inputs: 784, outputs: 96, bias: true), .activation(.relu), .dense(inputs: 96, outputs: 10, bias: true),
                ], rng: &rng)
                let trainer = try Trainer(model: model, loss: SoftmaxCrossEntropy(), plan: plan, transform: .unit, rng: RandomSource(seed: 7))
                try trainer.train(on: data)
                return parameterBits(model)
            }
        }
        let one = try run(threads: 1)
        #expect(try run(threads: 2) == one)
        #expect(try run(threads: 3) == one)
    }
}
