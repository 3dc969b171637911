import DigitsCore

/// The convolutional presets: `cnn`, `cnn-best`, `fast`, `fastest`, `pytorch-cnn` and `reader`.
/// They plug into `Presets.extra`. Every one takes 28×28 images as `[1, 28, 28]` samples.
public enum ConvPresets {
    /// All of them, in the order `digits presets` lists them.
    public static var all: [Preset] { [cnn, cnnBest, fast, fastest, pytorchCNN, reader] }

    /// The input shape of every convolutional preset: one channel of 28×28.
    static let imageShape = [1, 28, 28]

    /// Steps in one epoch of MNIST's 60,000 training images at batch size `batch`.
    static func stepsPerEpoch(_ batch: Int, trainCount: Int = 60_000) -> Int { (trainCount + batch - 1) / batch }

    // MARK: - Building blocks

    /// Conv(k×k, padding) → BatchNorm → ReLU (the convolution has no bias: BatchNorm's β is one).
    static func convBNReLU(_ inC: Int, _ outC: Int, kernel: Int = 3, padding: Int = 1) -> [LayerSpec] {
        [.conv2d(inChannels: inC, outChannels: outC, kernelSize: kernel, stride: 1, padding: padding, bias: false),
         .batchNorm(channels: outC, momentum: 0.1, epsilon: 1e-5),
         .activation(.relu)]
    }

    /// A dense layer with bias, and the activation after it if one is given.
    static func dense(_ i: Int, _ o: Int, _ activation: Activation? = nil) -> [LayerSpec] {
        [.dense(inputs: i, outputs: o, bias: true)] + (activation.map { [.activation($0)] } ?? [])
    }

    static let pool2: LayerSpec = .maxPool2d(kernelSize: 2, stride: 2)

    // MARK: - Presets

    /// The default convolutional network.
    public static let cnn = Preset(
        name: "cnn",
        summary: "Conv32(5×5)-pool-Conv64(5×5)-pool (BatchNorm, ReLU) → 128 → 10, dropout 0.25, AdamW one-cycle, batch 128, 4 epochs",
        source: nil, expectedAccuracy: 0.993,
        quirks: [],
        recipe: Recipe(
            network: .layers(inputShape: imageShape, specs: cnnLayers(dropout: 0.25), initializer: .he),
            loss: .crossEntropy, inputTransform: .unit,
            plan: TrainingPlan(batchSize: 128, batching: .shuffled, length: .epochs(4),
                               optimizer: .adamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-4),
                               learningRate: 3e-3, schedule: .oneCycleDefault),
            seed: 1))

    /// The layers of `cnn`: (1, 28, 28) → 10 scores.
    static func cnnLayers(dropout: Float) -> [LayerSpec] {
        convBNReLU(1, 32, kernel: 5, padding: 0) + [pool2]        // (32, 12, 12)
        + convBNReLU(32, 64, kernel: 5, padding: 0) + [pool2]     // (64, 4, 4)
        + [.flatten] + dense(64 * 16, 128, .relu) + [.dropout(rate: dropout)] + dense(128, 10)
    }

    /// The most accurate preset: three convolutions (the last two 3×3 at 14×14) with BatchNorm,
    /// a 256-unit hidden layer with dropout, augmentation, and SGD with Nesterov momentum, L2
    /// and a 14-epoch one-cycle schedule (SGD with L2 generalised a little better here than
    /// AdamW: BENCHMARKS.md).
    public static let cnnBest = Preset(
        name: "cnn-best",
        summary: "Conv32(5×5)-pool-Conv64(3×3)-Conv64(3×3)-pool (BatchNorm, ReLU) → 256 → 10, dropout 0.4, augmented (shift ±2 px, rotation ±10°, scale ±10%), SGD Nesterov 0.9, L2 5e-4, lr 0.05 one-cycle, 14 epochs",
        source: nil, expectedAccuracy: 0.9961,
        quirks: [],
        recipe: Recipe(
            network: cnnBestNetwork,
            loss: .crossEntropy, inputTransform: .unit,
            plan: TrainingPlan(batchSize: 128, batching: .shuffled, length: .epochs(14),
                               optimizer: .momentum(0.9, nesterov: true), learningRate: 0.05,
                               schedule: .oneCycleDefault, l2: 5e-4,
                               augmentation: Augmentation(maxShift: 2, maxRotation: 10, maxScale: 0.1)),
            seed: 1))

    /// `cnn-best`'s network (the reader's too): three convolutions with BatchNorm, two poolings,
    /// a 256-unit hidden layer with dropout.
    static let cnnBestNetwork = Recipe.Network.layers(inputShape: imageShape, specs:
        convBNReLU(1, 32, kernel: 5, padding: 2) + [pool2]              // (32, 14, 14)
        + convBNReLU(32, 64) + convBNReLU(64, 64) + [pool2]             // (64, 7, 7)
        + [.flatten] + dense(64 * 49, 256, .relu) + [.dropout(rate: 0.4)] + dense(256, 10),
        initializer: .he)

    /// The shipped reader (issue 14): `cnn-best`'s network, trained with the distortions people's
    /// writing and cameras make — slant, aspect, elastic wobble, thinner and thicker strokes,
    /// blur, low resolution, faint ink and noise — on top of shift, rotation and scale.
    /// `scripts/build-reader.sh` trains it with a validation split and calibrates it.
    public static let reader = Preset(
        name: "reader",
        summary: "cnn-best's network, augmented for real writing (shift, rotation, scale, shear, aspect, elastic, stroke thickness, blur, half resolution, contrast, noise), SGD Nesterov 0.9, L2 5e-4, lr 0.05 one-cycle, 15 epochs, the last 4 undistorted",
        source: nil, expectedAccuracy: 0.9970,
        quirks: [],
        recipe: Recipe(
            network: cnnBestNetwork,
            loss: .crossEntropy, inputTransform: .unit,
            plan: TrainingPlan(batchSize: 128, batching: .shuffled, length: .epochs(15),
                               optimizer: .momentum(0.9, nesterov: true), learningRate: 0.05,
                               schedule: .oneCycleDefault, l2: 5e-4,
                               augmentation: readerAugmentation,
                               annealing: AugmentationAnnealing(epochs: 4, augmentation: nil)),
            seed: 1))

    /// The reader's distortions.
    public static let readerAugmentation = Augmentation(
        maxShift: 2, maxRotation: 10, maxScale: 0.1, maxShear: 0.25, maxAspect: 0.15,
        elasticAlpha: 1.5, elasticGrid: 4, thickness: 0.7, blurProbability: 0.15,
        lowResolutionProbability: 0.1, minContrast: 0.6, maxNoise: 8)

    /// `fast`'s and `fastest`'s first layers: Conv16(5×5)-ReLU-pool, then Conv32(3×3) (no bias:
    /// BatchNorm follows). The two presets differ in what comes after it.
    static let smallConvStem: [LayerSpec] = [
                .conv2d(inChannels: 1, outChannels: 16, kernelSize: 5, stride: 1, padding: 0, bias: true),
                .activation(.relu),
                pool2,                                                          // (16, 12, 12)
                .conv2d(inChannels: 16, outChannels: 32, kernelSize: 3, stride: 1, padding: 0, bias: false),
    ]

    /// 99% in a few seconds: a small network, two epochs, a one-cycle schedule peaking at 0.02.
    ///
    /// Shaped for speed (BENCHMARKS.md): the first convolution, on the largest maps (24×24), has
    /// no BatchNorm, so that its bias and ReLU are applied in its own output pass; the second is
    /// 3×3, and its ReLU comes after the pooling (max pooling and ReLU commute, and the pooled
    /// maps are a quarter the size). The learning rate was chosen on a validation split
    /// (`--validation 5000`, seeds 1-5) among 0.005, 0.01 and 0.02 at two epochs.
    public static let fast = Preset(
        name: "fast",
        summary: "Conv16(5×5, ReLU)-pool-Conv32(3×3, BatchNorm)-pool-ReLU → 10, Adam one-cycle, batch 128, 2 epochs",
        source: nil, expectedAccuracy: 0.99,
        quirks: [],
        recipe: Recipe(
            network: .layers(inputShape: imageShape, specs: smallConvStem + [
                .batchNorm(channels: 32, momentum: 0.1, epsilon: 1e-5),
                pool2, .activation(.relu),                                      // (32, 5, 5)
                .flatten,
            ] + dense(32 * 25, 10), initializer: .he),
            loss: .crossEntropy, inputTransform: .unit,
            plan: TrainingPlan(batchSize: 128, batching: .shuffled, length: .epochs(2),
                               optimizer: .adam, learningRate: 2e-2, schedule: .oneCycleDefault),
            seed: 1))

    /// 99 % in the fewest seconds: `fast`'s two convolutions with both poolings straight after
    /// them and BatchNorm after the second pooling, a 128-unit hidden layer, and 469 steps (about
    /// one epoch) of Adam one-cycle at batch 128, with `torch_fastest.py`'s betas (0.7, 0.9).
    ///
    /// Shaped for speed (BENCHMARKS.md): a convolution followed by its 2×2 pooling is run as one
    /// step (`Sequential` fuses them: the full maps are never written), and BatchNorm works on
    /// the pooled maps, a quarter the size. The hidden layer costs few multiply-adds beside the
    /// convolutions and buys the accuracy that lets training stop at one epoch. Adam's betas
    /// (0.7, 0.9) let it stop at 469 steps rather than 530 at the same accuracy on a validation
    /// split (`--validation 5000`, seeds 1-5: 99.08 % against 99.10 %; BENCHMARKS.md).
    public static let fastest = Preset(
        name: "fastest",
        summary: "Conv16(5×5, ReLU)-pool-Conv32(3×3)-pool-BatchNorm-ReLU → 128 → 10, Adam (β 0.7, 0.9) one-cycle, batch 128, 469 steps (about 1 epoch)",
        source: nil, expectedAccuracy: 0.99,
        quirks: [],
        recipe: Recipe(
            network: .layers(inputShape: imageShape, specs: smallConvStem + [
                pool2,                                                          // (32, 5, 5)
                .batchNorm(channels: 32, momentum: 0.1, epsilon: 1e-5), .activation(.relu),
                .flatten,
            ] + dense(32 * 25, 128, .relu) + dense(128, 10), initializer: .he),
            loss: .crossEntropy, inputTransform: .unit,
            plan: TrainingPlan(batchSize: 128, batching: .shuffled, length: .steps(469, reportEvery: 469),
                               optimizer: .adam(beta1: 0.7, beta2: 0.9, epsilon: 1e-8), learningRate: 1e-2,
                               schedule: .oneCycleDefault),
            seed: 1))

    /// `shared/peers/torch_mlp.py --cnn`, layer for layer, for a side-by-side speed comparison.
    public static let pytorchCNN = Preset(
        name: "pytorch-cnn",
        summary: "torch_mlp.py --cnn: Conv32(5×5)-pool-Conv64(5×5)-pool → 128 → 10 ReLU, SGD momentum 0.9, lr 0.05, batch 64, 5 epochs",
        source: nil, expectedAccuracy: nil,
        quirks: [
            "The architecture and training of shared/peers/torch_mlp.py --cnn: Conv(1→32, 5) ReLU MaxPool2 Conv(32→64, 5) ReLU MaxPool2 Flatten Linear(1024→128) ReLU Linear(128→10).",
            "SGD with momentum 0.9 (not Nesterov), lr 0.05 constant, batches of 64 shuffled each epoch, pixels / 255, 5 epochs (the script's default).",
            "Weights and biases LeCun-uniform, U(±1/√fan_in): PyTorch's default (kaiming_uniform with a = √5 for weights, the same range for biases).",
        ],
        recipe: Recipe(
            network: .layers(inputShape: imageShape, specs: [
                .conv2d(inChannels: 1, outChannels: 32, kernelSize: 5, stride: 1, padding: 0, bias: true),
                .activation(.relu),
                pool2,                                                          // (32, 12, 12)
                .conv2d(inChannels: 32, outChannels: 64, kernelSize: 5, stride: 1, padding: 0, bias: true),
                .activation(.relu),
                pool2,                                                          // (64, 4, 4)
                .flatten,
            ] + dense(1024, 128, .relu) + dense(128, 10), initializer: .lecunUniform, biasInitializer: .lecunUniform),
            loss: .crossEntropy, inputTransform: .unit,
            plan: TrainingPlan(batchSize: 64, batching: .shuffled, length: .epochs(5),
                               optimizer: .momentum(0.9, nesterov: false), learningRate: 0.05),
            seed: 1))
}
