/// A layer's description: enough to rebuild it, with no values. A model file stores its
/// architecture as a list of these, and `Sequential(specs:…)` builds a network from one.
///
/// Each case is one textbook operation. Speed-ups are not part of the description: a dense
/// layer or convolution followed by an activation is fused by `Sequential` when it runs.
public enum LayerSpec: Sendable, Equatable {
    /// y = x · W + b; see `Dense`.
    case dense(inputs: Int, outputs: Int, bias: Bool)
    /// y = f(x), element by element; see `ActivationLayer`.
    case activation(Activation)
    /// Softmax over the last axis; see `Softmax`.
    case softmax
    /// A 2-D convolution on (C, H, W) samples; see `Conv2D`.
    case conv2d(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int, padding: Int, bias: Bool)
    /// Max pooling; see `MaxPool2D`.
    case maxPool2d(kernelSize: Int, stride: Int)
    /// (C, H, W) -> (C·H·W).
    case flatten
    /// Inverted dropout; its masks are drawn from a generator forked from the model's.
    case dropout(rate: Float)
    /// Per-channel batch normalisation; see `BatchNorm`.
    case batchNorm(channels: Int, momentum: Float, epsilon: Float)
    /// (C, H, W) -> (C), the mean of each channel.
    case globalAveragePool
    /// A layer defined outside the core, by name, with whatever sizes it needs; built by the
    /// `CustomLayerMaker` given to `Sequential`.
    case custom(name: String, sizes: [Int])

    /// Builds the layer, drawing any weights from `rng` with `initializer` (biases with
    /// `biasInitializer`); a `.custom` layer through `custom`.
    public func makeLayer(initializer: Initializer = .he, biasInitializer: Initializer = .zeros,
                          custom: CustomLayerMaker? = nil,
                          rng: inout RandomSource) throws(ModelError) -> any Layer {
        switch self {
        case let .dense(inputs, outputs, bias):
            guard inputs > 0, outputs > 0 else {
                throw .invalidArchitecture("dense layer needs positive sizes, got \(inputs) → \(outputs)")
            }
            return Dense(inputs, outputs, bias: bias, initializer: initializer, biasInitializer: biasInitializer, rng: &rng)
        case .activation(let a):
            // LeakyReLU's backward pass reads the slope off the output's sign, which needs
            // 0 < alpha < 1.
            if case .leakyReLU(let alpha) = a, !(alpha > 0 && alpha < 1) {
                throw .invalidArchitecture("LeakyReLU alpha must be in (0, 1), got \(FloatText.shortest(alpha))")
            }
            return ActivationLayer(a)
        case .softmax:
            return Softmax()
        case let .conv2d(inC, outC, k, stride, padding, bias):
            guard inC > 0, outC > 0, k > 0, stride > 0, padding >= 0, padding < k else {
                throw .invalidArchitecture("convolution needs positive channels, kernel and stride and 0 ≤ padding < kernel, got \(inC) → \(outC), \(k)×\(k), stride \(stride), padding \(padding)")
            }
            return Conv2D(inC, outC, kernelSize: k, stride: stride, padding: padding, bias: bias,
                          initializer: initializer, biasInitializer: biasInitializer, rng: &rng)
        case let .maxPool2d(k, stride):
            guard k > 0, stride > 0 else {
                throw .invalidArchitecture("max pooling needs a positive kernel and stride, got \(k), \(stride)")
            }
            return MaxPool2D(kernelSize: k, stride: stride)
        case .flatten:
            return Flatten()
        case .dropout(let rate):
            guard rate >= 0, rate < 1 else {
                throw .invalidArchitecture("dropout rate must be in [0, 1), got \(FloatText.shortest(rate))")
            }
            return Dropout(rate: rate, rng: rng.fork())
        case let .batchNorm(channels, momentum, epsilon):
            guard channels > 0, momentum >= 0, momentum <= 1, epsilon > 0 else {
                throw .invalidArchitecture("batch norm needs positive channels and epsilon and momentum in [0, 1]")
            }
            return BatchNorm(channels: channels, momentum: momentum, epsilon: epsilon)
        case .globalAveragePool:
            return GlobalAveragePool()
        case let .custom(name, sizes):
            guard let custom else { throw .invalidArchitecture("unknown layer \"\(name)\"") }
            return try custom(name, sizes, CustomLayerContext(initializer: initializer, biasInitializer: biasInitializer), &rng)
        }
    }
}

/// Builds the layer of a `LayerSpec.custom(name:sizes:)`, or throws `ModelError` for a name or
/// sizes it does not know.
public typealias CustomLayerMaker = (_ name: String, _ sizes: [Int], _ context: CustomLayerContext,
                                     _ rng: inout RandomSource) throws(ModelError) -> any Layer

/// What a custom layer may draw its values with: the network's initialisers.
public struct CustomLayerContext: Sendable {
    /// How the network draws its weights.
    public var initializer: Initializer
    /// How the network draws its biases.
    public var biasInitializer: Initializer
}
