/// Squared error against the one-hot label: ½ Σ_k (y_k − t_k)² per sample, the "raw error"
/// of the first tutorial, whose update `W += lᵀ · ((t − y) · f'(y))` is gradient descent on it.
/// Its gradient is y − t.
public final class MeanSquaredError: Loss {
    private let grad = Tensor(shape: [0])
    public init() {}
    public var name: String { "mse" }

    // y: (B, K), labels: (B) -> loss: (B); dy = (y − onehot) · scale
    public func forwardBackward(output y: Tensor, labels: UnsafePointer<Int32>, perSample: UnsafeMutablePointer<Float>,
                                gradientScale: Float) -> Tensor {
        grad.reshape(to: y.shape)
        let k = y.columns
        for b in 0..<y.rows {
            let yr = y.data + b * k, g = grad.data + b * k, label = Int(labels[b])
            perSample[b] = Self.sampleLoss(yr, k, label)
            for j in 0..<k { g[j] = (yr[j] - (j == label ? 1 : 0)) * gradientScale }
        }
        return grad
    }

    public func forward(output y: Tensor, labels: UnsafePointer<Int32>, perSample: UnsafeMutablePointer<Float>) {
        let k = y.columns
        for b in 0..<y.rows { perSample[b] = Self.sampleLoss(y.data + b * k, k, Int(labels[b])) }
    }

    /// ½ Σ_k (y_k − t_k)² for one sample of k outputs whose label is `label`.
    @inlinable
    static func sampleLoss(_ y: UnsafePointer<Float>, _ k: Int, _ label: Int) -> Float {
        var l: Float = 0
        for j in 0..<k { let d = y[j] - (j == label ? 1 : 0); l += d * d }
        return 0.5 * l
    }
}
