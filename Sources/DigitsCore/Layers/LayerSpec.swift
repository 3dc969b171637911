/// A layer's description: enough to rebuild it, with no values. A model file stores its
/// architecture as a list of these (JSON), and `Sequential(specs:…)` builds a network from one.
public enum LayerSpec: Sendable, Equatable, Codable {
    case dense(inputs: Int, outputs: Int, bias: Bool, activation: Activation?, biasGradient: Dense.BiasGradient?)
    case activation(Activation)
    case softmax(gradient: Softmax.Gradient?)

    /// Builds the layer, drawing any weights from `rng` with `initializer` (biases with
    /// `biasInitializer`).
    public func makeLayer(initializer: Initializer = .he, biasInitializer: Initializer = .zeros,
                          rng: inout RandomSource) throws(ModelError) -> any Layer {
        switch self {
        case let .dense(inputs, outputs, bias, activation, biasGradient):
            guard inputs > 0, outputs > 0 else {
                throw .invalidArchitecture("dense layer needs positive sizes, got \(inputs) → \(outputs)")
            }
            return Dense(inputs, outputs, bias: bias, activation: activation,
                         biasGradient: biasGradient ?? .perUnit,
                         initializer: initializer, biasInitializer: biasInitializer, rng: &rng)
        case .activation(let a):
            if case .leakyReLU(let alpha) = a, !(alpha > 0 && alpha < 1) {
                throw .invalidArchitecture("LeakyReLU alpha must be in (0, 1), got \(alpha)")
            }
            return ActivationLayer(a)
        case .softmax(let g):
            return Softmax(gradient: g ?? .jacobian)
        }
    }
}
