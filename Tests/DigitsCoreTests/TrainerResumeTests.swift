import DigitsCore
import DigitsModelFile
import Testing

/// Stopping training, saving its state in a checkpoint's bytes, and resuming in a fresh trainer
/// gives the weights, bit for bit, of a run that never stopped.
@Suite struct TrainerResumeTests {
    /// 64 random 8×8 one-channel images of four classes.
    static let images: Dataset = {
        var rng = RandomSource(seed: 11)
        var features: [UInt8] = [], labels: [Int32] = []
        for i in 0..<64 {
            labels.append(Int32(i % 4))
            for p in 0..<64 { features.append(p / 16 == i % 4 ? UInt8(150 + rng.index(below: 100)) : UInt8(rng.index(below: 60))) }
        }
        return Dataset(sampleShape: [1, 8, 8], features: features, labels: labels, classes: 4)
    }()

    /// Conv → BatchNorm → ReLU → pool → dropout → dense: every kind of state a step changes.
    static func model() throws -> Sequential {
        var rng = RandomSource(seed: 5)
        return try Sequential(inputShape: [1, 8, 8], specs: [
            .conv2d(inChannels: 1, outChannels: 4, kernelSize: 3, stride: 1, padding: 1, bias: false),
            .batchNorm(channels: 4, momentum: 0.1, epsilon: 1e-5), .activation(.relu),
            .maxPool2d(kernelSize: 2, stride: 2), .flatten, .dropout(rate: 0.3),
            .dense(inputs: 64, outputs: 4, bias: true),
        ], rng: &rng)
    }

    static func plan(_ optimizer: OptimizerKind, _ batching: Batching) -> TrainingPlan {
        TrainingPlan(batchSize: 10, batching: batching, length: .epochs(3), optimizer: optimizer, learningRate: 0.05,
                     schedule: .oneCycleDefault, l2: 1e-4, augmentation: Augmentation())
    }

    @Test("Stopped, saved and resumed mid-epoch: the same weights and reports as one run", arguments: [
        (OptimizerKind.momentum(0.9, nesterov: true), Batching.shuffled, 4),
        (.adamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01), .withReplacement, 9),
        (.sgd, .inOrder, 17),
    ])
    func resumes(optimizer: OptimizerKind, batching: Batching, stopAt: Int) throws {
        let whole = try Self.model()
        let reference = try Trainer(model: whole, loss: SoftmaxCrossEntropy(), plan: Self.plan(optimizer, batching),
                                    transform: .unit, rng: RandomSource(seed: 7))
        let expected = try reference.train(on: Self.images, test: Self.images)

        // The first part, stopped after `stopAt` steps (7 steps make an epoch).
        let first = try Self.model()
        let stopped = try Trainer(model: first, loss: SoftmaxCrossEntropy(), plan: Self.plan(optimizer, batching),
                                  transform: .unit, rng: RandomSource(seed: 7))
        try stopped.train(on: Self.images, test: Self.images, afterStep: { stopped.completedSteps == stopAt ? .stop : .proceed })
        #expect(stopped.completedSteps == stopAt && stopAt % 7 != 0)
        let state = try #require(stopped.state)
        let bytes = Checkpoint.encode(model: first, state: state, metadata: ["note": "test"])

        // The rest, in a fresh model and trainer (whose generators start elsewhere).
        let saved = try Checkpoint.decode(bytes, path: "memory")
        #expect(saved.metadata == ["note": "test"])
        let second = try Self.model()
        try saved.restoreParameters(into: second, path: "memory")
        let resumed = try Trainer(model: second, loss: SoftmaxCrossEntropy(), plan: Self.plan(optimizer, batching),
                                  transform: .unit, rng: RandomSource(seed: 99))
        let reports = try resumed.train(on: Self.images, test: Self.images, resumingFrom: saved.state)

        #expect(parameterBits(second) == parameterBits(whole))
        #expect(reports.map(TrainerTests.timeless) == expected.map(TrainerTests.timeless))
        #expect(resumed.completedSteps == reference.completedSteps)
    }

    @Test("A state that does not fit is refused before anything changes")
    func refusesMismatchedState() throws {
        let model = try Self.model()
        let trainer = try Trainer(model: model, loss: SoftmaxCrossEntropy(), plan: Self.plan(.adam, .shuffled),
                                  transform: .unit, rng: RandomSource(seed: 7))
        try trainer.train(on: Self.images, afterStep: { trainer.completedSteps == 3 ? .stop : .proceed })
        let good = try #require(trainer.state)

        var badOrder = good
        badOrder.sampler.order[0] = badOrder.sampler.order[1]   // not a permutation
        var badDropouts = good
        badDropouts.dropoutRNGs = []
        var badStep = good
        badStep.step = 1000
        var badMoment = good
        badMoment.optimizer.tensors["layers.6.weight.m"] = Tensor(shape: [3])
        for bad in [badOrder, badDropouts, badStep, badMoment] {
            let fresh = try Trainer(model: try Self.model(), loss: SoftmaxCrossEntropy(), plan: Self.plan(.adam, .shuffled),
                                    transform: .unit, rng: RandomSource(seed: 7))
            #expect(throws: TrainingError.self) { try fresh.train(on: Self.images, resumingFrom: bad) }
            #expect(fresh.completedSteps == 0)
        }
    }

    @Test("A generator's state round-trips; all zeros or the wrong length is refused")
    func randomSourceState() {
        var a = RandomSource(seed: 3)
        _ = a.next()
        var b = RandomSource(state: a.state)
        #expect(b != nil && (0..<10).allSatisfy { _ in a.next() == b?.next() })
        #expect(RandomSource(state: [0, 0, 0, 0]) == nil)
        #expect(RandomSource(state: [1, 2, 3]) == nil)
    }
}
