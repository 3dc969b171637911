import DigitsApp
import DigitsCore
import Testing

/// The `fastest` preset (issue 16's time to 99 %): its network builds as described, both
/// poolings run inside their convolutions, and its plan trains (not timed here: speed is
/// measured by `scripts/bench.sh`, BENCHMARKS.md).
@Suite struct FastestPresetTests {
    @Test("fastest builds: (1, 28, 28) → 10 scores, each convolution's pooling fused into it")
    func builds() throws {
        let preset = try #require(Presets.named("fastest"))
        let model = try preset.recipe.makeModel()
        #expect(model.outputShape == [10])
        let convolutions = model.layers.compactMap { $0 as? Conv2D }
        #expect(convolutions.map(\.outChannels) == [16, 32])
        // Conv-ReLU-pool and Conv-pool each run as one step.
        #expect(model.stepRanges.prefix(2) == [0..<3, 3..<5], "\(model.stepRanges)")
        #expect(preset.recipe.plan.length == .steps(469, reportEvery: 469))
        #expect(preset.recipe.plan.optimizer == .adam(beta1: 0.7, beta2: 0.9, epsilon: 1e-8))
        #expect(try RecipeOverrides().apply(to: preset.recipe, trainCount: 60_000) == preset.recipe)
    }

    @Test("fastest's plan lowers the loss on a learnable set, to the same bits on one and two threads")
    func trains() throws {
        let data = Self.stripes(count: 384, seed: 5)
        func run(threads: Int) throws -> (losses: [Double], weights: [[Float]]) {
            try Parallel.$threadCount.withValue(threads) {
                let recipe = ConvPresets.fastest.recipe
                var plan = recipe.plan
                plan.length = .steps(12, reportEvery: 4)
                let model = try recipe.makeModel()
                let trainer = try Trainer(model: model, loss: recipe.loss.make(), plan: plan,
                                          transform: recipe.inputTransform, rng: recipe.trainingRandomSource)
                let reports = try trainer.train(on: data)
                return (reports.map(\.trainLoss), model.parameters.map(\.value.array))
            }
        }
        let one = try run(threads: 1)
        #expect(one.losses.count == 3)
        #expect(one.losses.last! < one.losses.first! * 0.7, "\(one.losses)")
        let two = try run(threads: 2)
        #expect(two.losses == one.losses)
        #expect(two.weights == one.weights)
    }

    /// 28×28 images of a bright horizontal bar whose row says the class (rows 3, 5, … 21), on
    /// a noisy background.
    static func stripes(count: Int, seed: UInt64) -> Dataset {
        var rng = RandomSource(seed: seed)
        var features = [UInt8](repeating: 0, count: count * 784), labels = [Int32](repeating: 0, count: count)
        for i in 0..<count {
            let label = Int(rng.next() % 10)
            labels[i] = Int32(label)
            for p in 0..<784 { features[i * 784 + p] = UInt8(rng.next() % 40) }
            let row = 3 + 2 * label, start = Int(rng.next() % 8)
            for x in start ..< start + 18 { features[i * 784 + row * 28 + x] = 255 }
        }
        return Dataset(sampleShape: [1, 28, 28], features: features, labels: labels, classes: 10)
    }
}
