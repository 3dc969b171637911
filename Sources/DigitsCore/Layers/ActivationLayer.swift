/// An activation as a layer of its own: y = f(x), element by element.
public final class ActivationLayer: Layer {
    public let activation: Activation
    public var computesInputGradient = true
    private let y = Tensor(shape: [0])
    private let dx = Tensor(shape: [0])

    public init(_ activation: Activation) { self.activation = activation }

    public var summary: String { activation.name.prefix(1).uppercased() + activation.name.dropFirst() }
    public var spec: LayerSpec { .activation(activation) }
    public func outputShape(for input: [Int]) throws(ModelError) -> [Int] { input }

    // x: (B, …) -> y: (B, …)
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        y.reshape(to: x.shape)
        activation.forward(x.data, y.data, x.count)
        return y
    }

    // dy: (B, …) -> dx = dy · f'(x)
    public func backward(_ dy: Tensor) -> Tensor {
        dx.reshape(to: dy.shape)
        activation.backward(y: y.data, dy: dy.data, dx: dx.data, dy.count)
        return dx
    }
}

/// y = 1 / (1 + e^-x)
public func Sigmoid() -> ActivationLayer { ActivationLayer(.sigmoid) }
/// y = tanh(x)
public func Tanh() -> ActivationLayer { ActivationLayer(.tanh) }
/// y = max(x, 0)
public func ReLU() -> ActivationLayer { ActivationLayer(.relu) }
/// y = x for x ≥ 0, alpha·x otherwise.
public func LeakyReLU(alpha: Float = 0.01) -> ActivationLayer { ActivationLayer(.leakyReLU(alpha: alpha)) }
