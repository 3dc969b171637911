import DigitsCore
import DigitsModelFile
import Testing

/// Augmentation annealing: the last epochs train on the lighter augmentation, switching at a step
/// fixed by the plan, so runs stay seeded and a resumed run ends bit for bit where one run does.
@Suite("Augmentation annealing")
struct AugmentationAnnealingTests {
    typealias Fixture = TrainerResumeTests

    /// The resume tests' plan (3 epochs of 7 steps, `Augmentation()` throughout) with `annealing`.
    static func plan(_ annealing: AugmentationAnnealing?) -> TrainingPlan {
        var plan = Fixture.plan(.momentum(0.9, nesterov: true), .shuffled)
        plan.annealing = annealing
        return plan
    }

    static func train(_ plan: TrainingPlan, stopAt: Int? = nil) throws -> (Sequential, Trainer, [TrainingReport]) {
        let model = try Fixture.model()
        let trainer = try Trainer(model: model, loss: SoftmaxCrossEntropy(), plan: plan, transform: .unit, rng: RandomSource(seed: 7))
        let reports = try trainer.train(on: Fixture.images, test: Fixture.images,
                                        afterStep: { trainer.completedSteps == stopAt ? .stop : .proceed })
        return (model, trainer, reports)
    }

    @Test("The light epochs start at totalSteps − epochs · stepsPerEpoch, never before step 0")
    func firstStep() {
        #expect(AugmentationAnnealing(epochs: 2, augmentation: nil).firstStep(totalSteps: 3870, stepsPerEpoch: 430) == 3010)
        #expect(AugmentationAnnealing(epochs: 1, augmentation: nil).firstStep(totalSteps: 21, stepsPerEpoch: 7) == 14)
        #expect(AugmentationAnnealing(epochs: 5, augmentation: nil).firstStep(totalSteps: 21, stepsPerEpoch: 7) == 0)
        #expect(AugmentationAnnealing(epochs: .max, augmentation: nil).firstStep(totalSteps: 21, stepsPerEpoch: 7) == 0)
    }

    @Test("Annealing to the same augmentation changes nothing: the same weights as no annealing")
    func sameAugmentationIsIdentity() throws {
        let (plain, _, plainReports) = try Self.train(Self.plan(nil))
        let (same, _, sameReports) = try Self.train(Self.plan(AugmentationAnnealing(epochs: 1, augmentation: Augmentation())))
        #expect(parameterBits(same) == parameterBits(plain))
        #expect(sameReports.map(TrainerTests.timeless) == plainReports.map(TrainerTests.timeless))
    }

    @Test("Only the last epochs change: the epochs before them report as without annealing", arguments: [
        Augmentation?.none, Augmentation(maxShift: 1, maxRotation: 3, maxScale: 0.05),
    ])
    func onlyLastEpochsChange(light: Augmentation?) throws {
        let (plain, _, plainReports) = try Self.train(Self.plan(nil))
        let (annealed, _, reports) = try Self.train(Self.plan(AugmentationAnnealing(epochs: 1, augmentation: light)))
        #expect(reports.count == 3)
        #expect(reports.prefix(2).map(TrainerTests.timeless) == plainReports.prefix(2).map(TrainerTests.timeless))
        #expect(reports[2].trainLoss != plainReports[2].trainLoss)
        #expect(parameterBits(annealed) != parameterBits(plain))
        // Seeded: the same run twice gives the same weights.
        let (again, _, _) = try Self.train(Self.plan(AugmentationAnnealing(epochs: 1, augmentation: light)))
        #expect(parameterBits(again) == parameterBits(annealed))
    }

    @Test("Stopped before or after the switch, saved and resumed: the same weights as one run", arguments: [10, 17])
    func resumesAcrossTheSwitch(stopAt: Int) throws {
        let plan = Self.plan(AugmentationAnnealing(epochs: 1, augmentation: nil))
        let (whole, _, expected) = try Self.train(plan)
        let (first, stopped, _) = try Self.train(plan, stopAt: stopAt)
        #expect(stopped.completedSteps == stopAt)
        let bytes = Checkpoint.encode(model: first, state: try #require(stopped.state), metadata: [:])
        let saved = try Checkpoint.decode(bytes, path: "memory")
        let second = try Fixture.model()
        try saved.restoreParameters(into: second, path: "memory")
        let resumed = try Trainer(model: second, loss: SoftmaxCrossEntropy(), plan: plan, transform: .unit, rng: RandomSource(seed: 99))
        let reports = try resumed.train(on: Fixture.images, test: Fixture.images, resumingFrom: saved.state)
        #expect(parameterBits(second) == parameterBits(whole))
        #expect(reports.map(TrainerTests.timeless) == expected.map(TrainerTests.timeless))
    }

    @Test("Annealing for no epochs is refused")
    func refusesZeroEpochs() throws {
        #expect(throws: TrainingError.invalidPlan("augmentation annealing needs at least 1 epoch")) {
            _ = try Trainer(model: try Fixture.model(), loss: SoftmaxCrossEntropy(),
                            plan: Self.plan(AugmentationAnnealing(epochs: 0, augmentation: nil)),
                            transform: .unit, rng: RandomSource(seed: 7))
        }
    }
}
