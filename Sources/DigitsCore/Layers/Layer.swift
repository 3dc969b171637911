/// A tensor of a model (usually trainable) and the gradient of the loss with respect to it.
public final class Parameter {
    /// A name unique within the model, such as "layers.0.weight"; set by `Sequential`.
    public var name: String
    /// The values.
    public let value: Tensor
    /// d(loss)/d(value), accumulated by `backward`; zeroed at the start of each training step
    /// (`Sequential.zeroGradients`).
    public let grad: Tensor
    /// Whether L2 regularisation and weight decay apply (weights: yes; biases: no).
    public let decays: Bool
    /// Whether optimisers update it. False for state that is saved with the model but not
    /// learned by gradient descent, such as batch normalisation's running statistics.
    public let trainable: Bool

    public init(name: String, value: Tensor, decays: Bool, trainable: Bool = true) {
        self.name = name
        self.value = value
        self.grad = Tensor(shape: value.shape)
        self.decays = decays
        self.trainable = trainable
    }
}

/// One step of a network: a function of a batch, and its derivative.
///
/// A layer sees a batch as a tensor whose first axis is the batch: `(B, features…)`. It owns the
/// tensors it returns and reuses them from step to step, so training allocates no buffers once
/// the first batch has gone through. A returned tensor stays valid until the layer's next call.
///
/// `forward` remembers what `backward` will need; `backward` takes d(loss)/d(output), adds
/// d(loss)/d(parameter) into each parameter's `grad`, and returns d(loss)/d(input), or nil when
/// `computesInputGradient` is off.
public protocol Layer: AnyObject {
    /// What the layer is, for summaries: "Dense(784 → 256)".
    var summary: String { get }
    /// The specification that rebuilds this layer (saved in model files).
    var spec: LayerSpec { get }
    /// The trainable tensors (empty for a layer with none).
    var parameters: [Parameter] { get }
    /// Whether `backward` must compute d(loss)/d(input). `Sequential` turns it off for the first
    /// layer, whose input is the data, saving a matrix multiply per step.
    var computesInputGradient: Bool { get set }

    /// The shape of one output sample, given the shape of one input sample. Throws when the
    /// input cannot feed this layer.
    func outputShape(for input: [Int]) throws(ModelError) -> [Int]
    /// y = layer(x). `training` turns on what only training does (dropout, batch statistics).
    func forward(_ x: Tensor, training: Bool) -> Tensor
    /// Given dy = d(loss)/dy for the last `forward`, accumulates parameter gradients and returns
    /// dx, or nil when `computesInputGradient` is off (the first layer, whose input is data).
    func backward(_ dy: Tensor) -> Tensor?
}

extension Layer {
    public var parameters: [Parameter] { [] }

    /// Inference: `forward(x, training: false)`.
    public func callAsFunction(_ x: Tensor) -> Tensor { forward(x, training: false) }
}

/// What can go wrong building or loading a model.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    /// The layers do not fit together, or a layer's settings are invalid.
    case invalidArchitecture(String)

    public var description: String {
        switch self {
        case .invalidArchitecture(let why): "invalid architecture: \(why)"
        }
    }
}
