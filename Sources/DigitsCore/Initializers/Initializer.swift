/// How a weight tensor's first values are drawn.
///
/// `fanIn` is the number of inputs that feed one output unit (784 for the first dense layer of
/// an MNIST net; channels·kernel² for a convolution), `fanOut` the number of outputs.
public enum Initializer: Sendable, Equatable {
    /// He (Kaiming) normal: N(0, 2/fanIn). Made for ReLU networks.
    case he
    /// Xavier/Glorot uniform: U(±√(6/(fanIn+fanOut))). Made for sigmoid and tanh networks.
    case xavier
    /// LeCun uniform: U(±1/√fanIn), PyTorch's default for linear layers.
    case lecunUniform
    /// U(low, high).
    case uniform(low: Float, high: Float)
    /// N(0, std²).
    case normal(std: Float)
    /// All zeros.
    case zeros

    /// Fills `t` with fresh values drawn from `rng`, in order.
    public func fill(_ t: Tensor, fanIn: Int, fanOut: Int, rng: inout RandomSource) {
        let p = t.data, n = t.count
        switch self {
        case .he:
            let std = (2 / Float(max(fanIn, 1))).squareRoot()
            for i in 0..<n { p[i] = std * rng.normal() }
        case .xavier:
            let limit = (6 / Float(max(fanIn + fanOut, 1))).squareRoot()
            for i in 0..<n { p[i] = rng.uniform(-limit, limit) }
        case .lecunUniform:
            let limit = 1 / Float(max(fanIn, 1)).squareRoot()
            for i in 0..<n { p[i] = rng.uniform(-limit, limit) }
        case .uniform(let low, let high):
            for i in 0..<n { p[i] = rng.uniform(low, high) }
        case .normal(let std):
            for i in 0..<n { p[i] = std * rng.normal() }
        case .zeros:
            t.zero()
        }
    }

    /// A short name for summaries: "he", "uniform(-0.5, 0.5)".
    public var name: String {
        switch self {
        case .he: "he"
        case .xavier: "xavier"
        case .lecunUniform: "lecun_uniform"
        case .uniform(let a, let b): "uniform(\(a), \(b))"
        case .normal(let s): "normal(\(s))"
        case .zeros: "zeros"
        }
    }
}
