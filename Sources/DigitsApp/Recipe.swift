import DigitsCore

/// The training objective a recipe uses.
public enum LossKind: String, Sendable, CaseIterable, Codable {
    /// Softmax cross-entropy on the network's raw scores (fused, stable).
    case crossEntropy = "ce"
    /// Squared error against the one-hot label (the first tutorial's "raw error").
    case mse
    /// Binary cross-entropy against the one-hot label, for outputs that are probabilities.
    case bce

    /// A fresh loss object.
    public func make() -> any Loss {
        switch self {
        case .crossEntropy: SoftmaxCrossEntropy()
        case .mse: MeanSquaredError()
        case .bce: BinaryCrossEntropy()
        }
    }
}

/// What the last layer's outputs are.
public enum OutputKind: String, Sendable, CaseIterable, Codable {
    /// Raw scores (logits): for the cross-entropy loss, which applies softmax itself.
    case logits
    /// A sigmoid on each output.
    case sigmoid
    /// A softmax layer.
    case softmax
    /// A softmax layer whose backward uses only the Jacobian's diagonal (a tutorial's quirk).
    case softmaxDiagonal = "softmax-diagonal"
}

/// A fully connected network: sizes, activations, initialisation.
public struct MLPRecipe: Sendable, Equatable {
    public var inputs: Int = 784
    public var hidden: [Int]
    public var classes: Int = 10
    public var activation: Activation
    public var output: OutputKind
    public var bias: Bool = true
    public var initializer: Initializer
    public var biasInitializer: Initializer = .zeros
    public var biasGradient: BiasGradient = .perUnit

    public init(hidden: [Int], activation: Activation, output: OutputKind = .logits, bias: Bool = true,
                initializer: Initializer, biasInitializer: Initializer = .zeros, biasGradient: BiasGradient = .perUnit) {
        self.hidden = hidden
        self.activation = activation
        self.output = output
        self.bias = bias
        self.initializer = initializer
        self.biasInitializer = biasInitializer
        self.biasGradient = biasGradient
    }

    /// The layers: a dense layer and the activation for each hidden size, then the output
    /// layer and what its outputs are.
    public var specs: [LayerSpec] {
        var specs: [LayerSpec] = []
        func dense(_ inputs: Int, _ outputs: Int) {
            specs += biasGradient.dense(inputs: inputs, outputs: outputs, bias: bias)
        }
        var width = inputs
        for h in hidden {
            dense(width, h)
            specs.append(.activation(activation))
            width = h
        }
        dense(width, classes)
        switch output {
        case .sigmoid: specs.append(.activation(.sigmoid))
        case .softmax: specs.append(.softmax)
        case .softmaxDiagonal: specs.append(SoftmaxWithDiagonalGradient().spec)
        case .logits: break
        }
        return specs
    }

    /// "784-256-128-10 relu"
    public var shortDescription: String {
        ([inputs] + hidden + [classes]).map(String.init).joined(separator: "-") + " " + activation.name
            + (output == .logits ? "" : ", \(output.rawValue) output") + (bias ? "" : ", no bias")
    }
}

/// A complete training recipe: network, loss, input scaling, plan and seed.
/// A preset is a named recipe; command-line flags edit a copy of one.
public struct Recipe: Sendable, Equatable {
    public var network: Network
    public var loss: LossKind
    public var inputTransform: InputTransform
    public var plan: TrainingPlan
    public var seed: UInt64

    /// The network's architecture.
    public enum Network: Sendable, Equatable {
        /// A fully connected network described by sizes.
        case mlp(MLPRecipe)
        /// Any list of layers, on inputs of the given sample shape; weights drawn by
        /// `initializer`, biases by `biasInitializer`.
        case layers(inputShape: [Int], specs: [LayerSpec], initializer: Initializer, biasInitializer: Initializer = .zeros)
    }

    public init(network: Network, loss: LossKind, inputTransform: InputTransform, plan: TrainingPlan, seed: UInt64) {
        self.network = network
        self.loss = loss
        self.inputTransform = inputTransform
        self.plan = plan
        self.seed = seed
    }

    /// The shape of one input sample.
    public var inputShape: [Int] {
        switch network {
        case .mlp(let m): [m.inputs]
        case .layers(let shape, _, _, _): shape
        }
    }

    /// Builds the network with fresh weights drawn from the recipe's seed.
    public func makeModel() throws(ModelError) -> Sequential {
        var rng = RandomSource(seed: seed)
        switch network {
        case .mlp(let m):
            return try Sequential(inputShape: [m.inputs], specs: m.specs, initializer: m.initializer,
                                  biasInitializer: m.biasInitializer, custom: TutorialQuirks.makeLayer, rng: &rng)
        case let .layers(shape, specs, initializer, biasInitializer):
            return try Sequential(inputShape: shape, specs: specs, initializer: initializer,
                                  biasInitializer: biasInitializer, custom: TutorialQuirks.makeLayer, rng: &rng)
        }
    }

    /// The random source for shuffling and sampling: separate from the weights' so that
    /// changing the network does not change the order of the batches.
    public var trainingRandomSource: RandomSource { RandomSource(seed: seed &+ 0x5EED) }

    /// Checks the combination makes sense; throws a message a person can act on.
    public func validate() throws(RecipeError) {
        if case .mlp(let m) = network {
            if m.hidden.contains(where: { $0 < 1 }) { throw RecipeError("layer sizes must be positive") }
            switch (loss, m.output) {
            case (.crossEntropy, .softmax), (.crossEntropy, .softmaxDiagonal), (.crossEntropy, .sigmoid):
                throw RecipeError("the ce loss applies softmax itself and takes raw scores: use --output logits with --loss ce")
            case (.bce, .logits), (.mse, .logits):
                throw RecipeError("the \(loss.rawValue) loss needs outputs that are probabilities: add --output sigmoid or --output softmax")
            default: break
            }
            if case .leakyReLU(let a) = m.activation, !(a > 0 && a < 1) {
                throw RecipeError("LeakyReLU alpha must be between 0 and 1, got \(a)")
            }
        }
        if plan.batchSize < 1 { throw RecipeError("batch size must be at least 1") }
        if !(plan.learningRate > 0) || !plan.learningRate.isFinite { throw RecipeError("learning rate must be a positive number") }
        if plan.l2 < 0 || !plan.l2.isFinite { throw RecipeError("l2 must be zero or positive") }
        switch plan.length {
        case .epochs(let e) where e < 1: throw RecipeError("epochs must be at least 1")
        case .steps(let s, let r) where s < 1 || r < 1: throw RecipeError("steps must be at least 1")
        default: break
        }
    }
}

/// A recipe that cannot be trained, with a message for a person.
public struct RecipeError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
