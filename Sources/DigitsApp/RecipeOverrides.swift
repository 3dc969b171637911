import DigitsCore

// MARK: - RecipeOverrides

/// Changes to a preset's recipe, as `digits train`'s flags give them: every field left `nil`
/// keeps the preset's value. ``apply(to:trainCount:)`` checks every value against the limits
/// in ``Limits`` and the combination with ``Recipe/validate()``: this is the one place where a
/// training request is validated (the ``Trainer`` keeps only its own guards).
///
/// ```swift
/// var overrides = RecipeOverrides()
/// overrides.hidden = try RecipeOverrides.parseLayers("512,256")
/// overrides.learningRate = 0.01
/// let recipe = try overrides.apply(to: Presets.mlp.recipe, trainCount: 60_000)
/// ```
public struct RecipeOverrides: Sendable, Equatable {
    // MARK: What to train
    /// Hidden layer sizes of a fully connected network (empty: no hidden layer).
    public var hidden: [Int]?
    /// The hidden layers' activation.
    public var activation: Activation?
    /// What the last layer outputs (chosen to suit a new `loss` when left nil).
    public var output: OutputKind?
    /// The training objective.
    public var loss: LossKind?
    /// How the weights are drawn.
    public var initializer: Initializer?

    // MARK: How to train
    /// The optimiser.
    public var optimizer: OptimizerChoice?
    /// Momentum for `.momentum` and `.nesterov`.
    public var momentum: Float = 0.9
    /// Decoupled weight decay for `.adamw`.
    public var weightDecay: Float = 0.01
    /// The (peak) learning rate.
    public var learningRate: Float?
    /// How the learning rate changes over training.
    public var schedule: ScheduleChoice?
    /// With `.step`: epochs between decays, and the factor of each decay.
    public var stepEvery: Int = 1
    public var gamma: Float = 0.5
    /// Samples per step.
    public var batchSize: Int?
    /// How batches are drawn.
    public var batching: Batching?
    /// Mean or sum of the samples' gradients.
    public var reduction: Reduction?
    /// Passes over the training set (or `steps`, not both).
    public var epochs: Int?
    /// Steps to train for, reported every `reportEvery` steps (a tenth by default).
    public var steps: Int?
    public var reportEvery: Int?
    /// L2 regularisation strength.
    public var l2: Float?
    /// The seed of the weights and of the batches.
    public var seed: UInt64?
    /// Training images held out (from the end) as a validation set.
    public var validation: Int?
    /// An average of the last weights (`--average`), or none.
    public var averaging: AveragingChoice?
    /// The last epochs on a lighter augmentation (`--anneal`), or none.
    public var annealing: AnnealingChoice?
    /// The augmentation, or parts of it, changed (`--augment`).
    public var augmentation: AugmentationChoice?

    /// No overrides: the preset as it is.
    public init() {}

    /// The optimisers a flag can name.
    public enum OptimizerChoice: String, Sendable, CaseIterable {
        case sgd, momentum, nesterov, adam, adamw
    }

    /// The learning-rate schedules a flag can name.
    public enum ScheduleChoice: String, Sendable, CaseIterable {
        case constant, step, cosine
        case oneCycle = "one-cycle"
    }

    // MARK: - Limits

    /// The largest values accepted, so that no size overflows or asks for more memory than a
    /// machine has.
    public enum Limits {
        /// Units in one hidden layer.
        public static let layerSize = 1 << 20
        /// Hidden layers.
        public static let layerCount = 64
        /// Trainable parameters (weights and biases) of a fully connected network: 400 MB of
        /// weights, about four times that while training with gradients and optimiser state.
        public static let parameters = 100_000_000
        /// Floats of activations for the samples run through the network at once (all layers'
        /// outputs): 4 GB.
        public static let batchActivations = 1 << 30
        public static let epochs = 100_000
        public static let steps = 1_000_000_000
        public static let batchSize = 1_000_000
        public static let stepEvery = 100_000
    }

    // MARK: - Parsing

    /// `"256,128"` → `[256, 128]`; `"none"` → `[]` (no hidden layer).
    public static func parseLayers(_ text: String) throws(RecipeError) -> [Int] {
        let trimmed = text.trimmingWhitespace()
        if trimmed.lowercased() == "none" { return [] }
        let usage = "--layers takes positive sizes separated by commas, such as 256,128 (or none)"
        guard !trimmed.isEmpty else { throw RecipeError("\(usage); got an empty list") }
        var sizes: [Int] = []
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let item = String(part).trimmingWhitespace()
            guard !item.isEmpty else { throw RecipeError("\(usage); '\(text)' has an empty size") }
            guard item.allSatisfy({ $0.isASCII && $0.isNumber }) else { throw RecipeError("\(usage); got '\(item)'") }
            guard let size = Int(item), size <= Limits.layerSize else {
                throw RecipeError("--layers: \(item) units is more than the limit of \(Limits.layerSize) per layer")
            }
            guard size > 0 else { throw RecipeError("\(usage); got \(item)") }
            sizes.append(size)
        }
        guard sizes.count <= Limits.layerCount else {
            throw RecipeError("--layers: \(sizes.count) hidden layers is more than the limit of \(Limits.layerCount)")
        }
        return sizes
    }

    /// `sigmoid | tanh | relu | leaky-relu[:ALPHA]`, or nil.
    public static func parseActivation(_ text: String) -> Activation? {
        let parts = text.lowercased().split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        switch parts[0] {
        case "sigmoid" where parts.count == 1: return .sigmoid
        case "tanh" where parts.count == 1: return .tanh
        case "relu" where parts.count == 1: return .relu
        case "leaky-relu", "leakyrelu", "leaky_relu":
            guard parts.count > 1 else { return .leakyReLU(alpha: 0.01) }
            return Float(parts[1]).map { .leakyReLU(alpha: $0) }
        default: return nil
        }
    }

    /// `he | xavier | lecun-uniform | uniform:LOW:HIGH | normal:STD | zeros`, or nil.
    public static func parseInitializer(_ text: String) -> Initializer? {
        let parts = text.lowercased().split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let numbers = parts.dropFirst().compactMap(Float.init)
        guard numbers.count == parts.count - 1, numbers.allSatisfy(\.isFinite) else { return nil }
        switch (parts[0], numbers.count) {
        case ("he", 0): return .he
        case ("xavier", 0), ("glorot", 0): return .xavier
        case ("lecun-uniform", 0), ("lecun", 0): return .lecunUniform
        case ("uniform", 2) where numbers[0] < numbers[1]: return .uniform(low: numbers[0], high: numbers[1])
        case ("normal", 1) where numbers[0] > 0: return .normal(std: numbers[0])
        case ("zeros", 0): return .zeros
        default: return nil
        }
    }

    // MARK: - Validating and applying

    /// Checks each value on its own (ranges and limits), before any data is read.
    public func validate() throws(RecipeError) {
        if let learningRate, !(learningRate > 0 && learningRate.isFinite) {
            throw RecipeError("--lr must be a positive number, got \(learningRate)")
        }
        if let batchSize, !(1...Limits.batchSize).contains(batchSize) {
            throw RecipeError("--batch-size must be between 1 and \(Limits.batchSize), got \(batchSize)")
        }
        if let epochs, !(1...Limits.epochs).contains(epochs) {
            throw RecipeError("--epochs must be between 1 and \(Limits.epochs), got \(epochs)")
        }
        if let steps, !(1...Limits.steps).contains(steps) {
            throw RecipeError("--steps must be between 1 and \(Limits.steps), got \(steps)")
        }
        if epochs != nil && steps != nil { throw RecipeError("give --epochs or --steps, not both") }
        if let reportEvery {
            guard let steps else { throw RecipeError("--report-every goes with --steps") }
            guard (1...steps).contains(reportEvery) else {
                throw RecipeError("--report-every must be between 1 and --steps (\(steps)), got \(reportEvery)")
            }
        }
        if let l2, !(l2 >= 0 && l2.isFinite) { throw RecipeError("--l2 must be zero or positive, got \(l2)") }
        if !(1...Limits.stepEvery).contains(stepEvery) {
            throw RecipeError("--step-every must be between 1 and \(Limits.stepEvery), got \(stepEvery)")
        }
        if let validation, validation < 1 { throw RecipeError("--validation must be at least 1, got \(validation)") }
        if !(momentum >= 0 && momentum < 1) { throw RecipeError("--momentum must be in [0, 1), got \(momentum)") }
        if !(gamma > 0 && gamma <= 1) { throw RecipeError("--gamma must be in (0, 1], got \(gamma)") }
        if !(weightDecay >= 0 && weightDecay.isFinite) {
            throw RecipeError("--weight-decay must be zero or positive, got \(weightDecay)")
        }
        if let hidden {
            guard hidden.count <= Limits.layerCount else {
                throw RecipeError("--layers: \(hidden.count) hidden layers is more than the limit of \(Limits.layerCount)")
            }
            if let bad = hidden.first(where: { !(1...Limits.layerSize).contains($0) }) {
                throw RecipeError("--layers: sizes must be between 1 and \(Limits.layerSize), got \(bad)")
            }
        }
    }

    /// `recipe` with these overrides applied, checked as a whole. `trainCount` (the training
    /// images after any validation hold-out) sets the length of an epoch for a step schedule
    /// and the memory a batch needs.
    /// Refuses annealing that would cover the whole run (every step on the lighter augmentation),
    /// or lighten a plan that has no augmentation.
    static func checkAnnealing(_ annealing: AugmentationAnnealing, plan: TrainingPlan, trainCount: Int,
                               asked: Bool) throws(RecipeError) {
        let source = asked ? "--anneal" : "the preset's annealing"
        guard plan.augmentation != nil else {
            throw RecipeError("\(source) trains the last epochs on a lighter augmentation, but this plan has no augmentation to lighten")
        }
        let batch = max(min(plan.batchSize, trainCount), 1)
        let stepsPerEpoch = trainCount / batch + (trainCount % batch == 0 ? 0 : 1)
        let total: Int
        switch plan.length {
        case .epochs(let n): total = n.multipliedReportingOverflow(by: stepsPerEpoch).partialValue
        case .steps(let n, _): total = n
        }
        let (annealed, overflow) = annealing.epochs.multipliedReportingOverflow(by: stepsPerEpoch)
        guard !overflow, annealed < total else {
            throw RecipeError("\(source) covers \(annealing.epochs) epochs, the whole run or more: anneal fewer epochs than the run has (or --anneal none)")
        }
    }

    public func apply(to recipe: Recipe, trainCount: Int) throws(RecipeError) -> Recipe {
        try validate()
        var r = recipe
        if hidden != nil || activation != nil || output != nil || initializer != nil {
            guard case .mlp(var m) = r.network else {
                throw RecipeError("--layers, --activation, --output and --init apply to fully connected presets only")
            }
            if let hidden { m.hidden = hidden }
            if let activation { m.activation = activation }
            if let initializer { m.initializer = initializer }
            if let output { m.output = output }
            else if let loss, loss != r.loss {
                // A new loss without a new output: choose the output that loss expects.
                m.output = loss == .crossEntropy ? .logits : .sigmoid
            }
            r.network = .mlp(m)
        }
        if let loss { r.loss = loss }
        if let optimizer {
            r.plan.optimizer = switch optimizer {
            case .sgd: .sgd
            case .momentum: .momentum(momentum, nesterov: false)
            case .nesterov: .momentum(momentum, nesterov: true)
            case .adam: .adam
            case .adamw: .adamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: weightDecay)
            }
        }
        if let learningRate { r.plan.learningRate = learningRate }
        if let batchSize { r.plan.batchSize = batchSize }
        if let batching { r.plan.batching = batching }
        if let reduction { r.plan.reduction = reduction }
        if let l2 { r.plan.l2 = l2 }
        switch averaging {
        case .none?: r.plan.averaging = nil
        case .average(let a)?: r.plan.averaging = a
        case nil: break
        }
        if let augmentation {
            r.plan.augmentation = Self.augmentation(r.plan.augmentation, with: augmentation)
            // Nothing left to lighten: a preset's annealing goes too (an asked one is refused below).
            if r.plan.augmentation == nil && annealing == nil { r.plan.annealing = nil }
        }
        switch annealing {
        case .none?: r.plan.annealing = nil
        case .anneal(let a)?: r.plan.annealing = a
        case nil: break
        }
        if let seed { r.seed = seed }
        if let epochs { r.plan.length = .epochs(epochs) }
        if let steps { r.plan.length = .steps(steps, reportEvery: reportEvery ?? max(steps / 10, 1)) }
        if let annealed = r.plan.annealing {
            try Self.checkAnnealing(annealed, plan: r.plan, trainCount: trainCount, asked: annealing != nil)
        }
        if let schedule {
            let batch = max(min(r.plan.batchSize, trainCount), 1)
            let stepsPerEpoch = trainCount / batch + (trainCount % batch == 0 ? 0 : 1)
            let (every, overflow) = stepEvery.multipliedReportingOverflow(by: max(stepsPerEpoch, 1))
            guard !overflow else { throw RecipeError("--step-every \(stepEvery) epochs is too many steps") }
            r.plan.schedule = switch schedule {
            case .constant: .constant
            case .step: .step(every: every, gamma: gamma)
            case .cosine: .cosine(minFactor: 0)
            case .oneCycle: .oneCycleDefault
            }
        }
        try r.validate()
        try r.checkSize(trainCount: trainCount)
        return r
    }
}

// MARK: - Presets by name

extension Presets {
    /// The preset called `name`, or an error listing the names there are.
    public static func named(checking name: String) throws(RecipeError) -> Preset {
        guard let preset = named(name) else {
            throw RecipeError("no preset named '\(name)'; choose from: \(all.map(\.name).joined(separator: ", "))")
        }
        return preset
    }
}

extension RecipeOverrides {
    /// The preset called `name` with these overrides applied, checked (see ``apply(to:trainCount:)``).
    public func recipe(preset name: String, trainCount: Int) throws(RecipeError) -> Recipe {
        try apply(to: Presets.named(checking: name).recipe, trainCount: trainCount)
    }
}

// MARK: - Sizes

extension Recipe {
    /// Checks, with overflow-safe arithmetic, that a fully connected network stays within
    /// ``RecipeOverrides/Limits``: parameters, and activations for one batch.
    public func checkSize(trainCount: Int) throws(RecipeError) {
        guard case .mlp(let m) = network else { return }
        typealias Limits = RecipeOverrides.Limits
        let widths = [m.inputs] + m.hidden + [m.classes]
        var parameters = 0, activations = 0
        for i in 1..<widths.count {
            let (weights, o1) = widths[i - 1].multipliedReportingOverflow(by: widths[i])
            let (layer, o2) = weights.addingReportingOverflow(widths[i])
            let (sum, o3) = parameters.addingReportingOverflow(layer)
            guard !o1, !o2, !o3, sum <= Limits.parameters else {
                throw RecipeError("the network \(widths.map(String.init).joined(separator: "-")) has more than the limit of \(Limits.parameters) parameters (at layer \(i), \(widths[i - 1])→\(widths[i]))")
            }
            parameters = sum
            activations += widths[i]
        }
        // The trainer runs a batch through the network `maxChunk` samples at a time.
        let chunk = max(1, min(plan.batchSize, plan.maxChunk, max(trainCount, 1)))
        let (floats, overflow) = activations.multipliedReportingOverflow(by: chunk)
        guard !overflow, floats <= Limits.batchActivations else {
            throw RecipeError("\(chunk) samples at a time through \(widths.map(String.init).joined(separator: "-")) need more than the limit of \(Limits.batchActivations) activations (4 GB): use a smaller --batch-size or --layers")
        }
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
