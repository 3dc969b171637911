/// Binary cross-entropy of each output against the one-hot label, averaged over the K outputs:
/// (1/K) Σ_k −t_k log y_k − (1 − t_k) log(1 − y_k), with y clipped to [1e-7, 1 − 1e-7] (the tutorial clips at 1e-15 in double precision; 1 − 1e-15 rounds to 1 in Float).
/// For outputs that are probabilities (after a sigmoid or softmax).
///
/// The gradient is taken per output, without the 1/K: −t/y + (1 − t)/(1 − y), as the
/// `tutorial-leaky-256-128` tutorial computes it.
public final class BinaryCrossEntropy: Loss {
    private let grad = Tensor(shape: [0])
    @usableFromInline static let eps: Float = 1e-7
    public init() {}
    public var name: String { "bce" }

    // y: (B, K), labels: (B) -> loss: (B); dy = (−t/y + (1 − t)/(1 − y)) · scale
    public func forwardBackward(output y: Tensor, labels: UnsafePointer<Int32>, perSample: UnsafeMutablePointer<Float>,
                                gradientScale: Float) -> Tensor {
        grad.reshape(to: y.shape)
        let k = y.columns
        for b in 0..<y.rows {
            let yr = y.data + b * k, g = grad.data + b * k, label = Int(labels[b])
            perSample[b] = Self.sampleLoss(yr, k, label)
            for j in 0..<k {
                let p = Self.clipped(yr[j])
                g[j] = (j == label ? -1 / p : 1 / (1 - p)) * gradientScale
            }
        }
        return grad
    }

    public func forward(output y: Tensor, labels: UnsafePointer<Int32>, perSample: UnsafeMutablePointer<Float>) {
        let k = y.columns
        for b in 0..<y.rows { perSample[b] = Self.sampleLoss(y.data + b * k, k, Int(labels[b])) }
    }

    /// y kept inside [eps, 1 − eps], so that neither log nor the gradient meets a zero.
    @inlinable
    static func clipped(_ y: Float) -> Float { min(max(y, eps), 1 - eps) }

    /// (1/K) Σ_k −t_k log y_k − (1 − t_k) log(1 − y_k) for one sample whose label is `label`.
    @inlinable
    static func sampleLoss(_ y: UnsafePointer<Float>, _ k: Int, _ label: Int) -> Float {
        var l: Float = 0
        for j in 0..<k {
            let p = clipped(y[j])
            l -= j == label ? Math.log(p) : Math.log(1 - p)
        }
        return l / Float(k)
    }
}
