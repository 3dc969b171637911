/// An activation as a layer of its own: y = f(x), element by element.
public final class ActivationLayer: Layer {
    public let activation: Activation
    public var computesInputGradient = true
    private let y = Tensor(shape: [0])
    private let dx = Tensor(shape: [0])

    public init(_ activation: Activation) { self.activation = activation }

    public var summary: String {
        switch activation {
        case .sigmoid: "Sigmoid"
        case .tanh: "Tanh"
        case .relu: "ReLU"
        case .leakyReLU(let alpha): "LeakyReLU(\(FloatText.shortest(alpha)))"
        }
    }
    public var spec: LayerSpec { .activation(activation) }
    public func outputShape(for input: [Int]) throws(ModelError) -> [Int] { input }

    // x: (B, …) -> y: (B, …)
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        y.reshape(to: x.shape)
        let xData = x.data, yData = y.data
        Parallel.forEachSlice(x.count, minimumSlice: ActivationLayer.minimumSlice) { r in
            activation.forward(xData + r.lowerBound, yData + r.lowerBound, r.count)
        }
        return y
    }

    // dy: (B, …) -> dx = dy · f'(x)
    public func backward(_ dy: Tensor) -> Tensor? {
        guard computesInputGradient else { return nil }
        dx.reshape(to: dy.shape)
        let yData = y.data, dyData = dy.data, dxData = dx.data
        Parallel.forEachSlice(dy.count, minimumSlice: ActivationLayer.minimumSlice) { r in
            activation.backward(y: yData + r.lowerBound, dy: dyData + r.lowerBound, dx: dxData + r.lowerBound, r.count)
        }
        return dx
    }

    /// Element-wise work is split into slices of at least 64 Ki values (at most 8).
    static let minimumSlice = 1 << 16
}

/// y = 1 / (1 + e^-x)
public func Sigmoid() -> ActivationLayer { ActivationLayer(.sigmoid) }
/// y = tanh(x)
public func Tanh() -> ActivationLayer { ActivationLayer(.tanh) }
/// y = max(x, 0)
public func ReLU() -> ActivationLayer { ActivationLayer(.relu) }
/// y = x for x ≥ 0, alpha·x otherwise.
public func LeakyReLU(alpha: Float = 0.01) -> ActivationLayer { ActivationLayer(.leakyReLU(alpha: alpha)) }
