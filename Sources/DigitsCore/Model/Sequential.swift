/// A network as a list of layers applied one after another:
///
/// ```swift
/// var rng = RandomSource(seed: 0)
/// let model = try Sequential(inputShape: [784], specs: [
///     .dense(inputs: 784, outputs: 256, bias: true), .activation(.relu),
///     .dense(inputs: 256, outputs: 10, bias: true),
/// ], rng: &rng)
/// let logits = model(x)          // x: (B, 784) -> (B, 10)
/// ```
///
/// When it runs, a dense layer or convolution followed by an activation is fused: the
/// activation is applied by the layer as it writes its output (`Dense.forward(_:then:)`), which
/// saves a pass over memory and gives the same values. A 2×2 max pooling right after a
/// convolution (and its activation) is fused too: the convolution pools each plane while it is
/// in cache, and the full map is never written (`Conv2D.forward(_:training:then:pool:)`). A
/// BatchNorm followed by an activation, a 2×2 pooling, or both, is fused likewise
/// (`BatchNorm.forward(_:training:then:pool:)`).
public final class Sequential {
    /// The layers, in order.
    public let layers: [any Layer]
    /// The shape of one input sample, such as `[784]` or `[1, 28, 28]`.
    public let inputShape: [Int]
    /// The shape of one output sample.
    public let outputShape: [Int]
    /// Every parameter, named "layers.I.NAME" by layer index.
    public let parameters: [Parameter]
    /// How `forward` and `backward` run the layers.
    private let steps: [Step]
    /// The layers each step of a run takes, in order, as index ranges: `0..<3` for a
    /// convolution run with its activation and pooling fused, `3..<4` for a layer alone.
    public var stepRanges: [Range<Int>] { Sequential.ranges(of: steps) }

    /// The layers a fused step runs after its first (its activation, its pooling): built once.
    /// Back-propagation stops at a step when one of them has `computesInputGradient` off, as it
    /// stops at that layer when it runs alone.
    private let stepFollowers: [[any Layer]]

    private static func ranges(of steps: [Step]) -> [Range<Int>] {
        var ranges: [Range<Int>] = [], start = 0
        for step in steps {
            let count = switch step {
            case .layer: 1
            case .dense, .conv2d, .batchNorm: 2
            case let .conv2dPool(_, activation, _), let .batchNormPool(_, activation, _): activation == nil ? 2 : 3
            }
            ranges.append(start..<(start + count))
            start += count
        }
        return ranges
    }

    /// The parameters of each step, built once (a training step allocates nothing).
    private let stepParameters: [[Parameter]]

    /// One step of a run: a layer alone, or a layer with the activation after it fused.
    private enum Step {
        case layer(any Layer)
        case dense(Dense, Activation)
        case conv2d(Conv2D, Activation)
        case conv2dPool(Conv2D, Activation?, MaxPool2D)
        case batchNorm(BatchNorm, Activation)
        case batchNormPool(BatchNorm, Activation?, MaxPool2D)

        /// The parameters of the step's layers (activations have none).
        var parameters: [Parameter] {
            switch self {
            case .layer(let layer): layer.parameters
            case .dense(let dense, _): dense.parameters
            case .conv2d(let conv, _): conv.parameters
            case .conv2dPool(let conv, _, _): conv.parameters   // pooling and activation have none
            case .batchNorm(let norm, _), .batchNormPool(let norm, _, _): norm.parameters
            }
        }
    }

    /// A network of `layers`, checked to fit together for inputs of `inputShape`. With
    /// `fusing` off, every layer runs on its own (for tests: the results are the same).
    public init(inputShape: [Int], layers: [any Layer], fusing: Bool = true) throws(ModelError) {
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
        let steps = fusing ? Sequential.fusedSteps(layers) : layers.map { Step.layer($0) }
        self.steps = steps
        self.stepParameters = steps.map { $0.parameters }
        self.stepFollowers = Sequential.ranges(of: steps).map { Array(layers[($0.lowerBound + 1)..<$0.upperBound]) }
        // The first layer's input is data: no gradient needed for it.
        layers[0].computesInputGradient = false
    }

    /// A network built from specifications, its weights drawn from `rng`; `.custom` layers are
    /// built by `custom`.
    public convenience init(inputShape: [Int], specs: [LayerSpec], initializer: Initializer = .he,
                            biasInitializer: Initializer = .zeros, custom: CustomLayerMaker? = nil,
                            rng: inout RandomSource) throws(ModelError) {
        var layers: [any Layer] = []
        for spec in specs {
            layers.append(try spec.makeLayer(initializer: initializer, biasInitializer: biasInitializer,
                                             custom: custom, rng: &rng))
        }
        try self.init(inputShape: inputShape, layers: layers)
    }

    /// Pairs each dense layer, convolution or BatchNorm with the activation layer right after it,
    /// and a convolution or BatchNorm (with its activation) with the 2×2 pooling after it.
    private static func fusedSteps(_ layers: [any Layer]) -> [Step] {
        var steps: [Step] = []
        var i = 0
        func layer(_ j: Int) -> (any Layer)? { j < layers.count ? layers[j] : nil }
        while i < layers.count {
            let next = layer(i + 1) as? ActivationLayer
            let pool = layer(next == nil ? i + 1 : i + 2) as? MaxPool2D
            if let conv = layers[i] as? Conv2D, let pool, pool.fusesIntoConvolution {
                steps.append(.conv2dPool(conv, next?.activation, pool))
                i += next == nil ? 2 : 3
            } else if let norm = layers[i] as? BatchNorm, let pool, pool.fusesIntoConvolution {
                // (A pooling's input is (C, H, W), checked above: so is this BatchNorm's.)
                steps.append(.batchNormPool(norm, next?.activation, pool))
                i += next == nil ? 2 : 3
            } else if let next, let dense = layers[i] as? Dense {
                steps.append(.dense(dense, next.activation))
                i += 2
            } else if let next, let conv = layers[i] as? Conv2D {
                steps.append(.conv2d(conv, next.activation))
                i += 2
            } else if let next, let norm = layers[i] as? BatchNorm {
                steps.append(.batchNorm(norm, next.activation))
                i += 2
            } else {
                steps.append(.layer(layers[i]))
                i += 1
            }
        }
        return steps
    }

    /// The specifications that rebuild this network.
    public var specs: [LayerSpec] { layers.map { $0.spec } }

    /// The total number of trainable values (running statistics and other saved, untrained
    /// tensors are not counted).
    public var parameterCount: Int {
        var n = 0
        for p in parameters where p.trainable { n += p.value.count }
        return n
    }

    // MARK: - Forward and backward

    /// x: (B, inputShape…) -> (B, outputShape…). The result is owned by the last layer.
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        var h = x
        for step in steps {
            switch step {
            case .layer(let layer): h = layer.forward(h, training: training)
            case let .dense(dense, activation): h = dense.forward(h, then: activation)
            case let .conv2d(conv, activation): h = conv.forward(h, training: training, then: activation)
            case let .conv2dPool(conv, activation, pool):
                h = conv.forward(h, training: training, then: activation, pool: pool)
            case let .batchNorm(norm, activation): h = norm.forward(h, training: training, then: activation)
            case let .batchNormPool(norm, activation, pool):
                h = norm.forward(h, training: training, then: activation, pool: pool)
            }
        }
        return h
    }

    /// Inference: `forward(x, training: false)`.
    public func callAsFunction(_ x: Tensor) -> Tensor { forward(x, training: false) }

    /// Back-propagates d(loss)/d(output) through every layer, adding into each parameter's
    /// gradient; stops at the first layer, whose input needs no gradient.
    ///
    /// `finished` is called with each step's parameters (a layer's, with its fused activation)
    /// as soon as back-propagation is done with them: their gradients complete, their values no
    /// longer read. An optimiser can update them there, while the gradient is still in cache
    /// (`Trainer`). Every step's parameters are passed exactly once, last layer first, also
    /// those of layers back-propagation stops before.
    public func backward(_ dOutput: Tensor, finished: ([Parameter]) -> Void = { _ in }) {
        var d = dOutput
        var index = steps.count
        defer { for i in (0..<index).reversed() { finished(stepParameters[i]) } }
        for step in steps.reversed() {
            index -= 1
            defer { finished(stepParameters[index]) }
            // A fused activation or pooling that stops back-propagation stops it here, before
            // the layer under it gets a gradient (as when each runs alone).
            for follower in stepFollowers[index] where !follower.computesInputGradient { return }
            let dInput: Tensor?
            switch step {
            case .layer(let layer): dInput = layer.backward(d)
            case let .dense(dense, activation): dInput = dense.backward(d, through: activation)
            case let .conv2d(conv, activation): dInput = conv.backward(d, through: activation)
            case let .conv2dPool(conv, activation, pool): dInput = conv.backward(d, through: activation, pool: pool)
            case let .batchNorm(norm, activation): dInput = norm.backward(d, through: activation)
            case let .batchNormPool(norm, activation, pool): dInput = norm.backward(d, through: activation, pool: pool)
            }
            guard let dInput else { return }
            d = dInput
        }
    }

    /// Sets every parameter gradient to zero: the first thing a training step does.
    public func zeroGradients() {
        for p in parameters { p.grad.zero() }
    }

    /// A multi-line description: one line a layer, then the parameter count.
    public var summary: String {
        var text = ""
        for (i, layer) in layers.enumerated() { text += "  \(i): \(layer.summary)\n" }
        return text + "  \(parameterCount) trainable parameters"
    }
}
