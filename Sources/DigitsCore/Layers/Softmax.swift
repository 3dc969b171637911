import Foundation

/// Softmax over the last axis: y[i] = e^x[i] / Σ_j e^x[j], turning scores into probabilities.
///
/// For training a classifier, prefer no softmax layer and the fused
/// `SoftmaxCrossEntropy` loss, which is faster and numerically safer. This layer is for networks
/// that output probabilities, as some of the tutorials do.
public final class Softmax: Layer {
    /// How `backward` differentiates.
    public enum Gradient: String, Sendable, Codable {
        /// The true Jacobian: dx = y ⊙ (dy − Σ dy ⊙ y).
        case jacobian
        /// Only its diagonal: dx = dy ⊙ y ⊙ (1 − y). Wrong in general, but it is what the
        /// `tutorial-leaky-256-128` tutorial does, and paired with binary cross-entropy it
        /// happens to give exactly p − target.
        case diagonal
    }

    public let gradient: Gradient
    public var computesInputGradient = true
    private let y = Tensor(shape: [0])
    private let dx = Tensor(shape: [0])

    public init(gradient: Gradient = .jacobian) { self.gradient = gradient }

    public var summary: String { gradient == .jacobian ? "Softmax" : "Softmax(diagonal gradient)" }
    public var spec: LayerSpec { .softmax(gradient: gradient == .jacobian ? nil : gradient) }
    public func outputShape(for input: [Int]) throws(ModelError) -> [Int] { input }

    // x: (B, K) -> y: (B, K), each row summing to 1
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        y.reshape(to: x.shape)
        let k = x.columns
        for b in 0..<x.rows {
            Softmax.row(x.data + b * k, y.data + b * k, k)
        }
        return y
    }

    /// Softmax of one row of k values, shifted by the row's maximum so that exp cannot overflow.
    @inlinable
    public static func row(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ k: Int) {
        var m = -Float.infinity
        for j in 0..<k { m = max(m, x[j]) }
        var sum: Float = 0
        for j in 0..<k { let e = Foundation.exp(x[j] - m); y[j] = e; sum += e }
        let inv = 1 / sum
        for j in 0..<k { y[j] *= inv }
    }

    // dy: (B, K) -> dx: (B, K)
    public func backward(_ dy: Tensor) -> Tensor {
        dx.reshape(to: dy.shape)
        let k = dy.columns
        for b in 0..<dy.rows {
            let yr = y.data + b * k, dyr = dy.data + b * k, dxr = dx.data + b * k
            switch gradient {
            case .jacobian:
                var dot: Float = 0
                for j in 0..<k { dot += dyr[j] * yr[j] }
                for j in 0..<k { dxr[j] = yr[j] * (dyr[j] - dot) }
            case .diagonal:
                for j in 0..<k { dxr[j] = dyr[j] * yr[j] * (1 - yr[j]) }
            }
        }
        return dx
    }
}
