import DigitsCore

/// A named recipe, with where it comes from and what is unusual about it.
public struct Preset: Sendable {
    /// The name given to `--preset`.
    public var name: String
    /// One line: what it trains.
    public var summary: String
    /// The tutorial it reproduces (a file of `shared/seeds`), or nil for the project's own.
    public var source: String?
    /// The test accuracy it is expected to reach, as measured (a fraction), for documentation.
    public var expectedAccuracy: Double?
    /// The tutorial's quirks, kept on purpose, each in a sentence.
    public var quirks: [String]
    public var recipe: Recipe
}

/// The built-in presets: the project's own networks and the five tutorials' networks, each
/// reproduced as its tutorial trains it.
public enum Presets {
    /// Every preset, in the order `digits presets` lists them.
    public static var all: [Preset] { [mlp] + tutorials + extra }

    /// Presets added by other parts of the app (convolutional networks, …).
    public static var extra: [Preset] { ConvPresets.all }

    /// The preset called `name`, or nil.
    public static func named(_ name: String) -> Preset? { all.first { $0.name == name } }

    /// The default: the project's own fully connected network.
    public static let mlp = Preset(
        name: "mlp",
        summary: "784-256-128-10 ReLU, SGD with Nesterov momentum, cosine schedule",
        source: nil, expectedAccuracy: 0.98,
        quirks: [],
        recipe: Recipe(
            network: .mlp(MLPRecipe(hidden: [256, 128], activation: .relu, initializer: .he)),
            loss: .crossEntropy, inputTransform: .unit,
            plan: TrainingPlan(batchSize: 64, batching: .shuffled, length: .epochs(6),
                               optimizer: .momentum(0.9, nesterov: true), learningRate: 0.05,
                               schedule: .cosine(minFactor: 0), l2: 0, reduction: .mean),
            seed: 1))

    /// The five tutorials of `shared/seeds`, oldest idea first.
    public static let tutorials: [Preset] = [
        Preset(
            name: "tutorial-sigmoid-16-16",
            summary: "784-16-16-10 sigmoid, no biases, raw error, online SGD for one epoch",
            source: "000_ab07e3b448607862.txt", expectedAccuracy: 0.866,
            quirks: [
                "No biases anywhere; the output layer is a sigmoid too, trained on the squared error against the one-hot label (the post's \"raw error\").",
                "Weights uniform in [-1, 1) (2·rand − 1); learning rate 1 (the update adds lᵀ·δ unscaled).",
                "Online SGD: one pass over the 60,000 images in file order, one image per step.",
                "Pixels scaled to 0…1 as the author's repository does (the post feeds raw bytes, which saturates the sigmoids).",
            ],
            recipe: Recipe(
                network: .mlp(MLPRecipe(hidden: [16, 16], activation: .sigmoid, output: .sigmoid, bias: false,
                                        initializer: .uniform(low: -1, high: 1))),
                loss: .mse, inputTransform: .unit,
                plan: TrainingPlan(batchSize: 1, batching: .inOrder, length: .steps(60_000, reportEvery: 10_000),
                                   optimizer: .sgd, learningRate: 1, reduction: .sum),
                seed: 0)),
        Preset(
            name: "tutorial-sigmoid-40",
            summary: "784-40-10 sigmoid + softmax, full-batch gradient descent, lr 0.7, 200 steps",
            source: "001_dfdf290cfc30b33d.txt", expectedAccuracy: 0.888,
            quirks: [
                "Weights and biases both uniform in [-0.5, 0.5).",
                "Full-batch gradient descent: every step uses all 60,000 images (computed in chunks of 1,024 whose gradients are summed).",
                "200 steps at learning rate 0.7, accuracy printed every 50 steps as the post does.",
            ],
            recipe: Recipe(
                network: .mlp(MLPRecipe(hidden: [40], activation: .sigmoid,
                                        initializer: .uniform(low: -0.5, high: 0.5),
                                        biasInitializer: .uniform(low: -0.5, high: 0.5))),
                loss: .crossEntropy, inputTransform: .unit,
                plan: TrainingPlan(batchSize: 60_000, batching: .inOrder, length: .steps(200, reportEvery: 50),
                                   optimizer: .sgd, learningRate: 0.7, reduction: .mean),
                seed: 0)),
        Preset(
            name: "tutorial-softmax-regression",
            summary: "784-10 softmax regression on raw pixels, lr 1e-6, batches of 300 drawn with replacement, L2 5e-6",
            source: "002_97db97dcd1cdb96a.txt", expectedAccuracy: 0.892,
            quirks: [
                "No hidden layer: the post's \"two layer\" network is one dense layer and a softmax.",
                "Pixels are fed raw, 0…255, unscaled; weights N(0, 1e-4²), biases zero.",
                "Learning rate 1e-6 as printed, 500 steps, each a batch of 300 drawn with replacement (np.random.choice).",
                "L2 regularisation 5e-6 on the weights (loss + ½·reg·‖W‖²).",
            ],
            recipe: Recipe(
                network: .mlp(MLPRecipe(hidden: [], activation: .relu, initializer: .normal(std: 1e-4))),
                loss: .crossEntropy, inputTransform: .raw,
                plan: TrainingPlan(batchSize: 300, batching: .withReplacement, length: .steps(500, reportEvery: 100),
                                   optimizer: .sgd, learningRate: 1e-6, l2: 5e-6, reduction: .mean),
                seed: 0)),
        Preset(
            name: "tutorial-relu-50",
            summary: "784-50-10 ReLU + softmax, He init, full-batch gradient descent, 100 steps at lr 0.5",
            source: "003_005c17120114f426.txt", expectedAccuracy: 0.922,
            quirks: [
                "He-normal weights, zero biases, as the post recommends.",
                "The post leaves the number of steps and the learning rate blank: 100 full-batch steps at 0.5.",
            ],
            recipe: Recipe(
                network: .mlp(MLPRecipe(hidden: [50], activation: .relu, initializer: .he)),
                loss: .crossEntropy, inputTransform: .unit,
                plan: TrainingPlan(batchSize: 60_000, batching: .inOrder, length: .steps(100, reportEvery: 10),
                                   optimizer: .sgd, learningRate: 0.5, reduction: .mean),
                seed: 0)),
        Preset(
            name: "tutorial-leaky-256-128",
            summary: "784-256-128-10 LeakyReLU(0.2) + softmax, BCE, batches of 256 in order, 5 epochs, lr 1e-3 on summed gradients",
            source: "004_6e7a87fe59e4a74b.txt", expectedAccuracy: 0.963,
            quirks: [
                "Weights uniform in ±1/√fan_in (LeCun uniform), biases zero.",
                "Softmax output trained with binary cross-entropy, differentiated through only the softmax Jacobian's diagonal; together these give exactly p − onehot.",
                "Gradients summed over the batch, not averaged, at learning rate 1e-3.",
                "Each bias moves by the mean of the whole batch's gradient, one number for all units (b -= lr·mean(error)).",
                "Batches of 256 in file order, never shuffled; the last batch of each epoch has 96 images.",
            ],
            recipe: Recipe(
                network: .mlp(MLPRecipe(hidden: [256, 128], activation: .leakyReLU(alpha: 0.2), output: .softmaxDiagonal,
                                        initializer: .lecunUniform, biasGradient: .scalarMean)),
                loss: .bce, inputTransform: .unit,
                plan: TrainingPlan(batchSize: 256, batching: .inOrder, length: .epochs(5),
                                   optimizer: .sgd, learningRate: 1e-3, reduction: .sum),
                seed: 0)),
    ]
}
