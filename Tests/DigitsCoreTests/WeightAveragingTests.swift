import DigitsCore
import DigitsModelFile
import Testing

/// Weight averaging: the rate and the first step are what the formula says; the average of a tiny
/// model is computed by hand; a run ends with the average of the weights its steps left (which
/// averaging does not change), and a run resumed from a checkpoint ends byte-identical.
@Suite struct WeightAveragingTests {
    @Test("α_n = max(1 − decay, 1/(n + 1)); the averaged steps are the run's last epochs")
    func rateAndFirstStep() {
        let ema = WeightAveraging(decay: 0.75, epochs: 2)
        #expect(ema.rate(averagedSteps: 0) == 1)
        #expect(ema.rate(averagedSteps: 1) == 0.5)
        #expect(ema.rate(averagedSteps: 2) == Float(1) / 3)
        #expect(ema.rate(averagedSteps: 3) == 0.25)
        #expect(ema.rate(averagedSteps: 100) == 0.25)
        let swa = WeightAveraging.uniform(epochs: 1)
        #expect(swa.rate(averagedSteps: 9) == 0.1)
        #expect(ema.firstStep(totalSteps: 3870, stepsPerEpoch: 430) == 3010)
        #expect(WeightAveraging(decay: 0.9).firstStep(totalSteps: 100, stepsPerEpoch: 10) == 0)
        #expect(WeightAveraging(decay: 0.9, epochs: 50).firstStep(totalSteps: 100, stepsPerEpoch: 10) == 0)
        #expect(WeightAveraging(decay: 0.9, epochs: .max).firstStep(totalSteps: 100, stepsPerEpoch: 10) == 0)
    }

    @Test("A tiny model: the average after four steps, by hand, for an EMA and for the plain mean",
          arguments: [Float(0.6), 1])
    func byHand(decay: Float) throws {
        var rng = RandomSource(seed: 1)
        let model = try Sequential(inputShape: [2], layers: [Dense(2, 1, rng: &rng)])
        let average = WeightAverage(averaging: WeightAveraging(decay: decay), parameters: model.parameters)
        let steps: [[Float]] = [[1, 2, 3], [3, -2, 5], [-1, 0, 1], [4, 4, 4]]   // weight (2), bias (1), per step
        for w in steps {
            model.parameters[0].value.data[0] = w[0]; model.parameters[0].value.data[1] = w[1]
            model.parameters[1].value.data[0] = w[2]
            average.update(from: model.parameters)
        }
        #expect(average.count == 4)
        // α: 1, 1/2, then max(1 − decay, 1/3), max(1 − decay, 1/4).
        var expected = steps[0].map(Double.init)
        for (n, w) in steps.enumerated().dropFirst() {
            let alpha = max(1 - Double(decay), 1 / Double(n + 1))
            for i in 0..<3 { expected[i] += alpha * (Double(w[i]) - expected[i]) }
        }
        if decay == 1 { #expect(expected == [1.75, 1, 3.25], "the plain mean of the four") }
        if decay == 0.6 {
            // 0.4 from the third step on: (2, 0, 4) → (0.8, 0, 2.8) → (2.08, 1.6, 3.28).
            for (e, hand) in zip(expected, [2.08, 1.6, 3.28]) { #expect(abs(e - hand) < 1e-6) }   // decay is a Float
        }
        let got = average.tensors[0].array + average.tensors[1].array
        for (g, e) in zip(got, expected) { #expect(abs(Double(g) - e) < 1e-6) }

        // Swapping twice is where one started; copying sets the model to the average.
        let before = parameterBits(model)
        average.swap(with: model.parameters)
        #expect(model.parameters[0].value.array + model.parameters[1].value.array == got)
        average.swap(with: model.parameters)
        #expect(parameterBits(model) == before)
        average.copy(into: model.parameters)
        #expect(model.parameters[0].value.array + model.parameters[1].value.array == got)
    }

    static func plan(_ averaging: WeightAveraging?) -> TrainingPlan {
        var p = TrainerResumeTests.plan(.momentum(0.9, nesterov: true), .shuffled)
        p.averaging = averaging
        return p
    }

    @Test("A run ends with the average of the weights its last epochs' steps left; the steps themselves are unchanged",
          arguments: [WeightAveraging(decay: 0.8, epochs: 2), .uniform(epochs: 1)])
    func endsWithTheAverage(averaging: WeightAveraging) throws {
        // The plain run, with every step's weights kept (3 epochs of 7 steps).
        let plain = try TrainerResumeTests.model()
        let reference = try Trainer(model: plain, loss: SoftmaxCrossEntropy(), plan: Self.plan(nil),
                                    transform: .unit, rng: RandomSource(seed: 7))
        var trajectory: [[[Float]]] = []
        let plainReports = try reference.train(on: TrainerResumeTests.images, afterStep: {
            trajectory.append(plain.parameters.map(\.value.array))
            return .proceed
        })
        #expect(trajectory.count == 21)
        // The average as the formula says, in Float as the trainer computes it.
        let first = averaging.firstStep(totalSteps: 21, stepsPerEpoch: 7)
        var expected = trajectory[first]
        for (n, step) in trajectory[(first + 1)...].enumerated() {
            let alpha = averaging.rate(averagedSteps: n + 1)
            for p in expected.indices { for i in expected[p].indices { expected[p][i] += alpha * (step[p][i] - expected[p][i]) } }
        }

        let averagedModel = try TrainerResumeTests.model()
        let trainer = try Trainer(model: averagedModel, loss: SoftmaxCrossEntropy(), plan: Self.plan(averaging),
                                  transform: .unit, rng: RandomSource(seed: 7))
        var live: [[[Float]]] = []
        let reports = try trainer.train(on: TrainerResumeTests.images, test: TrainerResumeTests.images, afterStep: {
            live.append(averagedModel.parameters.map(\.value.array))
            return .proceed
        })
        #expect(live == trajectory, "averaging leaves every step's weights as they were")
        #expect(reports.map(\.trainLoss) == plainReports.map(\.trainLoss))
        #expect(trainer.average?.count == 21 - first)
        #expect(averagedModel.parameters.map(\.value.array) == expected, "the model ends holding the average")
        // BatchNorm's running statistics are averaged with the weights.
        let runningMean = averagedModel.parameters.firstIndex { $0.name.hasSuffix("running_mean") }
        #expect(runningMean != nil && expected[runningMean!] != trajectory[20][runningMean!])
        // The last report's test figures are the averaged network's.
        let check = Evaluator.evaluate(averagedModel, loss: SoftmaxCrossEntropy(), on: TrainerResumeTests.images, transform: .unit)
        #expect(reports.last?.testLoss == check.loss && reports.last?.testAccuracy == check.accuracy)
    }

    @Test("Stopped before or while averaging, saved in a checkpoint's bytes and resumed: the same bytes as one run",
          arguments: [4, 7, 17, 20])
    func resumes(stopAt: Int) throws {
        let averaging = WeightAveraging(decay: 0.7, epochs: 2)   // steps 7..<21
        let whole = try TrainerResumeTests.model()
        let reference = try Trainer(model: whole, loss: SoftmaxCrossEntropy(), plan: Self.plan(averaging),
                                    transform: .unit, rng: RandomSource(seed: 7))
        let expected = try reference.train(on: TrainerResumeTests.images, test: TrainerResumeTests.images)

        let first = try TrainerResumeTests.model()
        let stopped = try Trainer(model: first, loss: SoftmaxCrossEntropy(), plan: Self.plan(averaging),
                                  transform: .unit, rng: RandomSource(seed: 7))
        try stopped.train(on: TrainerResumeTests.images, test: TrainerResumeTests.images,
                          afterStep: { stopped.completedSteps == stopAt ? .stop : .proceed })
        let state = try #require(stopped.state)
        #expect(state.average?.count == max(0, stopAt - 7))
        let saved = try Checkpoint.decode(Checkpoint.encode(model: first, state: state), path: "memory")
        #expect(saved.state.average?.count == state.average?.count)

        let second = try TrainerResumeTests.model()
        try saved.restoreParameters(into: second, path: "memory")
        let resumed = try Trainer(model: second, loss: SoftmaxCrossEntropy(), plan: Self.plan(averaging),
                                  transform: .unit, rng: RandomSource(seed: 99))
        let reports = try resumed.train(on: TrainerResumeTests.images, test: TrainerResumeTests.images, resumingFrom: saved.state)
        #expect(parameterBits(second) == parameterBits(whole))
        #expect(reports.map(TrainerTests.timeless) == expected.map(TrainerTests.timeless))
    }

    @Test("A saved run and a plan that disagree about averaging, or a damaged average, are refused")
    func refusesMismatch() throws {
        let averaging = WeightAveraging(decay: 0.9, epochs: 2)
        let model = try TrainerResumeTests.model()
        let trainer = try Trainer(model: model, loss: SoftmaxCrossEntropy(), plan: Self.plan(averaging),
                                  transform: .unit, rng: RandomSource(seed: 7))
        try trainer.train(on: TrainerResumeTests.images, afterStep: { trainer.completedSteps == 10 ? .stop : .proceed })
        let good = try #require(trainer.state)
        var none = good
        none.average = nil
        var wrongShape = good
        wrongShape.average?.tensors["layers.6.weight"] = Tensor(shape: [3])
        var missing = good
        missing.average?.tensors["layers.6.bias"] = nil
        // A count the steps do not give: one too many, none, and Int.max (which would overflow
        // the rate's n + 1 on the next averaged step).
        var counts: [Trainer.State] = []
        for count in [(good.average?.count ?? 0) + 1, 0, Int.max] {
            var c = good
            c.average?.count = count
            counts.append(c)
        }
        #expect((good.average?.count ?? 0) > 0, "the run stopped while averaging")
        for (bad, plan) in [(none, Self.plan(averaging)), (good, Self.plan(nil)), (wrongShape, Self.plan(averaging)),
                            (missing, Self.plan(averaging))] + counts.map({ ($0, Self.plan(averaging)) }) {
            let fresh = try Trainer(model: try TrainerResumeTests.model(), loss: SoftmaxCrossEntropy(), plan: plan,
                                    transform: .unit, rng: RandomSource(seed: 7))
            #expect(throws: TrainingError.self) { try fresh.train(on: TrainerResumeTests.images, resumingFrom: bad) }
            #expect(fresh.completedSteps == 0)
        }
        for bad in [WeightAveraging(decay: 1.5), WeightAveraging(decay: -0.1), WeightAveraging(decay: .nan),
                    WeightAveraging(decay: 0.9, epochs: 0)] {
            #expect(throws: TrainingError.self) {
                try Trainer(model: try TrainerResumeTests.model(), loss: SoftmaxCrossEntropy(), plan: Self.plan(bad),
                            transform: .unit, rng: RandomSource(seed: 7))
            }
        }
    }
}
