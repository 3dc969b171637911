/// A layer's description: enough to rebuild it, with no values. A model file stores its
/// architecture as a list of these (JSON), and `Sequential(specs:…)` builds a network from one.
public enum LayerSpec: Sendable, Equatable, Codable {
    case dense(inputs: Int, outputs: Int, bias: Bool, activation: Activation?, biasGradient: Dense.BiasGradient?)
    case activation(Activation)
    case softmax(gradient: Softmax.Gradient?)
    /// A 2-D convolution on (C, H, W) samples; see `Conv2D`.
    case conv2d(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int, padding: Int, bias: Bool,
                activation: Activation?)
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

    /// Builds the layer, drawing any weights from `rng` with `initializer` (biases with
    /// `biasInitializer`).
    public func makeLayer(initializer: Initializer = .he, biasInitializer: Initializer = .zeros,
                          rng: inout RandomSource) throws(ModelError) -> any Layer {
        switch self {
        case let .dense(inputs, outputs, bias, activation, biasGradient):
            guard inputs > 0, outputs > 0 else {
                throw .invalidArchitecture("dense layer needs positive sizes, got \(inputs) → \(outputs)")
            }
            try Self.checkLeakyAlpha(activation)
            return Dense(inputs, outputs, bias: bias, activation: activation,
                         biasGradient: biasGradient ?? .perUnit,
                         initializer: initializer, biasInitializer: biasInitializer, rng: &rng)
        case .activation(let a):
            try Self.checkLeakyAlpha(a)
            return ActivationLayer(a)
        case .softmax(let g):
            return Softmax(gradient: g ?? .jacobian)
        case let .conv2d(inC, outC, k, stride, padding, bias, activation):
            guard inC > 0, outC > 0, k > 0, stride > 0, padding >= 0, padding < k else {
                throw .invalidArchitecture("convolution needs positive channels, kernel and stride and 0 ≤ padding < kernel, got \(inC) → \(outC), \(k)×\(k), stride \(stride), padding \(padding)")
            }
            try Self.checkLeakyAlpha(activation)
            return Conv2D(inC, outC, kernelSize: k, stride: stride, padding: padding, bias: bias, activation: activation,
                          initializer: initializer, biasInitializer: biasInitializer, rng: &rng)
        case let .maxPool2d(k, stride):
            guard k > 0, stride > 0 else {
                throw .invalidArchitecture("max pooling needs a positive kernel and stride, got \(k), \(stride)")
            }
            return MaxPool2D(kernelSize: k, stride: stride)
        case .flatten:
            return Flatten()
        case .dropout(let rate):
            guard rate >= 0, rate < 1 else { throw .invalidArchitecture("dropout rate must be in [0, 1), got \(rate)") }
            return Dropout(rate: rate, rng: rng.fork())
        case let .batchNorm(channels, momentum, epsilon):
            guard channels > 0, momentum >= 0, momentum <= 1, epsilon > 0 else {
                throw .invalidArchitecture("batch norm needs positive channels and epsilon and momentum in [0, 1]")
            }
            return BatchNorm(channels: channels, momentum: momentum, epsilon: epsilon)
        case .globalAveragePool:
            return GlobalAveragePool()
        }
    }

    /// LeakyReLU's backward pass reads the slope off the output's sign, which needs 0 < alpha < 1;
    /// checked for a fused activation as for a layer of its own.
    private static func checkLeakyAlpha(_ a: Activation?) throws(ModelError) {
        if case .leakyReLU(let alpha)? = a, !(alpha > 0 && alpha < 1) {
            throw .invalidArchitecture("LeakyReLU alpha must be in (0, 1), got \(alpha)")
        }
    }
}
