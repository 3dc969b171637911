/// A network as a list of layers applied one after another:
///
/// ```swift
/// var rng = RandomSource(seed: 0)
/// let model = try Sequential(inputShape: [784], specs: [
///     .dense(inputs: 784, outputs: 256, bias: true, activation: .relu, biasGradient: nil),
///     .dense(inputs: 256, outputs: 10, bias: true, activation: nil, biasGradient: nil),
/// ], rng: &rng)
/// let logits = model(x)          // x: (B, 784) -> (B, 10)
/// ```
public final class Sequential {
    /// The layers, in order.
    public let layers: [any Layer]
    /// The shape of one input sample, such as `[784]` or `[1, 28, 28]`.
    public let inputShape: [Int]
    /// The shape of one output sample.
    public let outputShape: [Int]
    /// Every parameter, named "layers.I.NAME" by layer index.
    public let parameters: [Parameter]

    /// A network of `layers`, checked to fit together for inputs of `inputShape`.
    public init(inputShape: [Int], layers: [any Layer]) throws(ModelError) {
        guard !layers.isEmpty else { throw .invalidArchitecture("a model needs at least one layer") }
        self.inputShape = inputShape
        self.layers = layers
        var shape = inputShape
        for layer in layers { shape = try layer.outputShape(for: shape) }
        self.outputShape = shape
        var params: [Parameter] = []
        for (i, layer) in layers.enumerated() {
            for p in layer.parameters {
                if !p.name.hasPrefix("layers.") { p.name = "layers.\(i).\(p.name)" }
                params.append(p)
            }
        }
        self.parameters = params
        // The first layer's input is data: no gradient needed for it.
        layers[0].computesInputGradient = false
    }

    /// A network built from specifications, its weights drawn from `rng`.
    public convenience init(inputShape: [Int], specs: [LayerSpec], initializer: Initializer = .he,
                            biasInitializer: Initializer = .zeros, rng: inout RandomSource) throws(ModelError) {
        var layers: [any Layer] = []
        for spec in specs {
            layers.append(try spec.makeLayer(initializer: initializer, biasInitializer: biasInitializer, rng: &rng))
        }
        try self.init(inputShape: inputShape, layers: layers)
    }

    /// The specifications that rebuild this network.
    public var specs: [LayerSpec] { layers.map(\.spec) }

    /// The total number of trainable values (running statistics and other saved, untrained
    /// tensors are not counted).
    public var parameterCount: Int { parameters.filter(\.trainable).reduce(0) { $0 + $1.value.count } }

    // MARK: - Forward and backward

    /// x: (B, inputShape…) -> (B, outputShape…). The result is owned by the last layer.
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        var h = x
        for layer in layers { h = layer.forward(h, training: training) }
        return h
    }

    /// Inference: `forward(x, training: false)`.
    public func callAsFunction(_ x: Tensor) -> Tensor { forward(x, training: false) }

    /// Back-propagates d(loss)/d(output) through every layer, accumulating parameter gradients.
    public func backward(_ dOutput: Tensor) {
        var d = dOutput
        for layer in layers.reversed() { d = layer.backward(d) }
    }

    /// Sets every parameter gradient to zero.
    public func zeroGradients() {
        for p in parameters { p.grad.zero() }
    }

    /// A multi-line description: one line a layer, then the parameter count.
    public var summary: String {
        var lines = layers.enumerated().map { "  \($0.offset): \($0.element.summary)" }
        lines.append("  \(parameterCount) trainable parameters")
        return lines.joined(separator: "\n")
    }
}
