import Foundation

/// An element-wise activation function, with its derivative written beside it.
///
/// Used two ways: as a layer of its own (`ActivationLayer`, made by `ReLU()`, `Sigmoid()`, …),
/// and fused into a dense layer's matrix multiply, where the kernel applies it to each finished
/// row. Every derivative here is written in terms of the *output* y, so the backward pass needs
/// only what the forward pass kept.
public enum Activation: Sendable, Equatable, Codable {
    case sigmoid
    case tanh
    case relu
    /// max(x, alpha·x) for 0 < alpha < 1: a small slope for negative inputs.
    case leakyReLU(alpha: Float)

    /// A short name: "sigmoid", "tanh", "relu", "leaky_relu(0.2)".
    public var name: String {
        switch self {
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        case .relu: "relu"
        case .leakyReLU(let a): "leaky_relu(\(a))"
        }
    }

    // MARK: - Forward and backward

    /// y = f(x) for n values. `x` and `y` may be the same buffer.
    @inlinable
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        switch self {
        case .sigmoid:
            for i in 0..<n { y[i] = 1 / (1 + Foundation.exp(-x[i])) }
        case .tanh:
            for i in 0..<n { y[i] = Foundation.tanh(x[i]) }
        case .relu:
            for i in 0..<n { y[i] = max(x[i], 0) }
        case .leakyReLU(let alpha):
            for i in 0..<n { let v = x[i]; y[i] = v >= 0 ? v : alpha * v }
        }
    }

    /// dx = dy · f'(x), with f' written in terms of the output y = f(x). `dx` may alias `dy`.
    @inlinable
    public func backward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, _ n: Int) {
        switch self {
        case .sigmoid:
            for i in 0..<n { let s = y[i]; dx[i] = dy[i] * s * (1 - s) }
        case .tanh:
            for i in 0..<n { let t = y[i]; dx[i] = dy[i] * (1 - t * t) }
        case .relu:
            for i in 0..<n { dx[i] = y[i] > 0 ? dy[i] : 0 }
        case .leakyReLU(let alpha):
            // y >= 0 exactly when x >= 0 (alpha > 0), so the output decides the slope.
            for i in 0..<n { dx[i] = y[i] >= 0 ? dy[i] : alpha * dy[i] }
        }
    }
}
